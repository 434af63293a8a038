"""HTTP routes of customer payments (list key ``customerpayments``, single key ``payment``)."""

from __future__ import annotations

from zbooks.sandbox.books.invoices import id_list, upsert
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import customerpayments as cp
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "customerpayments"
route = REGISTRY.route


def _id(request: BooksRequest) -> str:
    return request.path_params["payment_id"]


@route("POST", "/customerpayments", scope=SCOPE)
def create(request: BooksRequest) -> BooksResponse:
    record = cp.create_payment(request.ledger, request.body)
    return ok(
        "The payment has been created.", 201, payment=cp.present_payment(request.ledger, record)
    )


@route("GET", "/customerpayments", scope=SCOPE)
def list_payments(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, cp.LIST_SPEC)
    # Live Zoho answers with ``customerpayments``; the OAS says ``customer_payments``.
    return ok(customerpayments=result.records, page_context=result.page_context)


@route("PUT", "/customerpayments", scope=SCOPE)
def upsert_payment(request: BooksRequest) -> BooksResponse:
    ledger = request.ledger
    record, created = upsert(
        request,
        module=cp.MODULE,
        resource="Payment",
        id_field="payment_id",
        create=lambda: cp.create_payment(ledger, request.body),
        update=lambda payment_id: cp.update_payment(ledger, payment_id, request.body),
    )
    shaped = cp.present_payment(ledger, record)
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok("The payment has been created.", 200, payment=shaped)
    return ok("The payment details have been updated.", payment=shaped)


@route("GET", "/customerpayments/{payment_id}", scope=SCOPE)
def get(request: BooksRequest) -> BooksResponse:
    record = cp.get_payment(request.ledger, _id(request))
    return ok(payment=cp.present_payment(request.ledger, record))


@route("PUT", "/customerpayments/{payment_id}", scope=SCOPE)
def update(request: BooksRequest) -> BooksResponse:
    record = cp.update_payment(request.ledger, _id(request), request.body)
    return ok(
        "The payment details have been updated.",
        payment=cp.present_payment(request.ledger, record),
    )


@route("DELETE", "/customerpayments/{payment_id}", scope=SCOPE)
def delete(request: BooksRequest) -> BooksResponse:
    cp.delete_payment(request.ledger, _id(request))
    return ok("The payment has been deleted.")


@route("DELETE", "/customerpayments", scope=SCOPE)
def bulk_delete(request: BooksRequest) -> BooksResponse:
    # Parameter name UNCONFIRMED (api-facts §3.8); ``payment_ids`` as documented there.
    ids = id_list(request, "payment_ids", 25)
    with request.ledger.db.transaction():
        for payment_id in ids:
            cp.delete_payment(request.ledger, payment_id)
    return ok("The selected customer payments have been deleted.")
