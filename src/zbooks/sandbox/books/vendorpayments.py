"""Vendor payments (scope vendorpayments), api-facts §3.12.

List key ``vendorpayments``, single key ``vendorpayment``. The OAS documents the create
response with the payment's fields at the top level (Appendix C quirk); we send the
object under ``vendorpayment`` and at the top level so either reading works.
"""

from __future__ import annotations

from dataclasses import replace

from zbooks.sandbox.books.invoices import upsert
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.errors import invalid_value
from zbooks.sandbox.ledger import vendorpayments as payments
from zbooks.sandbox.ledger.listing import FilterFactory, list_page

SCOPE = "vendorpayments"
UPDATED = "The details of the payment made to the vendor has been updated"


@REGISTRY.route("POST", "/vendorpayments", scope=SCOPE)
def create_payment(request: BooksRequest) -> BooksResponse:
    record = payments.create_payment(request.ledger, request.body)
    shaped = payments.present_payment(request.ledger, record)
    return ok(
        "The payment made to the vendor has been recorded.",
        status=201,
        vendorpayment=shaped,
        **shaped,
    )


@REGISTRY.route("PUT", "/vendorpayments", scope=SCOPE)
def upsert_payment(request: BooksRequest) -> BooksResponse:
    """``X-Unique-Identifier-Key/-Value`` (+ ``X-Upsert``): the same rules as POST/PUT."""
    ledger = request.ledger
    record, created = upsert(
        request,
        module=payments.MODULE,
        resource="Vendor Payment",
        id_field="payment_id",
        create=lambda: payments.create_payment(ledger, request.body),
        update=lambda payment_id: payments.update_payment(ledger, payment_id, request.body),
    )
    shaped = payments.present_payment(ledger, record)
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok("The payment made to the vendor has been recorded.", 200, vendorpayment=shaped)
    return ok(UPDATED, vendorpayment=shaped)


@REGISTRY.route("GET", "/vendorpayments", scope=SCOPE)
def list_payments(request: BooksRequest) -> BooksResponse:
    spec = payments.LIST_SPEC
    query = dict(request.query)
    bill_id = query.pop("bill_id", "")
    if bill_id:
        extra = payments.bill_filter(bill_id)
        filters: dict[str, FilterFactory] = {
            name: payments.also(factory, [extra]) for name, factory in spec.filter_by.items()
        }
        spec = replace(spec, filter_by=filters)
    result = list_page(request.ledger, query, spec)
    return ok(vendorpayments=result.records, page_context=result.page_context)


@REGISTRY.route("DELETE", "/vendorpayments", scope=SCOPE)
def bulk_delete(request: BooksRequest) -> BooksResponse:
    raw = request.query.get("vendorpayment_id") or request.query.get("payment_ids") or ""
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise invalid_value("vendorpayment_id")
    with request.ledger.db.transaction():
        for payment_id in ids:
            payments.delete_payment(request.ledger, payment_id)
    return ok("The selected vendor payments have been deleted.")


@REGISTRY.route("GET", "/vendorpayments/{payment_id}", scope=SCOPE)
def get_payment(request: BooksRequest) -> BooksResponse:
    record = payments.get_payment(request.ledger, request.path_params["payment_id"])
    return ok(vendorpayment=payments.present_payment(request.ledger, record))


@REGISTRY.route("PUT", "/vendorpayments/{payment_id}", scope=SCOPE)
def update_payment(request: BooksRequest) -> BooksResponse:
    record = payments.update_payment(
        request.ledger, request.path_params["payment_id"], request.body
    )
    shaped = payments.present_payment(request.ledger, record)
    if not any(shaped["check_details"].values()):
        # The OAS types check_details as an array in this response (an object in GET);
        # with no check there is nothing to lose by sending the empty array it expects.
        shaped["check_details"] = []
    return ok(UPDATED, vendorpayment=shaped)


@REGISTRY.route("DELETE", "/vendorpayments/{payment_id}", scope=SCOPE)
def delete_payment(request: BooksRequest) -> BooksResponse:
    payments.delete_payment(request.ledger, request.path_params["payment_id"])
    return ok("The payment has been deleted.")
