"""Webhook configurations (``/settings/webhooks``): validation, storage, presentation.

A webhook is only an action: it fires when a workflow rule that lists it matches a
change (api-facts §6.1). Field names and limits are those of the 2026-04 OAS
(``create-webhook-request``): name <= 50, description <= 100, url <= 5000, secret 12-50
alphanumeric characters, method POST/PUT/DELETE.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation, too_long
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.webhooks.delivery import BODY_TYPES, check_url
from zbooks.sandbox.webhooks.entities import ENTITIES, filter_label, require_entity
from zbooks.sandbox.webhooks.modules import WEBHOOKS, WORKFLOWS

MODULE = WEBHOOKS
METHODS = ("POST", "PUT", "DELETE")
PARAM_LISTS = (
    "entity_parameters",
    "additional_parameters",
    "headers",
    "form_data",
    "query_parameters",
)
_LIMITS = {
    "webhook_name": 50,
    "description": 100,
    "url": 5000,
    "raw_data": 100_000,
    "user_defined_format_name": 100_000,
    "user_defined_format_value": 100_000,
    "connection_link_name": 100,
    "lock_reason": 255,
    "placeholder": 100,
}
_SECRET = re.compile(r"^[A-Za-z0-9]{12,50}$")
_BOOLEANS = ("is_active", "is_new_response_format", "is_hidden")
_SUMMARY_FIELDS = (
    "webhook_id",
    "webhook_name",
    "description",
    "placeholder",
    "is_active",
    "is_from_plugin",
    "url",
    "entity",
    "method",
    "created_time",
)


def _entity_filter(name: str) -> FilterFactory:
    return lambda ledger: [Filter("entity", "eq", name)]


def present_row(ledger: Ledger, record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in _SUMMARY_FIELDS}


def present(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


_FILTERS: dict[str, FilterFactory] = {"Entity.All": lambda ledger: []}
_FILTERS.update({filter_label(e): _entity_filter(e.name) for e in ENTITIES})

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="webhooks",
    report_name="Webhooks",
    sort_columns=frozenset({"webhook_name", "created_time"}),
    filter_by=_FILTERS,
    default_filter="Entity.All",
    search_fields=("webhook_name", "url"),
    date_fields=(),
    present=present_row,
)


def _string(body: Mapping[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_value(field)
    limit = _LIMITS.get(field)
    if limit is not None and len(value) > limit:
        raise too_long(field, limit)
    return value


def _params(value: Any, field: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_value(field)
    result = []
    for item in value:
        if not isinstance(item, dict):
            raise invalid_value(field)
        name = item.get("param_name")
        raw = item.get("param_value", "")
        if not isinstance(name, str) or not name.strip():
            raise invalid_value(field)
        if raw is not None and not isinstance(raw, str | int | float | bool):
            raise invalid_value(field)
        result.append({"param_name": name.strip(), "param_value": "" if raw is None else raw})
    return result


def _placeholder(name: str, webhook_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return "wh_" + (slug or webhook_id)


def apply(
    record: dict[str, Any],
    body: Mapping[str, Any],
    *,
    creating: bool,
    allow_external: bool,
) -> None:
    """Validate ``body`` and copy it onto ``record`` (fields left out keep their value)."""
    if creating or "url" in body:
        if isinstance(body.get("url"), str) and len(body["url"]) > _LIMITS["url"]:
            raise too_long("url", _LIMITS["url"])
        record["url"] = check_url(body.get("url"), allow_external=allow_external)
    for field in (
        "webhook_name",
        "description",
        "raw_data",
        "user_defined_format_name",
        "user_defined_format_value",
        "connection_link_name",
        "lock_reason",
        "placeholder",
    ):
        if field in body:
            record[field] = _string(body, field)
    if "entity" in body:
        record["entity"] = require_entity(body["entity"]).name if body["entity"] else ""
    if "method" in body:
        method = body["method"]
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise invalid_value("method")
        record["method"] = method.upper()
    if "secret" in body:
        secret = body["secret"]
        if secret in (None, ""):
            record["secret"] = ""
        elif not isinstance(secret, str) or not _SECRET.match(secret):
            raise invalid_value("secret")
        else:
            record["secret"] = secret
    if "body_type" in body:
        kind = body["body_type"]
        if kind is None:
            kind = ""
        if not isinstance(kind, str) or kind not in BODY_TYPES:
            raise invalid_value("body_type")
        record["body_type"] = BODY_TYPES[kind]
    for field in PARAM_LISTS:
        if field in body:
            record[field] = _params(body[field], field)
    for field in _BOOLEANS:
        if field in body:
            if not isinstance(body[field], bool):
                raise invalid_value(field)
            record[field] = body[field]
    if "lock_type" in body:
        if body["lock_type"] not in ("error", "none", "", None):
            raise invalid_value("lock_type")
        record["lock_type"] = body["lock_type"] or "none"
    if "events" in body:
        events = body["events"]
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise invalid_value("events")
        record["events"] = list(events)


def _defaults(webhook_id: str) -> dict[str, Any]:
    return {
        "webhook_id": webhook_id,
        "webhook_name": "",
        "description": "",
        "placeholder": "",
        "is_active": True,
        "is_from_plugin": False,
        "url": "",
        "secret": "",
        "entity": "",
        "method": "POST",
        "entity_parameters": [],
        "additional_parameters": [],
        "headers": [],
        "body_type": "default",
        "raw_data": "",
        "form_data": [],
        "query_parameters": [],
        "user_defined_format_name": "",
        "user_defined_format_value": "",
        "connection_link_name": "",
        "lock_type": "none",
        "lock_reason": "",
        "is_new_response_format": True,
        "events": [],
    }


def create_webhook(
    ledger: Ledger, body: Mapping[str, Any], *, allow_external: bool = False
) -> dict[str, Any]:
    record = _defaults(ledger.store.new_id())
    apply(record, body, creating=True, allow_external=allow_external)
    if not record["webhook_name"]:
        record["webhook_name"] = f"Webhook {record['webhook_id'][-4:]}"
    if not record["placeholder"]:
        record["placeholder"] = _placeholder(record["webhook_name"], record["webhook_id"])
    with ledger.db.transaction():
        _check_unique_name(ledger, record)
        ledger.store.insert(MODULE, record["webhook_id"], record, ledger.now())
    return record


def _check_unique_name(ledger: Ledger, record: Mapping[str, Any]) -> None:
    same = ledger.store.find(MODULE, [Filter("webhook_name", "eq", record["webhook_name"])])
    if any(other["webhook_id"] != record["webhook_id"] for other in same):
        # UNCONFIRMED wording and code; Zoho's UI refuses duplicate webhook names.
        raise rule_violation("A webhook with this name already exists.", code=1001)


def get_webhook(ledger: Ledger, webhook_id: str) -> dict[str, Any]:
    record = ledger.store.get(MODULE, webhook_id)
    if record is None:
        raise not_found("Webhook")
    return record


def update_webhook(
    ledger: Ledger, webhook_id: str, body: Mapping[str, Any], *, allow_external: bool = False
) -> dict[str, Any]:
    with ledger.db.transaction():
        record = get_webhook(ledger, webhook_id)
        apply(record, body, creating=False, allow_external=allow_external)
        _check_unique_name(ledger, record)
        ledger.store.update(MODULE, webhook_id, record, ledger.now())
    return record


def workflows_using(ledger: Ledger, webhook_id: str) -> list[dict[str, Any]]:
    """Workflow rules with an action that fires this webhook."""
    return [
        workflow
        for workflow in ledger.store.find(WORKFLOWS, [])
        if webhook_id in webhook_ids_of(workflow)
    ]


def webhook_ids_of(workflow: Mapping[str, Any]) -> list[str]:
    return [
        str(action.get("action_id"))
        for action in workflow.get("instant_actions") or []
        if isinstance(action, Mapping) and action.get("action_type") == "webhook"
    ]


def related_rules(ledger: Ledger) -> Callable[[str], list[dict[str, Any]]]:
    """``webhook_id -> [{workflow_id, workflow_name}]`` over one read of the rules."""
    workflows = ledger.store.find(WORKFLOWS, [])

    def lookup(webhook_id: str) -> list[dict[str, Any]]:
        return [
            {"workflow_id": w["workflow_id"], "workflow_name": w.get("workflow_name", "")}
            for w in workflows
            if webhook_id in webhook_ids_of(w)
        ]

    return lookup


def delete_webhook(ledger: Ledger, webhook_id: str) -> None:
    with ledger.db.transaction():
        get_webhook(ledger, webhook_id)
        users = workflows_using(ledger, webhook_id)
        if users:
            names = ", ".join(sorted(str(w.get("workflow_name", "")) for w in users))
            # UNCONFIRMED wording: Zoho refuses to delete an action a rule still uses.
            raise rule_violation(
                f"The webhook is associated with workflow rules ({names}). "
                "Remove it from those rules before deleting it."
            )
        ledger.store.delete(MODULE, webhook_id)
