"""Interactive login: send the user to the consent page, catch the grant code on a
loopback redirect, exchange it at once (codes live two minutes).

The callback server listens on 127.0.0.1 only, answers exactly one request on the
callback path, checks ``state`` (a forged or stale redirect is refused) and uses PKCE,
so a code intercepted on the way is useless without our verifier.
"""

from __future__ import annotations

import secrets
import threading
import webbrowser
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from zbooks.auth.oauth import (
    DEFAULT_SCOPES,
    PKCE,
    OAuthClient,
    authorization_url,
    parse_redirect,
)
from zbooks.auth.tokens import Token
from zbooks.errors import ZBooksError

CALLBACK_PATH = "/oauth-callback"
DEFAULT_PORT = 8787

_DONE_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>zbooks</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p>"
    "</body></html>"
)


class CallbackServer:
    """A one-shot HTTP server on 127.0.0.1 that captures the OAuth redirect's query."""

    def __init__(self, port: int = DEFAULT_PORT, path: str = CALLBACK_PATH) -> None:
        self.path = path
        self._params: dict[str, str] | None = None
        self._event = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != outer.path or outer._event.is_set():
                    self.send_error(404)
                    return
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                ok = "code" in params
                title = "Signed in" if ok else "Sign-in failed"
                text = (
                    "zbooks received the authorization. You can close this window."
                    if ok
                    else "The authorization was not granted. Return to the terminal."
                )
                page = _DONE_PAGE.format(title=title, text=text).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                outer._params = params
                outer._event.set()

            def log_message(self, *args: Any) -> None:
                pass  # the query string carries the grant code: never log it

        try:
            self._server = HTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise ZBooksError(
                f"Cannot listen on 127.0.0.1:{port} for the OAuth redirect ({exc.strerror}).",
                hint="Free the port or choose another with --port (and register that "
                "redirect URI for the client).",
            ) from exc
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._event.is_set():
            self._server.handle_request()

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def __enter__(self) -> CallbackServer:
        self._server.timeout = 0.2
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._event.set()
        self._thread.join(timeout=2)
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str]:
        if not self._event.wait(timeout):
            raise ZBooksError(
                f"No OAuth redirect arrived within {timeout:.0f} s.",
                hint="Finish the consent in the browser, or use `zbooks login --code` with a "
                "Self Client grant code.",
            )
        assert self._params is not None
        return self._params


@dataclass(frozen=True)
class LoginResult:
    token: Token
    location: str | None = None


def browser_login(
    *,
    accounts_url: str,
    client_id: str,
    client_secret: str,
    scopes: str | Iterable[str] = DEFAULT_SCOPES,
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
    show_url: Callable[[str], None] | None = None,
    timeout: float = 300.0,
    http: httpx2.Client | None = None,
    prompt: str | None = "consent",
) -> LoginResult:
    """The full authorization-code flow with PKCE and a loopback redirect."""
    pkce = PKCE.generate()
    state = secrets.token_urlsafe(24)
    with CallbackServer(port) as server:
        url = authorization_url(
            accounts_url,
            client_id=client_id,
            redirect_uri=server.redirect_uri,
            scopes=scopes,
            state=state,
            pkce=pkce,
            prompt=prompt,
        )
        if show_url is not None:
            show_url(url)
        if open_browser:
            webbrowser.open(url)
        params = server.wait(timeout)
        redirect_uri = server.redirect_uri
    redirect = parse_redirect(params, expected_state=state)
    oauth = OAuthClient(accounts_url, client_id, client_secret, http=http)
    try:
        token = oauth.exchange_code(
            redirect.code,
            redirect_uri=redirect_uri,
            code_verifier=pkce.verifier,
            accounts_server=redirect.accounts_server,
        )
    finally:
        oauth.close()
    return LoginResult(replace(token, client_secret=client_secret), redirect.location)


def code_login(
    code: str,
    *,
    accounts_url: str,
    client_id: str,
    client_secret: str,
    http: httpx2.Client | None = None,
) -> LoginResult:
    """Exchange a Self Client grant code (no redirect URI involved)."""
    oauth = OAuthClient(accounts_url, client_id, client_secret, http=http)
    try:
        token = oauth.exchange_code(code.strip())
    finally:
        oauth.close()
    return LoginResult(replace(token, client_secret=client_secret))


def client_credentials_login(
    organization_id: str,
    *,
    accounts_url: str,
    client_id: str,
    client_secret: str,
    scopes: str | Iterable[str] = DEFAULT_SCOPES,
    http: httpx2.Client | None = None,
) -> LoginResult:
    """Self Client client-credentials grant bound to one organization."""
    oauth = OAuthClient(accounts_url, client_id, client_secret, http=http)
    try:
        token = oauth.client_credentials(organization_id, scopes)
    finally:
        oauth.close()
    return LoginResult(replace(token, client_secret=client_secret))
