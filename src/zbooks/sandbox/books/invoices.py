"""HTTP routes of the invoices module: parse the request, call the ledger, wrap the result.

Also home of the small helpers every sales-document route module shares (query flags,
id lists, PDF/HTML rendering of ``?accept=pdf``).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from zbooks.sandbox import pdf
from zbooks.sandbox.books import fastread
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.errors import invalid_value, not_found
from zbooks.sandbox.ledger import creditnotes as cn
from zbooks.sandbox.ledger import customerpayments as cp
from zbooks.sandbox.ledger import details
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger import estimates as est
from zbooks.sandbox.ledger import invoices as inv
from zbooks.sandbox.ledger import salesorders as so
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "invoices"
MAX_PDF_IDS = 25
route = REGISTRY.route


# --- shared helpers for document routes --------------------------------------------------
def header(request: BooksRequest, name: str) -> str:
    """A request header, whatever the case of its name in the mapping."""
    wanted = name.lower()
    for key, value in request.headers.items():
        if key.lower() == wanted:
            return str(value)
    return ""


def wants(request: BooksRequest) -> str:
    """``json``, ``pdf`` or ``html`` from ``?accept=``; an ``Accept: application/pdf``
    header also selects the PDF (OBSERVED). A browser's ``text/html`` Accept header does
    not switch to HTML: only the query parameter does."""
    accept = request.query.get("accept", "").lower()
    if accept in ("pdf", "html", "json"):
        return accept
    if accept:
        raise invalid_value("accept")
    if "application/pdf" in header(request, "accept").lower():
        return "pdf"
    return "json"


def id_list(request: BooksRequest, name: str, limit: int) -> list[str]:
    """``?invoice_ids=1,2,3``: non-empty, digits only, at most ``limit``."""
    raw = request.query.get(name, "")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids or len(ids) > limit or not all(i.isdigit() for i in ids):
        raise invalid_value(name)
    return ids


def pdf_response(lines_per_doc: Sequence[Sequence[str]], filename: str) -> BooksResponse:
    return BooksResponse(
        status=200,
        content=pdf.render(lines_per_doc, title=filename.removesuffix(".pdf")),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def html_response(lines: Sequence[str], title: str) -> BooksResponse:
    body = "\n".join(html.escape(line) for line in lines)
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title></head><body><pre>{body}</pre></body></html>"
    )
    return BooksResponse(status=200, content=page.encode(), media_type="text/html;charset=UTF-8")


def render_document(
    request: BooksRequest,
    shaped: Mapping[str, Any],
    lines: Callable[[Mapping[str, Any]], list[str]],
    number_field: str,
    key: str,
) -> BooksResponse:
    """JSON envelope, or the PDF/HTML rendering a client asked for."""
    form = wants(request)
    number = str(shaped.get(number_field, "document"))
    if form == "pdf":
        return pdf_response([lines(shaped)], f"{number}.pdf")
    if form == "html":
        return html_response(lines(shaped), number)
    keys: dict[str, Any] = {key: shaped}
    return ok(**keys)


def upsert(
    request: BooksRequest,
    *,
    module: str,
    resource: str,
    id_field: str,
    create: Callable[[], dict[str, Any]],
    update: Callable[[str], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """``PUT /<collection>`` with ``X-Unique-Identifier-Key``/``-Value`` (a field or a
    ``cf_<api_name>`` custom field): update the match, else create when ``X-Upsert: true``,
    else 404 (code UNCONFIRMED). Returns (record, created)."""
    from zbooks.sandbox.ledger.contacts import find_by_unique_key

    key = header(request, "X-Unique-Identifier-Key").strip()
    value = header(request, "X-Unique-Identifier-Value")
    if not key:
        raise invalid_value("X-Unique-Identifier-Key")
    with request.ledger.db.transaction():
        match = find_by_unique_key(request.ledger, module, key, value)
        if match is not None:
            return update(str(match[id_field])), False
        if header(request, "X-Upsert").strip().lower() != "true":
            raise not_found(resource)
        return create(), True


def org_name(ledger: Ledger) -> str:
    return str(ledger.org.get("name", ""))


def invoice_lines(ledger: Ledger) -> Callable[[Mapping[str, Any]], list[str]]:
    def lines(shaped: Mapping[str, Any]) -> list[str]:
        return docs.printable_lines(
            inv.KIND,
            shaped,
            title="Invoice",
            org_name=org_name(ledger),
            dates=(("Due Date", "due_date"), ("Terms", "payment_terms_label")),
            amounts=(
                ("Payment Made", "payment_made"),
                ("Credits Applied", "credits_applied"),
                ("Write Off", "write_off_amount"),
                ("Balance Due", "balance"),
            ),
        )

    return lines


def _shaped(request: BooksRequest, record: Mapping[str, Any]) -> dict[str, Any]:
    return inv.present_invoice(request.ledger, record)


def _id(request: BooksRequest) -> str:
    return request.path_params["invoice_id"]


# --- CRUD ----------------------------------------------------------------------------------
@route("POST", "/invoices", scope=SCOPE)
def create(request: BooksRequest) -> BooksResponse:
    record = inv.create_invoice(
        request.ledger,
        request.body,
        ignore_auto_number=request.flag("ignore_auto_number_generation"),
        send=request.flag("send"),
    )
    return ok("The invoice has been created.", 201, invoice=_shaped(request, record))


@route("GET", "/invoices", scope=SCOPE)
def list_invoices(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, inv.LIST_SPEC)
    return ok(invoices=result.records, page_context=result.page_context)


@route("GET", "/invoices/{invoice_id}", scope=SCOPE)
def get(request: BooksRequest) -> BooksResponse:
    shaped = _shaped(request, inv.get_invoice(request.ledger, _id(request)))
    return render_document(
        request, shaped, invoice_lines(request.ledger), "invoice_number", "invoice"
    )


def _get_rendered(request: BooksRequest) -> bytes | None:
    """``get``'s answer from the stored detail projection (``ledger.details``), or None."""
    if not fastread.plain_json(wants, request):
        return None
    ledger = request.ledger
    return details.read(ledger.db, ledger.org_id, inv.MODULE, _id(request), ledger.today())


fastread.register(get, _get_rendered)


@route("PUT", "/invoices/{invoice_id}", scope=SCOPE)
def update(request: BooksRequest) -> BooksResponse:
    record = inv.update_invoice(request.ledger, _id(request), request.body)
    return ok("Invoice information has been updated.", invoice=_shaped(request, record))


@route("DELETE", "/invoices/{invoice_id}", scope=SCOPE)
def delete(request: BooksRequest) -> BooksResponse:
    inv.delete_invoice(request.ledger, _id(request))
    return ok("The invoice has been deleted.")


@route("PUT", "/invoices", scope=SCOPE)
def upsert_invoice(request: BooksRequest) -> BooksResponse:
    ledger = request.ledger
    record, created = upsert(
        request,
        module=inv.MODULE,
        resource="Invoice",
        id_field="invoice_id",
        create=lambda: inv.create_invoice(
            ledger,
            request.body,
            ignore_auto_number=request.flag("ignore_auto_number_generation"),
        ),
        update=lambda invoice_id: inv.update_invoice(ledger, invoice_id, request.body),
    )
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok("The invoice has been created.", 200, invoice=_shaped(request, record))
    return ok("Invoice information has been updated.", invoice=_shaped(request, record))


@route("DELETE", "/invoices", scope=SCOPE)
def bulk_delete(request: BooksRequest) -> BooksResponse:
    ids = id_list(request, "invoice_ids", 25)
    with request.ledger.db.transaction():
        for invoice_id in ids:
            inv.delete_invoice(request.ledger, invoice_id)
    return ok("The invoices have been deleted.")


# --- status actions ------------------------------------------------------------------------
@route("POST", "/invoices/{invoice_id}/status/sent", scope=SCOPE)
def mark_sent(request: BooksRequest) -> BooksResponse:
    inv.mark_sent(request.ledger, _id(request))
    return ok("Invoice status has been changed to Sent.")


@route("POST", "/invoices/{invoice_id}/status/void", scope=SCOPE)
def mark_void(request: BooksRequest) -> BooksResponse:
    inv.mark_void(request.ledger, _id(request))
    return ok("Invoice status has been changed to Void.")


@route("POST", "/invoices/{invoice_id}/status/draft", scope=SCOPE)
def mark_draft(request: BooksRequest) -> BooksResponse:
    inv.mark_draft(request.ledger, _id(request))
    return ok("Status of invoice changed from void to draft")


@route("POST", "/invoices/status/sent", scope=SCOPE)
def bulk_sent(request: BooksRequest) -> BooksResponse:
    ids = id_list(request, "invoice_ids", 25)
    with request.ledger.db.transaction():
        for invoice_id in ids:
            inv.mark_sent(request.ledger, invoice_id)
    return ok("The invoices have been marked as sent.")


@route("POST", "/invoices/status/void", scope=SCOPE)
def bulk_void(request: BooksRequest) -> BooksResponse:
    ids = id_list(request, "invoice_ids", 25)
    with request.ledger.db.transaction():
        for invoice_id in ids:
            inv.mark_void(request.ledger, invoice_id)
    return ok("The selected invoices have been marked as void.")


@route("POST", "/invoices/{invoice_id}/writeoff", scope=SCOPE)
def write_off(request: BooksRequest) -> BooksResponse:
    inv.write_off(request.ledger, _id(request))
    return ok("Invoice has been written off")


@route("POST", "/invoices/{invoice_id}/writeoff/cancel", scope=SCOPE)
def cancel_write_off(request: BooksRequest) -> BooksResponse:
    inv.cancel_write_off(request.ledger, _id(request))
    return ok("The write off done for this invoice has been cancelled.")


# --- email and history ---------------------------------------------------------------------
@route("POST", "/invoices/{invoice_id}/email", scope=SCOPE)
def email(request: BooksRequest) -> BooksResponse:
    inv.email_invoice(request.ledger, _id(request), request.body)
    return ok("Your invoice has been sent.")


@route("GET", "/invoices/{invoice_id}/email", scope=SCOPE)
def email_content(request: BooksRequest) -> BooksResponse:
    return ok(data=inv.email_content(request.ledger, _id(request)))


@route("GET", "/invoices/{invoice_id}/comments", scope=SCOPE)
def comments(request: BooksRequest) -> BooksResponse:
    return ok(comments=inv.history(request.ledger, _id(request)))


@route("POST", "/invoices/{invoice_id}/comments", scope=SCOPE)
def add_comment(request: BooksRequest) -> BooksResponse:
    comment = inv.add_comment(request.ledger, _id(request), request.body)
    return ok("Comments added.", comment=comment)


@route("PUT", "/invoices/{invoice_id}/comments/{comment_id}", scope=SCOPE)
def update_comment(request: BooksRequest) -> BooksResponse:
    comment = inv.update_comment(
        request.ledger, _id(request), request.path_params["comment_id"], request.body
    )
    return ok(comment=comment)


@route("DELETE", "/invoices/{invoice_id}/comments/{comment_id}", scope=SCOPE)
def delete_comment(request: BooksRequest) -> BooksResponse:
    inv.delete_comment(request.ledger, _id(request), request.path_params["comment_id"])
    return ok("The comment has been deleted.")


# --- payments and credits ------------------------------------------------------------------
@route("GET", "/invoices/{invoice_id}/payments", scope=SCOPE)
def payments(request: BooksRequest) -> BooksResponse:
    return ok(payments=inv.payments_of(request.ledger, _id(request)))


@route("DELETE", "/invoices/{invoice_id}/payments/{invoice_payment_id}", scope=SCOPE)
def delete_payment(request: BooksRequest) -> BooksResponse:
    cp.unapply(request.ledger, _id(request), request.path_params["invoice_payment_id"])
    return ok("The payment has been deleted.")


@route("GET", "/invoices/{invoice_id}/creditsapplied", scope=SCOPE)
def credits_applied(request: BooksRequest) -> BooksResponse:
    return ok(credits=inv.credits_of(request.ledger, _id(request)))


@route("DELETE", "/invoices/{invoice_id}/creditsapplied/{creditnotes_invoice_id}", scope=SCOPE)
def delete_credit(request: BooksRequest) -> BooksResponse:
    cn.unapply_from_invoice(
        request.ledger, _id(request), request.path_params["creditnotes_invoice_id"]
    )
    return ok("Credits applied to an invoice have been deleted.")


@route("POST", "/invoices/{invoice_id}/credits", scope=SCOPE)
def apply_credits(request: BooksRequest) -> BooksResponse:
    inv.apply_credits(request.ledger, _id(request), request.body)
    return ok("Credits have been applied to the invoice(s).")


# --- bulk documents and conversions --------------------------------------------------------
def _bulk_pdf(request: BooksRequest) -> BooksResponse:
    ids = id_list(request, "invoice_ids", MAX_PDF_IDS)
    ledger = request.ledger
    lines = invoice_lines(ledger)
    shaped = [_shaped(request, inv.get_invoice(ledger, i)) for i in ids]
    return pdf_response([lines(s) for s in shaped], "Invoices.pdf")


@route("GET", "/invoices/pdf", scope=SCOPE)
def bulk_pdf(request: BooksRequest) -> BooksResponse:
    return _bulk_pdf(request)


@route("GET", "/invoices/print", scope=SCOPE)
def bulk_print(request: BooksRequest) -> BooksResponse:
    return _bulk_pdf(request)


@route("POST", "/invoices/fromestimates", scope=SCOPE)
def from_estimates(request: BooksRequest) -> BooksResponse:
    """OAS: ``estimate_ids`` (comma separated); ``estimate_id`` is accepted too."""
    name = "estimate_ids" if request.query.get("estimate_ids") else "estimate_id"
    ids = id_list(request, name, 25)
    ledger = request.ledger
    with ledger.db.transaction():
        created = [est.convert_to_invoice(ledger, estimate_id) for estimate_id in ids]
    shaped = [_shaped(request, record) for record in created]
    extra: dict[str, Any] = {"invoices": shaped}
    if len(shaped) == 1:
        extra["invoice"] = shaped[0]
    return ok("The invoices have been created.", **extra)


@route("POST", "/invoices/fromsalesorder", scope=SCOPE)
def from_salesorder(request: BooksRequest) -> BooksResponse:
    salesorder_id = request.query.get("salesorder_id", "").strip()
    if not salesorder_id:
        raise invalid_value("salesorder_id")
    record = so.convert_to_invoice(request.ledger, salesorder_id)
    return ok("The invoice has been created.", 201, invoice=_shaped(request, record))
