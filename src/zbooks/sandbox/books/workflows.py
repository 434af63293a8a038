"""Routes of workflow rules and retry policies (2026-04 ``workflows.yml``).

``/settings/workflows`` CRUD with ``active``/``inactive``/``reorder``/``editpage``,
``/workflows/{id}/trigger`` (run a rule's webhook actions for a record now) and
``/retrypolicies`` CRUD. Custom triggers and the workflow log reports are not emulated.
The wording of the messages of writes is UNCONFIRMED (the OAS examples say "success").
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.books.webhooks import allow_external
from zbooks.sandbox.errors import invalid_value, not_found
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec, list_page
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.webhooks import retrypolicies, workflows
from zbooks.sandbox.webhooks.engine import MANUAL_TRIGGER_LIMIT, WebhookEngine, engine_for
from zbooks.sandbox.webhooks.entities import ENTITIES, find_entity, require_entity

SCOPE = "settings"


# --- workflow rules ---------------------------------------------------------------------------
@REGISTRY.route("POST", "/settings/workflows", scope=SCOPE)
def create_workflow(request: BooksRequest) -> BooksResponse:
    body = dict(request.body)
    if "entity" not in body and request.query.get("entity_type"):
        body["entity"] = request.query["entity_type"]
    record = workflows.create_workflow(
        request.ledger, body, allow_external=allow_external(request.ledger)
    )
    return ok(
        "The workflow has been created.",
        status=201,
        workflow=workflows.present(request.ledger, record),
    )


def _record_level(spec: ListSpec) -> ListSpec:
    """The same list restricted to rules bound to one record (``entity_id`` set)."""
    bound = Filter("entity_id", "ne", "")

    def wrap(factory: FilterFactory) -> FilterFactory:
        return lambda ledger: [*factory(ledger), bound]

    return replace(spec, filter_by={name: wrap(f) for name, f in spec.filter_by.items()})


@REGISTRY.route("GET", "/settings/workflows", scope=SCOPE)
def list_workflows(request: BooksRequest) -> BooksResponse:
    spec = workflows.LIST_SPEC
    if request.flag("is_record_level"):
        spec = _record_level(spec)
    result = list_page(request.ledger, request.query, spec)
    return ok(workflows=result.records, page_context=result.page_context)


@REGISTRY.route("GET", "/settings/workflows/editpage", scope=SCOPE)
def workflow_editpage(request: BooksRequest) -> BooksResponse:
    entity = request.query.get("entity", "")
    if entity and find_entity(entity) is None:
        raise invalid_value("entity")
    keys: dict[str, Any] = {
        "entities": [{"entity": e.name, "entity_key": e.key} for e in ENTITIES],
        "entity_fields": [],
        "supported_actions": [{"action_type": kind} for kind in sorted(workflows.ACTION_TYPES)],
        "entity": entity,
    }
    rule_id = request.query.get("rule_id", "")
    if rule_id:
        record = workflows.get_workflow(request.ledger, rule_id)
        keys["workflow"] = workflows.present(request.ledger, record)
    return ok(**keys)


@REGISTRY.route("POST", "/settings/workflows/reorder", scope=SCOPE)
def reorder_workflows(request: BooksRequest) -> BooksResponse:
    workflows.reorder(request.ledger, request.body)
    return ok("The workflows have been reordered.")


@REGISTRY.route("GET", "/settings/workflows/{workflow_id}", scope=SCOPE)
def get_workflow(request: BooksRequest) -> BooksResponse:
    record = workflows.get_workflow(request.ledger, request.path_params["workflow_id"])
    return ok(workflow=workflows.present(request.ledger, record))


@REGISTRY.route("PUT", "/settings/workflows/{workflow_id}", scope=SCOPE)
def update_workflow(request: BooksRequest) -> BooksResponse:
    record = workflows.update_workflow(
        request.ledger,
        request.path_params["workflow_id"],
        request.body,
        allow_external=allow_external(request.ledger),
    )
    return ok("The workflow has been updated.", workflow=workflows.present(request.ledger, record))


@REGISTRY.route("DELETE", "/settings/workflows/{workflow_id}", scope=SCOPE)
def delete_workflow(request: BooksRequest) -> BooksResponse:
    workflows.delete_workflow(request.ledger, request.path_params["workflow_id"])
    return ok("The workflow has been deleted.")


@REGISTRY.route("POST", "/settings/workflows/{workflow_id}/active", scope=SCOPE)
def activate_workflow(request: BooksRequest) -> BooksResponse:
    workflows.set_active(request.ledger, request.path_params["workflow_id"], True)
    return ok("The workflow has been marked as active.")


@REGISTRY.route("POST", "/settings/workflows/{workflow_id}/inactive", scope=SCOPE)
def deactivate_workflow(request: BooksRequest) -> BooksResponse:
    workflows.set_active(request.ledger, request.path_params["workflow_id"], False)
    return ok("The workflow has been marked as inactive.")


@REGISTRY.route("POST", "/workflows/{workflow_id}/trigger", scope=SCOPE)
def trigger_workflow(request: BooksRequest) -> BooksResponse:
    """Run the rule's webhook actions now for ``entity_id`` (or, with
    ``trigger_for_all_entities=true``, for every record it covers, up to a limit)."""
    ledger = request.ledger
    workflow = workflows.get_workflow(ledger, request.path_params["workflow_id"])
    entity = require_entity(workflow.get("entity"))
    entity_id = request.query.get("entity_id", "")
    if entity_id:
        record = ledger.store.get(entity.module, entity_id)
        if record is None or not entity.matches(record):
            raise not_found(entity.name.replace("_", " ").capitalize())
        records = [record]
    elif request.flag("trigger_for_all_entities"):
        found = ledger.store.query(entity.module, [], per_page=MANUAL_TRIGGER_LIMIT).records
        records = [r for r in found if entity.matches(r)]
    else:
        raise invalid_value("entity_id")
    engine = engine_for(ledger.db) or WebhookEngine(ledger.db, ledger.clock, REGISTRY)
    for record in records:
        if workflows.fires_on_trigger(workflow, str(workflow.get("rule_type")), record):
            engine.fire_workflow(ledger, workflow, record)
    return ok("The workflow has been triggered.")


@REGISTRY.route("POST", "/workflows/{workflow_id}/triggeraction", scope=SCOPE)
def trigger_workflow_action(request: BooksRequest) -> BooksResponse:
    # Time-based actions are stored but not emulated; the call is accepted.
    workflows.get_workflow(request.ledger, request.path_params["workflow_id"])
    return ok("The workflow action has been triggered.")


# --- retry policies ---------------------------------------------------------------------------
@REGISTRY.route("POST", "/retrypolicies", scope=SCOPE)
def create_retry_policy(request: BooksRequest) -> BooksResponse:
    record = retrypolicies.create_policy(request.ledger, request.body)
    return ok(
        "The retry policy has been created.",
        status=201,
        retry_policy=retrypolicies.present(record),
    )


@REGISTRY.route("GET", "/retrypolicies", scope=SCOPE)
def list_retry_policies(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, retrypolicies.LIST_SPEC)
    return ok(retrypolicies=result.records, page_context=result.page_context)


@REGISTRY.route("GET", "/retrypolicies/{policy_id}", scope=SCOPE)
def get_retry_policy(request: BooksRequest) -> BooksResponse:
    record = retrypolicies.get_policy(request.ledger, request.path_params["policy_id"])
    return ok(retry_policy=retrypolicies.present(record))


@REGISTRY.route("PUT", "/retrypolicies/{policy_id}", scope=SCOPE)
def update_retry_policy(request: BooksRequest) -> BooksResponse:
    record = retrypolicies.update_policy(
        request.ledger, request.path_params["policy_id"], request.body
    )
    return ok("The retry policy has been updated.", retry_policy=retrypolicies.present(record))


@REGISTRY.route("DELETE", "/retrypolicies/{policy_id}", scope=SCOPE)
def delete_retry_policy(request: BooksRequest) -> BooksResponse:
    retrypolicies.delete_policy(request.ledger, request.path_params["policy_id"])
    return ok("The retry policy has been deleted.")
