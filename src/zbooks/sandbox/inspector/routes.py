"""HTTP side of the inspector: the page, its login, its static files and its JSON API."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from zbooks.sandbox.control import PREFIX, ControlError, _clock_body, _json_body, is_loopback
from zbooks.sandbox.control_state import (
    advance_clock,
    deliveries,
    get_record,
    list_records,
    overview,
)

if TYPE_CHECKING:
    from zbooks.sandbox.app import SandboxApp

Endpoint = Callable[[Request], Awaitable[Response]]
BASE = PREFIX + "/inspector"
WRITE_HEADER = "x-zbooks-inspector"
_STATIC = {
    "inspector.js": "text/javascript; charset=utf-8",
    "inspector.css": "text/css; charset=utf-8",
}
_SECURITY_HEADERS = {
    # Everything the page needs comes from this origin; nothing may frame it.
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text("utf-8")


def _login_page(error: str = "") -> str:
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return _asset("login.html").replace("<!--ERROR-->", message)


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name) or default)
    except ValueError:
        raise ControlError(f"{name} must be an integer") from None


def inspector_routes(app: SandboxApp) -> list[BaseRoute]:
    auth = app.inspector

    def session_of(request: Request) -> str | None:
        return request.cookies.get(auth.cookie_name)

    def with_session(response: Response, session: str) -> Response:
        response.set_cookie(auth.cookie_name, session, httponly=True, samesite="strict", path="/")
        return response

    def local(request: Request) -> bool:
        return is_loopback(request.client.host if request.client else None)

    async def page(request: Request) -> Response:
        if not local(request):
            return HTMLResponse("the inspector only answers loopback clients", 403)
        code = request.query_params.get("login")
        if code:
            session = auth.redeem(code)
            if session is None:
                body = _login_page("That login link was already used or is unknown.")
                return HTMLResponse(body, 403, headers=_SECURITY_HEADERS)
            # Redirect so the code leaves the address bar (and the browser history).
            return with_session(RedirectResponse("/", 303, headers=_SECURITY_HEADERS), session)
        if not auth.valid(session_of(request)):
            return HTMLResponse(_login_page(), headers=_SECURITY_HEADERS)
        return HTMLResponse(_asset("inspector.html"), headers=_SECURITY_HEADERS)

    async def login(request: Request) -> Response:
        if not local(request):
            return HTMLResponse("the inspector only answers loopback clients", 403)
        form = await request.form()
        token = form.get("token")
        session = auth.login(token) if isinstance(token, str) else None
        if session is None:
            return HTMLResponse(_login_page("Wrong control token."), 403, headers=_SECURITY_HEADERS)
        return with_session(RedirectResponse("/", 303, headers=_SECURITY_HEADERS), session)

    async def logout(request: Request) -> Response:
        auth.logout(session_of(request))
        response = RedirectResponse("/", 303)
        response.delete_cookie(auth.cookie_name, path="/")
        return response

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            return Response("not found", 404)
        return Response(_asset(name), media_type=_STATIC[name], headers=_SECURITY_HEADERS)

    def api(endpoint: Callable[[Request], Awaitable[Any]], *, write: bool = False) -> Endpoint:
        async def wrapper(request: Request) -> Response:
            if not local(request):
                return JSONResponse({"error": "loopback clients only"}, 403)
            if not auth.valid(session_of(request)):
                return JSONResponse({"error": "log in to the inspector first"}, 401)
            if write and request.headers.get(WRITE_HEADER) != "1":
                return JSONResponse({"error": f"send the {WRITE_HEADER} header"}, 403)
            try:
                return JSONResponse(await endpoint(request), headers={"Cache-Control": "no-store"})
            except ControlError as exc:
                return JSONResponse({"error": str(exc)}, exc.status)

        return wrapper

    async def state(request: Request) -> Any:
        return await run_in_threadpool(overview, app)

    async def records(request: Request) -> Any:
        params = request.path_params
        return await run_in_threadpool(
            list_records,
            app,
            params["org_id"],
            params["module"],
            request.query_params.get("q", ""),
            _int(request, "limit", 50),
            _int(request, "offset", 0),
        )

    async def record(request: Request) -> Any:
        params = request.path_params
        return await run_in_threadpool(
            get_record, app, params["org_id"], params["module"], params["record_id"]
        )

    async def requests_log(request: Request) -> Any:
        since = _int(request, "since", 0)
        return {"requests": app.requests.recent(_int(request, "limit", 200), max(0, since))}

    async def webhook_deliveries(request: Request) -> Any:
        return await run_in_threadpool(deliveries, app, _int(request, "limit", 50))

    async def clock(request: Request) -> Any:
        return _clock_body(app)

    async def clock_advance(request: Request) -> Any:
        data = await _json_body(request)
        return advance_clock(app, data.get("seconds"))

    async def faults(request: Request) -> Any:
        return {"faults": [rule.as_json() for rule in app.faults.rules()]}

    return [
        Route("/", page, methods=["GET"]),
        Route(BASE + "/login", login, methods=["POST"]),
        Route(BASE + "/logout", logout, methods=["POST"]),
        Route(BASE + "/static/{name}", static, methods=["GET"]),
        Route(BASE + "/api/state", api(state), methods=["GET"]),
        Route(BASE + "/api/records/{org_id}/{module}", api(records), methods=["GET"]),
        Route(BASE + "/api/records/{org_id}/{module}/{record_id}", api(record), methods=["GET"]),
        Route(BASE + "/api/requests", api(requests_log), methods=["GET"]),
        Route(BASE + "/api/deliveries", api(webhook_deliveries), methods=["GET"]),
        Route(BASE + "/api/clock", api(clock), methods=["GET"]),
        Route(BASE + "/api/clock/advance", api(clock_advance, write=True), methods=["POST"]),
        Route(BASE + "/api/faults", api(faults), methods=["GET"]),
    ]
