"""Authorization URL, PKCE, token responses (modern and legacy), redirects."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from zbooks.auth.oauth import (
    PKCE,
    OAuthClient,
    authorization_url,
    expires_in_seconds,
    parse_redirect,
    parse_token_response,
)
from zbooks.errors import InvalidClientSecretError, InvalidGrantError, OAuthError, ZBooksError

from .fakes import form


def test_authorization_url_has_comma_joined_scopes_and_flags() -> None:
    pkce = PKCE.generate()
    url = authorization_url(
        "https://accounts.zoho.eu/",
        client_id="1000.ABC",
        redirect_uri="http://127.0.0.1:8787/oauth-callback",
        scopes=["ZohoBooks.invoices.READ", "ZohoBooks.contacts.ALL"],
        state="xyz",
        pkce=pkce,
    )
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.netloc == "accounts.zoho.eu" and parts.path == "/oauth/v2/auth"
    assert query["scope"] == "ZohoBooks.invoices.READ,ZohoBooks.contacts.ALL"
    assert query["access_type"] == "offline" and query["prompt"] == "consent"
    assert query["response_type"] == "code" and query["state"] == "xyz"
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == pkce.challenge
    assert pkce.verifier not in url


def test_pkce_s256_matches_rfc7636() -> None:
    pkce = PKCE.generate()
    digest = hashlib.sha256(pkce.verifier.encode()).digest()
    assert pkce.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert 43 <= len(pkce.verifier) <= 128
    assert PKCE.generate().verifier != pkce.verifier
    plain = PKCE.generate("plain")
    assert plain.challenge == plain.verifier and plain.method == "plain"
    assert pkce.verifier not in repr(pkce)


def test_token_response_modern_form() -> None:
    response = httpx2.Response(
        200,
        json={
            "access_token": "1000.a.b",
            "refresh_token": "1000.r.s",
            "scope": "ZohoBooks.fullaccess.all",
            "api_domain": "https://www.zohoapis.eu",
            "token_type": "Bearer",
            "expires_in": 3600,
        },
    )
    token = parse_token_response(response, now=1000.0, accounts_server="https://accounts.zoho.eu")
    assert token.expires_at == 4600.0 and token.refresh_token == "1000.r.s"
    assert token.api_domain == "https://www.zohoapis.eu"
    assert token.accounts_server == "https://accounts.zoho.eu"


@pytest.mark.parametrize(
    ("body", "seconds"),
    [
        ({"expires_in": 3600}, 3600),
        ({"expires_in": 3600000, "expires_in_sec": 3600}, 3600),
        ({"expires_in": 3600000}, 3600),
        ({}, 3600),
    ],
)
def test_expires_in_seconds_and_legacy_milliseconds(body: dict[str, int], seconds: int) -> None:
    assert expires_in_seconds(body) == seconds


def test_errors_with_http_200_raise() -> None:
    with pytest.raises(InvalidGrantError):
        parse_token_response(httpx2.Response(200, json={"error": "invalid_code"}))
    with pytest.raises(InvalidClientSecretError):
        parse_token_response(httpx2.Response(400, json={"error": "invalid_client_secret"}))


def test_html_from_accounts_is_a_clear_error() -> None:
    with pytest.raises(OAuthError, match="non-JSON"):
        parse_token_response(
            httpx2.Response(503, text="<html>Zoho Accounts is temporarily unavailable</html>")
        )


def test_exchange_posts_form_to_the_redirects_accounts_server() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(
            200,
            json={
                "access_token": "1000.a.b",
                "refresh_token": "1000.r.t",
                "api_domain": "https://www.zohoapis.in",
                "expires_in": 3600,
            },
        )

    oauth = OAuthClient(
        "https://accounts.zoho.com",
        "1000.CID",
        "shh",
        http=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    token = oauth.exchange_code(
        "1000.code.x",
        redirect_uri="http://127.0.0.1/cb",
        code_verifier="verifier",
        accounts_server="https://accounts.zoho.in",
    )
    assert seen[0].url.host == "accounts.zoho.in"
    assert seen[0].url.query == b""  # secrets in the body, never the query string
    sent = form(seen[0])
    assert sent == {
        "grant_type": "authorization_code",
        "client_id": "1000.CID",
        "client_secret": "shh",
        "code": "1000.code.x",
        "redirect_uri": "http://127.0.0.1/cb",
        "code_verifier": "verifier",
    }
    assert token.accounts_server == "https://accounts.zoho.in"


def test_client_credentials_sends_soid_and_revoke_parses() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if request.url.path.endswith("/revoke"):
            return httpx2.Response(200, json={"status": "success"})
        return httpx2.Response(200, json={"access_token": "1000.a.b", "expires_in": 3600})

    oauth = OAuthClient(
        "https://accounts.zoho.com",
        "1000.CID",
        "shh",
        http=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    oauth.client_credentials("12345", ["ZohoBooks.invoices.READ"])
    assert form(seen[0])["soid"] == "ZohoBooks.12345"
    assert form(seen[0])["grant_type"] == "client_credentials"
    oauth.revoke("1000.r.t")
    assert seen[1].url.path == "/oauth/v2/token/revoke"


def test_parse_redirect_checks_state_and_reads_accounts_server() -> None:
    redirect = parse_redirect(
        {
            "code": "1000.c.d",
            "state": "s1",
            "location": "eu",
            "accounts-server": "https://accounts.zoho.eu",
        },
        expected_state="s1",
    )
    assert redirect.accounts_server == "https://accounts.zoho.eu" and redirect.location == "eu"
    with pytest.raises(ZBooksError, match="state"):
        parse_redirect({"code": "1000.c.d", "state": "evil"}, expected_state="s1")
    with pytest.raises(OAuthError):
        parse_redirect({"error": "access_denied", "state": "s1"}, expected_state="s1")
