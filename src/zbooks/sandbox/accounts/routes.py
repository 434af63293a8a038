"""HTTP face of the Accounts emulator: parse the request, ask the service, render the answer.

Zoho's token endpoint takes its parameters from the query string of a POST (as its docs
show), from a form body, and client credentials also from HTTP Basic; all three are
accepted here (api-facts §1.3). Service calls run in the thread pool because they hold
the database lock.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from zbooks.sandbox.accounts.consent import CONSENT_PATH
from zbooks.sandbox.accounts.service import AuthOutcome, OAuthError

if TYPE_CHECKING:
    from zbooks.sandbox.accounts.service import AccountsService

JSON_TYPE = "application/json;charset=UTF-8"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def base_url_of(request: Request) -> str:
    """The sandbox's own ``scheme://host:port`` as the client reached it."""
    return f"{request.url.scheme}://{request.url.netloc}"


def _json(body: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=JSON_TYPE, headers=_NO_STORE)


async def request_params(request: Request) -> dict[str, str]:
    """Query string, then form body (the body wins), then Basic credentials if still absent."""
    params: dict[str, str] = dict(request.query_params)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(_FORM_TYPES):
        form = await request.form()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = value
    basic = _basic_credentials(request.headers.get("authorization", ""))
    if basic is not None:
        client_id, client_secret = basic
        params.setdefault("client_id", client_id)
        params.setdefault("client_secret", client_secret)
    return params


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1 form-encodes both parts before base64; plain values pass unchanged.
    return unquote(client_id), unquote(client_secret)


def _render(outcome: AuthOutcome) -> Response:
    if outcome.kind == "redirect":
        return RedirectResponse(outcome.location, status_code=302, headers=_NO_STORE)
    return HTMLResponse(outcome.html, status_code=outcome.status, headers=_NO_STORE)


def build_routes(service: AccountsService) -> list[BaseRoute]:
    """Starlette routes for ``/oauth/v2/auth``, the consent form, token, revoke, serverinfo."""

    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        outcome = await run_in_threadpool(service.authorize, params, base_url=base_url_of(request))
        return _render(outcome)

    async def consent(request: Request) -> Response:
        form = await request.form()
        nonce = form.get("nonce")
        decision = form.get("decision")
        outcome = await run_in_threadpool(
            service.decide,
            nonce if isinstance(nonce, str) else "",
            decision if isinstance(decision, str) else "",
            base_url=base_url_of(request),
        )
        return _render(outcome)

    async def token(request: Request) -> Response:
        params = await request_params(request)
        try:
            body = await run_in_threadpool(service.token, params, base_url=base_url_of(request))
        except OAuthError as exc:
            return _json(exc.body, exc.status or service.config.oauth_error_status)
        return _json(body, 200)

    async def revoke(request: Request) -> Response:
        """``POST /oauth/v2/token/revoke?token=<refresh_token>`` (no client auth needed)."""
        params = await request_params(request)
        return await _revoke(params, client_id=None)

    async def revoke_with_client(request: Request) -> Response:
        """``POST /oauth/v2/revoke/token``: client authenticates (Basic or params) + ``token``."""
        params = await request_params(request)
        try:
            client = await run_in_threadpool(
                service.authenticate_client, params.get("client_id"), params.get("client_secret")
            )
        except OAuthError as exc:
            return _json({"status": "failure", **exc.body}, 400)
        return await _revoke(params, client_id=str(client["client_id"]))

    async def _revoke(params: dict[str, str], *, client_id: str | None) -> Response:
        token_value = params.get("token", "")
        if not token_value:
            return _json({"status": "failure", "error": "invalid_request"}, 400)
        revoked = await run_in_threadpool(service.revoke, token_value, client_id=client_id)
        if not revoked:
            # UNCONFIRMED shape (api-facts §1.5); the HTTP 400 is documented.
            return _json({"status": "failure", "error": "invalid_token"}, 400)
        return _json({"status": "success"}, 200)

    async def server_info(request: Request) -> Response:
        return _json(service.server_info(base_url_of(request)), 200)

    return [
        Route("/oauth/v2/auth", authorize, methods=["GET"]),
        Route(CONSENT_PATH, consent, methods=["POST"]),
        Route("/oauth/v2/token", token, methods=["POST"]),
        Route("/oauth/v2/token/revoke", revoke, methods=["POST"]),
        Route("/oauth/v2/revoke/token", revoke_with_client, methods=["POST"]),
        Route("/oauth/serverinfo", server_info, methods=["GET"]),
    ]
