"""Workflow rules (``/settings/workflows``): storage, and which rules a change fires.

A rule names a module (``entity``), a trigger (``rule_type``), optional criteria and
the actions to run (api-facts §6.1). The sandbox runs ``webhook`` actions; alert,
field update, custom function and push notification actions are stored and shown but
not executed, and neither are time-based actions or date-based rule types (``once``,
``monthly``...), which only ``/workflows/{id}/trigger`` can fire here.

Triggers from the change feed: ``add`` (created), ``edit`` (updated; optionally only
when a ``field_update`` field changed), ``add_edit``, ``delete``, and status triggers
such as ``paid`` (the status became paid in this change).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation, too_long
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.webhooks import hooks
from zbooks.sandbox.webhooks.criteria import normalise_rule, rule_matches
from zbooks.sandbox.webhooks.entities import (
    ENTITIES,
    Entity,
    filter_label,
    find_entity,
    require_entity,
)
from zbooks.sandbox.webhooks.modules import WORKFLOWS

MODULE = WORKFLOWS
Action = Literal["add", "edit", "delete"]

# create-workflow-request.rule_type in the 2026-04 OAS.
RULE_TYPES = frozenset(
    {
        "add", "edit", "add_edit", "delete", "once", "monthly", "yearly", "custom_trigger",
        "weekly", "daily", "submit", "approve", "recall", "reimburse", "reject",
        "approved_and_forwarded", "undo_reimburse", "close", "trip_cancel",
        "trip_option_added", "trip_option_selected", "trip_option_approved",
        "trip_option_booked", "trip_option_rejected", "trip_option_cancelled",
        "trip_option_revision_required", "trip_option_rescheduled",
        "trip_itinerary_rescheduled", "trip_itinerary_cancelled", "trip_itinerary_added",
        "request_assigned", "request_onhold", "request_closed", "onhold", "processed",
        "paid", "advance_void", "draft", "submitted_for_approval", "approved", "recalled",
        "rejected", "completed", "payment_initiated", "payment_initiation_failed",
        "failed", "combined", "purchase_request_cancelled",
    }
)  # fmt: skip
# Event triggers that mean "the record's status became X" (statuses per api-facts §3).
STATUS_TRIGGERS: dict[str, str] = {
    "paid": "paid",
    "draft": "draft",
    "submit": "pending_approval",
    "submitted_for_approval": "pending_approval",
    "approve": "approved",
    "approved": "approved",
    "reject": "rejected",
    "rejected": "rejected",
    "close": "closed",
    "completed": "completed",
    "onhold": "onhold",
    "processed": "processed",
    "failed": "failed",
}
ACTION_TYPES = frozenset({"alert", "fieldupdate", "webhook", "customfunction", "pushnotification"})
FIELD_UPDATE_COMPARATORS = frozenset({"and", "or", "any", "except_or", "except_and"})
# Manual trigger word -> the rule types it fires ("invoice.created" fires add and add_edit).
TRIGGER_COVERS: dict[str, frozenset[str]] = {
    "add": frozenset({"add", "add_edit"}),
    "edit": frozenset({"edit", "add_edit"}),
    "delete": frozenset({"delete"}),
}
EVENT_WORDS: dict[str, str] = {
    "created": "add",
    "create": "add",
    "added": "add",
    "add": "add",
    "updated": "edit",
    "update": "edit",
    "edited": "edit",
    "edit": "edit",
    "deleted": "delete",
    "delete": "delete",
}
_LIMITS = {"workflow_name": 100, "description": 1000, "lock_reason": 255, "placeholder": 255}
_LISTS = ("sub_entities", "events", "time_based_actions", "sub_rules")
_BOOLEANS = (
    "is_active",
    "apply_rule_always",
    "is_locked",
    "is_hidden",
    "is_draft",
    "is_custom_execution_time",
)
_SCALARS = (
    "date_field",
    "time",
    "day_difference_type",
    "day_difference_unit",
    "allowed_apps",
    "trigger_id",
    "trigger_ph",
    "entity_id",
    "execution_timezone",
    "lock_type",
)
_SUMMARY_FIELDS = (
    "workflow_id",
    "workflow_name",
    "placeholder",
    "entity",
    "sub_entities",
    "rule_type",
    "description",
    "is_active",
    "is_from_plugin",
    "created_time",
    "is_locked",
    "lock_reason",
)


def parse_event(event: str) -> tuple[Entity, str]:
    """``invoice.created`` -> (invoice, "add"); ``bill.paid`` -> (bill, "paid")."""
    name, _, word = event.strip().rpartition(".")
    entity = find_entity(name) if name else None
    trigger = EVENT_WORDS.get(word.lower(), word.lower())
    if entity is None or trigger not in RULE_TYPES:
        raise ValueError(
            f"unknown event {event!r}; use <entity>.<trigger> such as invoice.created, "
            "contact.updated, invoice.deleted or invoice.paid"
        )
    return entity, trigger


# --- presentation -------------------------------------------------------------------------
def present_row(ledger: Ledger, record: dict[str, Any]) -> dict[str, Any]:
    row = {name: record.get(name) for name in _SUMMARY_FIELDS}
    # The list documents sub_entities as a string (the request sends an array).
    subs = record.get("sub_entities") or []
    row["sub_entities"] = ",".join(
        str(s.get("entity", s) if isinstance(s, dict) else s) for s in subs
    )
    return row


def present(ledger: Ledger, record: Mapping[str, Any]) -> dict[str, Any]:
    """The detail object; webhook actions show the webhook's name and URL too."""
    shaped = {k: v for k, v in record.items() if not k.startswith("_")}
    actions = []
    for action in record.get("instant_actions") or []:
        action = dict(action)
        if action.get("action_type") == "webhook":
            hook = ledger.store.get(hooks.MODULE, str(action.get("action_id")))
            if hook is not None:
                for key in ("webhook_name", "url", "method"):
                    action.setdefault(key, hook.get(key))
        actions.append(action)
    shaped["instant_actions"] = actions
    return shaped


def _entity_filter(name: str) -> FilterFactory:
    return lambda ledger: [Filter("entity", "eq", name)]


_FILTERS: dict[str, FilterFactory] = {"Entity.All": lambda ledger: []}
_FILTERS.update({filter_label(e): _entity_filter(e.name) for e in ENTITIES})

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="workflows",
    report_name="Workflow Rules",
    sort_columns=frozenset({"workflow_name", "created_time"}),
    filter_by=_FILTERS,
    default_filter="Entity.All",
    search_fields=("workflow_name",),
    exact_fields=("entity_id",),
    date_fields=(),
    present=present_row,
)


# --- validation ----------------------------------------------------------------------------
def _string(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise invalid_value(field)
    text = str(value)
    limit = _LIMITS.get(field)
    if limit is not None and len(text) > limit:
        raise too_long(field, limit)
    return text


def _field_names(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_value("field_update")
    for item in value:
        if isinstance(item, str) and item:
            continue
        if isinstance(item, dict) and _field_name(item):
            continue
        raise invalid_value("field_update")
    return list(value)


def _field_name(item: Any) -> str:
    if isinstance(item, str):
        return item
    for key in ("field_name", "field", "column_name", "field_id"):
        if isinstance(item.get(key), str) and item[key]:
            return str(item[key])
    return ""


def _actions(
    ledger: Ledger, value: Any, entity: Entity, *, allow_external: bool
) -> list[dict[str, Any]]:
    """Validate instant actions; inline webhook definitions become webhooks."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_value("instant_actions")
    actions: list[dict[str, Any]] = []
    for raw in value:
        if not isinstance(raw, dict):
            raise invalid_value("instant_actions")
        action = dict(raw)
        kind = action.get("action_type")
        if not isinstance(kind, str) or not (kind in ACTION_TYPES or kind.startswith("cac_")):
            raise invalid_value("action_type")
        if kind == "webhook":
            action_id = action.get("action_id")
            if not action_id and action.get("url"):
                spec = {k: v for k, v in action.items() if k not in ("action_type", "action_id")}
                spec.setdefault("entity", entity.name)
                created = hooks.create_webhook(ledger, spec, allow_external=allow_external)
                action = {"action_type": "webhook", "action_id": created["webhook_id"]}
            else:
                hook = ledger.store.get(hooks.MODULE, str(action_id or ""))
                if hook is None:
                    raise invalid_value("action_id")
                other = find_entity(str(hook.get("entity") or ""))
                if other is not None and other.module != entity.module:
                    raise rule_violation(
                        f"The webhook {hook.get('webhook_name')!r} is configured for the "
                        f"{other.name} module, not {entity.name}."
                    )
                action = {"action_type": "webhook", "action_id": str(action_id)}
        elif "action_id" not in action:
            action["action_id"] = ledger.store.new_id()
        action.setdefault("entity", entity.name)
        actions.append(action)
    return actions


def apply(
    ledger: Ledger,
    record: dict[str, Any],
    body: Mapping[str, Any],
    *,
    creating: bool,
    allow_external: bool,
) -> None:
    for field in ("workflow_name", "entity", "rule_type"):
        if creating and not body.get(field):
            raise invalid_value(field)
    if "workflow_name" in body:
        record["workflow_name"] = _string(body["workflow_name"], "workflow_name")
        if not record["workflow_name"].strip():
            raise invalid_value("workflow_name")
    for field in ("description", "placeholder", "lock_reason"):
        if field in body:
            record[field] = _string(body[field], field)
    if "entity" in body:
        record["entity"] = require_entity(body["entity"]).name
    if "rule_type" in body:
        if body["rule_type"] not in RULE_TYPES:
            raise invalid_value("rule_type")
        record["rule_type"] = body["rule_type"]
    entity = require_entity(record["entity"])
    if "field_update" in body:
        record["field_update"] = _field_names(body["field_update"])
    if "field_update_comparator" in body:
        comparator = body["field_update_comparator"] or "or"
        if comparator not in FIELD_UPDATE_COMPARATORS:
            raise invalid_value("field_update_comparator")
        record["field_update_comparator"] = comparator
    if "rule" in body:
        record["rule"] = normalise_rule(body["rule"])
    for field in _LISTS:
        if field in body:
            if body[field] is not None and not isinstance(body[field], list):
                raise invalid_value(field)
            record[field] = list(body[field] or [])
    for field in _BOOLEANS:
        if field in body:
            if not isinstance(body[field], bool):
                raise invalid_value(field)
            record[field] = body[field]
    for field in _SCALARS:
        if field in body:
            record[field] = _string(body[field], field)
    if "day_difference" in body:
        value = body["day_difference"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise invalid_value("day_difference")
        record["day_difference"] = value
    if "instant_actions" in body or creating:
        record["instant_actions"] = _actions(
            ledger, body.get("instant_actions"), entity, allow_external=allow_external
        )


def _defaults(workflow_id: str) -> dict[str, Any]:
    return {
        "workflow_id": workflow_id,
        "workflow_name": "",
        "description": "",
        "placeholder": "",
        "entity": "",
        "sub_entities": [],
        "rule_type": "",
        "field_update": [],
        "field_update_comparator": "or",
        "apply_rule_always": True,
        "rule": None,
        "events": [],
        "instant_actions": [],
        "time_based_actions": [],
        "sub_rules": [],
        "is_active": True,
        "is_from_plugin": False,
        "is_locked": False,
        "lock_type": "none",
        "lock_reason": "",
        "is_draft": False,
        "entity_id": "",
    }


def create_workflow(
    ledger: Ledger, body: Mapping[str, Any], *, allow_external: bool = False
) -> dict[str, Any]:
    with ledger.db.transaction():
        record = _defaults(ledger.store.new_id())
        apply(ledger, record, body, creating=True, allow_external=allow_external)
        if not record["placeholder"]:
            record["placeholder"] = "wf_" + record["workflow_id"]
        record["_order"] = ledger.db.next_counter(f"org:{ledger.org_id}", "workflow_order")
        ledger.store.insert(MODULE, record["workflow_id"], record, ledger.now())
    return record


def get_workflow(ledger: Ledger, workflow_id: str) -> dict[str, Any]:
    record = ledger.store.get(MODULE, workflow_id)
    if record is None:
        raise not_found("Workflow")
    return record


def update_workflow(
    ledger: Ledger, workflow_id: str, body: Mapping[str, Any], *, allow_external: bool = False
) -> dict[str, Any]:
    with ledger.db.transaction():
        record = get_workflow(ledger, workflow_id)
        apply(ledger, record, body, creating=False, allow_external=allow_external)
        ledger.store.update(MODULE, workflow_id, record, ledger.now())
    return record


def delete_workflow(ledger: Ledger, workflow_id: str) -> None:
    with ledger.db.transaction():
        get_workflow(ledger, workflow_id)
        ledger.store.delete(MODULE, workflow_id)


def set_active(ledger: Ledger, workflow_id: str, active: bool) -> None:
    with ledger.db.transaction():
        record = get_workflow(ledger, workflow_id)
        record["is_active"] = active
        ledger.store.update(MODULE, workflow_id, record, ledger.now())


def reorder(ledger: Ledger, body: Mapping[str, Any]) -> None:
    entity = require_entity(body.get("entity_type"), "entity_type")
    order = body.get("execution_order")
    if not isinstance(order, list) or not order:
        raise invalid_value("execution_order")
    with ledger.db.transaction():
        records = []
        for workflow_id in order:
            record = ledger.store.get(MODULE, str(workflow_id))
            if record is None or require_entity(record["entity"]).module != entity.module:
                raise invalid_value("execution_order")
            records.append(record)
        for position, record in enumerate(records, start=1):
            record["_order"] = position
            ledger.store.update(MODULE, record["workflow_id"], record, ledger.now(), touch=False)


# --- matching ------------------------------------------------------------------------------
def rules_for(ledger: Ledger, entity_module: str) -> list[dict[str, Any]]:
    """Active rules on a store module, in execution order."""
    rules = [
        rule
        for rule in ledger.store.find(MODULE, [Filter("is_active", "eq", True)])
        if (found := find_entity(str(rule.get("entity", "")))) and found.module == entity_module
    ]
    return sorted(rules, key=lambda r: int(r.get("_order", 0)))


def _changed(field: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    return before.get(field) != after.get(field)


def _fields_changed(
    workflow: Mapping[str, Any], before: Mapping[str, Any], after: Mapping[str, Any]
) -> bool:
    fields = [_field_name(f) for f in workflow.get("field_update") or []]
    if not fields:
        return True
    changed = [_changed(f, before, after) for f in fields]
    comparator = workflow.get("field_update_comparator") or "or"
    if comparator == "and":
        return all(changed)
    if comparator == "except_or":  # fire unless one of these fields was the change
        return not any(changed)
    if comparator == "except_and":
        return not all(changed)
    return any(changed)


def fires_on_change(
    workflow: Mapping[str, Any],
    action: Action,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> bool:
    """Whether a committed change triggers ``workflow`` (already known to be active and
    on the change's module)."""
    entity = find_entity(str(workflow.get("entity", "")))
    current = after if after is not None else before
    if entity is None or current is None or not entity.matches(dict(current)):
        return False
    record_level = str(workflow.get("entity_id") or "")
    if record_level and str(current.get(entity.id_field, "")) != record_level:
        return False
    rule_type = workflow.get("rule_type")
    if rule_type in STATUS_TRIGGERS:
        if after is None:
            return False
        status = STATUS_TRIGGERS[str(rule_type)]
        if after.get("status") != status or (before or {}).get("status") == status:
            return False
    elif rule_type == "add_edit":
        if action == "delete":
            return False
    elif rule_type != action:
        return False
    if (
        action == "edit"
        and rule_type in ("edit", "add_edit")
        and before is not None
        and after is not None
        and not _fields_changed(workflow, before, after)
    ):
        return False
    rule = workflow.get("rule")
    if not rule_matches(rule, current):
        return False
    # apply_rule_always false: only when the criteria are met for the first time.
    first_time_only = bool(rule) and action == "edit" and workflow.get("apply_rule_always") is False
    return not (first_time_only and rule_matches(rule, before))


def fires_on_trigger(workflow: Mapping[str, Any], trigger: str, record: Mapping[str, Any]) -> bool:
    """Whether a manual ``<entity>.<trigger>`` event fires ``workflow`` for ``record``."""
    covers = TRIGGER_COVERS.get(trigger, frozenset({trigger}))
    if workflow.get("rule_type") not in covers:
        return False
    entity = find_entity(str(workflow.get("entity", "")))
    if entity is None or not entity.matches(dict(record)):
        return False
    record_level = str(workflow.get("entity_id") or "")
    if record_level and str(record.get(entity.id_field, "")) != record_level:
        return False
    return rule_matches(workflow.get("rule"), record)
