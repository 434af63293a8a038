"""Refunds: money given back out of a customer payment, a credit note, a vendor payment
or a vendor credit.

One set of rules for all four (api-facts §3.8, §3.9, §3.12): a refund can only give back
what is still unused (a payment's ``unused_amount``, a credit note's ``balance``), a PUT
re-checks that limit with the refund's old amount added back, and a DELETE returns the
money. Each refund is its own record (module ``customerpaymentrefunds`` ...) so the
org-wide ``GET /creditnotes/refunds`` is a plain paginated query; the parent keeps only
the refunded total, recomputed from those records on every change, and its own module
turns that total into ``unused_amount``/``balance``/``status`` (``set_refunded``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation, too_long
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger import creditnotes as cn
from zbooks.sandbox.ledger import customerpayments as cp
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger import vendorcredits as vc
from zbooks.sandbox.ledger import vendorpayments as vp
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.contacts import refresh_balances
from zbooks.sandbox.ledger.listing import ListSpec, list_page
from zbooks.sandbox.ledger.store import Filter

RESOURCE = "Refund"  # 404 "Refund does not exist." (UNCONFIRMED per-module wording)
MAX_REFUND_MODE = 50  # OAS: refund_mode Max-length [50]
MAX_REFERENCE = 100  # OAS: reference_number Max-length [100]
DEFAULT_ACCOUNT = "Petty Cash"  # UNCONFIRMED default where the OAS does not require one
SORT_COLUMNS = frozenset(
    {
        "refund_mode",
        "reference_number",
        "date",
        "creditnote_number",
        "payment_number",
        "customer_name",
        "vendor_name",
        "amount",
        "amount_bcy",
        "amount_fcy",
        "created_time",
        "last_modified_time",
    }
)


@dataclass(frozen=True)
class RefundKind:
    """What differs between the three refund flavours.

    ``copied`` maps a refund field to the parent field it repeats (the first entry is
    the link to the parent); ``available`` is the parent field holding the money still
    refundable; ``set_refunded`` stores the new refunded total on the parent and saves.
    """

    module: str
    id_field: str
    parent_module: str
    load_parent: Callable[[Ledger, str], dict[str, Any]]
    set_refunded: Callable[[Ledger, dict[str, Any], Decimal], None]
    copied: Mapping[str, str]
    contact_field: str
    available: str
    over_limit: str  # wording UNCONFIRMED
    account_field: str
    account_required: bool
    defaults: Mapping[str, Any]
    list_spec: ListSpec
    refusable_statuses: tuple[str, ...] = ()
    label: str = "credit note"  # names the parent when its status refuses a refund
    resource: str = RESOURCE  # 404 "<resource> does not exist."
    inherit_exchange_rate: bool = False  # a new refund starts at the parent's rate
    summary_key: str = ""  # parent field listing its refunds (vendor payment detail)

    @property
    def parent_field(self) -> str:
        return next(iter(self.copied))

    @property
    def account_name_field(self) -> str:
        return self.account_field.removesuffix("_id") + "_name"


def present(kind: RefundKind, record: Mapping[str, Any]) -> dict[str, Any]:
    """The refund object: documented fields with defaults, then the stored values."""
    return docs.with_defaults(kind.defaults, docs.strip_private(record))


def _row_presenter(kind_defaults: Mapping[str, Any]) -> Callable[[Ledger, dict[str, Any]], Any]:
    return lambda ledger, record: docs.with_defaults(kind_defaults, docs.strip_private(record))


def _common_defaults(account_field: str) -> dict[str, Any]:
    return {
        "date": "",
        "refund_mode": "",
        "reference_number": "",
        "amount": 0.0,
        "amount_bcy": 0.0,
        "amount_fcy": 0.0,
        "exchange_rate": 1.0,
        "payment_form": "",
        "description": "",
        account_field: "",
        account_field.removesuffix("_id") + "_name": "",
        "created_time": "",
        "last_modified_time": "",
    }


def _spec(module: str, list_key: str, report_name: str, defaults: dict[str, Any]) -> ListSpec:
    return ListSpec(
        module=module,
        list_key=list_key,
        report_name=report_name,
        sort_columns=SORT_COLUMNS,
        search_fields=("reference_number", "description", "customer_name", "vendor_name"),
        text_fields=("reference_number", "refund_mode", "description"),
        exact_fields=("customer_id", "vendor_id"),
        date_fields=("date",),
        number_fields=("amount",),
        present=_row_presenter(defaults),
    )


_PAYMENT_DEFAULTS = {
    "payment_refund_id": "",
    "payment_id": "",
    "payment_number": "",
    "customer_id": "",
    "customer_name": "",
    **_common_defaults("from_account_id"),
}
_CREDITNOTE_DEFAULTS = {
    "creditnote_refund_id": "",
    "creditnote_id": "",
    "creditnote_number": "",
    "customer_id": "",
    "customer_name": "",
    **_common_defaults("from_account_id"),
}
_VENDOR_DEFAULTS = {
    "vendorpayment_refund_id": "",
    "vendorpayment_id": "",
    "vendorpayment_number": "",
    "vendor_id": "",
    "vendor_name": "",
    **_common_defaults("to_account_id"),
}

CUSTOMER_PAYMENT = RefundKind(
    module="customerpaymentrefunds",
    id_field="payment_refund_id",
    parent_module=cp.MODULE,
    load_parent=cp.get_payment,
    set_refunded=cp.set_refunded,
    copied={
        "payment_id": "payment_id",
        "payment_number": "payment_number",
        "customer_id": "customer_id",
        "customer_name": "customer_name",
    },
    contact_field="customer_id",
    available="unused_amount",
    over_limit="The amount refunded exceeds the unused amount of the payment.",
    account_field="from_account_id",
    account_required=True,  # required in the OAS request
    defaults=_PAYMENT_DEFAULTS,
    list_spec=_spec(
        "customerpaymentrefunds", "payment_refunds", "Payment Refunds", _PAYMENT_DEFAULTS
    ),
)

CREDIT_NOTE = RefundKind(
    module="creditnoterefunds",
    id_field="creditnote_refund_id",
    parent_module=cn.MODULE,
    load_parent=cn.get_creditnote,
    set_refunded=cn.set_refunded,
    copied={
        "creditnote_id": "creditnote_id",
        "creditnote_number": "creditnote_number",
        "customer_id": "customer_id",
        "customer_name": "customer_name",
    },
    contact_field="customer_id",
    available="balance",
    over_limit="The amount refunded exceeds the balance of the credit note.",
    account_field="from_account_id",
    account_required=False,  # not required in the OAS request; Petty Cash by default
    defaults=_CREDITNOTE_DEFAULTS,
    list_spec=_spec(
        "creditnoterefunds", "creditnote_refunds", "Credit Note Refunds", _CREDITNOTE_DEFAULTS
    ),
    # Draft and void notes offer no credit to give back (UNCONFIRMED wording below).
    refusable_statuses=("draft", "void"),
)

VENDOR_PAYMENT = RefundKind(
    module="vendorpaymentrefunds",
    id_field="vendorpayment_refund_id",
    parent_module=vp.MODULE,
    load_parent=vp.get_payment,
    set_refunded=vp.set_refunded,
    copied={
        "vendorpayment_id": "payment_id",
        "vendorpayment_number": "payment_number",
        "vendor_id": "vendor_id",
        "vendor_name": "vendor_name",
    },
    contact_field="vendor_id",
    available="unused_amount",
    over_limit="The amount refunded exceeds the unused amount of the payment.",
    account_field="to_account_id",
    account_required=True,  # required in the OAS request
    defaults=_VENDOR_DEFAULTS,
    list_spec=_spec(
        "vendorpaymentrefunds", "vendorpayment_refunds", "Payment Refunds", _VENDOR_DEFAULTS
    ),
    summary_key="vendorpayment_refunds",
)

VENDOR_CREDIT = RefundKind(
    module=vc.REFUNDS,
    id_field="vendor_credit_refund_id",
    parent_module=vc.MODULE,
    load_parent=vc.get_vendor_credit,
    set_refunded=vc.set_refunded,
    copied={
        "vendor_credit_id": "vendor_credit_id",
        "vendor_credit_number": "vendor_credit_number",
        "vendor_id": "vendor_id",
        # The refund lists name the vendor ``customer_*`` (OAS).
        "customer_id": "vendor_id",
        "customer_name": "vendor_name",
    },
    contact_field="vendor_id",
    available="balance",
    over_limit="The refund amount exceeds the balance of the vendor credit.",
    account_field="account_id",  # the account the vendor's money arrives in (any type)
    account_required=True,
    defaults=vc.REFUND_DEFAULTS,
    list_spec=vc.REFUND_LIST_SPEC,
    # Only an open or closed credit settles money (UNCONFIRMED wording below).
    refusable_statuses=("draft", "void", *docs.AWAITING_APPROVAL),
    label="vendor credit",
    resource="Vendor credit refund",
    inherit_exchange_rate=True,
)

# The rows a vendor payment's ``vendorpayment_refunds[]`` shows (OAS detail schema).
_SUMMARY_FIELDS = (
    "vendorpayment_refund_id",
    "date",
    "refund_mode",
    "reference_number",
    "description",
    "amount_bcy",
    "amount_fcy",
)


# --- reading ---------------------------------------------------------------------------
def get_refund(ledger: Ledger, kind: RefundKind, parent_id: str, refund_id: str) -> dict[str, Any]:
    """The refund of that parent: unknown parent -> its own 404, unknown refund (or one
    of another parent) -> ``Refund does not exist.``"""
    kind.load_parent(ledger, parent_id)
    refund = ledger.store.get(kind.module, str(refund_id))
    if refund is None or str(refund.get(kind.parent_field)) != str(parent_id):
        raise not_found(kind.resource)
    return refund


def find_refund(ledger: Ledger, kind: RefundKind, refund_id: str) -> dict[str, Any]:
    """A refund by id alone (``GET /creditnotes/refunds/{refund_id}``)."""
    refund = ledger.store.get(kind.module, str(refund_id))
    if refund is None:
        raise not_found(kind.resource)
    return refund


def list_refunds(
    ledger: Ledger, kind: RefundKind, query: Mapping[str, str], parent_id: str | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A page of refunds, of one parent when ``parent_id`` is given (404 if unknown)."""
    spec = kind.list_spec
    if parent_id is not None:
        kind.load_parent(ledger, parent_id)
        link = [Filter(kind.parent_field, "eq", str(parent_id))]
        spec = dataclasses.replace(spec, filter_by={spec.default_filter: lambda _ledger: link})
    result = list_page(ledger, query, spec)
    return result.records, result.page_context


# --- writing ---------------------------------------------------------------------------
def _text(body: Mapping[str, Any], name: str, limit: int | None = None) -> str:
    value = body.get(name)
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        raise too_long(name, limit)
    return text


def _fill(
    ledger: Ledger, kind: RefundKind, refund: dict[str, Any], body: Mapping[str, Any]
) -> None:
    """Copy the request's fields; a PUT leaves the fields it does not send unchanged."""
    creating = kind.id_field not in refund
    if creating or "amount" in body:
        refund["amount"] = ledger.money(docs.positive_amount(body.get("amount"), "amount"))
    if creating or "date" in body:
        # The OAS marks date required for payments; like payments we default it to
        # today (UNCONFIRMED leniency).
        refund["date"] = docs.parse_date(
            body.get("date"), "date", refund.get("date") or ledger.today()
        )
    if "exchange_rate" in body:
        rate = docs.dec(body.get("exchange_rate") or 1, "exchange_rate")
        if rate <= 0:
            raise invalid_value("exchange_rate")
        refund["exchange_rate"] = float(rate)
    limits = {"refund_mode": MAX_REFUND_MODE, "reference_number": MAX_REFERENCE}
    for name in ("refund_mode", "reference_number", "description", "payment_form"):
        if creating or name in body:
            refund[name] = _text(body, name, limits.get(name))
    if creating or body.get(kind.account_field):
        account_id = str(body.get(kind.account_field) or "")
        if not account_id:
            if kind.account_required:
                raise invalid_value(kind.account_field)
            account_id = coa.default_account_id(ledger, DEFAULT_ACCOUNT)
        account = coa.require_account(ledger, account_id, kind.account_field)
        refund[kind.account_field] = str(account["account_id"])
        refund[kind.account_name_field] = account.get("account_name", "")
    amount = docs.dec(refund["amount"])
    refund["amount_fcy"] = refund["amount"]
    refund["amount_bcy"] = ledger.money(amount * docs.dec(refund.get("exchange_rate") or 1))


def _check_parent(kind: RefundKind, parent: Mapping[str, Any]) -> None:
    status = str(parent.get("status") or "")
    if status in kind.refusable_statuses:
        raise rule_violation(f"A {kind.label} in {status} status cannot be refunded.")


def _check_limit(kind: RefundKind, parent: Mapping[str, Any], amount: Any, old: Any) -> None:
    """``amount`` may use what is unused now plus what this refund already took."""
    if docs.dec(amount) > docs.dec(parent.get(kind.available)) + docs.dec(old):
        raise rule_violation(kind.over_limit)


def _settle(ledger: Ledger, kind: RefundKind, parent: dict[str, Any]) -> None:
    """Recompute the parent's refunded total from its refund records and save it."""
    parent_id = str(parent[kind.copied[kind.parent_field]])
    refunds = ledger.store.find(kind.module, [Filter(kind.parent_field, "eq", parent_id)])
    refunds.sort(key=lambda r: (str(r.get("date")), str(r.get("created_time"))))
    total = sum((docs.dec(r.get("amount")) for r in refunds), Decimal(0))
    if kind.summary_key:
        parent[kind.summary_key] = [
            {name: present(kind, r)[name] for name in _SUMMARY_FIELDS} for r in refunds
        ]
    kind.set_refunded(ledger, parent, total)
    refresh_balances(ledger, str(parent.get(kind.contact_field) or ""))


def create_refund(
    ledger: Ledger, kind: RefundKind, parent_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    with ledger.db.transaction():
        parent = kind.load_parent(ledger, parent_id)
        _check_parent(kind, parent)
        rate = parent.get("exchange_rate") if kind.inherit_exchange_rate else None
        refund: dict[str, Any] = {"exchange_rate": float(rate or 1.0)}
        _fill(ledger, kind, refund, body)
        _check_limit(kind, parent, refund["amount"], 0)
        refund_id = ledger.store.new_id()
        refund[kind.id_field] = refund_id
        for field, source in kind.copied.items():
            refund[field] = _copied(parent.get(source))
        ledger.store.insert(kind.module, refund_id, refund, ledger.now())
        coa.mark_account_used(ledger, refund[kind.account_field])
        _settle(ledger, kind, parent)
        return refund


def _copied(value: Any) -> Any:
    # Vendor payment numbers are stored as integers; refunds carry ids/numbers as text.
    return "" if value is None else str(value)


def update_refund(
    ledger: Ledger, kind: RefundKind, parent_id: str, refund_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    with ledger.db.transaction():
        refund = get_refund(ledger, kind, parent_id, refund_id)
        parent = kind.load_parent(ledger, parent_id)
        old = refund["amount"]
        _fill(ledger, kind, refund, body)
        _check_limit(kind, parent, refund["amount"], old)
        ledger.store.update(kind.module, str(refund_id), refund, ledger.now())
        coa.mark_account_used(ledger, refund[kind.account_field])
        _settle(ledger, kind, parent)
        return refund


def delete_refund(ledger: Ledger, kind: RefundKind, parent_id: str, refund_id: str) -> None:
    with ledger.db.transaction():
        get_refund(ledger, kind, parent_id, refund_id)
        parent = kind.load_parent(ledger, parent_id)
        ledger.store.delete(kind.module, str(refund_id))
        _settle(ledger, kind, parent)
