"""Routes of ``/items`` and ``/itemdetails`` (scope settings)."""

from __future__ import annotations

from zbooks.sandbox.books.contacts import upsert_headers
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import items as ledger_items
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "settings"


@REGISTRY.route("POST", "/items", scope=SCOPE)
def create_item(request: BooksRequest) -> BooksResponse:
    item = ledger_items.create_item(request.ledger, request.body)
    return ok("The item has been added.", status=201, item=item)


@REGISTRY.route("GET", "/items", scope=SCOPE)
def list_items(request: BooksRequest) -> BooksResponse:
    spec = ledger_items.LIST_SPEC
    query = dict(request.query)
    if not query.get("sort_column") and not query.get("sort_order"):
        query["sort_order"] = "A"  # Zoho lists items by name, A to Z, by default.
    result = list_page(request.ledger, query, spec)
    return ok(items=result.records, page_context=result.page_context)


@REGISTRY.route("PUT", "/items", scope=SCOPE)
def upsert_item(request: BooksRequest) -> BooksResponse:
    key, value, create = upsert_headers(request)
    item, created = ledger_items.upsert_item(
        request.ledger, key, value, request.body, create=create
    )
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok("The item has been added.", 200, item=item)
    return ok("Item details have been saved.", item=item)


@REGISTRY.route("GET", "/itemdetails", scope=SCOPE)
def item_details(request: BooksRequest) -> BooksResponse:
    raw = request.query.get("item_ids", "")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    return ok(items=ledger_items.item_details(request.ledger, ids))


@REGISTRY.route("GET", "/items/{item_id}", scope=SCOPE)
def get_item(request: BooksRequest) -> BooksResponse:
    return ok(item=ledger_items.get_item(request.ledger, request.path_params["item_id"]))


@REGISTRY.route("PUT", "/items/{item_id}", scope=SCOPE)
def update_item(request: BooksRequest) -> BooksResponse:
    item = ledger_items.update_item(request.ledger, request.path_params["item_id"], request.body)
    return ok("Item details have been saved.", item=item)


@REGISTRY.route("DELETE", "/items/{item_id}", scope=SCOPE)
def delete_item(request: BooksRequest) -> BooksResponse:
    ledger_items.delete_item(request.ledger, request.path_params["item_id"])
    return ok("The item has been deleted.")


@REGISTRY.route("POST", "/items/{item_id}/active", scope=SCOPE)
def mark_active(request: BooksRequest) -> BooksResponse:
    ledger_items.set_status(request.ledger, request.path_params["item_id"], "active")
    return ok("The item has been marked as active.")


@REGISTRY.route("POST", "/items/{item_id}/inactive", scope=SCOPE)
def mark_inactive(request: BooksRequest) -> BooksResponse:
    ledger_items.set_status(request.ledger, request.path_params["item_id"], "inactive")
    return ok("The item has been marked as inactive.")
