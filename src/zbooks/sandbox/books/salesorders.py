"""HTTP routes of sales orders (conversion lives with invoices: ``/invoices/fromsalesorder``).

Status actions answer 201 as the OAS documents for this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zbooks.sandbox.books.invoices import id_list, org_name, pdf_response, render_document, upsert
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger import salesorders as so
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "salesorders"
route = REGISTRY.route


def _id(request: BooksRequest) -> str:
    return request.path_params["salesorder_id"]


def _shaped(request: BooksRequest, record: Mapping[str, Any]) -> dict[str, Any]:
    return so.present_salesorder(request.ledger, record)


def _lines(ledger: Ledger) -> Callable[[Mapping[str, Any]], list[str]]:
    return lambda shaped: docs.printable_lines(
        so.KIND,
        shaped,
        title="Sales Order",
        org_name=org_name(ledger),
        dates=(("Shipment Date", "shipment_date"),),
    )


@route("POST", "/salesorders", scope=SCOPE)
def create(request: BooksRequest) -> BooksResponse:
    record = so.create_salesorder(
        request.ledger,
        request.body,
        ignore_auto_number=request.flag("ignore_auto_number_generation"),
    )
    return ok("Sales Order Created Successfully.", 201, salesorder=_shaped(request, record))


@route("GET", "/salesorders", scope=SCOPE)
def list_orders(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, so.LIST_SPEC)
    return ok(salesorders=result.records, page_context=result.page_context)


@route("PUT", "/salesorders", scope=SCOPE)
def upsert_salesorder(request: BooksRequest) -> BooksResponse:
    ledger = request.ledger
    record, created = upsert(
        request,
        module=so.MODULE,
        resource="Sales Order",
        id_field="salesorder_id",
        create=lambda: so.create_salesorder(
            ledger,
            request.body,
            ignore_auto_number=request.flag("ignore_auto_number_generation"),
        ),
        update=lambda order_id: so.update_salesorder(ledger, order_id, request.body),
    )
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok("Sales Order Created Successfully.", 200, salesorder=_shaped(request, record))
    return ok("Sales Order Updated Successfully.", salesorder=_shaped(request, record))


@route("GET", "/salesorders/{salesorder_id}", scope=SCOPE)
def get(request: BooksRequest) -> BooksResponse:
    shaped = _shaped(request, so.get_salesorder(request.ledger, _id(request)))
    return render_document(
        request, shaped, _lines(request.ledger), "salesorder_number", "salesorder"
    )


@route("PUT", "/salesorders/{salesorder_id}", scope=SCOPE)
def update(request: BooksRequest) -> BooksResponse:
    record = so.update_salesorder(request.ledger, _id(request), request.body)
    return ok("Sales Order Updated Successfully.", salesorder=_shaped(request, record))


@route("DELETE", "/salesorders/{salesorder_id}", scope=SCOPE)
def delete(request: BooksRequest) -> BooksResponse:
    so.delete_salesorder(request.ledger, _id(request))
    return ok("Sales Order Deleted Successfully.")


@route("POST", "/salesorders/{salesorder_id}/status/open", scope=SCOPE)
def mark_open(request: BooksRequest) -> BooksResponse:
    so.mark_open(request.ledger, _id(request))
    return ok("Sales order status has been changed to Open.", 201)


@route("POST", "/salesorders/{salesorder_id}/status/void", scope=SCOPE)
def mark_void(request: BooksRequest) -> BooksResponse:
    so.mark_void(request.ledger, _id(request))
    return ok("Sales order status has been changed to Void.", 201)


@route("POST", "/salesorders/{salesorder_id}/email", scope=SCOPE)
def email(request: BooksRequest) -> BooksResponse:
    so.email_salesorder(request.ledger, _id(request))
    return ok("Your Sales Order has been sent.", 201)


def _bulk_pdf(request: BooksRequest) -> BooksResponse:
    ids = id_list(request, "salesorder_ids", 25)
    lines = _lines(request.ledger)
    shaped = [_shaped(request, so.get_salesorder(request.ledger, i)) for i in ids]
    return pdf_response([lines(s) for s in shaped], "SalesOrders.pdf")


@route("GET", "/salesorders/pdf", scope=SCOPE)
def bulk_pdf(request: BooksRequest) -> BooksResponse:
    return _bulk_pdf(request)


@route("GET", "/salesorders/print", scope=SCOPE)
def bulk_print(request: BooksRequest) -> BooksResponse:
    return _bulk_pdf(request)
