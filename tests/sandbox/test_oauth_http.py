"""The Accounts emulator over HTTP: consent, code exchange, refresh, revoke, errors, limits."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from starlette.applications import Starlette

from zbooks.sandbox.accounts import AccountsService
from zbooks.sandbox.accounts.tokens import s256_challenge
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.db import Database
from zbooks.sandbox.ledger.organizations import create_organization

BASE = "http://127.0.0.1:8765"
CODE_RE = re.compile(r"^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$")
NONCE_RE = re.compile(r'name="nonce" value="([^"]+)"')
THROTTLE = {
    "error_description": "You have made too many requests continuously. "
    "Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}
SCOPE = "ZohoBooks.invoices.READ,ZohoBooks.contacts.ALL"


@dataclass
class Env:
    http: httpx2.AsyncClient
    service: AccountsService
    clock: Clock
    config: SandboxConfig
    db: Database
    demo: dict[str, Any]

    @property
    def creds(self) -> dict[str, str]:
        return {"client_id": self.demo["client_id"], "client_secret": self.demo["client_secret"]}

    async def authorize(self, **overrides: str) -> httpx2.Response:
        params = {
            "client_id": self.demo["client_id"],
            "response_type": "code",
            "redirect_uri": self.config.redirect_uri,
            "scope": SCOPE,
            "access_type": "offline",
            "state": "st-123",
            **overrides,
        }
        return await self.http.get("/oauth/v2/auth", params=params)

    async def answer(self, page: httpx2.Response, decision: str) -> httpx2.Response:
        match = NONCE_RE.search(page.text)
        assert match, "consent page must carry a nonce"
        return await self.http.post(
            "/oauth/v2/auth/consent", data={"nonce": match.group(1), "decision": decision}
        )

    async def login(self, **overrides: str) -> dict[str, str]:
        """Authorize + Accept; the redirect's query parameters."""
        page = await self.authorize(**overrides)
        assert page.status_code == 200, page.text
        redirect = await self.answer(page, "accept")
        assert redirect.status_code == 302
        return query_of(redirect)

    async def token(self, **params: str) -> httpx2.Response:
        return await self.http.post("/oauth/v2/token", data=params)

    async def exchange(self, code: str, **extra: str) -> httpx2.Response:
        return await self.token(
            grant_type="authorization_code",
            code=code,
            redirect_uri=self.config.redirect_uri,
            **self.creds,
            **extra,
        )

    async def refresh(self, refresh_token: str) -> httpx2.Response:
        return await self.token(
            grant_type="refresh_token", refresh_token=refresh_token, **self.creds
        )

    async def offline_tokens(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.exchange((await self.login())["code"])).json()
        return body


def query_of(response: httpx2.Response) -> dict[str, str]:
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    db = Database(":memory:")
    clock = Clock()
    config = SandboxConfig()
    service = AccountsService(db, clock, config)
    demo = service.bootstrap_demo()
    app = Starlette(routes=service.starlette_routes())
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE) as http:
        yield Env(http=http, service=service, clock=clock, config=config, db=db, demo=demo)
    db.close()


# ---------------------------------------------------------------- the whole flow


async def test_full_flow_consent_exchange_refresh_revoke(env: Env) -> None:
    page = await env.authorize()
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "zbooks demo" in html  # client name
    assert "ZohoBooks.invoices.READ" in html and "ZohoBooks.contacts.ALL" in html
    assert env.config.user_email in html
    assert 'value="accept">Accept</button>' in html and 'value="deny">Deny</button>' in html
    assert 'action="/oauth/v2/auth/consent"' in html

    redirect = await env.answer(page, "accept")
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(env.config.redirect_uri + "?state=st-123&code=1000.")
    assert location.endswith("&location=us&accounts-server=http%3A%2F%2F127.0.0.1%3A8765")
    params = query_of(redirect)
    assert CODE_RE.match(params["code"])

    exchanged = await env.exchange(params["code"])
    assert exchanged.status_code == 200
    assert exchanged.headers["content-type"] == "application/json;charset=UTF-8"
    assert exchanged.headers["cache-control"] == "no-store"
    body = exchanged.json()
    assert list(body) == [
        "access_token",
        "refresh_token",
        "scope",
        "api_domain",
        "token_type",
        "expires_in",
    ]
    assert body["scope"] == "ZohoBooks.invoices.READ ZohoBooks.contacts.ALL"
    assert body["api_domain"] == BASE
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    grant = env.service.validate_access_token(body["access_token"])
    assert grant is not None
    assert grant.scopes == frozenset({"zohobooks.invoices.read", "zohobooks.contacts.all"})
    assert grant.client_id == env.demo["client_id"] and grant.org_id is None

    refreshed = (await env.refresh(body["refresh_token"])).json()
    assert list(refreshed) == ["access_token", "scope", "api_domain", "token_type", "expires_in"]
    assert refreshed["access_token"] != body["access_token"]
    assert env.service.validate_access_token(refreshed["access_token"]) is not None

    revoked = await env.http.post("/oauth/v2/token/revoke", params={"token": body["refresh_token"]})
    assert (revoked.status_code, revoked.json()) == (200, {"status": "success"})
    assert env.service.validate_access_token(body["access_token"]) is None
    assert env.service.validate_access_token(refreshed["access_token"]) is None
    again = await env.refresh(body["refresh_token"])
    assert (again.status_code, again.json()) == (200, {"error": "invalid_code"})


async def test_deny_redirects_access_denied_with_state(env: Env) -> None:
    redirect = await env.answer(await env.authorize(state="keep me"), "deny")
    assert redirect.status_code == 302
    assert (
        redirect.headers["location"]
        == env.config.redirect_uri + "?error=access_denied&state=keep+me"
    )


async def test_no_state_means_no_state_parameter(env: Env) -> None:
    page = await env.http.get(
        "/oauth/v2/auth",
        params={
            "client_id": env.demo["client_id"],
            "response_type": "code",
            "redirect_uri": env.config.redirect_uri,
            "scope": "ZohoBooks.fullaccess.all",
        },
    )
    params = query_of(await env.answer(page, "accept"))
    assert "state" not in params and CODE_RE.match(params["code"])


async def test_consent_nonce_is_single_use_and_expires(env: Env) -> None:
    page = await env.authorize()
    assert (await env.answer(page, "accept")).status_code == 302
    replay = await env.answer(page, "accept")
    assert replay.status_code == 400 and "Invalid Request" in replay.text
    stale = await env.authorize()
    env.clock.advance(601)
    late = await env.answer(stale, "accept")
    assert late.status_code == 400 and "location" not in late.headers


async def test_auto_approve_redirects_at_once(env: Env) -> None:
    env.config.auto_approve = True
    response = await env.authorize()
    assert response.status_code == 302
    params = query_of(response)
    assert params["state"] == "st-123" and params["location"] == "us"
    assert (await env.exchange(params["code"])).json()["refresh_token"]


# ---------------------------------------------------------------- authorization errors


async def test_unknown_client_gets_an_html_error_page(env: Env) -> None:
    response = await env.authorize(client_id="1000.NOPE")
    assert response.status_code == 400 and "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "Invalid Client" in response.text


async def test_unregistered_redirect_uri_gets_an_html_error_page(env: Env) -> None:
    response = await env.authorize(redirect_uri="http://evil.example/cb")
    assert response.status_code == 400 and "location" not in response.headers
    assert "Invalid Redirect Uri" in response.text
    assert "Redirect URI passed does not match with the one configured" in response.text


async def test_other_authorization_request_errors(env: Env) -> None:
    assert "Invalid OAuth Scope" in (await env.authorize(scope="")).text
    assert "Invalid Response Type" in (await env.authorize(response_type="token")).text
    bad_method = await env.authorize(code_challenge="x", code_challenge_method="MD5")
    assert bad_method.status_code == 400


async def test_consent_page_escapes_html(env: Env) -> None:
    env.service.register_client(
        name="<script>x</script>",
        redirect_uris=[env.config.redirect_uri],
        client_id=env.demo["client_id"],
        client_secret=env.demo["client_secret"],
    )
    html = (await env.authorize()).text
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html


async def test_grant_code_issue_limit_per_client(env: Env) -> None:
    for _ in range(10):
        assert "code" in await env.login()
    denied = await env.login(state="eleven")
    assert denied == {"error": "access_denied", "state": "eleven"}
    env.clock.advance(601)
    assert "code" in await env.login()


# ---------------------------------------------------------------- refresh-token issuance


async def test_refresh_token_only_on_first_offline_consent_or_prompt_consent(env: Env) -> None:
    online = (await env.exchange((await env.login(access_type="online"))["code"])).json()
    assert "refresh_token" not in online and online["access_token"]
    first = (await env.exchange((await env.login())["code"])).json()
    assert "refresh_token" in first
    second = (await env.exchange((await env.login())["code"])).json()
    assert "refresh_token" not in second
    forced = (await env.exchange((await env.login(prompt="consent"))["code"])).json()
    assert forced["refresh_token"] != first["refresh_token"]
    # Once every refresh token is revoked, the next offline consent is "first" again.
    for token in (first["refresh_token"], forced["refresh_token"]):
        await env.http.post("/oauth/v2/token/revoke", params={"token": token})
    assert "refresh_token" in (await env.exchange((await env.login())["code"])).json()


# ---------------------------------------------------------------- token-endpoint errors


async def test_code_is_single_use(env: Env) -> None:
    code = (await env.login())["code"]
    assert (await env.exchange(code)).status_code == 200
    reused = await env.exchange(code)
    assert (reused.status_code, reused.json()) == (200, {"error": "invalid_code"})


async def test_code_expires_after_120_seconds(env: Env) -> None:
    fresh = (await env.login())["code"]
    stale = (await env.login())["code"]
    env.clock.advance(100)
    assert "access_token" in (await env.exchange(fresh)).json()
    env.clock.advance(25)
    assert (await env.exchange(stale)).json() == {"error": "invalid_code"}


async def test_token_endpoint_error_bodies(env: Env) -> None:
    code = (await env.login())["code"]
    cases: list[tuple[dict[str, str], dict[str, str]]] = [
        (
            {"grant_type": "authorization_code", "code": "1000.bad.bad", **env.creds},
            {"error": "invalid_code"},
        ),
        (
            {"grant_type": "refresh_token", "refresh_token": "1000.nope.nope", **env.creds},
            {"error": "invalid_code"},
        ),
        (
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": "1000.UNKNOWN",
                "client_secret": "x",
                "redirect_uri": env.config.redirect_uri,
            },
            {"error": "invalid_client"},
        ),
        (
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": env.demo["client_id"],
                "client_secret": "wrong",
                "redirect_uri": env.config.redirect_uri,
            },
            {"error": "invalid_client_secret"},
        ),
        (
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://x/cb",
                **env.creds,
            },
            {"error": "invalid_redirect_uri"},
        ),
        ({"grant_type": "password", **env.creds}, {"error": "unsupported_grant_type"}),
        ({**env.creds}, {"error": "invalid_request"}),
        ({"grant_type": "authorization_code", **env.creds}, {"error": "invalid_request"}),
        ({"grant_type": "authorization_code", "code": code}, {"error": "invalid_request"}),
        (
            {"grant_type": "authorization_code", "code": code, **env.creds},  # no redirect_uri
            {"error": "invalid_request"},
        ),
    ]
    for params, expected in cases:
        response = await env.token(**params)
        assert (response.status_code, response.json()) == (200, expected), params
    # None of the failures above consumed the code.
    assert "access_token" in (await env.exchange(code)).json()


async def test_http_400_mode(env: Env) -> None:
    env.config.oauth_error_status = 400
    response = await env.token(grant_type="authorization_code", code="1000.a.b", **env.creds)
    assert (response.status_code, response.json()) == (400, {"error": "invalid_code"})
    tokens = await env.offline_tokens()
    for _ in range(10):
        assert (await env.refresh(tokens["refresh_token"])).status_code == 200
    throttled = await env.refresh(tokens["refresh_token"])
    assert (throttled.status_code, throttled.json()) == (400, THROTTLE)


async def test_token_endpoint_accepts_only_post(env: Env) -> None:
    assert (await env.http.get("/oauth/v2/token")).status_code == 405


# ---------------------------------------------------------------- client credentials transport


async def test_credentials_via_basic_auth(env: Env) -> None:
    code = (await env.login())["code"]
    basic = base64.b64encode(
        f"{env.demo['client_id']}:{env.demo['client_secret']}".encode()
    ).decode()
    response = await env.http.post(
        "/oauth/v2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": env.config.redirect_uri,
        },
        headers={"Authorization": f"Basic {basic}"},
    )
    assert "access_token" in response.json()
    wrong = base64.b64encode(f"{env.demo['client_id']}:nope".encode()).decode()
    bad = await env.http.post(
        "/oauth/v2/token",
        data={"grant_type": "refresh_token", "refresh_token": "1000.a.b"},
        headers={"Authorization": f"Basic {wrong}"},
    )
    assert bad.json() == {"error": "invalid_client_secret"}


async def test_parameters_via_query_string_on_post(env: Env) -> None:
    code = (await env.login())["code"]
    response = await env.http.post(
        "/oauth/v2/token",
        params={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": env.config.redirect_uri,
            **env.creds,
        },
    )
    body = response.json()
    assert body["refresh_token"] and body["api_domain"] == BASE


async def test_parameters_via_form_body(env: Env) -> None:
    tokens = await env.offline_tokens()  # env.token posts a form body
    assert CODE_RE.match(tokens["access_token"]) and CODE_RE.match(tokens["refresh_token"])


# ---------------------------------------------------------------- PKCE


@pytest.mark.parametrize("method", ["S256", "plain"])
async def test_pkce(env: Env, method: str) -> None:
    verifier = "v" * 20 + "-._~" + "0123456789abcdefghij"
    challenge = s256_challenge(verifier) if method == "S256" else verifier
    code = (await env.login(code_challenge=challenge, code_challenge_method=method))["code"]
    assert (await env.exchange(code)).json() == {"error": "invalid_request"}
    assert (await env.exchange(code, code_verifier="w" * 43)).json() == {"error": "invalid_code"}
    good = (await env.exchange(code, code_verifier=verifier)).json()
    assert "access_token" in good


async def test_pkce_method_defaults_to_plain(env: Env) -> None:
    code = (await env.login(code_challenge="plain-verifier-value-0123456789-abcdefghijk"))["code"]
    ok = await env.exchange(code, code_verifier="plain-verifier-value-0123456789-abcdefghijk")
    assert "access_token" in ok.json()


# ---------------------------------------------------------------- self client


async def test_self_client_code_exchange_without_redirect_uri(env: Env) -> None:
    selfc = env.service.register_client(name="self", redirect_uris=[], client_type="self")
    code = env.service.issue_self_client_code(selfc["client_id"], "ZohoBooks.fullaccess.all")
    response = await env.token(
        grant_type="authorization_code",
        code=code,
        client_id=selfc["client_id"],
        client_secret=selfc["client_secret"],
    )
    body = response.json()
    assert body["refresh_token"] and body["scope"] == "ZohoBooks.fullaccess.all"
    # A Self Client has no redirect URI, so the authorization page refuses it.
    page = await env.authorize(client_id=selfc["client_id"])
    assert "Invalid Redirect Uri" in page.text


async def test_client_credentials_with_and_without_soid(env: Env) -> None:
    selfc = env.service.register_client(name="self", redirect_uris=[], client_type="self")
    org = create_organization(env.db, name="Acme", owner_user_id=env.demo["user_id"])
    base = {
        "grant_type": "client_credentials",
        "client_id": selfc["client_id"],
        "client_secret": selfc["client_secret"],
        "scope": "ZohoBooks.invoices.READ",
    }
    assert (await env.token(**base)).json() == {"error": "missing_org_info"}
    assert (await env.token(**base, soid="ZohoBooks.999")).json() == {"error": "missing_org_info"}
    body = (await env.token(**base, soid=f"ZohoBooks.{org['organization_id']}")).json()
    assert list(body) == ["access_token", "scope", "api_domain", "token_type", "expires_in"]
    grant = env.service.validate_access_token(body["access_token"])
    assert grant is not None and grant.org_id == org["organization_id"]
    server_client = await env.token(
        **{**base, **env.creds}, soid=f"ZohoBooks.{org['organization_id']}"
    )
    assert server_client.json() == {"error": "unauthorized_client"}


# ---------------------------------------------------------------- limits (api-facts §1.6)


async def test_access_token_expires_after_ttl(env: Env) -> None:
    tokens = await env.offline_tokens()
    env.clock.advance(3590)
    assert env.service.validate_access_token(tokens["access_token"]) is not None
    env.clock.advance(15)
    assert env.service.validate_access_token(tokens["access_token"]) is None
    # The refresh token never expires by time.
    assert "access_token" in (await env.refresh(tokens["refresh_token"])).json()


async def test_throttle_after_ten_refreshes_and_recovery(env: Env) -> None:
    tokens = await env.offline_tokens()
    for _ in range(10):
        env.clock.advance(10)
        assert (await env.refresh(tokens["refresh_token"])).status_code == 200
    throttled = await env.refresh(tokens["refresh_token"])
    assert (throttled.status_code, throttled.json()) == (200, THROTTLE)
    # Refreshes happened at t=10..100 s; at t=615 only the first (t=10) has left the window.
    env.clock.advance(515)
    assert "access_token" in (await env.refresh(tokens["refresh_token"])).json()
    assert (await env.refresh(tokens["refresh_token"])).json() == THROTTLE


async def test_eleventh_access_token_evicts_the_oldest(env: Env) -> None:
    tokens = await env.offline_tokens()
    minted = [tokens["access_token"]]
    for _ in range(9):
        minted.append((await env.refresh(tokens["refresh_token"])).json()["access_token"])
    assert all(env.service.validate_access_token(t) for t in minted)  # 10 active
    minted.append((await env.refresh(tokens["refresh_token"])).json()["access_token"])
    assert env.service.validate_access_token(minted[0]) is None
    assert all(env.service.validate_access_token(t) for t in minted[1:])


async def test_twenty_first_refresh_token_evicts_the_oldest(env: Env) -> None:
    issued = []
    for i in range(21):
        if i and i % 10 == 0:
            env.clock.advance(601)  # stay inside the grant-code issue limit
        issued.append((await env.exchange((await env.login(prompt="consent"))["code"])).json())
    oldest, second = issued[0], issued[1]
    assert env.service.validate_access_token(oldest["access_token"]) is None
    assert (await env.refresh(oldest["refresh_token"])).json() == {"error": "invalid_code"}
    assert "access_token" in (await env.refresh(second["refresh_token"])).json()


# ---------------------------------------------------------------- revocation and server info


async def test_revoke_unknown_token_and_missing_token(env: Env) -> None:
    unknown = await env.http.post("/oauth/v2/token/revoke", params={"token": "1000.x.y"})
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"status": "failure", "error": "invalid_token"},
    )
    missing = await env.http.post("/oauth/v2/token/revoke")
    assert missing.status_code == 400


async def test_revoke_token_endpoint_with_basic_client_auth(env: Env) -> None:
    tokens = await env.offline_tokens()
    good = base64.b64encode(f"{env.demo['client_id']}:{env.demo['client_secret']}".encode())
    bad = base64.b64encode(f"{env.demo['client_id']}:wrong".encode())
    refused = await env.http.post(
        "/oauth/v2/revoke/token",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers={"Authorization": f"Basic {bad.decode()}"},
    )
    assert (refused.status_code, refused.json()) == (
        400,
        {"status": "failure", "error": "invalid_client_secret"},
    )
    assert env.service.validate_access_token(tokens["access_token"]) is not None
    done = await env.http.post(
        "/oauth/v2/revoke/token",
        data={"token": tokens["refresh_token"]},
        headers={"Authorization": f"Basic {good.decode()}"},
    )
    assert (done.status_code, done.json()) == (200, {"status": "success"})
    assert env.service.validate_access_token(tokens["access_token"]) is None


async def test_server_info(env: Env) -> None:
    response = await env.http.get("/oauth/serverinfo")
    body = response.json()
    assert body["result"] == "success"
    assert body["locations"]["us"] == BASE and body["locations"]["eu"] == BASE


async def test_accounts_server_reflects_the_requested_host() -> None:
    db = Database(":memory:")
    service = AccountsService(db, Clock(), SandboxConfig(auto_approve=True))
    demo = service.bootstrap_demo()
    app = Starlette(routes=service.starlette_routes())
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://localhost:9999") as http:
        response = await http.get(
            "/oauth/v2/auth",
            params={
                "client_id": demo["client_id"],
                "response_type": "code",
                "redirect_uri": demo["redirect_uris"][0],
                "scope": "ZohoBooks.fullaccess.all",
            },
        )
        assert query_of(response)["accounts-server"] == "http://localhost:9999"
        token = await http.post(
            "/oauth/v2/token",
            data={
                "grant_type": "authorization_code",
                "code": query_of(response)["code"],
                "redirect_uri": demo["redirect_uris"][0],
                "client_id": demo["client_id"],
                "client_secret": demo["client_secret"],
            },
        )
        assert token.json()["api_domain"] == "http://localhost:9999"
    db.close()
