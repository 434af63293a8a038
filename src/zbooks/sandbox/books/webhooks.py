"""Routes of ``/settings/webhooks`` and its delivery history (2026-04 ``webhooks.yml``).

Thin: parse, call ``zbooks.sandbox.webhooks``, return Zoho's envelope. Response keys are
the OAS's (``webhook``, ``webhooks``, ``history``, ``histories``). The OAS examples only
say "success"; the wording of the messages of writes is UNCONFIRMED.
"""

from __future__ import annotations

from typing import Any

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.errors import invalid_value, rule_violation
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import list_page
from zbooks.sandbox.webhooks import history, hooks
from zbooks.sandbox.webhooks.engine import engine_for
from zbooks.sandbox.webhooks.entities import ENTITIES, find_entity

SCOPE = "settings"


def allow_external(ledger: Ledger) -> bool:
    """Whether this sandbox may deliver to non-loopback URLs (off unless configured)."""
    engine = engine_for(ledger.db)
    return engine.settings.allow_external if engine is not None else False


@REGISTRY.route("POST", "/settings/webhooks", scope=SCOPE)
def create_webhook(request: BooksRequest) -> BooksResponse:
    record = hooks.create_webhook(
        request.ledger, request.body, allow_external=allow_external(request.ledger)
    )
    return ok("The webhook has been created.", status=201, webhook=hooks.present(record))


@REGISTRY.route("GET", "/settings/webhooks", scope=SCOPE)
def list_webhooks(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, hooks.LIST_SPEC)
    related = hooks.related_rules(request.ledger)
    rows = [{**row, "related_rules": related(str(row["webhook_id"]))} for row in result.records]
    return ok(webhooks=rows, page_context=result.page_context)


@REGISTRY.route("GET", "/settings/webhooks/editpage", scope=SCOPE)
def webhook_editpage(request: BooksRequest) -> BooksResponse:
    keys: dict[str, Any] = {
        "entities": [
            {"entity": e.name, "entity_key": e.key, "id_field": e.id_field} for e in ENTITIES
        ],
        "entity_fields": [],
        "connection_link_names": [],
    }
    entity = request.query.get("entity", "")
    if entity and find_entity(entity) is None:
        raise invalid_value("entity")
    webhook_id = request.query.get("webhook_id", "")
    if webhook_id:
        keys["webhook"] = hooks.present(hooks.get_webhook(request.ledger, webhook_id))
    return ok(**keys)


@REGISTRY.route("GET", "/settings/webhooks/histories", scope=SCOPE)
def list_histories(request: BooksRequest) -> BooksResponse:
    query = history.list_query(request.query)
    result = list_page(request.ledger, query, history.LIST_SPEC)
    return ok(histories=result.records, page_context=result.page_context)


@REGISTRY.route("POST", "/settings/webhooks/histories/bulkresend", scope=SCOPE)
def bulk_resend(request: BooksRequest) -> BooksResponse:
    raw = request.query.get("history_ids", "") or str(request.body.get("history_ids", ""))
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise invalid_value("history_ids")
    if len(ids) > history.MAX_BULK_RESEND:
        # UNCONFIRMED wording; the limit of 10 is documented.
        raise rule_violation(
            f"You can resend at most {history.MAX_BULK_RESEND} webhooks at a time."
        )
    with request.ledger.db.transaction():
        for history_id in ids:
            history.get_history(request.ledger, history_id)  # all exist, or nothing is sent
        for history_id in ids:
            history.resend(request.ledger, history_id)
    return ok("The webhooks have been resent.")


@REGISTRY.route("GET", "/settings/webhooks/histories/{history_id}", scope=SCOPE)
def get_history(request: BooksRequest) -> BooksResponse:
    record = history.get_history(request.ledger, request.path_params["history_id"])
    return ok(history=history.present(record))


@REGISTRY.route("POST", "/settings/webhooks/histories/{history_id}/resend", scope=SCOPE)
def resend(request: BooksRequest) -> BooksResponse:
    history.resend(request.ledger, request.path_params["history_id"])
    return ok("The webhook has been resent.")


@REGISTRY.route("GET", "/settings/webhooks/{webhook_id}", scope=SCOPE)
def get_webhook(request: BooksRequest) -> BooksResponse:
    record = hooks.get_webhook(request.ledger, request.path_params["webhook_id"])
    return ok(webhook=hooks.present(record))


@REGISTRY.route("PUT", "/settings/webhooks/{webhook_id}", scope=SCOPE)
def update_webhook(request: BooksRequest) -> BooksResponse:
    record = hooks.update_webhook(
        request.ledger,
        request.path_params["webhook_id"],
        request.body,
        allow_external=allow_external(request.ledger),
    )
    return ok("The webhook has been updated.", webhook=hooks.present(record))


@REGISTRY.route("DELETE", "/settings/webhooks/{webhook_id}", scope=SCOPE)
def delete_webhook(request: BooksRequest) -> BooksResponse:
    hooks.delete_webhook(request.ledger, request.path_params["webhook_id"])
    return ok("The webhook has been deleted.")
