"""Accounts emulator rules without HTTP: users, clients, self-client codes, limits, hygiene."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from zbooks.sandbox.accounts import AccessGrant, AccountsService, OAuthError, scope_allows
from zbooks.sandbox.accounts.scopes import describe, parse_scopes
from zbooks.sandbox.accounts.tokens import new_token, pkce_matches, s256_challenge
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.db import Database
from zbooks.sandbox.ledger.organizations import create_organization

BASE = "http://127.0.0.1:8765"
TOKEN_RE = re.compile(r"^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$")


class Env:
    def __init__(self) -> None:
        self.db = Database(":memory:")
        self.clock = Clock()
        self.config = SandboxConfig()
        self.service = AccountsService(self.db, self.clock, self.config)
        self.demo = self.service.bootstrap_demo()
        self.selfc = self.service.register_client(
            name="my self client", redirect_uris=[], client_type="self"
        )

    def creds(self, client: dict[str, object] | None = None) -> dict[str, str]:
        c = client or self.selfc
        return {"client_id": str(c["client_id"]), "client_secret": str(c["client_secret"])}

    def self_tokens(self, scope: str = "ZohoBooks.fullaccess.all") -> dict[str, Any]:
        code = self.service.issue_self_client_code(str(self.selfc["client_id"]), scope)
        return self.service.token(
            {"grant_type": "authorization_code", "code": code, **self.creds()}, base_url=BASE
        )


@pytest.fixture
def env() -> Iterator[Env]:
    e = Env()
    yield e
    e.db.close()


# ---------------------------------------------------------------- users and clients


def test_ensure_user_is_idempotent_by_email_and_returns_digits(env: Env) -> None:
    first = env.service.ensure_user("Alice@Example.com", "Alice")
    again = env.service.ensure_user("alice@example.com", "Alice Again")
    other = env.service.ensure_user("bob@example.com", "Bob")
    assert first == again
    assert first.isdigit() and other.isdigit() and other != first


def test_signed_in_user_is_the_first_user_created(env: Env) -> None:
    env.service.ensure_user("late@example.com", "Late")
    assert env.service.signed_in_user()["email"] == env.config.user_email
    assert env.service.signed_in_user()["user_id"] == env.demo["user_id"]


def test_signed_in_user_is_created_from_config_when_none_exists() -> None:
    db = Database(":memory:")
    service = AccountsService(db, Clock(), SandboxConfig(user_email="who@example.com"))
    assert service.signed_in_user()["email"] == "who@example.com"
    db.close()


def test_register_client_shapes_and_validation(env: Env) -> None:
    made = env.service.register_client(name="App", redirect_uris=["http://127.0.0.1/cb"])
    assert set(made) == {
        "client_id",
        "client_secret",
        "client_name",
        "redirect_uris",
        "client_type",
    }
    assert made["client_id"].startswith("1000.") and len(made["client_id"]) == 35
    assert len(made["client_secret"]) == 42
    assert env.selfc["redirect_uris"] == [] and env.selfc["client_type"] == "self"
    with pytest.raises(ValueError):
        env.service.register_client(name="x", redirect_uris=[])
    with pytest.raises(ValueError):
        env.service.register_client(name="x", redirect_uris=["http://a"], client_type="mobile")


def test_re_registering_a_client_replaces_its_secret(env: Env) -> None:
    cid = str(env.selfc["client_id"])
    old = str(env.selfc["client_secret"])
    env.service.register_client(
        name="renamed",
        redirect_uris=[],
        client_id=cid,
        client_secret="new-secret",
        client_type="self",
    )
    with pytest.raises(OAuthError) as bad:
        env.service.authenticate_client(cid, old)
    assert bad.value.body == {"error": "invalid_client_secret"}
    assert env.service.authenticate_client(cid, "new-secret")["name"] == "renamed"
    assert env.service.get_client(cid) == {
        "client_id": cid,
        "client_name": "renamed",
        "client_type": "self",
        "redirect_uris": [],
        "owner_user_id": env.demo["user_id"],
    }


# ---------------------------------------------------------------- self-client codes


def test_self_client_code_exchange_gives_refresh_token_without_redirect_uri(env: Env) -> None:
    body = env.self_tokens("ZohoBooks.invoices.READ,ZohoBooks.contacts.ALL")
    assert list(body) == [
        "access_token",
        "refresh_token",
        "scope",
        "api_domain",
        "token_type",
        "expires_in",
    ]
    assert TOKEN_RE.match(str(body["access_token"])) and TOKEN_RE.match(str(body["refresh_token"]))
    assert body["scope"] == "ZohoBooks.invoices.READ ZohoBooks.contacts.ALL"
    grant = env.service.validate_access_token(str(body["access_token"]))
    assert grant == AccessGrant(
        user_id=env.demo["user_id"],
        client_id=str(env.selfc["client_id"]),
        scopes=frozenset({"zohobooks.invoices.read", "zohobooks.contacts.all"}),
        org_id=None,
        expires_at=grant.expires_at if grant else 0.0,
    )


def test_self_client_code_honours_its_own_lifetime(env: Env) -> None:
    cid = str(env.selfc["client_id"])
    short = env.service.issue_self_client_code(cid, "ZohoBooks.fullaccess.all", expires_in=300)
    default = env.service.issue_self_client_code(cid, "ZohoBooks.fullaccess.all")
    env.clock.advance(240)  # past the 180 s default, inside the chosen 300 s
    with pytest.raises(OAuthError) as expired:
        env.service.token(
            {"grant_type": "authorization_code", "code": default, **env.creds()}, base_url=BASE
        )
    assert expired.value.body == {"error": "invalid_code"}
    ok = env.service.token(
        {"grant_type": "authorization_code", "code": short, **env.creds()}, base_url=BASE
    )
    assert "access_token" in ok


def test_self_client_code_with_org_binds_the_tokens(env: Env) -> None:
    cid = str(env.selfc["client_id"])
    code = env.service.issue_self_client_code(cid, "ZohoBooks.settings.READ", org_id="600001")
    body = env.service.token(
        {"grant_type": "authorization_code", "code": code, **env.creds()}, base_url=BASE
    )
    grant = env.service.validate_access_token(str(body["access_token"]))
    assert grant is not None and grant.org_id == "600001"


def test_self_client_codes_only_for_self_clients_and_valid_scopes(env: Env) -> None:
    with pytest.raises(ValueError):
        env.service.issue_self_client_code(str(env.demo["client_id"]), "ZohoBooks.fullaccess.all")
    with pytest.raises(ValueError):
        env.service.issue_self_client_code(str(env.selfc["client_id"]), " , ")
    with pytest.raises(ValueError):
        env.service.issue_self_client_code(str(env.selfc["client_id"]), "not a/scope")


# ---------------------------------------------------------------- limits at the service level


def test_21st_refresh_token_evicts_the_oldest_and_its_access_tokens(env: Env) -> None:
    issued = [env.self_tokens() for _ in range(20)]
    oldest, second = issued[0], issued[1]
    assert env.service.validate_access_token(str(oldest["access_token"])) is not None
    env.self_tokens()  # the 21st
    assert env.service.validate_access_token(str(oldest["access_token"])) is None
    with pytest.raises(OAuthError) as gone:
        env.service.token(
            {
                "grant_type": "refresh_token",
                "refresh_token": oldest["refresh_token"],
                **env.creds(),
            },
            base_url=BASE,
        )
    assert gone.value.body == {"error": "invalid_code"}
    still = env.service.token(
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"], **env.creds()},
        base_url=BASE,
    )
    assert "refresh_token" not in still


def test_refresh_token_cap_is_per_user(env: Env) -> None:
    cid = str(env.selfc["client_id"])
    other = env.service.ensure_user("other@example.com", "Other")
    first_other = env.service.token(
        {
            "grant_type": "authorization_code",
            "code": env.service.issue_self_client_code(
                cid, "ZohoBooks.fullaccess.all", user_id=other
            ),
            **env.creds(),
        },
        base_url=BASE,
    )
    for _ in range(21):
        env.self_tokens()
    grant = env.service.validate_access_token(str(first_other["access_token"]))
    assert grant is not None and grant.user_id == other


def test_configured_caps_are_read_at_call_time(env: Env) -> None:
    env.config.max_access_tokens_per_refresh_token = 2
    body = env.self_tokens()
    refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], **env.creds()}
    second = env.service.token(refresh, base_url=BASE)
    third = env.service.token(refresh, base_url=BASE)
    assert env.service.validate_access_token(str(body["access_token"])) is None
    assert env.service.validate_access_token(str(second["access_token"])) is not None
    assert env.service.validate_access_token(str(third["access_token"])) is not None


# ---------------------------------------------------------------- revocation and validation


def test_revoke_refresh_token_kills_its_access_tokens_only(env: Env) -> None:
    a = env.self_tokens()
    b = env.self_tokens()
    assert env.service.revoke(str(a["refresh_token"])) is True
    assert env.service.validate_access_token(str(a["access_token"])) is None
    assert env.service.validate_access_token(str(b["access_token"])) is not None
    assert env.service.revoke(str(a["refresh_token"])) is False


def test_revoke_single_access_token_and_client_restriction(env: Env) -> None:
    a = env.self_tokens()
    assert env.service.revoke(str(a["access_token"]), client_id=str(env.demo["client_id"])) is False
    assert env.service.revoke(str(a["access_token"]), client_id=str(env.selfc["client_id"]))
    assert env.service.validate_access_token(str(a["access_token"])) is None
    refreshed = env.service.token(
        {"grant_type": "refresh_token", "refresh_token": a["refresh_token"], **env.creds()},
        base_url=BASE,
    )
    assert env.service.validate_access_token(str(refreshed["access_token"])) is not None


def test_validate_rejects_unknown_empty_and_refresh_tokens(env: Env) -> None:
    body = env.self_tokens()
    assert env.service.validate_access_token("") is None
    assert env.service.validate_access_token(new_token()) is None
    assert env.service.validate_access_token(str(body["refresh_token"])) is None


def test_access_token_expires_by_the_sandbox_clock(env: Env) -> None:
    body = env.self_tokens()
    grant = env.service.validate_access_token(str(body["access_token"]))
    assert grant is not None
    assert grant.expires_at == pytest.approx(env.clock.time() + 3600, abs=5)
    env.clock.advance(3590)
    assert env.service.validate_access_token(str(body["access_token"])) is not None
    env.clock.advance(11)
    assert env.service.validate_access_token(str(body["access_token"])) is None


# ---------------------------------------------------------------- client_credentials


def test_client_credentials_binds_the_org(env: Env) -> None:
    org = create_organization(env.db, name="Acme", owner_user_id=env.demo["user_id"])
    body = env.service.token(
        {
            "grant_type": "client_credentials",
            "scope": "ZohoBooks.invoices.ALL",
            "soid": f"ZohoBooks.{org['organization_id']}",
            **env.creds(),
        },
        base_url=BASE,
    )
    assert "refresh_token" not in body
    grant = env.service.validate_access_token(str(body["access_token"]))
    assert grant is not None
    assert grant.org_id == org["organization_id"]
    assert grant.user_id == env.demo["user_id"]


# ---------------------------------------------------------------- hygiene


def test_database_and_logs_never_hold_a_usable_credential(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="zbooks.sandbox")
    cid = str(env.selfc["client_id"])
    code = env.service.issue_self_client_code(cid, "ZohoBooks.fullaccess.all")
    body = env.service.token(
        {"grant_type": "authorization_code", "code": code, **env.creds()}, base_url=BASE
    )
    refreshed = env.service.token(
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], **env.creds()},
        base_url=BASE,
    )
    try:
        env.service.token(
            {"grant_type": "authorization_code", "code": code, **env.creds()}, base_url=BASE
        )
    except OAuthError as exc:
        assert str(exc) == "invalid_code"
    with env.db.read() as conn:
        dump = "\n".join(conn.iterdump())
    secrets_seen = [
        code,
        str(body["access_token"]),
        str(body["refresh_token"]),
        str(refreshed["access_token"]),
        str(env.selfc["client_secret"]),
        str(env.demo["client_secret"]),
    ]
    assert caplog.records, "the service should log its events"
    for value in secrets_seen:
        assert value not in dump
        assert value not in caplog.text
        # Not even the random middle part leaks.
        assert value.split(".")[-1] not in dump


# ---------------------------------------------------------------- scopes and helpers


@pytest.mark.parametrize(
    ("granted", "required", "allowed"),
    [
        ({"zohobooks.fullaccess.all"}, "ZohoBooks.invoices.CREATE", True),
        ({"zohobooks.fullaccess.all"}, "ZohoBooks.settings.DELETE", True),
        ({"zohobooks.invoices.all"}, "ZohoBooks.invoices.DELETE", True),
        ({"zohobooks.invoices.all"}, "ZohoBooks.contacts.READ", False),
        ({"zohobooks.invoices.read"}, "ZohoBooks.invoices.READ", True),
        ({"zohobooks.invoices.read"}, "ZohoBooks.invoices.CREATE", False),
        ({"zohobooks.invoices.read"}, "ZohoBooks.estimates.READ", False),
        ({"ZohoBooks.Invoices.Read"}, "zohobooks.invoices.read", True),
        (
            {"zohobooks.contacts.create", "zohobooks.contacts.update"},
            "ZohoBooks.contacts.UPDATE",
            True,
        ),
        (set(), "ZohoBooks.invoices.READ", False),
        ({"zohocrm.modules.all"}, "ZohoBooks.invoices.READ", False),
    ],
)
def test_scope_allows(granted: set[str], required: str, allowed: bool) -> None:
    assert scope_allows(frozenset(granted), required) is allowed


def test_parse_scopes_keeps_spelling_and_drops_duplicates() -> None:
    assert parse_scopes("ZohoBooks.invoices.READ, zohobooks.invoices.read,ZohoBooks.bills.ALL") == [
        "ZohoBooks.invoices.READ",
        "ZohoBooks.bills.ALL",
    ]
    assert parse_scopes(None) == []
    assert describe("ZohoBooks.invoices.READ") == "Zoho Books: invoices (read)"
    assert describe("ZohoBooks.fullaccess.all") == "Zoho Books: full access to all data"


def test_pkce_helpers_follow_rfc7636() -> None:
    # The RFC 7636 appendix B example.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256")
    assert pkce_matches("abc", "abc", "plain")
    assert not pkce_matches("abc", "abd", "plain")
