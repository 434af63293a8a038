"""Webhook history (``/settings/webhooks/histories``): one record per delivery.

A history record is also the delivery's durable state: it keeps the exact request to
send (``_request``), the retry policy in force when the delivery began (``_policy``),
when the next attempt is due (``_due``, sandbox-clock seconds) and a sequence number
(``_seq``) that makes stale scheduled attempts harmless. So the engine can be stopped
and restarted (or the sandbox killed) without losing a retry, and a resend is just
"make it due again". Private ``_`` fields never leave the sandbox.

Statuses (Zoho's values are UNCONFIRMED): ``pending`` (not tried yet), ``retrying``
(failed, another attempt is scheduled), ``success`` and ``failed`` (gave up).
``response_status`` is the last attempt's outcome, ``success`` or ``failure``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from zbooks.sandbox.clock import format_zoho_time, parse_zoho_time
from zbooks.sandbox.errors import invalid_value, not_found
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.webhooks.delivery import AttemptResult, OutgoingRequest
from zbooks.sandbox.webhooks.entities import ENTITIES, Entity, filter_label
from zbooks.sandbox.webhooks.modules import HISTORIES
from zbooks.sandbox.webhooks.retrypolicies import policy_for_webhooks, retry_delay

MODULE = HISTORIES
ACTIVE = ("pending", "retrying")
MAX_BULK_RESEND = 10

_ROW_FIELDS = (
    "history_id",
    "webhook_url_id",
    "webhook_name",
    "entity_type",
    "entity_id",
    "entity_name",
    "response_message",
    "response_code",
    "response_status",
    "status",
    "retry_count",
    "last_execution_time",
    "next_retry_time",
    "history_time",
    "webhook_url",
)
_DETAIL_FIELDS = (
    "history_id",
    "entity",
    "entity_type",
    "url_value",
    "response_message",
    "response_headers",
    "response_status",
    "status",
    "entity_id",
    "entity_details",
    "webhook_url_id",
    "retry_count",
    "last_execution_time",
    "next_retry_time",
    "webhook_name",
    "response_code",
    "history_time",
    "workflow_id",
    "request_method",
    "request_headers",
    "versions",
    "entity_name",
    "webhook_url",
)
# Query parameter sort names (OAS) -> stored fields.
SORT_COLUMNS = {
    "event_time": "history_time",
    "notified_time": "last_execution_time",
    "event_id": "created_time",
}


def present_row(ledger: Ledger, record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in _ROW_FIELDS}


def present(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in _DETAIL_FIELDS}


def _equals(field: str, value: str) -> FilterFactory:
    return lambda ledger: [Filter(field, "eq", value)]


_FILTERS: dict[str, FilterFactory] = {"Entity.All": lambda ledger: []}
_FILTERS.update({filter_label(e): _equals("entity", e.name) for e in ENTITIES})
_FILTERS.update(
    {
        "Status.All": lambda ledger: [],
        "Status.Success": _equals("status", "success"),
        "Status.Failed": _equals("status", "failed"),
        "Status.Failure": lambda ledger: [Filter("response_status", "eq", "failure")],
        "Status.Pending": lambda ledger: [Filter("status", "in", list(ACTIVE))],
        "Status.Retrying": _equals("status", "retrying"),
    }
)

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="histories",
    report_name="Webhook History",
    sort_columns=frozenset({"created_time", "history_time", "last_execution_time"}),
    filter_by=_FILTERS,
    default_filter="Entity.All",
    exact_fields=("webhook_url_id", "entity_id", "workflow_id"),
    date_fields=("_history_date",),
    number_fields=("_history_epoch",),
    present=present_row,
)


def list_query(query: Mapping[str, str]) -> dict[str, str]:
    """Translate the documented history filters into the listing helper's vocabulary."""
    out = {k: v for k, v in query.items() if not k.startswith("_")}
    if query.get("webhook_id"):
        out["webhook_url_id"] = query["webhook_id"]
    if query.get("from_date"):
        out["_history_date_start"] = query["from_date"]
    if query.get("to_date"):
        out["_history_date_end"] = query["to_date"]
    for name, suffix in (("start_time", "_greater_equals"), ("end_time", "_less_equals")):
        if query.get(name):
            try:
                epoch = parse_zoho_time(query[name]).timestamp()
            except ValueError:
                raise invalid_value(name) from None
            out["_history_epoch" + suffix] = repr(epoch)
    sort = query.get("sort_column", "")
    if sort:
        out["sort_column"] = SORT_COLUMNS.get(sort, sort)
    return out


def _stamp(ledger: Ledger, epoch: float) -> str:
    zone = ledger.clock.now().tzinfo
    return format_zoho_time(datetime.fromtimestamp(epoch, tz=UTC).astimezone(zone))


def new_history(
    ledger: Ledger,
    *,
    webhook: Mapping[str, Any],
    workflow_id: str,
    entity: Entity,
    record: Mapping[str, Any],
    request: OutgoingRequest,
    policy: Mapping[str, Any],
) -> dict[str, Any]:
    """Store a delivery that is due now (the engine picks it up after commit)."""
    now = ledger.now()
    history: dict[str, Any] = {
        "history_id": ledger.store.new_id(),
        "webhook_url_id": str(webhook.get("webhook_id") or ""),
        "webhook_name": str(webhook.get("webhook_name") or ""),
        "workflow_id": workflow_id,
        "entity": entity.name,
        "entity_type": entity.name,
        "entity_id": str(record.get(entity.id_field, "")),
        "entity_name": str(record.get(entity.name_field) or ""),
        "response_code": 0,
        "response_message": "",
        "response_headers": "",
        "response_status": "",
        "status": "pending",
        "retry_count": 0,
        "last_execution_time": "",
        "next_retry_time": now,
        "history_time": now,
        "webhook_url": request.url,
        "url_value": request.url,
        "request_method": request.method,
        "request_headers": request.headers_text(),
        "entity_details": dict(record),
        "versions": [],
        "_request": request.as_json(),
        "_policy": dict(policy),
        "_due": ledger.clock.time(),
        "_seq": 1,
        "_run_attempts": 0,
        "_history_date": ledger.today(),
        "_history_epoch": ledger.clock.time(),
    }
    ledger.store.insert(MODULE, history["history_id"], history, now)
    return history


def get_history(ledger: Ledger, history_id: str) -> dict[str, Any]:
    record = ledger.store.get(MODULE, history_id)
    if record is None:
        raise not_found("Webhook history")
    return record


def record_attempt(
    ledger: Ledger, history: dict[str, Any], result: AttemptResult, *, retry_scale: float
) -> dict[str, Any]:
    """Write one attempt's outcome and decide what comes next (retry or stop)."""
    now = ledger.now()
    attempts = int(history.get("_run_attempts", 0)) + 1
    policy = history.get("_policy") or {}
    retries_allowed = int(policy.get("retry_count", 0))
    history["_run_attempts"] = attempts
    history["retry_count"] = attempts - 1
    history["last_execution_time"] = now
    history["response_code"] = result.response_code
    history["response_message"] = result.response_message
    history["response_headers"] = result.response_headers
    history["response_status"] = "success" if result.ok else "failure"
    if result.ok:
        history["status"] = "success"
        history["_due"] = None
        history["next_retry_time"] = ""
    elif attempts - 1 < retries_allowed:
        delay = retry_delay(policy, attempts, result.retry_after) * retry_scale
        due = ledger.clock.time() + delay
        history["status"] = "retrying"
        history["_due"] = due
        history["_seq"] = int(history.get("_seq", 0)) + 1
        history["next_retry_time"] = _stamp(ledger, due)
    else:
        history["status"] = "failed"
        history["_due"] = None
        history["next_retry_time"] = ""
    _add_version(ledger, history, result, now)
    ledger.store.update(MODULE, history["history_id"], history, now)
    return history


def _add_version(ledger: Ledger, history: dict[str, Any], result: AttemptResult, now: str) -> None:
    history.setdefault("versions", []).append(
        {
            "history_version_id": ledger.store.new_id(),
            "response_message": result.response_message,
            "response_headers": result.response_headers,
            "response_code": result.response_code,
            "response_status": "success" if result.ok else "failure",
            "status": history["status"],
            "history_time": now,
        }
    )


def record_overtaken_attempt(
    ledger: Ledger, history: dict[str, Any], result: AttemptResult
) -> None:
    """An attempt that was in flight when the delivery was resent: the request did go
    out, so it is listed, but the resend's own attempt decides what happens next."""
    now = ledger.now()
    _add_version(ledger, history, result, now)
    ledger.store.update(MODULE, history["history_id"], history, now, touch=False)


def make_due(ledger: Ledger, history: dict[str, Any], policy: Mapping[str, Any]) -> None:
    """Resend: the same request again now, with a fresh run of retries."""
    now = ledger.now()
    history["status"] = "pending"
    history["_due"] = ledger.clock.time()
    history["_seq"] = int(history.get("_seq", 0)) + 1
    history["_run_attempts"] = 0
    history["_policy"] = dict(policy)
    history["next_retry_time"] = now
    ledger.store.update(MODULE, history["history_id"], history, now)


def due_of(history: Mapping[str, Any]) -> tuple[float, int] | None:
    """(due time, sequence) when the record waits for an attempt, else None."""
    due = history.get("_due")
    if history.get("status") not in ACTIVE or not isinstance(due, int | float):
        return None
    return float(due), int(history.get("_seq", 0))


def resend(ledger: Ledger, history_id: str) -> dict[str, Any]:
    """Make a delivery due again under the policy in force now. The engine's listener
    schedules the attempt when the caller's transaction commits."""
    with ledger.db.transaction():
        record = get_history(ledger, history_id)
        make_due(ledger, record, policy_for_webhooks(ledger))
    return record
