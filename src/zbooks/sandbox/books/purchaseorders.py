"""Purchase orders (scope purchaseorders), api-facts §3.13."""

from __future__ import annotations

from typing import Any

from zbooks.sandbox.books.invoices import upsert
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import purchaseorders as orders
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "purchaseorders"


def _order(request: BooksRequest, record: dict[str, Any]) -> dict[str, Any]:
    return orders.present_purchase_order(request.ledger, record)


@REGISTRY.route("POST", "/purchaseorders", scope=SCOPE)
def create_order(request: BooksRequest) -> BooksResponse:
    record = orders.create_purchase_order(
        request.ledger,
        request.body,
        ignore_auto_number=request.flag("ignore_auto_number_generation"),
    )
    return ok("Purchase Order has been added.", status=201, purchaseorder=_order(request, record))


@REGISTRY.route("PUT", "/purchaseorders", scope=SCOPE)
def upsert_order(request: BooksRequest) -> BooksResponse:
    """``X-Unique-Identifier-Key/-Value`` (+ ``X-Upsert``): the same rules as POST/PUT."""
    ledger = request.ledger
    record, created = upsert(
        request,
        module=orders.MODULE,
        resource="Purchase Order",
        id_field="purchaseorder_id",
        create=lambda: orders.create_purchase_order(
            ledger,
            request.body,
            ignore_auto_number=request.flag("ignore_auto_number_generation"),
        ),
        update=lambda order_id: orders.update_purchase_order(ledger, order_id, request.body),
    )
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok("Purchase Order has been added.", 200, purchaseorder=_order(request, record))
    return ok("Purchase Order has been updated.", purchaseorder=_order(request, record))


@REGISTRY.route("GET", "/purchaseorders", scope=SCOPE)
def list_orders(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, orders.LIST_SPEC)
    return ok(purchaseorders=result.records, page_context=result.page_context)


@REGISTRY.route("GET", "/purchaseorders/{purchaseorder_id}", scope=SCOPE)
def get_order(request: BooksRequest) -> BooksResponse:
    record = orders.get_purchase_order(request.ledger, request.path_params["purchaseorder_id"])
    return ok(purchaseorder=_order(request, record))


@REGISTRY.route("PUT", "/purchaseorders/{purchaseorder_id}", scope=SCOPE)
def update_order(request: BooksRequest) -> BooksResponse:
    record = orders.update_purchase_order(
        request.ledger, request.path_params["purchaseorder_id"], request.body
    )
    return ok("Purchase Order has been updated.", purchaseorder=_order(request, record))


@REGISTRY.route("DELETE", "/purchaseorders/{purchaseorder_id}", scope=SCOPE)
def delete_order(request: BooksRequest) -> BooksResponse:
    orders.delete_purchase_order(request.ledger, request.path_params["purchaseorder_id"])
    return ok("The purchase order has been deleted.")


_STATUS_MESSAGES = {
    "open": "The purchase order has been marked as open.",
    "billed": "The purchase order has been marked as billed.",
    "cancelled": "The purchase order has been cancelled.",
}


def _status_route(target: str) -> None:
    def handler(request: BooksRequest) -> BooksResponse:
        orders.set_status(request.ledger, request.path_params["purchaseorder_id"], target)
        return ok(_STATUS_MESSAGES[target], status=201)

    handler.__name__ = f"mark_{target}"
    REGISTRY.add(
        "POST", f"/purchaseorders/{{purchaseorder_id}}/status/{target}", handler, scope=SCOPE
    )


for _target in _STATUS_MESSAGES:
    _status_route(_target)
