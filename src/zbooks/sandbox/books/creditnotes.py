"""HTTP routes of credit notes, including applying them to invoices."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zbooks.sandbox.books.invoices import org_name, render_document, upsert
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import creditnotes as cn
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "creditnotes"
route = REGISTRY.route


def _id(request: BooksRequest) -> str:
    return request.path_params["creditnote_id"]


def _shaped(request: BooksRequest, record: Mapping[str, Any]) -> dict[str, Any]:
    return cn.present_creditnote(request.ledger, record)


def _lines(ledger: Ledger) -> Callable[[Mapping[str, Any]], list[str]]:
    return lambda shaped: docs.printable_lines(
        cn.KIND,
        shaped,
        title="Credit Note",
        org_name=org_name(ledger),
        amounts=(("Credits Used", "total_credits_used"), ("Credits Remaining", "balance")),
    )


@route("POST", "/creditnotes", scope=SCOPE)
def create(request: BooksRequest) -> BooksResponse:
    record = cn.create_creditnote(
        request.ledger,
        request.body,
        ignore_auto_number=request.flag("ignore_auto_number_generation"),
        invoice_id=request.query.get("invoice_id", ""),
    )
    return ok("The credit note has been created.", 201, creditnote=_shaped(request, record))


@route("GET", "/creditnotes", scope=SCOPE)
def list_notes(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, cn.LIST_SPEC)
    return ok(creditnotes=result.records, page_context=result.page_context)


@route("PUT", "/creditnotes", scope=SCOPE)
def upsert_creditnote(request: BooksRequest) -> BooksResponse:
    ledger = request.ledger
    record, created = upsert(
        request,
        module=cn.MODULE,
        resource="Credit Note",
        id_field="creditnote_id",
        create=lambda: cn.create_creditnote(
            ledger,
            request.body,
            ignore_auto_number=request.flag("ignore_auto_number_generation"),
        ),
        update=lambda note_id: cn.update_creditnote(ledger, note_id, request.body),
    )
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok("The credit note has been created.", 200, creditnote=_shaped(request, record))
    return ok("The credit note has been updated.", creditnote=_shaped(request, record))


@route("GET", "/creditnotes/{creditnote_id}", scope=SCOPE)
def get(request: BooksRequest) -> BooksResponse:
    shaped = _shaped(request, cn.get_creditnote(request.ledger, _id(request)))
    return render_document(
        request, shaped, _lines(request.ledger), "creditnote_number", "creditnote"
    )


@route("PUT", "/creditnotes/{creditnote_id}", scope=SCOPE)
def update(request: BooksRequest) -> BooksResponse:
    record = cn.update_creditnote(request.ledger, _id(request), request.body)
    return ok("The credit note has been updated.", creditnote=_shaped(request, record))


@route("DELETE", "/creditnotes/{creditnote_id}", scope=SCOPE)
def delete(request: BooksRequest) -> BooksResponse:
    cn.delete_creditnote(request.ledger, _id(request))
    return ok("The credit note has been deleted.")


@route("POST", "/creditnotes/{creditnote_id}/status/void", scope=SCOPE)
def mark_void(request: BooksRequest) -> BooksResponse:
    cn.mark_void(request.ledger, _id(request))
    return ok("The credit note has been marked as void.")


@route("POST", "/creditnotes/{creditnote_id}/status/draft", scope=SCOPE)
def mark_draft(request: BooksRequest) -> BooksResponse:
    cn.mark_draft(request.ledger, _id(request))
    return ok("The credit note has been marked as Draft.")


@route("POST", "/creditnotes/{creditnote_id}/status/open", scope=SCOPE)
def mark_open(request: BooksRequest) -> BooksResponse:
    cn.mark_open(request.ledger, _id(request))
    return ok("Status of the credit note has been changed to open.")


@route("GET", "/creditnotes/{creditnote_id}/invoices", scope=SCOPE)
def invoices_credited(request: BooksRequest) -> BooksResponse:
    return ok(invoices_credited=cn.invoices_credited(request.ledger, _id(request)))


@route("POST", "/creditnotes/{creditnote_id}/invoices", scope=SCOPE)
def apply_to_invoices(request: BooksRequest) -> BooksResponse:
    cn.apply_to_invoices(request.ledger, _id(request), request.body.get("invoices"))
    return ok("Credits have been applied to the invoice(s).")


@route("DELETE", "/creditnotes/{creditnote_id}/invoices/{creditnote_invoice_id}", scope=SCOPE)
def unapply(request: BooksRequest) -> BooksResponse:
    cn.unapply(request.ledger, _id(request), request.path_params["creditnote_invoice_id"])
    return ok("Credits applied to an invoice have been deleted.")
