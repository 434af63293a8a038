"""The control plane: ``/_sandbox/*`` endpoints that tests and people use to steer the
sandbox (reset, seed, travel in time, mint self-client codes, add clients and
organizations, read the request log, inject faults).

These endpoints can do what no Zoho client may (mint codes for any client), so they are
served only to loopback clients and only with ``Authorization: Bearer <control token>``.
Answers are plain JSON, not Zoho envelopes: this API is the sandbox's own.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from zbooks.sandbox.faults import FaultRule, FaultRuleError
from zbooks.sandbox.ledger.organizations import PLANS, get_organization
from zbooks.sandbox.seed import UnknownSeedModule, seed_module

if TYPE_CHECKING:
    from zbooks.sandbox.app import SandboxApp

logger = logging.getLogger("zbooks.sandbox.control")

PREFIX = "/_sandbox"
MAX_SEED_COUNT = 100_000
Endpoint = Callable[[Request], Awaitable[Response]]


class ControlError(Exception):
    """A control request the sandbox refuses; rendered as ``{"error": message}``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def is_loopback(host: str | None) -> bool:
    """Whether a client address is the local machine (``127.0.0.0/8``, ``::1``)."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def check_control_access(
    client_host: str | None, authorization: str | None, token: str
) -> tuple[int, str] | None:
    """None when allowed, else (HTTP status, reason).

    Remote clients get 403 whatever they send; a local client without the token gets
    401, with a wrong one 403.
    """
    if not is_loopback(client_host):
        return 403, "the control plane only answers loopback clients"
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return 401, "send Authorization: Bearer <control token>"
    if not secrets.compare_digest(value.strip().encode(), token.encode()):
        return 403, "wrong control token"
    return None


def _error(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def guard(app: SandboxApp, endpoint: Endpoint) -> Endpoint:
    """Every control route, wherever it is defined: loopback and the control token
    first, then a ``ControlError`` becomes its JSON error answer (never a 500)."""

    async def wrapper(request: Request) -> Response:
        client = request.client.host if request.client else None
        denied = check_control_access(
            client, request.headers.get("authorization"), app.config.control_token
        )
        if denied is not None:
            return _error(*denied)
        try:
            return await endpoint(request)
        except ControlError as exc:
            return _error(exc.status, str(exc))

    return wrapper


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise ControlError("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return data


def _int(data: dict[str, Any], key: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(f"{key} must be an integer")
    return value


def _str(data: dict[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value:
        raise ControlError(f"{key} is required (a non-empty string)")
    return value


def _clock_body(app: SandboxApp) -> dict[str, Any]:
    clock = app.clock
    return {
        "time": clock.time(),
        "now": clock.zoho_timestamp(),
        "today": clock.today().isoformat(),
        "offset": clock.offset,
    }


def control_routes(app: SandboxApp) -> list[BaseRoute]:
    """The ``/_sandbox`` routes bound to one running sandbox."""

    def guarded(endpoint: Endpoint) -> Endpoint:
        return guard(app, endpoint)

    async def info(request: Request) -> Response:
        return JSONResponse(
            {
                "base_url": app.config.base_url,
                "demo": app.demo.as_json(),
                "plan": app.config.plan,
                "clock": _clock_body(app),
            }
        )

    async def reset(request: Request) -> Response:
        demo = await run_in_threadpool(app.reset)
        return JSONResponse({"reset": True, "demo": demo.as_json()})

    async def seed(request: Request) -> Response:
        data = await _json_body(request)
        module = _str(data, "module")
        count = _int(data, "count", 10)
        if not 1 <= count <= MAX_SEED_COUNT:
            raise ControlError(f"count must be between 1 and {MAX_SEED_COUNT}")
        org_id = str(data.get("org_id") or app.demo.org_id)
        if get_organization(app.db, org_id) is None:
            raise ControlError(f"no organization {org_id}", 404)
        rng = random.Random(data.get("seed"))
        try:
            ids = await run_in_threadpool(
                seed_module, app.db, app.clock, org_id, module, count, rng
            )
        except UnknownSeedModule:
            from zbooks.sandbox.ledger.base import SEEDERS

            raise ControlError(
                f"no seeder for {module!r}; available: {', '.join(sorted(SEEDERS))}"
            ) from None
        return JSONResponse({"module": module, "org_id": org_id, "count": len(ids), "ids": ids})

    async def clock(request: Request) -> Response:
        return JSONResponse(_clock_body(app))

    async def clock_advance(request: Request) -> Response:
        data = await _json_body(request)
        seconds = data.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ControlError("seconds must be a number")
        if seconds < 0:
            # Going back would break every "expires at" and rate window invariant.
            raise ControlError("the clock only moves forward")
        app.clock.advance(float(seconds))
        return JSONResponse(_clock_body(app))

    async def self_client_code(request: Request) -> Response:
        data = await _json_body(request)
        client_id = _str(data, "client_id")
        scope = _str(data, "scope")
        expires_in = _int(data, "expires_in") if data.get("expires_in") is not None else None
        org_id = str(data["org_id"]) if data.get("org_id") else None
        user_id = str(data["user_id"]) if data.get("user_id") else None
        try:
            code = await run_in_threadpool(
                lambda: app.accounts.issue_self_client_code(
                    client_id, scope, user_id=user_id, org_id=org_id, expires_in=expires_in
                )
            )
        except ValueError as exc:
            raise ControlError(str(exc)) from None
        return JSONResponse({"code": code})

    async def clients(request: Request) -> Response:
        data = await _json_body(request)
        single = data.get("redirect_uri")
        uris = data.get("redirect_uris") or ([single] if single else [])
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise ControlError("redirect_uris must be a list of strings")
        try:
            client = await run_in_threadpool(
                lambda: app.accounts.register_client(
                    name=str(data.get("name") or "sandbox client"),
                    redirect_uris=uris,
                    client_id=data.get("client_id") or None,
                    client_secret=data.get("client_secret") or None,
                    client_type=str(data.get("client_type") or "server"),
                )
            )
        except ValueError as exc:
            raise ControlError(str(exc)) from None
        return JSONResponse(client, status_code=201)

    async def organizations(request: Request) -> Response:
        data = await _json_body(request)
        name = _str(data, "name", "Sandbox Org")
        plan = str(data.get("plan") or app.config.plan)
        if plan not in PLANS:
            raise ControlError(f"plan must be one of {', '.join(PLANS)}")
        user_id = str(data["user_id"]) if data.get("user_id") else None
        email = data.get("email")
        settings = {
            key: data[key] for key in ("currency_code", "time_zone", "created_date") if key in data
        }

        def create() -> dict[str, Any]:
            owner = user_id
            if owner is None and isinstance(email, str) and email:
                owner = app.accounts.ensure_user(email, str(data.get("user_name") or email))
            return app.create_organization(name=name, plan=plan, user_id=owner, **settings)

        org = await run_in_threadpool(create)
        return JSONResponse({"organization": org}, status_code=201)

    async def fleet(request: Request) -> Response:
        from zbooks.sandbox.fleet import MAX_FLEET, create_fleet

        data = await _json_body(request)
        orgs = _int(data, "orgs")
        invoices = _int(data, "invoices", 0)
        if not 1 <= orgs <= MAX_FLEET:
            raise ControlError(f"orgs must be between 1 and {MAX_FLEET}")
        if not 0 <= invoices <= MAX_SEED_COUNT:
            raise ControlError(f"invoices must be between 0 and {MAX_SEED_COUNT}")
        plan = data.get("plan")
        if plan is not None and plan not in PLANS:
            raise ControlError(f"plan must be one of {', '.join(PLANS)}")
        prefix = _str(data, "prefix", "tenant")
        seed_value = data.get("seed")
        if seed_value is not None and not isinstance(seed_value, int):
            raise ControlError("seed must be an integer")
        tenants = await run_in_threadpool(
            lambda: create_fleet(
                app, orgs=orgs, invoices=invoices, plan=plan, prefix=prefix, seed=seed_value
            )
        )
        return JSONResponse({"tenants": tenants}, status_code=201)

    async def requests_log(request: Request) -> Response:
        try:
            limit = int(request.query_params.get("limit", "100"))
            since = int(request.query_params.get("since", "0"))
        except ValueError:
            raise ControlError("limit and since must be integers") from None
        return JSONResponse({"requests": app.requests.recent(max(0, limit), max(0, since))})

    async def faults_list(request: Request) -> Response:
        return JSONResponse({"faults": [r.as_json() for r in app.faults.rules()]})

    async def faults_add(request: Request) -> Response:
        data = await _json_body(request)
        if "seed" in data:
            seed_value = data.pop("seed")
            if seed_value is not None and not isinstance(seed_value, int):
                raise ControlError("seed must be an integer")
            app.faults.seed(seed_value)
        raw_rules = data.pop("rules") if "rules" in data else ([data] if data else [])
        if not isinstance(raw_rules, list) or not raw_rules:
            raise ControlError('send a rule object or {"rules": [...]}')
        try:
            parsed = [FaultRule.from_json(item) for item in raw_rules]
        except FaultRuleError as exc:
            raise ControlError(str(exc)) from None
        added = [app.faults.add(rule).as_json() for rule in parsed]
        logger.info("fault rules added: %s", [r["kind"] for r in added])
        return JSONResponse({"faults": added}, status_code=201)

    async def faults_clear(request: Request) -> Response:
        count = len(app.faults.rules())
        app.faults.clear()
        return JSONResponse({"cleared": count})

    table: list[tuple[str, Endpoint, str]] = [
        ("/info", info, "GET"),
        ("/reset", reset, "POST"),
        ("/seed", seed, "POST"),
        ("/clock", clock, "GET"),
        ("/clock/advance", clock_advance, "POST"),
        ("/self-client/code", self_client_code, "POST"),
        ("/clients", clients, "POST"),
        ("/organizations", organizations, "POST"),
        ("/fleet", fleet, "POST"),
        ("/requests", requests_log, "GET"),
        ("/faults", faults_list, "GET"),
        ("/faults", faults_add, "POST"),
        ("/faults", faults_clear, "DELETE"),
    ]
    routes: list[BaseRoute] = []
    by_path: dict[str, dict[str, Endpoint]] = {}
    for path, endpoint, method in table:
        by_path.setdefault(path, {})[method] = guarded(endpoint)
    for path, methods in by_path.items():
        routes.append(Route(PREFIX + path, _by_method(methods), methods=list(methods)))
    return routes


def _by_method(methods: dict[str, Endpoint]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        handler = methods.get(request.method) or methods["GET"]  # HEAD is served as GET
        return await handler(request)

    return endpoint
