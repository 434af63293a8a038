"""``/_sandbox/webhooks/*``: fire an event on demand and tune the engine.

- ``POST /_sandbox/webhooks/trigger {event, org_id?, entity_id?, url?, secret?, method?,
  wait?, timeout?}`` fires ``<entity>.<trigger>`` (``invoice.created``, ``bill.paid``)
  for one record (``entity_id`` or the most recently modified one): through the active
  workflow rules it would fire, or straight to ``url``. With ``wait`` (the default) the
  answer comes after each delivery's first attempt and reports its outcome.
- ``GET|POST /_sandbox/webhooks/settings`` reads or changes ``timeout``,
  ``retry_scale``, ``allow_external`` and ``sign`` at run time.
- ``POST /_sandbox/webhooks/flush {timeout?}`` waits until nothing is due.

Same guard as the rest of the control plane: loopback clients with the control token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from zbooks.sandbox.control import PREFIX, ControlError, guard
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.organizations import get_organization

if TYPE_CHECKING:
    from zbooks.sandbox.app import SandboxApp
    from zbooks.sandbox.webhooks.engine import WebhookEngine

Endpoint = Callable[[Request], Awaitable[Response]]
MAX_WAIT = 120.0


class _Refused(ControlError):
    """A webhook control request that cannot be done (answered as its JSON error)."""


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = await request.json()
    except ValueError:
        raise _Refused("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise _Refused("the body must be a JSON object")
    return data


def _number(data: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _Refused(f"{key} must be a number between {low:g} and {high:g}")
    return float(value)


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _Refused(f"{key} must be a string")
    return str(value)


def delivery_summary(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "history_id": record.get("history_id"),
        "webhook_id": record.get("webhook_url_id"),
        "webhook_name": record.get("webhook_name"),
        "workflow_id": record.get("workflow_id"),
        "url": record.get("webhook_url"),
        "status": record.get("status"),
        "response_code": record.get("response_code"),
        "response_message": record.get("response_message"),
        "next_retry_time": record.get("next_retry_time"),
    }


def webhook_control_routes(app: SandboxApp, engine: WebhookEngine) -> list[BaseRoute]:
    def guarded(endpoint: Endpoint) -> Endpoint:
        return guard(app, endpoint)

    async def trigger(request: Request) -> Response:
        data = await _body(request)
        event = _optional_str(data, "event")
        if event is None:
            raise _Refused("event is required, e.g. invoice.created")
        org_id = _optional_str(data, "org_id") or app.demo.org_id
        if get_organization(app.db, org_id) is None:
            raise _Refused(f"no organization {org_id}", 404)
        entity_id = _optional_str(data, "entity_id")
        url = _optional_str(data, "url")
        secret = _optional_str(data, "secret")
        method = _optional_str(data, "method") or "POST"
        if method.upper() not in ("POST", "PUT", "DELETE"):
            raise _Refused("method must be POST, PUT or DELETE")
        wait = data.get("wait", True)
        if not isinstance(wait, bool):
            raise _Refused("wait must be true or false")
        timeout = _number(data, "timeout", engine.settings.timeout + 5, 0, MAX_WAIT)
        ledger = Ledger(db=app.db, clock=app.clock, org_id=org_id)

        def fire() -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
            return engine.trigger(
                ledger, event, entity_id=entity_id, url=url, secret=secret, method=method
            )

        try:
            entity, payload, made = await run_in_threadpool(fire)
        except ValueError as exc:
            raise _Refused(str(exc)) from None
        except LookupError as exc:
            raise _Refused(str(exc).strip("'\""), 404) from None
        except ApiError as exc:  # a URL the engine may not deliver to
            raise _Refused(exc.message) from None
        ids = [str(r["history_id"]) for r in made]
        if wait:
            made = await run_in_threadpool(engine.wait_for, org_id, ids, timeout)
        return JSONResponse(
            {
                "event": event,
                "org_id": org_id,
                "entity": entity.name,
                "entity_id": str(payload.get(entity.id_field, "")),
                "deliveries": [delivery_summary(r) for r in made],
            },
            status_code=201,
        )

    async def settings_get(request: Request) -> Response:
        return JSONResponse(engine.settings.as_json())

    async def settings_set(request: Request) -> Response:
        data = await _body(request)
        settings = engine.settings
        if "timeout" in data:
            settings.timeout = _number(data, "timeout", settings.timeout, 0.01, 600)
        if "retry_scale" in data:
            settings.retry_scale = _number(data, "retry_scale", settings.retry_scale, 0, 1000)
        for flag in ("allow_external", "sign"):
            if flag in data:
                if not isinstance(data[flag], bool):
                    raise _Refused(f"{flag} must be true or false")
                setattr(settings, flag, data[flag])
        return JSONResponse(settings.as_json())

    async def flush(request: Request) -> Response:
        data = await _body(request)
        timeout = _number(data, "timeout", 30, 0, MAX_WAIT)
        idle = await run_in_threadpool(engine.wait_idle, timeout)
        return JSONResponse({"idle": idle, "pending": engine.pending()})

    base = PREFIX + "/webhooks"
    settings_endpoints = {"GET": guarded(settings_get), "POST": guarded(settings_set)}

    async def settings(request: Request) -> Response:
        handler = settings_endpoints.get(request.method, settings_endpoints["GET"])
        return await handler(request)

    return [
        Route(base + "/trigger", guarded(trigger), methods=["POST"]),
        Route(base + "/settings", settings, methods=["GET", "POST"]),
        Route(base + "/flush", guarded(flush), methods=["POST"]),
    ]
