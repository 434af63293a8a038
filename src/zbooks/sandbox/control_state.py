"""More of the control plane: snapshots, setting the clock, seeding many modules at
once, clearing the request log, and read-only views of the state (organizations with
record counts, records, webhook deliveries) for the inspector and the CLI.

Same rules as ``control.py``: loopback clients with ``Authorization: Bearer <control
token>``, plain JSON answers. The handlers are plain functions of (app, input) so the
inspector page (``zbooks.sandbox.inspector``) serves the same answers behind its own
login.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from zbooks.sandbox.control import (
    MAX_SEED_COUNT,
    PREFIX,
    ControlError,
    _clock_body,
    _json_body,
    guard,
)
from zbooks.sandbox.ledger.organizations import get_organization
from zbooks.sandbox.snapshots import SnapshotError
from zbooks.sandbox.webhooks.modules import HISTORIES

if TYPE_CHECKING:
    from zbooks.sandbox.app import SandboxApp

Endpoint = Callable[[Request], Awaitable[Response]]
MAX_PAGE = 200
# Fields that name a record in a list, most telling first (the first present one wins).
_LABEL_FIELDS = (
    "invoice_number",
    "bill_number",
    "estimate_number",
    "salesorder_number",
    "purchaseorder_number",
    "creditnote_number",
    "payment_number",
    "entry_number",
    "contact_name",
    "name",
    "account_name",
    "tax_name",
    "currency_code",
    "webhook_name",
)
_SUMMARY_FIELDS = ("status", "date", "customer_name", "vendor_name", "total", "balance", "email")


# --- handlers: (app, input) -> JSON-able ---------------------------------------------------
def overview(app: SandboxApp) -> dict[str, Any]:
    """Organizations, each with its record count per module."""
    with app.db.read() as conn:
        orgs = conn.execute(
            "SELECT org_id, plan, data FROM organizations ORDER BY org_id"
        ).fetchall()
        counts = conn.execute(
            "SELECT org_id, module, COUNT(*) AS n FROM records GROUP BY org_id, module"
        ).fetchall()
    per_org: dict[str, dict[str, int]] = {}
    for row in counts:
        per_org.setdefault(str(row["org_id"]), {})[str(row["module"])] = int(row["n"])
    return {
        "organizations": [
            {
                "organization_id": str(row["org_id"]),
                "name": str(json.loads(row["data"]).get("name", "")),
                "plan": str(row["plan"]),
                "modules": dict(sorted(per_org.get(str(row["org_id"]), {}).items())),
            }
            for row in orgs
        ],
        "clock": _clock_body(app),
        "demo_org_id": app.demo.org_id,
    }


def _public(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not str(k).startswith("_")}


def _summary(record_id: str, data: dict[str, Any]) -> dict[str, Any]:
    label = next((str(data[f]) for f in _LABEL_FIELDS if data.get(f) not in (None, "")), "")
    summary = {"id": record_id, "label": label}
    summary.update({f: data[f] for f in _SUMMARY_FIELDS if f in data})
    return summary


def list_records(
    app: SandboxApp, org_id: str, module: str, query: str = "", limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """Newest first; ``query`` matches anywhere in the stored JSON (case-insensitive)."""
    limit = max(1, min(limit, MAX_PAGE))
    offset = max(0, offset)
    where = "org_id=? AND module=?"
    params: list[Any] = [org_id, module]
    if query:
        where += " AND data LIKE ? ESCAPE '\\'"
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{escaped}%")
    with app.db.read() as conn:
        total = int(
            conn.execute(f"SELECT COUNT(*) FROM records WHERE {where}", params).fetchone()[0]
        )
        rows = conn.execute(
            f"SELECT record_id, data FROM records WHERE {where} "
            "ORDER BY created_time DESC, rowid DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
    return {
        "organization_id": org_id,
        "module": module,
        "total": total,
        "records": [_summary(str(r["record_id"]), json.loads(r["data"])) for r in rows],
    }


def get_record(app: SandboxApp, org_id: str, module: str, record_id: str) -> dict[str, Any]:
    with app.db.read() as conn:
        row = conn.execute(
            "SELECT data FROM records WHERE org_id=? AND module=? AND record_id=?",
            (org_id, module, record_id),
        ).fetchone()
    if row is None:
        raise ControlError(f"no {module} record {record_id} in organization {org_id}", 404)
    return {"module": module, "id": record_id, "record": _public(json.loads(row["data"]))}


def deliveries(app: SandboxApp, limit: int = 50) -> dict[str, Any]:
    """Webhook deliveries (history records) with each attempt, newest first."""
    limit = max(1, min(limit, MAX_PAGE))
    with app.db.read() as conn:
        rows = conn.execute(
            "SELECT org_id, data FROM records WHERE module=? "
            "ORDER BY created_time DESC, rowid DESC LIMIT ?",
            (HISTORIES, limit),
        ).fetchall()
    items = []
    for row in rows:
        data = json.loads(row["data"])
        items.append(
            {
                "organization_id": str(row["org_id"]),
                **{
                    key: data.get(key)
                    for key in (
                        "history_id",
                        "webhook_name",
                        "webhook_url",
                        "entity_type",
                        "entity_id",
                        "status",
                        "response_code",
                        "retry_count",
                        "next_retry_time",
                        "history_time",
                    )
                },
                "attempts": [
                    {
                        key: attempt.get(key)
                        for key in ("history_time", "response_code", "response_status", "status")
                    }
                    for attempt in data.get("versions") or []
                ],
            }
        )
    return {"deliveries": items}


def parse_time(value: Any) -> float:
    """An ISO 8601 time (``2030-01-01T09:00:00+00:00``, ``...Z``, or a date, read as UTC
    midnight) or epoch seconds -> epoch seconds. A time without an offset is UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str) or not value.strip():
        raise ControlError("time must be an ISO 8601 date-time such as 2030-01-01T09:00:00Z")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ControlError(
            f"{value!r} is not an ISO 8601 date-time; use e.g. 2030-01-01T09:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def set_clock(app: SandboxApp, target: float) -> dict[str, Any]:
    delta = target - app.clock.time()
    if delta < 0:
        # As /clock/advance: going back would break expiry and rate-window invariants.
        # A snapshot restore is the way back (it also resets what depends on time).
        raise ControlError("the clock only moves forward; restore a snapshot to go back")
    app.clock.advance(delta)
    return _clock_body(app)


def advance_clock(app: SandboxApp, seconds: Any) -> dict[str, Any]:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ControlError("seconds must be a number")
    if seconds < 0:
        raise ControlError("the clock only moves forward")
    app.clock.advance(float(seconds))
    return _clock_body(app)


def seed_many(app: SandboxApp, data: dict[str, Any]) -> dict[str, Any]:
    """``{"counts": {"contacts": 5, "invoices": 100}}`` in dependency order, or
    ``{"preset": "demo"}`` for the demo organization's data; ``org_id`` and ``seed``
    (an RNG seed) are optional."""
    from zbooks.sandbox.ledger.base import SEEDERS
    from zbooks.sandbox.seed import DEMO_PLAN, seed_demo, seed_module

    org_id = str(data.get("org_id") or app.demo.org_id)
    if get_organization(app.db, org_id) is None:
        raise ControlError(f"no organization {org_id}", 404)
    rng_seed = data.get("seed")
    if rng_seed is not None and (isinstance(rng_seed, bool) or not isinstance(rng_seed, int)):
        raise ControlError("seed must be an integer")
    preset = data.get("preset")
    counts = data.get("counts")
    if preset is not None:
        if preset != "demo" or counts:
            raise ControlError('preset must be "demo" (and comes without counts)')
        made = seed_demo(app.db, app.clock, org_id, **({"rng_seed": rng_seed} if rng_seed else {}))
        return {"organization_id": org_id, "created": made}
    if not isinstance(counts, dict) or not counts:
        raise ControlError('send {"counts": {"<module>": N, ...}} or {"preset": "demo"}')
    unknown = sorted(set(counts) - set(SEEDERS))
    if unknown:
        raise ControlError(
            f"no seeder for {', '.join(unknown)}; available: {', '.join(sorted(SEEDERS))}"
        )
    for module, count in counts.items():
        if (
            isinstance(count, bool)
            or not isinstance(count, int)
            or not 0 <= count <= MAX_SEED_COUNT
        ):
            raise ControlError(f"{module}: count must be between 0 and {MAX_SEED_COUNT}")
    order = {module: index for index, (module, _) in enumerate(DEMO_PLAN)}
    rng = random.Random(rng_seed)
    created: dict[str, list[str]] = {}
    for module in sorted(counts, key=lambda m: (order.get(m, len(order)), m)):
        if counts[module]:
            created[module] = seed_module(app.db, app.clock, org_id, module, counts[module], rng)
    return {"organization_id": org_id, "created": created}


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ControlError(f"{name} must be an integer") from None


# --- routes --------------------------------------------------------------------------------
def state_routes(app: SandboxApp) -> list[BaseRoute]:
    """``/_sandbox/snapshots``, ``/clock/set``, ``/seed/many``, ``DELETE /requests``,
    ``/state``, ``/records/...`` and ``/webhooks/deliveries``."""

    def guarded(endpoint: Endpoint) -> Endpoint:
        return guard(app, endpoint)

    async def snapshots_list(request: Request) -> Response:
        return JSONResponse({"snapshots": [s.as_json() for s in app.snapshots.list()]})

    async def snapshots_take(request: Request) -> Response:
        data = await _json_body(request)
        name = data.get("name") or ""
        if not isinstance(name, str):
            raise ControlError("name must be a string")
        snapshot = await run_in_threadpool(app.snapshots.take, name)
        return JSONResponse({"snapshot": snapshot.as_json()}, status_code=201)

    async def snapshot_restore(request: Request) -> Response:
        data = await _json_body(request)
        fresh = data.get("fresh", False)
        if not isinstance(fresh, bool):
            raise ControlError("fresh must be true or false")
        snap_id = request.path_params["snap_id"]
        try:
            copied = await run_in_threadpool(lambda: app.snapshots.restore(snap_id, fresh=fresh))
        except SnapshotError:
            raise ControlError(f"no snapshot {snap_id}", 404) from None
        return JSONResponse({"restored": snap_id, "copied": copied, "clock": _clock_body(app)})

    async def snapshot_delete(request: Request) -> Response:
        snap_id = request.path_params["snap_id"]
        try:
            app.snapshots.delete(snap_id)
        except SnapshotError:
            raise ControlError(f"no snapshot {snap_id}", 404) from None
        return JSONResponse({"deleted": snap_id})

    async def clock_set(request: Request) -> Response:
        data = await _json_body(request)
        if "time" not in data:
            raise ControlError('send {"time": "2030-01-01T09:00:00Z"}')
        return JSONResponse(set_clock(app, parse_time(data["time"])))

    async def seed(request: Request) -> Response:
        data = await _json_body(request)
        return JSONResponse(await run_in_threadpool(seed_many, app, data))

    async def requests_clear(request: Request) -> Response:
        app.requests.clear()
        return JSONResponse({"cleared": True})

    async def state(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(overview, app))

    async def records(request: Request) -> Response:
        org, module = request.path_params["org_id"], request.path_params["module"]
        answer = await run_in_threadpool(
            list_records,
            app,
            org,
            module,
            request.query_params.get("q", ""),
            _int_param(request, "limit", 50),
            _int_param(request, "offset", 0),
        )
        return JSONResponse(answer)

    async def record(request: Request) -> Response:
        params = request.path_params
        answer = await run_in_threadpool(
            get_record, app, params["org_id"], params["module"], params["record_id"]
        )
        return JSONResponse(answer)

    async def webhook_deliveries(request: Request) -> Response:
        return JSONResponse(deliveries(app, _int_param(request, "limit", 50)))

    snapshot_methods = {"GET": guarded(snapshots_list), "POST": guarded(snapshots_take)}

    async def snapshots(request: Request) -> Response:
        return await snapshot_methods.get(request.method, snapshot_methods["GET"])(request)

    return [
        Route(PREFIX + "/snapshots", snapshots, methods=["GET", "POST"]),
        Route(PREFIX + "/snapshots/{snap_id}/restore", guarded(snapshot_restore), methods=["POST"]),
        Route(PREFIX + "/snapshots/{snap_id}", guarded(snapshot_delete), methods=["DELETE"]),
        Route(PREFIX + "/clock/set", guarded(clock_set), methods=["POST"]),
        Route(PREFIX + "/seed/many", guarded(seed), methods=["POST"]),
        Route(PREFIX + "/requests/clear", guarded(requests_clear), methods=["POST"]),
        Route(PREFIX + "/state", guarded(state), methods=["GET"]),
        Route(PREFIX + "/records/{org_id}/{module}", guarded(records), methods=["GET"]),
        Route(PREFIX + "/records/{org_id}/{module}/{record_id}", guarded(record), methods=["GET"]),
        Route(PREFIX + "/webhooks/deliveries", guarded(webhook_deliveries), methods=["GET"]),
    ]
