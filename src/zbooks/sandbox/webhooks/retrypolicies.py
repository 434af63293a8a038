"""Retry policies (``/retrypolicies``, api-facts §6.4) and the delays they imply.

A policy says how often and how far apart a failed webhook is tried again. Zoho does not
document how a policy is tied to a webhook; here the newest policy whose ``action_type``
is ``webhook`` applies to every webhook of the organization (UNCONFIRMED), and without
one ``DEFAULT_POLICY`` applies (Zoho's default is UNCONFIRMED too).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import ListSpec
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.webhooks.modules import RETRY_POLICIES

MODULE = RETRY_POLICIES
RETRY_TYPES = ("fixed", "varying_linear", "varying_exponential", "honor_retry_after")
ACTION_TYPES = ("webhook", "custom_function")
UNITS = {"minutes": 60, "hours": 3600}
MAX_RETRIES = 20
MAX_NAME = 100

# UNCONFIRMED: Zoho's behaviour without a configured policy. Three retries, 5, 10 and
# 20 minutes after the failures, matches "retried a few times, then logged as failed".
DEFAULT_POLICY: dict[str, Any] = {
    "policy_id": "",
    "policy_name": "Default",
    "action_type": "webhook",
    "retry_type": "varying_exponential",
    "base_interval": 5,
    "base_interval_unit": "minutes",
    "interval_modifier": 2,
    "retry_count": 3,
}

_SUMMARY_FIELDS = (
    "policy_id",
    "policy_name",
    "retry_type",
    "base_interval",
    "base_interval_unit",
    "interval_modifier",
    "retry_count",
    "created_time",
)


def present_row(ledger: Ledger, record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in _SUMMARY_FIELDS}


def present(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="retrypolicies",
    report_name="Retry Policies",
    sort_columns=frozenset({"created_time"}),
    date_fields=(),
    present=present_row,
)


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise invalid_value(field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid_value(field) from None
    if number != value and not (isinstance(value, str) and value.strip().isdigit()):
        raise invalid_value(field)
    if not low <= number <= high:
        raise invalid_value(field)
    return number


def _apply(record: dict[str, Any], body: Mapping[str, Any], *, creating: bool) -> None:
    for field, allowed in (("retry_type", RETRY_TYPES), ("action_type", ACTION_TYPES)):
        if field in body or creating:
            value = body.get(field)
            if value not in allowed:
                raise invalid_value(field)
            record[field] = value
    if "retry_count" in body or creating:
        record["retry_count"] = _int(body.get("retry_count"), "retry_count", 1, MAX_RETRIES)
    if "base_interval" in body:
        record["base_interval"] = _int(body["base_interval"], "base_interval", 1, 10_000)
    if "base_interval_unit" in body:
        if body["base_interval_unit"] not in UNITS:
            raise invalid_value("base_interval_unit")
        record["base_interval_unit"] = body["base_interval_unit"]
    if "interval_modifier" in body and body["interval_modifier"] is not None:
        record["interval_modifier"] = _int(body["interval_modifier"], "interval_modifier", 0, 1000)
    if "policy_name" in body:
        name = body["policy_name"]
        if not isinstance(name, str) or len(name) > MAX_NAME:
            raise invalid_value("policy_name")
        record["policy_name"] = name


def create_policy(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "policy_id": ledger.store.new_id(),
        "policy_name": "",
        "base_interval": DEFAULT_POLICY["base_interval"],
        "base_interval_unit": "minutes",
        "interval_modifier": 0,  # 0: the retry type's default step or factor
    }
    _apply(record, body, creating=True)
    if not record["policy_name"]:
        record["policy_name"] = f"{record['retry_type'].replace('_', ' ').title()} retries"
    with ledger.db.transaction():
        ledger.store.insert(MODULE, record["policy_id"], record, ledger.now())
    return record


def get_policy(ledger: Ledger, policy_id: str) -> dict[str, Any]:
    record = ledger.store.get(MODULE, policy_id)
    if record is None:
        raise not_found("Retry policy")
    return record


def update_policy(ledger: Ledger, policy_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    with ledger.db.transaction():
        record = get_policy(ledger, policy_id)
        _apply(record, body, creating=False)
        ledger.store.update(MODULE, policy_id, record, ledger.now())
    return record


def delete_policy(ledger: Ledger, policy_id: str) -> None:
    with ledger.db.transaction():
        get_policy(ledger, policy_id)
        ledger.store.delete(MODULE, policy_id)


def policy_for_webhooks(ledger: Ledger) -> dict[str, Any]:
    """The policy that governs webhook retries in this organization."""
    newest = ledger.store.query(
        MODULE, [Filter("action_type", "eq", "webhook")], per_page=1
    ).records
    return dict(newest[0]) if newest else dict(DEFAULT_POLICY)


def retry_delay(
    policy: Mapping[str, Any], retry_number: int, retry_after: str | None = None
) -> float:
    """Seconds to wait before retry ``retry_number`` (1 = the first retry).

    - fixed: ``base`` every time;
    - varying_linear: ``base + (n - 1) * modifier`` (modifier defaults to ``base``);
    - varying_exponential: ``base * modifier ** (n - 1)`` (modifier defaults to 2);
    - honor_retry_after: the failed response's ``Retry-After`` (seconds or HTTP date),
      else ``base``.
    The exact formulas are UNCONFIRMED; these are the conventional readings of the names.
    """
    unit = UNITS.get(str(policy.get("base_interval_unit") or "minutes"), 60)
    base = float(policy.get("base_interval") or 1) * unit
    modifier = policy.get("interval_modifier")
    kind = policy.get("retry_type")
    n = max(retry_number, 1)
    if kind == "varying_linear":
        step = base if modifier in (None, 0) else float(modifier) * unit
        return base + (n - 1) * step
    if kind == "varying_exponential":
        factor = 2.0 if modifier in (None, 0) else float(modifier)
        return float(base * factor ** (n - 1))
    if kind == "honor_retry_after" and retry_after:
        return parse_retry_after(retry_after, default=base)
    return base


def parse_retry_after(value: str, *, default: float) -> float:
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # Relative to real time: the receiver's date is a wall-clock instant.
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
