"""Bills (scope bills), api-facts §3.11. Messages and statuses per Appendix C."""

from __future__ import annotations

from zbooks.sandbox.books.attachments import attach_upload
from zbooks.sandbox.books.invoices import upsert
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import bills
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "bills"


def _bill(request: BooksRequest, record: dict[str, object]) -> dict[str, object]:
    return bills.present_bill(request.ledger, record)


@REGISTRY.route("POST", "/bills", scope=SCOPE)
def create_bill(request: BooksRequest) -> BooksResponse:
    record = bills.create_bill(request.ledger, request.body)
    record = attach_upload(request, "bills", record, "bill_id", "Bill", "attachment")
    return ok(status=201, bill=_bill(request, record))  # the OAS documents plain "success"


@REGISTRY.route("GET", "/bills", scope=SCOPE)
def list_bills(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, bills.LIST_SPEC)
    return ok(bills=result.records, page_context=result.page_context)


@REGISTRY.route("PUT", "/bills", scope=SCOPE)
def upsert_bill(request: BooksRequest) -> BooksResponse:
    """``X-Unique-Identifier-Key/-Value`` (+ ``X-Upsert``): the same rules as POST/PUT."""
    ledger = request.ledger
    record, created = upsert(
        request,
        module=bills.MODULE,
        resource="Bill",
        id_field="bill_id",
        create=lambda: bills.create_bill(ledger, request.body),
        update=lambda bill_id: bills.update_bill(ledger, bill_id, request.body),
    )
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok(status=200, bill=_bill(request, record))
    return ok("Bill information has been updated.", bill=_bill(request, record))


@REGISTRY.route("GET", "/bills/{bill_id}", scope=SCOPE)
def get_bill(request: BooksRequest) -> BooksResponse:
    return ok(bill=_bill(request, bills.get_bill(request.ledger, request.path_params["bill_id"])))


@REGISTRY.route("PUT", "/bills/{bill_id}", scope=SCOPE)
def update_bill(request: BooksRequest) -> BooksResponse:
    record = bills.update_bill(request.ledger, request.path_params["bill_id"], request.body)
    return ok("Bill information has been updated.", bill=_bill(request, record))


@REGISTRY.route("DELETE", "/bills/{bill_id}", scope=SCOPE)
def delete_bill(request: BooksRequest) -> BooksResponse:
    bills.delete_bill(request.ledger, request.path_params["bill_id"])
    return ok("The bill has been deleted.")


@REGISTRY.route("POST", "/bills/{bill_id}/status/open", scope=SCOPE)
def mark_open(request: BooksRequest) -> BooksResponse:
    bills.mark_open(request.ledger, request.path_params["bill_id"])
    # Zoho's message carries the typo "chaged" (Appendix C); reproduced byte for byte.
    return ok("The status of the bill has been chaged to open.", status=201)


@REGISTRY.route("POST", "/bills/{bill_id}/status/void", scope=SCOPE)
def mark_void(request: BooksRequest) -> BooksResponse:
    bills.mark_void(request.ledger, request.path_params["bill_id"])
    return ok("The bill has been marked as void.", status=201)


@REGISTRY.route("GET", "/bills/{bill_id}/payments", scope=SCOPE)
def list_bill_payments(request: BooksRequest) -> BooksResponse:
    return ok(payments=bills.payments_of(request.ledger, request.path_params["bill_id"]))


@REGISTRY.route("DELETE", "/bills/{bill_id}/payments/{bill_payment_id}", scope=SCOPE)
def delete_bill_payment(request: BooksRequest) -> BooksResponse:
    bills.delete_payment(
        request.ledger, request.path_params["bill_id"], request.path_params["bill_payment_id"]
    )
    return ok("The payment has been deleted.")


@REGISTRY.route("POST", "/bills/{bill_id}/credits", scope=SCOPE)
def apply_credits(request: BooksRequest) -> BooksResponse:
    bills.apply_credits(request.ledger, request.path_params["bill_id"], request.body)
    # The stray closing quote is in Zoho's documented message (Appendix C); kept as is.
    return ok('Credits have been applied to the bill(s)."', status=201)
