"""HTTP routes of estimates (conversion lives with invoices: ``/invoices/fromestimates``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zbooks.sandbox.books.invoices import id_list, org_name, pdf_response, render_document, upsert
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger import estimates as est
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "estimates"
route = REGISTRY.route


def _id(request: BooksRequest) -> str:
    return request.path_params["estimate_id"]


def _shaped(request: BooksRequest, record: Mapping[str, Any]) -> dict[str, Any]:
    return est.present_estimate(request.ledger, record)


def _lines(ledger: Ledger) -> Callable[[Mapping[str, Any]], list[str]]:
    return lambda shaped: docs.printable_lines(
        est.KIND,
        shaped,
        title="Estimate",
        org_name=org_name(ledger),
        dates=(("Expiry Date", "expiry_date"),),
    )


@route("POST", "/estimates", scope=SCOPE)
def create(request: BooksRequest) -> BooksResponse:
    record = est.create_estimate(
        request.ledger,
        request.body,
        ignore_auto_number=request.flag("ignore_auto_number_generation"),
        send=request.flag("send"),
    )
    return ok("The estimate has been created", 201, estimate=_shaped(request, record))


@route("GET", "/estimates", scope=SCOPE)
def list_estimates(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, est.LIST_SPEC)
    return ok(estimates=result.records, page_context=result.page_context)


@route("PUT", "/estimates", scope=SCOPE)
def upsert_estimate(request: BooksRequest) -> BooksResponse:
    ledger = request.ledger
    record, created = upsert(
        request,
        module=est.MODULE,
        resource="Estimate",
        id_field="estimate_id",
        create=lambda: est.create_estimate(
            ledger,
            request.body,
            ignore_auto_number=request.flag("ignore_auto_number_generation"),
        ),
        update=lambda estimate_id: est.update_estimate(ledger, estimate_id, request.body),
    )
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok("The estimate has been created", 200, estimate=_shaped(request, record))
    return ok("Estimate information has been updated.", estimate=_shaped(request, record))


@route("GET", "/estimates/{estimate_id}", scope=SCOPE)
def get(request: BooksRequest) -> BooksResponse:
    shaped = _shaped(request, est.get_estimate(request.ledger, _id(request)))
    return render_document(request, shaped, _lines(request.ledger), "estimate_number", "estimate")


@route("PUT", "/estimates/{estimate_id}", scope=SCOPE)
def update(request: BooksRequest) -> BooksResponse:
    record = est.update_estimate(request.ledger, _id(request), request.body)
    return ok("Estimate information has been updated.", estimate=_shaped(request, record))


@route("DELETE", "/estimates/{estimate_id}", scope=SCOPE)
def delete(request: BooksRequest) -> BooksResponse:
    est.delete_estimate(request.ledger, _id(request))
    return ok("The estimate has been deleted.")


@route("POST", "/estimates/{estimate_id}/status/sent", scope=SCOPE)
def mark_sent(request: BooksRequest) -> BooksResponse:
    est.mark_sent(request.ledger, _id(request))
    return ok("Estimate status has been changed to Sent")


@route("POST", "/estimates/{estimate_id}/status/accepted", scope=SCOPE)
def mark_accepted(request: BooksRequest) -> BooksResponse:
    est.mark_accepted(request.ledger, _id(request))
    return ok("Estimate status has been changed to Accepted.")


@route("POST", "/estimates/{estimate_id}/status/declined", scope=SCOPE)
def mark_declined(request: BooksRequest) -> BooksResponse:
    est.mark_declined(request.ledger, _id(request))
    return ok("Estimate status has been changed to Declined.")


@route("POST", "/estimates/{estimate_id}/email", scope=SCOPE)
def email(request: BooksRequest) -> BooksResponse:
    est.email_estimate(request.ledger, _id(request))
    return ok("Your estimate has been sent.")


def _bulk_pdf(request: BooksRequest) -> BooksResponse:
    ids = id_list(request, "estimate_ids", 25)
    lines = _lines(request.ledger)
    shaped = [_shaped(request, est.get_estimate(request.ledger, i)) for i in ids]
    return pdf_response([lines(s) for s in shaped], "Estimates.pdf")


@route("GET", "/estimates/pdf", scope=SCOPE)
def bulk_pdf(request: BooksRequest) -> BooksResponse:
    return _bulk_pdf(request)


@route("GET", "/estimates/print", scope=SCOPE)
def bulk_print(request: BooksRequest) -> BooksResponse:
    return _bulk_pdf(request)
