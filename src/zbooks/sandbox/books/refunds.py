"""HTTP routes of refunds: customer payments, credit notes, vendor payments and vendor
credits.

Thin by design: parse the path, call ``ledger.refunds`` and wrap the result in the
envelope the 2026-07 OAS documents for each operation (keys, messages, 200 vs 201).
Success messages of writes are the OAS examples; reads answer ``success`` as Zoho's
GETs do elsewhere (UNCONFIRMED for these operations, whose examples differ).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import refunds as rf

route = REGISTRY.route
Wrap = Callable[[dict[str, Any]], dict[str, Any]]


def _one(key: str) -> Wrap:
    return lambda shaped: {key: shaped}


def _in_list(key: str) -> Wrap:
    # The OAS types ``payment_refunds`` as an array even for one refund (UNCONFIRMED
    # whether the live API sends an object instead); we follow the OAS.
    return lambda shaped: {key: [shaped]}


def _register(
    kind: rf.RefundKind,
    *,
    base: str,
    parent_param: str,
    refund_param: str,
    scope: str,
    wrap: Wrap,
    created: tuple[str, int],
    updated: str,
    deleted: str,
) -> None:
    """The five routes of one parent's refunds: POST/GET on the collection and
    GET/PUT/DELETE on one refund."""
    collection = f"/{base}/{{{parent_param}}}/refunds"
    single = f"{collection}/{{{refund_param}}}"

    def shaped(record: dict[str, Any]) -> dict[str, Any]:
        return wrap(rf.present(kind, record))

    def ids(request: BooksRequest) -> tuple[str, str]:
        return request.path_params[parent_param], request.path_params[refund_param]

    def create(request: BooksRequest) -> BooksResponse:
        parent_id = request.path_params[parent_param]
        record = rf.create_refund(request.ledger, kind, parent_id, request.body)
        return ok(created[0], created[1], **shaped(record))

    def list_of_parent(request: BooksRequest) -> BooksResponse:
        parent_id = request.path_params[parent_param]
        records, context = rf.list_refunds(request.ledger, kind, request.query, parent_id)
        keys: dict[str, Any] = {kind.list_spec.list_key: records, "page_context": context}
        return ok(**keys)

    def get(request: BooksRequest) -> BooksResponse:
        return ok(**shaped(rf.get_refund(request.ledger, kind, *ids(request))))

    def update(request: BooksRequest) -> BooksResponse:
        record = rf.update_refund(request.ledger, kind, *ids(request), request.body)
        return ok(updated, **shaped(record))

    def delete(request: BooksRequest) -> BooksResponse:
        rf.delete_refund(request.ledger, kind, *ids(request))
        return ok(deleted)

    route("POST", collection, scope=scope)(create)
    route("GET", collection, scope=scope)(list_of_parent)
    route("GET", single, scope=scope)(get)
    route("PUT", single, scope=scope)(update)
    route("DELETE", single, scope=scope)(delete)


_register(
    rf.CUSTOMER_PAYMENT,
    base="customerpayments",
    parent_param="customer_payment_id",
    refund_param="refund_id",
    scope="customerpayments",
    wrap=_in_list("payment_refunds"),
    created=("The refund information for this payment has been saved.", 200),
    updated="The refund information has been saved.",
    deleted="The refund has been deleted.",
)
_register(
    rf.CREDIT_NOTE,
    base="creditnotes",
    parent_param="creditnote_id",
    refund_param="creditnote_refund_id",
    scope="creditnotes",
    wrap=_one("creditnote_refund"),
    created=("The credit note amount is refunded successfully.", 200),
    updated="The credit note refund is updated successfully.",
    deleted="The refund has been successfully deleted.",
)
_register(
    rf.VENDOR_PAYMENT,
    base="vendorpayments",
    parent_param="payment_id",
    refund_param="vendorpayment_refund_id",
    scope="vendorpayments",
    # The OAS types this singular key as an array; like the other singular record keys
    # (see tests' OAS quirks) the API sends the one object.
    wrap=_one("vendorpayment_refund"),
    created=("Vendor Payment Refunded successfully", 201),
    updated="The refund information has been saved.",
    deleted="The refund has been deleted.",
)


_register(
    rf.VENDOR_CREDIT,
    base="vendorcredits",
    parent_param="vendor_credit_id",
    refund_param="vendor_credit_refund_id",
    scope="debitnotes",
    wrap=_one("vendor_credit_refund"),
    created=("The refund information for this vendor credit has been saved.", 201),
    updated="The refund information has been saved.",
    deleted="The refund has been successfully deleted.",
)


@route("GET", "/vendorcredits/refunds", scope="debitnotes")
def list_vendor_credit_refunds(request: BooksRequest) -> BooksResponse:
    """Every vendor-credit refund of the organization."""
    records, context = rf.list_refunds(request.ledger, rf.VENDOR_CREDIT, request.query)
    return ok(vendor_credit_refunds=records, page_context=context)


@route("GET", "/creditnotes/refunds", scope="creditnotes")
def list_creditnote_refunds(request: BooksRequest) -> BooksResponse:
    """Every credit-note refund of the organization (``customer_id=`` narrows it)."""
    records, context = rf.list_refunds(request.ledger, rf.CREDIT_NOTE, request.query)
    return ok(creditnote_refunds=records, page_context=context)


@route("GET", "/creditnotes/refunds/{refund_id}", scope="creditnotes")
def get_creditnote_refund(request: BooksRequest) -> BooksResponse:
    record = rf.find_refund(request.ledger, rf.CREDIT_NOTE, request.path_params["refund_id"])
    return ok(creditnote_refund=rf.present(rf.CREDIT_NOTE, record))
