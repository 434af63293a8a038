"""Zoho Accounts OAuth 2.0 over HTTP: authorization URL, code exchange, refresh,
revoke and the client-credentials grant.

Request building and response parsing are plain functions shared by the sync and async
clients, which only do the I/O. Two Zoho habits shape the parsing: errors usually come
back with HTTP **200** and an ``error`` key, and old servers sent ``expires_in`` in
milliseconds with ``expires_in_sec`` beside it.

Credentials go in a form body, never the query string, so they cannot end up in proxy
or server access logs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx2

from zbooks.auth.scopes import DEFAULT_SCOPES as DEFAULT_SCOPES  # re-exported
from zbooks.auth.tokens import Token
from zbooks.core.httpclients import new_async_http_client, new_http_client
from zbooks.errors import OAuthError, ZBooksError, oauth_error_from_body

logger = logging.getLogger("zbooks.auth")


@dataclass(frozen=True)
class PKCE:
    """A PKCE pair (RFC 7636). ``verifier`` stays with the client; only the challenge
    travels on the authorization URL."""

    verifier: str = field(repr=False)
    challenge: str
    method: str = "S256"

    @classmethod
    def generate(cls, method: str = "S256") -> PKCE:
        verifier = secrets.token_urlsafe(64)[:96]
        if method == "plain":
            return cls(verifier, verifier, "plain")
        return cls(verifier, s256_challenge(verifier), "S256")


def s256_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def join_scopes(scopes: str | Iterable[str]) -> str:
    """Zoho wants scopes comma-separated."""
    if isinstance(scopes, str):
        parts = scopes.replace(" ", ",").split(",")
    else:
        parts = list(scopes)
    return ",".join(p.strip() for p in parts if p.strip())


def authorization_url(
    accounts_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: str | Iterable[str] = DEFAULT_SCOPES,
    access_type: str = "offline",
    prompt: str | None = "consent",
    state: str | None = None,
    pkce: PKCE | None = None,
) -> str:
    """The consent-page URL to send the user to.

    ``prompt="consent"`` with ``access_type="offline"`` is what makes Zoho return a
    refresh token to a user who consented before.
    """
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": join_scopes(scopes),
        "access_type": access_type,
    }
    if prompt:
        params["prompt"] = prompt
    if state:
        params["state"] = state
    if pkce is not None:
        params["code_challenge"] = pkce.challenge
        params["code_challenge_method"] = pkce.method
    return f"{accounts_url.rstrip('/')}/oauth/v2/auth?{urlencode(params)}"


@dataclass(frozen=True)
class TokenRequest:
    url: str
    form: dict[str, str] = field(repr=False)


def _token_url(accounts_url: str) -> str:
    return f"{accounts_url.rstrip('/')}/oauth/v2/token"


def code_exchange_request(
    accounts_url: str,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str | None = None,
    code_verifier: str | None = None,
) -> TokenRequest:
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
    }
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    if code_verifier:
        form["code_verifier"] = code_verifier
    return TokenRequest(_token_url(accounts_url), form)


def refresh_request(
    accounts_url: str, *, client_id: str, client_secret: str, refresh_token: str
) -> TokenRequest:
    form = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    return TokenRequest(_token_url(accounts_url), form)


def client_credentials_request(
    accounts_url: str,
    *,
    client_id: str,
    client_secret: str,
    organization_id: str,
    scopes: str | Iterable[str] = DEFAULT_SCOPES,
) -> TokenRequest:
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "scope": join_scopes(scopes),
        "soid": f"ZohoBooks.{organization_id}",
    }
    return TokenRequest(_token_url(accounts_url), form)


def revoke_request(accounts_url: str, *, token: str) -> TokenRequest:
    return TokenRequest(f"{accounts_url.rstrip('/')}/oauth/v2/token/revoke", {"token": token})


def _json_body(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        excerpt = " ".join(response.text.split())[:160]
        raise OAuthError(
            f"Zoho Accounts answered HTTP {response.status_code} with a non-JSON page: {excerpt!r}",
            error="non_json_response",
            status=response.status_code,
            hint="Check the accounts URL and region; Zoho Accounts may be in maintenance.",
        ) from None
    if not isinstance(body, dict):
        raise OAuthError("Unexpected token response shape.", error="invalid_response")
    return body


def parse_token_response(
    response: httpx2.Response,
    *,
    now: float | None = None,
    accounts_server: str | None = None,
) -> Token:
    """Turn a token-endpoint response into a ``Token`` or raise the mapped OAuthError."""
    body = _json_body(response)
    if "error" in body:
        raise oauth_error_from_body(body, response.status_code)
    if response.status_code >= 400 or not body.get("access_token"):
        raise OAuthError(
            f"Zoho Accounts answered HTTP {response.status_code} without an access token.",
            error="invalid_response",
            status=response.status_code,
        )
    issued = time.time() if now is None else now
    return Token(
        access_token=str(body["access_token"]),
        refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
        expires_at=issued + expires_in_seconds(body),
        api_domain=str(body["api_domain"]) if body.get("api_domain") else None,
        accounts_server=accounts_server,
        scope=str(body["scope"]) if body.get("scope") else None,
        token_type=str(body.get("token_type") or "Bearer"),
    )


def expires_in_seconds(body: Mapping[str, Any]) -> float:
    """Modern responses: ``expires_in`` seconds. Legacy: milliseconds plus
    ``expires_in_sec``. Missing: assume Zoho's one hour."""
    if "expires_in_sec" in body:
        return float(body["expires_in_sec"])
    raw = body.get("expires_in")
    if raw is None:
        return 3600.0
    value = float(raw)
    # A lifetime above a day can only be the legacy milliseconds form (3600000).
    return value / 1000.0 if value > 86_400 else value


def parse_revoke_response(response: httpx2.Response) -> None:
    body = _json_body(response)
    if body.get("status") == "success" and response.status_code < 400:
        return
    error = str(body.get("error") or "revoke_failed")
    raise OAuthError(
        f"Zoho Accounts could not revoke the token: {error}",
        error=error,
        status=response.status_code,
        hint="The token may already be revoked; delete the local tokens either way.",
    )


@dataclass(frozen=True)
class Redirect:
    """What Zoho appends to the redirect URI after consent."""

    code: str = field(repr=False)
    state: str | None = None
    location: str | None = None
    accounts_server: str | None = None


def parse_redirect(params: Mapping[str, str], *, expected_state: str | None) -> Redirect:
    """Validate the query of the OAuth redirect (``?code=..&state=..&accounts-server=..``)."""
    if "error" in params:
        raise oauth_error_from_body({"error": params["error"]}, 200)
    if expected_state is not None and not secrets.compare_digest(
        params.get("state", ""), expected_state
    ):
        raise ZBooksError(
            "The OAuth redirect's state does not match the one we sent.",
            hint="Start the login again; do not reuse an old consent link.",
        )
    code = params.get("code")
    if not code:
        raise ZBooksError("The OAuth redirect carries no code.")
    return Redirect(
        code=code,
        state=params.get("state"),
        location=params.get("location"),
        accounts_server=params.get("accounts-server"),
    )


class OAuthClient:
    """Token-endpoint calls with a synchronous httpx2 client."""

    def __init__(
        self,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx2.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.accounts_url = accounts_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._http = http or new_http_client(timeout=timeout)
        self._owns_http = http is None

    def __repr__(self) -> str:
        return f"OAuthClient(accounts_url={self.accounts_url!r}, client_id={self.client_id!r})"

    def _post(self, request: TokenRequest) -> httpx2.Response:
        logger.debug("POST %s (grant request)", request.url)
        return self._http.post(request.url, data=request.form)

    def exchange_code(
        self,
        code: str,
        *,
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
        accounts_server: str | None = None,
    ) -> Token:
        """Trade a grant code for tokens at the accounts server the redirect named."""
        server = (accounts_server or self.accounts_url).rstrip("/")
        request = code_exchange_request(
            server,
            client_id=self.client_id,
            client_secret=self._secret,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )
        return parse_token_response(self._post(request), accounts_server=server)

    def refresh(self, refresh_token: str) -> Token:
        request = refresh_request(
            self.accounts_url,
            client_id=self.client_id,
            client_secret=self._secret,
            refresh_token=refresh_token,
        )
        return parse_token_response(self._post(request), accounts_server=self.accounts_url)

    def client_credentials(
        self, organization_id: str, scopes: str | Iterable[str] = DEFAULT_SCOPES
    ) -> Token:
        request = client_credentials_request(
            self.accounts_url,
            client_id=self.client_id,
            client_secret=self._secret,
            organization_id=organization_id,
            scopes=scopes,
        )
        return parse_token_response(self._post(request), accounts_server=self.accounts_url)

    def revoke(self, token: str) -> None:
        parse_revoke_response(self._post(revoke_request(self.accounts_url, token=token)))

    def close(self) -> None:
        if self._owns_http:
            self._http.close()


class AsyncOAuthClient:
    """The same calls with an asynchronous httpx2 client."""

    def __init__(
        self,
        accounts_url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx2.AsyncClient | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.accounts_url = accounts_url.rstrip("/")
        self.client_id = client_id
        self._secret = client_secret
        self._http = http or new_async_http_client(timeout=timeout)
        self._owns_http = http is None

    def __repr__(self) -> str:
        return f"AsyncOAuthClient(accounts_url={self.accounts_url!r}, client_id={self.client_id!r})"

    async def _post(self, request: TokenRequest) -> httpx2.Response:
        logger.debug("POST %s (grant request)", request.url)
        return await self._http.post(request.url, data=request.form)

    async def exchange_code(
        self,
        code: str,
        *,
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
        accounts_server: str | None = None,
    ) -> Token:
        server = (accounts_server or self.accounts_url).rstrip("/")
        request = code_exchange_request(
            server,
            client_id=self.client_id,
            client_secret=self._secret,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
        )
        return parse_token_response(await self._post(request), accounts_server=server)

    async def refresh(self, refresh_token: str) -> Token:
        request = refresh_request(
            self.accounts_url,
            client_id=self.client_id,
            client_secret=self._secret,
            refresh_token=refresh_token,
        )
        return parse_token_response(await self._post(request), accounts_server=self.accounts_url)

    async def client_credentials(
        self, organization_id: str, scopes: str | Iterable[str] = DEFAULT_SCOPES
    ) -> Token:
        request = client_credentials_request(
            self.accounts_url,
            client_id=self.client_id,
            client_secret=self._secret,
            organization_id=organization_id,
            scopes=scopes,
        )
        return parse_token_response(await self._post(request), accounts_server=self.accounts_url)

    async def revoke(self, token: str) -> None:
        parse_revoke_response(await self._post(revoke_request(self.accounts_url, token=token)))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
