"""HTTP routes of vendor credits (scope ``debitnotes``, api-facts §8 item 13): CRUD, the
open/void actions and applying credits to bills. Messages and statuses are the
2026-07 OAS's. Submit/approve live with the other approval routes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zbooks.sandbox.books.invoices import org_name, render_document
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger import vendorcredits as vc
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import ListSpec, list_page

SCOPE = "debitnotes"
route = REGISTRY.route


def _id(request: BooksRequest) -> str:
    return request.path_params["vendor_credit_id"]


def _shaped(request: BooksRequest, record: Mapping[str, Any]) -> dict[str, Any]:
    return vc.present_vendor_credit(request.ledger, record)


def _lines(ledger: Ledger) -> Callable[[Mapping[str, Any]], list[str]]:
    return lambda shaped: docs.printable_lines(
        vc.KIND,
        shaped,
        title="Vendor Credit",
        org_name=org_name(ledger),
        amounts=(("Credits Used", "total_credits_used"), ("Credits Remaining", "balance")),
    )


def _listed(request: BooksRequest, spec: ListSpec) -> BooksResponse:
    result = list_page(request.ledger, request.query, spec)
    keys: dict[str, Any] = {spec.list_key: result.records, "page_context": result.page_context}
    return ok(**keys)


@route("POST", "/vendorcredits", scope=SCOPE)
def create(request: BooksRequest) -> BooksResponse:
    record = vc.create_vendor_credit(
        request.ledger,
        request.body,
        ignore_auto_number=request.flag("ignore_auto_number_generation"),
        bill_id=request.query.get("bill_id", ""),
    )
    return ok("Vendor credit has been created.", 201, vendor_credit=_shaped(request, record))


@route("GET", "/vendorcredits", scope=SCOPE)
def list_credits(request: BooksRequest) -> BooksResponse:
    return _listed(request, vc.LIST_SPEC)


@route("GET", "/vendorcredits/{vendor_credit_id}", scope=SCOPE)
def get(request: BooksRequest) -> BooksResponse:
    shaped = _shaped(request, vc.get_vendor_credit(request.ledger, _id(request)))
    return render_document(
        request, shaped, _lines(request.ledger), "vendor_credit_number", "vendor_credit"
    )


@route("PUT", "/vendorcredits/{vendor_credit_id}", scope=SCOPE)
def update(request: BooksRequest) -> BooksResponse:
    record = vc.update_vendor_credit(request.ledger, _id(request), request.body)
    return ok("Vendor credit information has been updated.", vendor_credit=_shaped(request, record))


@route("DELETE", "/vendorcredits/{vendor_credit_id}", scope=SCOPE)
def delete(request: BooksRequest) -> BooksResponse:
    vc.delete_vendor_credit(request.ledger, _id(request))
    return ok("The vendor credit has been deleted.")


@route("POST", "/vendorcredits/{vendor_credit_id}/status/open", scope=SCOPE)
def mark_open(request: BooksRequest) -> BooksResponse:
    vc.mark_open(request.ledger, _id(request))
    return ok("The status of the vendor credit has been changed to open.", 201)


@route("POST", "/vendorcredits/{vendor_credit_id}/status/void", scope=SCOPE)
def mark_void(request: BooksRequest) -> BooksResponse:
    vc.mark_void(request.ledger, _id(request))
    return ok("The vendor credit has been voided.", 201)


# --- applications to bills -------------------------------------------------------------
@route("GET", "/vendorcredits/{vendor_credit_id}/bills", scope=SCOPE)
def bills_credited(request: BooksRequest) -> BooksResponse:
    return ok(bills_credited=vc.bills_credited(request.ledger, _id(request)))


@route("POST", "/vendorcredits/{vendor_credit_id}/bills", scope=SCOPE)
def apply_to_bills(request: BooksRequest) -> BooksResponse:
    added = vc.apply_to_bills(request.ledger, _id(request), request.body.get("bills"))
    applied = [{"bill_id": e["bill_id"], "amount_applied": e["amount"]} for e in added]
    return ok("Credits have been applied to the bill(s).", 201, bills=applied)


@route("DELETE", "/vendorcredits/{vendor_credit_id}/bills/{vendor_credit_bill_id}", scope=SCOPE)
def unapply(request: BooksRequest) -> BooksResponse:
    vc.unapply(request.ledger, _id(request), request.path_params["vendor_credit_bill_id"])
    return ok("Credits applied to the bill have been deleted.")


# Refunds are registered with the other refund kinds in ``books/refunds.py``.
