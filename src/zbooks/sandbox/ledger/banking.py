"""Bank and credit-card accounts, bank transactions, statement imports and the
uncategorized feed.

A bank account is a chart-of-accounts record of type ``bank``/``credit_card`` carrying
bank fields, so journals, expenses and payments that name it move its balance through
the same general ledger (``accounts_chart.postings``). Its ``balance`` is derived at
read time from those postings; nothing is accumulated, so deleting a transaction can
never leave a stale balance.

Sign convention (UNCONFIRMED where Zoho documents none): ``to_account_id`` receives the
money and ``from_account_id`` gives it; ``debit_or_credit`` is seen from the bank
account, ``debit`` = money in. Statement lines use the same convention.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import ApiError, invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger import customerpayments as cp
from zbooks.sandbox.ledger import expenses as ex
from zbooks.sandbox.ledger import vendorpayments as vp
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import get_contact
from zbooks.sandbox.ledger.currencies import ensure_base_currency
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.taxes import tax_rates
from zbooks.sandbox.ledger.totals import to_decimal

TXN_MODULE = "banktransactions"
STATEMENT_MODULE = "bankstatements"

# Money comes INTO the bank/card account (it is the ``to`` side).
DEPOSIT_TYPES = (
    "deposit",
    "refund",
    "sales_without_invoices",
    "expense_refund",
    "owner_contribution",
    "interest_income",
    "other_income",
    "customer_payment",
    "vendor_credit_refund",
    "vendor_payment_refund",
)
# Money goes OUT of the bank/card account (it is the ``from`` side).
WITHDRAWAL_TYPES = (
    "expense",
    "owner_drawings",
    "sales_return",
    "vendor_payment",
    "creditnote_refund",
    "payment_refund",
)
# Money moves between two accounts the client names.
TRANSFER_TYPES = ("transfer_fund", "card_payment")
TRANSACTION_TYPES = DEPOSIT_TYPES + WITHDRAWAL_TYPES + TRANSFER_TYPES

# Offset account used when the client names only the bank side (UNCONFIRMED defaults).
_DEFAULT_OFFSET = {
    "deposit": "Undeposited Funds",
    "sales_without_invoices": "Sales",
    "owner_contribution": "Owner's Equity",
    "interest_income": "Interest Income",
    "other_income": "General Income",
    "expense_refund": "Office Supplies",
    "owner_drawings": "Drawings",
    "sales_return": "Sales",
    "expense": "Office Supplies",
}

_BANK_WRITABLE = (
    "account_number",
    "bank_name",
    "routing_number",
    "paypal_type",
    "paypal_email_address",
)

_BANK_FIELDS = (
    "account_id",
    "account_name",
    "account_code",
    "currency_id",
    "currency_code",
    "currency_symbol",
    "price_precision",
    "account_type",
    "account_number",
    "description",
    "uncategorized_transactions",
    "total_unprinted_checks",
    "is_active",
    "is_feeds_subscribed",
    "is_feeds_active",
    "balance",
    "bank_balance",
    "bcy_balance",
    "bank_name",
    "routing_number",
    "is_primary_account",
    "is_paypal_account",
    "paypal_type",
    "paypal_email_address",
    "refresh_status_code",
    "feeds_last_refresh_date",
    "service_id",
    "is_system_account",
    "is_show_warning_for_feeds_refresh",
    "created_time",
    "last_modified_time",
)


# Bank accounts ------------------------------------------------------------------------


def get_bank_account(ledger: Ledger, account_id: str) -> dict[str, Any]:
    """A bank or credit-card account; any other account id is unknown here (404)."""
    record = coa.get_account(ledger, account_id)
    if record.get("account_type") not in coa.BANK_TYPES:
        raise not_found("Account")
    return record


def _bank_fields(body: Mapping[str, Any], record: dict[str, Any]) -> None:
    for key in _BANK_WRITABLE:
        if key in body:
            record[key] = "" if body[key] is None else str(body[key]).strip()
    for key in ("is_primary_account", "is_paypal_account"):
        if key in body:
            record[key] = bool(body[key])
    if record.get("is_paypal_account") and not record.get("paypal_email_address"):
        raise invalid_value("paypal_email_address")


def _only_primary(ledger: Ledger, account_id: str) -> None:
    """At most one primary bank account per organization."""
    for other in ledger.store.find(coa.MODULE, [Filter("is_primary_account", "eq", True)]):
        if str(other["account_id"]) != account_id:
            other["is_primary_account"] = False
            ledger.store.update(coa.MODULE, str(other["account_id"]), other, ledger.now())


def create_bank_account(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    if body.get("account_type") not in coa.BANK_TYPES:
        raise invalid_value("account_type")
    extra = coa.bank_defaults(ledger)
    _bank_fields(body, extra)
    with ledger.db.transaction():
        record = coa.create_account(ledger, body, extra=extra)
        if record.get("is_primary_account"):
            _only_primary(ledger, str(record["account_id"]))
    return record


def update_bank_account(ledger: Ledger, account_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    record = get_bank_account(ledger, account_id)
    if "account_type" in body and body["account_type"] not in coa.BANK_TYPES:
        raise invalid_value("account_type")
    with ledger.db.transaction():
        record = coa.update_account(ledger, account_id, body)
        _bank_fields(body, record)
        ledger.store.update(coa.MODULE, account_id, record, ledger.now())
        if record.get("is_primary_account"):
            _only_primary(ledger, account_id)
    return record


def delete_bank_account(ledger: Ledger, account_id: str) -> None:
    get_bank_account(ledger, account_id)
    if ledger.store.count(TXN_MODULE, [Filter("$.account_ids", "contains", account_id)]):
        raise rule_violation(
            "The account cannot be deleted as it is associated with one or more transactions."
        )
    coa.delete_account(ledger, account_id)


def set_bank_account_active(ledger: Ledger, account_id: str, active: bool) -> None:
    get_bank_account(ledger, account_id)
    coa.set_account_active(ledger, account_id, active)


def _effect(txn: Mapping[str, Any], account_id: str) -> Decimal:
    amount = to_decimal(txn.get("amount"), "amount")
    if str(txn.get("to_account_id", "")) == account_id:
        return amount
    if str(txn.get("from_account_id", "")) == account_id:
        return -amount
    return Decimal(0)


def present_bank_account(ledger: Ledger, record: Mapping[str, Any]) -> dict[str, Any]:
    """The bankaccount object with its derived balances and feed counters."""
    account_id = str(record["account_id"])
    balance = coa.account_balance(ledger, account_id)
    pending = ledger.store.find(
        TXN_MODULE,
        [Filter("account_id", "eq", account_id), Filter("status", "eq", "uncategorized")],
    )
    feed = sum((_effect(t, account_id) for t in pending), Decimal(0))
    if record.get("account_type") == "credit_card":
        feed = -feed  # a card's balance is what is owed
    shaped = {key: record.get(key, "") for key in _BANK_FIELDS}
    shaped["balance"] = ledger.money(balance)
    shaped["bcy_balance"] = ledger.money(balance)
    shaped["bank_balance"] = ledger.money(balance + feed)
    shaped["uncategorized_transactions"] = len(pending)
    shaped["total_unprinted_checks"] = 0
    return shaped


def _bank_filter(extra: list[Filter]) -> Any:
    return lambda ledger: [Filter("account_type", "in", list(coa.BANK_TYPES)), *extra]


BANK_LIST = ListSpec(
    module=coa.MODULE,
    list_key="bankaccounts",
    report_name="Bank Accounts",
    sort_columns=frozenset({"account_name", "account_type", "account_code", "created_time"}),
    default_sort="account_name",
    # Every filter_by value (Status.All included) restricts the chart to bank accounts.
    filter_by={
        "Status.All": _bank_filter([]),
        "Status.Active": _bank_filter([Filter("is_active", "eq", True)]),
        "Status.Inactive": _bank_filter([Filter("is_active", "eq", False)]),
    },
    default_filter="Status.All",
    search_fields=("account_name", "bank_name", "account_number"),
    text_fields=("account_name",),
    date_fields=(),
    present=present_bank_account,
)


# Bank transactions --------------------------------------------------------------------


def get_transaction(ledger: Ledger, transaction_id: str) -> dict[str, Any]:
    record = ledger.store.get(TXN_MODULE, str(transaction_id))
    if record is None:
        raise not_found("Transaction")
    return record


def _blank_transaction(ledger: Ledger) -> dict[str, Any]:
    currency = ensure_base_currency(ledger)
    return {
        "transaction_id": "",
        "from_account_id": "",
        "from_account_name": "",
        "to_account_id": "",
        "to_account_name": "",
        "account_id": "",
        "account_name": "",
        "account_type": "",
        "transaction_type": "",
        "status": "manually_added",
        "source": "manual",
        "currency_id": str(currency.get("currency_id", "")),
        "currency_code": str(currency.get("currency_code", "")),
        "currency_symbol": str(currency.get("currency_symbol", "")),
        "price_precision": ledger.precision,
        "payment_mode": "",
        "exchange_rate": 1,
        "date": ledger.today(),
        "customer_id": "",
        "customer_name": "",
        "vendor_id": "",
        "vendor_name": "",
        "payee": "",
        "reference_number": "",
        "description": "",
        "bank_charges": 0.0,
        "tax_id": "",
        "tax_name": "",
        "tax_percentage": 0.0,
        "tax_amount": 0.0,
        "is_inclusive_tax": True,
        "sub_total": 0.0,
        "total": 0.0,
        "bcy_total": 0.0,
        "amount": 0.0,
        "debit_or_credit": "debit",
        "tax_authority_id": "",
        "tax_authority_name": "",
        "tax_exemption_id": "",
        "tax_exemption_code": "",
        "vat_treatment": "",
        "tax_treatment": "",
        "product_type": "",
        "acquisition_vat_id": "",
        "acquisition_vat_name": "",
        "acquisition_vat_percentage": "",
        "acquisition_vat_amount": "",
        "reverse_charge_vat_id": "",
        "reverse_charge_vat_name": "",
        "reverse_charge_vat_percentage": "",
        "reverse_charge_vat_amount": "",
        "reverse_charge_tax_id": "",
        "filed_in_vat_return_id": "",
        "filed_in_vat_return_name": "",
        "filed_in_vat_return_type": "",
        "imported_transaction_id": "",
        "statement_id": "",
        "imported_transactions": [],
        "is_paid_via_print_check": False,
        "is_offsetaccount_matched": False,
        "is_rule_exist": False,
        "rule_details": [],
        "documents": [],
        "tags": [],
        "custom_fields": [],
        "line_items": [],
        "account_ids": [],
    }


_TEXT = ("reference_number", "description", "payment_mode", "payee")


def _apply(ledger: Ledger, txn: dict[str, Any], body: Mapping[str, Any]) -> None:
    """Validate ``body`` over ``txn`` and recompute every derived field."""
    for key in _TEXT:
        if key in body:
            txn[key] = "" if body[key] is None else str(body[key])
    new_kind = str(body.get("transaction_type") or txn["transaction_type"])
    if (
        txn["transaction_type"]
        and _family(new_kind) != _family(txn["transaction_type"])
        and "from_account_id" not in body
        and "to_account_id" not in body
    ):
        # The bank account stays; the offset side is re-derived for the new family.
        txn["from_account_id"] = txn["to_account_id"] = ""
    for key in (
        "from_account_id",
        "to_account_id",
        "customer_id",
        "vendor_id",
        "tax_id",
        "transaction_type",
        "date",
    ):
        if key in body:
            txn[key] = "" if body[key] is None else str(body[key]).strip()
    if body.get("account_id"):
        txn["account_id"] = str(body["account_id"])  # convenience alias for the bank side
    for key in ("tags", "custom_fields", "documents"):
        if key in body:
            if not isinstance(body[key], list):
                raise invalid_value(key)
            txn[key] = body[key]
    if "is_inclusive_tax" in body:
        txn["is_inclusive_tax"] = bool(body["is_inclusive_tax"])
    if "bank_charges" in body:
        charges = to_decimal(body["bank_charges"], "bank_charges")
        if charges < 0:
            raise invalid_value("bank_charges")  # UNCONFIRMED code, as for other amounts
        txn["bank_charges"] = ledger.money(charges)
    if "amount" in body:
        txn["amount"] = ledger.money(to_decimal(body["amount"], "amount"))
    kind = txn["transaction_type"]
    if kind not in TRANSACTION_TYPES:
        raise invalid_value("transaction_type")
    if to_decimal(txn["amount"], "amount") <= 0:
        raise invalid_value("amount")
    _date(txn["date"])
    _resolve_sides(ledger, txn)
    _contacts(ledger, txn)
    _tax(ledger, txn)


def _family(kind: str) -> str:
    if kind in DEPOSIT_TYPES:
        return "in"
    return "out" if kind in WITHDRAWAL_TYPES else "transfer"


def _date(value: str) -> None:
    from datetime import date

    try:
        date.fromisoformat(value)
    except ValueError:
        raise invalid_value("date") from None


def _resolve_sides(ledger: Ledger, txn: dict[str, Any]) -> None:
    kind = txn["transaction_type"]
    bank_side = "to_account_id" if kind in DEPOSIT_TYPES else "from_account_id"
    other_side = "from_account_id" if bank_side == "to_account_id" else "to_account_id"
    if kind not in TRANSFER_TYPES and not txn[bank_side] and txn.get("account_id"):
        txn[bank_side] = txn["account_id"]
    if not txn[bank_side]:
        raise invalid_value(bank_side)
    bank = coa.require_account(ledger, txn[bank_side], bank_side)
    if bank.get("account_type") not in coa.BANK_TYPES and kind not in TRANSFER_TYPES:
        raise invalid_value(bank_side)
    if kind in TRANSFER_TYPES:
        if not txn[other_side]:
            raise invalid_value(other_side)
        if txn[other_side] == txn[bank_side]:
            raise rule_violation("The from and to accounts of a transfer must be different.")
    elif not txn[other_side] and kind in _DEFAULT_OFFSET:
        txn[other_side] = coa.default_account_id(ledger, _DEFAULT_OFFSET[kind])
    other = coa.require_account(ledger, txn[other_side], other_side) if txn[other_side] else None
    txn["account_id"] = str(bank["account_id"])
    txn["account_name"] = str(bank["account_name"])
    txn["account_type"] = str(bank["account_type"])
    txn["debit_or_credit"] = "debit" if bank_side == "to_account_id" else "credit"
    txn[bank_side.replace("_id", "_name")] = str(bank["account_name"])
    txn[other_side.replace("_id", "_name")] = "" if other is None else str(other["account_name"])
    txn["offset_account_name"] = "" if other is None else str(other["account_name"])
    txn["account_ids"] = [a for a in (txn["from_account_id"], txn["to_account_id"]) if a]


def _contacts(ledger: Ledger, txn: dict[str, Any]) -> None:
    for role in ("customer", "vendor"):
        contact_id = txn.get(f"{role}_id", "")
        txn[f"{role}_name"] = (
            str(get_contact(ledger, contact_id).get("contact_name", "")) if contact_id else ""
        )
    if not txn.get("payee"):
        txn["payee"] = txn["customer_name"] or txn["vendor_name"]


def _tax(ledger: Ledger, txn: dict[str, Any]) -> None:
    """Tax on a bank transaction is carved out of the amount moved (UNCONFIRMED: we treat
    ``amount`` as what the bank saw, so tax never changes the balance)."""
    amount = to_decimal(txn["amount"], "amount")
    tax_amount = Decimal(0)
    txn["tax_name"], txn["tax_percentage"] = "", 0.0
    if txn.get("tax_id"):
        rate = tax_rates(ledger).get(txn["tax_id"])
        if rate is None:
            raise invalid_value("tax_id")
        percent = (
            sum((m.percentage for m in rate.members), Decimal(0))
            if rate.members
            else rate.percentage
        )
        tax_amount = amount - amount / (1 + percent / 100)
        txn["tax_name"], txn["tax_percentage"] = rate.tax_name, float(percent)
    txn["tax_amount"] = ledger.money(tax_amount)
    txn["sub_total"] = ledger.money(amount - Decimal(str(txn["tax_amount"])))
    txn["total"] = txn["bcy_total"] = ledger.money(amount)


def create_transaction(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    txn = _blank_transaction(ledger)
    _apply(ledger, txn, body)
    txn["transaction_id"] = ledger.store.new_id()
    with ledger.db.transaction():
        ledger.store.insert(TXN_MODULE, txn["transaction_id"], txn, ledger.now())
        _mark_used(ledger, txn)
    return txn


def _mark_used(ledger: Ledger, txn: Mapping[str, Any]) -> None:
    for account_id in txn.get("account_ids") or []:
        coa.mark_account_used(ledger, str(account_id))


def update_transaction(
    ledger: Ledger, transaction_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    txn = get_transaction(ledger, transaction_id)
    if txn["status"] in ("uncategorized", "excluded") or txn.get("_links"):
        # UNCONFIRMED: feed lines are categorized, not edited.
        raise rule_violation("Uncategorized or excluded transactions cannot be edited.")
    ensure_unreconciled(ledger, txn)
    _apply(ledger, txn, body)
    with ledger.db.transaction():
        ledger.store.update(TXN_MODULE, transaction_id, txn, ledger.now())
        _mark_used(ledger, txn)
    return txn


def delete_transaction(ledger: Ledger, transaction_id: str) -> None:
    """Delete; a linked feed line releases what it matched or created, and a matched
    book transaction sends its statement line back to the feed first."""
    txn = get_transaction(ledger, transaction_id)
    ensure_unreconciled(ledger, txn)
    with ledger.db.transaction():
        if txn.get("_links"):
            _release(ledger, txn)
        elif txn["status"] == "matched":
            line = _feed_line_of(ledger, transaction_id)
            if line is not None:
                _back_to_feed(ledger, line)
        ledger.store.delete(TXN_MODULE, transaction_id)


def _feed_line(ledger: Ledger, transaction_id: str) -> dict[str, Any]:
    return get_transaction(ledger, transaction_id)


def categorize(ledger: Ledger, transaction_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a feed line into a categorized transaction with the client's type/offset."""
    txn = _feed_line(ledger, transaction_id)
    if txn["status"] != "uncategorized":
        raise rule_violation("Only uncategorized transactions can be categorized.")
    if not body.get("transaction_type"):
        raise invalid_value("transaction_type")
    bank = str(txn["account_id"])
    merged = dict(body)
    merged.setdefault("amount", txn["amount"])
    merged.setdefault("date", txn["date"])
    kind = str(body["transaction_type"])
    # The feed line's bank account stays the bank side of the categorized transaction.
    if kind in DEPOSIT_TYPES:
        merged["to_account_id"] = bank
        if txn["debit_or_credit"] != "debit":
            raise invalid_value("transaction_type")
    elif kind in WITHDRAWAL_TYPES:
        merged["from_account_id"] = bank
        if txn["debit_or_credit"] != "credit":
            raise invalid_value("transaction_type")
    txn["from_account_id"] = txn["to_account_id"] = ""
    _apply(ledger, txn, merged)
    txn["status"] = "categorized"
    with ledger.db.transaction():
        ledger.store.update(TXN_MODULE, transaction_id, txn, ledger.now())
        _mark_used(ledger, txn)
    return txn


def _set_status(
    ledger: Ledger, transaction_id: str, allowed: tuple[str, ...], status: str, message: str
) -> dict[str, Any]:
    txn = _feed_line(ledger, transaction_id)
    if txn["status"] not in allowed:
        raise rule_violation(message)
    txn["status"] = status
    ledger.store.update(TXN_MODULE, transaction_id, txn, ledger.now())
    return txn


def exclude(ledger: Ledger, transaction_id: str) -> dict[str, Any]:
    return _set_status(
        ledger,
        transaction_id,
        ("uncategorized",),
        "excluded",
        "Only uncategorized transactions can be excluded.",
    )


def restore(ledger: Ledger, transaction_id: str) -> dict[str, Any]:
    return _set_status(
        ledger,
        transaction_id,
        ("excluded",),
        "uncategorized",
        "Only excluded transactions can be restored.",
    )


def uncategorize(ledger: Ledger, transaction_id: str) -> dict[str, Any]:
    """Send an imported, categorized line back to the feed (manual ones have no feed).

    A line categorized as a payment or expense takes that document with it (UNCONFIRMED:
    Zoho deletes the categorized transaction); a matched line is unmatched."""
    txn = _feed_line(ledger, transaction_id)
    from_feed = txn.get("statement_id") or txn.get("source") == "statement"
    if txn["status"] not in ("categorized", "matched") or not from_feed:
        raise rule_violation("Only categorized statement transactions can be uncategorized.")
    ensure_unreconciled(ledger, txn)
    with ledger.db.transaction():
        return _back_to_feed(ledger, txn)


# Matching and categorizing as documents ----------------------------------------------
#
# A feed line that is matched, or categorized as a payment/expense, is only the bank's
# view of a transaction the books already hold: its account sides are stashed and blanked
# so it never posts next to the book transaction (double counting), and ``_links`` names
# the book records it stands for. Releasing the link restores the sides.

RECONCILIATION_MODULE = "bankreconciliations"
MATCH_WINDOW_DAYS = 30  # UNCONFIRMED: how far apart "near" dates may be for a candidate
_SIDE_KEYS = ("from_account_id", "from_account_name", "to_account_id", "to_account_name")


@dataclass(frozen=True)
class BookEntry:
    """A transaction in the books that moved money through one bank account."""

    module: str
    record_id: str
    transaction_type: str
    date: str
    amount: Decimal
    debit_or_credit: str
    reference_number: str
    number: str
    contact_name: str


def _entry(
    module: str, record: Mapping[str, Any], kind: str, direction: str, **fields: Any
) -> BookEntry:
    return BookEntry(
        module=module,
        record_id=str(fields.get("record_id") or record.get("payment_id", "")),
        transaction_type=kind,
        date=str(record.get("date", "")),
        amount=to_decimal(record.get(fields.get("amount_field", "amount")) or 0, "amount"),
        debit_or_credit=direction,
        reference_number=str(record.get("reference_number", "")),
        number=str(fields.get("number", record.get("payment_number", ""))),
        contact_name=str(fields.get("contact", "")),
    )


def book_entries(ledger: Ledger, account_id: str) -> list[BookEntry]:
    """Unlinked book transactions of a bank account: manually added bank transactions,
    customer payments deposited to it, vendor payments and expenses paid from it."""
    store = ledger.store
    entries = [
        _entry(
            TXN_MODULE,
            txn,
            str(txn.get("transaction_type", "")),
            "debit" if str(txn.get("to_account_id")) == account_id else "credit",
            record_id=txn["transaction_id"],
            number="",
            contact=txn.get("payee") or txn.get("customer_name") or txn.get("vendor_name"),
        )
        for txn in store.find(
            TXN_MODULE,
            [
                Filter("$.account_ids", "contains", account_id),
                Filter("status", "eq", "manually_added"),
            ],
        )
    ]
    for payment in store.find(cp.MODULE, [Filter("account_id", "eq", account_id)]):
        entries.append(
            _entry(
                cp.MODULE,
                payment,
                "customer_payment",
                "debit",
                contact=payment.get("customer_name"),
            )
        )
    for payment in store.find(vp.MODULE, [Filter("paid_through_account_id", "eq", account_id)]):
        entries.append(
            _entry(
                vp.MODULE, payment, "vendor_payment", "credit", contact=payment.get("vendor_name")
            )
        )
    for expense in store.find(ex.MODULE, [Filter("paid_through_account_id", "eq", account_id)]):
        entries.append(
            _entry(
                ex.MODULE,
                expense,
                "expense",
                "credit",
                record_id=expense["expense_id"],
                amount_field="total",
                number="",
                contact=expense.get("vendor_name"),
            )
        )
    linked = {
        str(link)
        for line in store.find(
            TXN_MODULE,
            [
                Filter("account_id", "eq", account_id),
                Filter("status", "in", ["matched", "categorized"]),
            ],
        )
        for link in line.get("_links") or []
    }
    return [e for e in entries if e.record_id not in linked]


def _uncategorized_line(ledger: Ledger, transaction_id: str) -> dict[str, Any]:
    line = get_transaction(ledger, transaction_id)
    if line["status"] != "uncategorized":
        raise rule_violation("Only uncategorized transactions can be matched or categorized.")
    return line


def _days_apart(first: str, second: str) -> int:
    try:
        return abs((date.fromisoformat(first) - date.fromisoformat(second)).days)
    except ValueError:
        return 10**6


_EXPLICIT_CRITERIA = (
    "date_after",
    "date_before",
    "amount_start",
    "amount_end",
    "contact",
    "reference_number",
    "transaction_type",
)


def _criteria_keep(entry: BookEntry, query: Mapping[str, str]) -> bool:
    """The client's search criteria (given ones only; bounds are inclusive)."""
    checks: list[tuple[str, Callable[[str], bool]]] = [
        ("date_after", lambda v: entry.date >= v),
        ("date_before", lambda v: entry.date <= v),
        ("amount_start", lambda v: entry.amount >= to_decimal(v, "amount_start")),
        ("amount_end", lambda v: entry.amount <= to_decimal(v, "amount_end")),
        ("contact", lambda v: v.lower() in entry.contact_name.lower()),
        ("reference_number", lambda v: v.lower() in entry.reference_number.lower()),
        ("transaction_type", lambda v: entry.transaction_type == v),
    ]
    for name, keep in checks:
        value = str(query.get(name) or "").strip()
        if name.startswith("date_") and value:
            _date(value)
        if value and not keep(value):
            return False
    return True


def _page_params(query: Mapping[str, str]) -> tuple[int, int]:
    try:
        page = int(query.get("page") or 1)
        per_page = int(query.get("per_page") or 10)  # the OAS default for this list
    except ValueError:
        raise invalid_value("page") from None
    if page < 1 or per_page < 1:
        raise invalid_value("page" if page < 1 else "per_page")
    return page, min(per_page, 200)


def matching_candidates(
    ledger: Ledger, transaction_id: str, query: Mapping[str, str], show_all: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``GET .../uncategorized/{id}/match``: same account, same direction; by default the
    same amount within ``MATCH_WINDOW_DAYS``. Explicit criteria or ``show_all`` widen the
    search. The nearest equal-amount candidate is flagged ``is_best_match``."""
    line = _uncategorized_line(ledger, transaction_id)
    amount = to_decimal(line["amount"], "amount")
    same_way = [
        e
        for e in book_entries(ledger, str(line["account_id"]))
        if e.debit_or_credit == line["debit_or_credit"]
    ]
    if show_all or any(query.get(name) for name in _EXPLICIT_CRITERIA):
        found = [e for e in same_way if _criteria_keep(e, query)]
    else:
        found = [
            e
            for e in same_way
            if e.amount == amount and _days_apart(e.date, line["date"]) <= MATCH_WINDOW_DAYS
        ]
    found.sort(key=lambda e: (e.amount != amount, _days_apart(e.date, line["date"]), e.date))
    best = (
        found[0].record_id
        if found
        and found[0].amount == amount
        and _days_apart(found[0].date, line["date"]) <= MATCH_WINDOW_DAYS
        else ""
    )
    page, per_page = _page_params(query)
    window = found[(page - 1) * per_page : page * per_page]
    rows = [
        {
            "transaction_id": e.record_id,
            "date": e.date,
            "transaction_type": e.transaction_type,
            "reference_number": e.reference_number,
            "amount": ledger.money(e.amount),
            "debit_or_credit": e.debit_or_credit,
            "transaction_number": e.number,
            "is_paid_via_print_check": False,
            "contact_name": e.contact_name,
            "is_best_match": e.record_id == best,
        }
        for e in window
    ]
    context = {"page": page, "per_page": per_page, "has_more_page": len(found) > page * per_page}
    return rows, context


def _detach_sides(line: dict[str, Any]) -> None:
    line["_sides"] = {key: line.get(key, "") for key in _SIDE_KEYS}
    for key in _SIDE_KEYS:
        line[key] = ""


def match(
    ledger: Ledger, transaction_id: str, body: Mapping[str, Any], account_id: str = ""
) -> dict[str, Any]:
    """``POST .../match``: the named book transactions must be unlinked candidates of the
    line's account and direction and add up to the line's amount exactly."""
    line = _uncategorized_line(ledger, transaction_id)
    if account_id and account_id != str(line["account_id"]):
        raise invalid_value("account_id")
    raw = body.get("transactions_to_be_matched")
    if not isinstance(raw, list) or not raw:
        raise invalid_value("transactions_to_be_matched")
    available = {
        e.record_id: e
        for e in book_entries(ledger, str(line["account_id"]))
        if e.debit_or_credit == line["debit_or_credit"]
    }
    chosen: dict[str, BookEntry] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise invalid_value("transactions_to_be_matched")
        entry = available.get(str(item.get("transaction_id") or ""))
        if entry is None or entry.record_id in chosen:
            raise invalid_value("transaction_id")
        if item.get("transaction_type") and item["transaction_type"] != entry.transaction_type:
            raise invalid_value("transaction_type")
        chosen[entry.record_id] = entry
    if sum((e.amount for e in chosen.values()), Decimal(0)) != to_decimal(line["amount"], "amount"):
        # Wording UNCONFIRMED.
        raise rule_violation(
            "The total amount of the selected transactions must be equal to the amount "
            "of the statement transaction."
        )
    with ledger.db.transaction():
        now = ledger.now()
        for entry in chosen.values():
            if entry.module == TXN_MODULE:
                book = get_transaction(ledger, entry.record_id)
                book["_prior_status"] = book["status"]
                book["status"] = "matched"
                book["imported_transactions"] = [_imported_view(line)]
                ledger.store.update(TXN_MODULE, entry.record_id, book, now)
        _detach_sides(line)
        line["status"] = "matched"
        line["_links"] = list(chosen)
        line["_linked"] = [{"module": e.module, "id": e.record_id} for e in chosen.values()]
        ledger.store.update(TXN_MODULE, transaction_id, line, now)
    return line


def _imported_view(line: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "imported_transaction_id": line["transaction_id"],
        "date": line["date"],
        "amount": line["amount"],
        "payee": line.get("payee", ""),
        "description": line.get("description", ""),
        "reference_number": line.get("reference_number", ""),
        "status": "matched",
        "account_id": line["account_id"],
    }


def _feed_line_of(ledger: Ledger, transaction_id: str) -> dict[str, Any] | None:
    """The feed line linked to a book record, if any."""
    lines = ledger.store.find(TXN_MODULE, [Filter("$._links", "contains", transaction_id)])
    return next((x for x in lines if transaction_id in (x.get("_links") or [])), None)


def unmatch(ledger: Ledger, transaction_id: str, account_id: str = "") -> dict[str, Any]:
    """``POST /banktransactions/{id}/unmatch`` with the statement line's id (or the id of
    the book transaction it was matched with): the line goes back to uncategorized."""
    txn = get_transaction(ledger, transaction_id)
    line = txn if txn.get("_links") else _feed_line_of(ledger, transaction_id)
    if line is None or line["status"] != "matched":
        raise rule_violation("Only matched transactions can be unmatched.")
    if account_id and account_id != str(line["account_id"]):
        raise invalid_value("account_id")
    ensure_unreconciled(ledger, line)
    with ledger.db.transaction():
        return _back_to_feed(ledger, line)


_DELETERS: dict[str, Any] = {
    cp.MODULE: cp.delete_payment,
    vp.MODULE: vp.delete_payment,
    ex.MODULE: ex.delete_expense,
}


def _release(ledger: Ledger, line: dict[str, Any]) -> None:
    """Undo what linked ``line`` to the books (caller holds the transaction)."""
    now = ledger.now()
    for link in line.get("_linked") or []:
        module, record_id = str(link["module"]), str(link["id"])
        if link.get("created"):
            if ledger.store.get(module, record_id) is not None:
                _DELETERS[module](ledger, record_id)
        elif module == TXN_MODULE:
            book = ledger.store.get(TXN_MODULE, record_id)
            if book is not None:
                book["status"] = book.pop("_prior_status", "manually_added")
                book["imported_transactions"] = []
                ledger.store.update(TXN_MODULE, record_id, book, now)
    line.update(line.pop("_sides", {}) or {})
    for key, value in (line.pop("_feed", {}) or {}).items():
        line[key] = value
    for key in ("_links", "_linked"):
        line.pop(key, None)
    line.pop("categorized_transaction_id", None)


def _back_to_feed(ledger: Ledger, line: dict[str, Any]) -> dict[str, Any]:
    if line.get("_links"):
        _release(ledger, line)
    line["status"] = "uncategorized"
    ledger.store.update(TXN_MODULE, str(line["transaction_id"]), line, ledger.now())
    return line


# module -> (direction the line must have, transaction type, create fn, bank field, id key)
_DOCUMENTS: dict[str, tuple[str, str, Any, str, str]] = {
    cp.MODULE: ("debit", "customer_payment", cp.create_payment, "account_id", "payment_id"),
    vp.MODULE: (
        "credit",
        "vendor_payment",
        vp.create_payment,
        "paid_through_account_id",
        "payment_id",
    ),
    ex.MODULE: ("credit", "expense", ex.create_expense, "paid_through_account_id", "expense_id"),
}
_DIRECTION_WORD = {"debit": "deposit", "credit": "withdrawal"}


def categorize_as(
    ledger: Ledger, transaction_id: str, module: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """``POST .../categorize/{customerpayments|vendorpayments|expenses}``: create the
    document through its own module with the line's amount, date and bank account, and
    link the line to it. Nothing is written when any rule fails."""
    direction, kind, create, bank_field, id_key = _DOCUMENTS[module]
    line = _uncategorized_line(ledger, transaction_id)
    if line["debit_or_credit"] != direction:
        raise rule_violation(
            f"A {_DIRECTION_WORD[line['debit_or_credit']]} cannot be categorized as "
            f"{kind.replace('_', ' ')}."
        )
    bank = str(line["account_id"])
    amount = to_decimal(line["amount"], "amount")
    if body.get("amount") not in (None, "") and to_decimal(body["amount"], "amount") != amount:
        raise invalid_value("amount")
    if body.get(bank_field) and str(body[bank_field]) != bank:
        raise invalid_value(bank_field)
    payload = {**body, "amount": ledger.money(amount), bank_field: bank}
    payload["date"] = body.get("date") or line["date"]
    payload["reference_number"] = body.get("reference_number") or line["reference_number"]
    if module != ex.MODULE:
        payload["payment_mode"] = body.get("payment_mode") or "banktransfer"
    elif body.get("tax_id") and "is_inclusive_tax" not in body:
        payload["is_inclusive_tax"] = True  # the bank amount already includes the tax
    with ledger.db.transaction():
        record = create(ledger, payload)
        if module == ex.MODULE and to_decimal(record.get("total"), "amount") != amount:
            raise invalid_value("amount")  # rolls the expense back
        doc_id = str(record[id_key])
        _detach_sides(line)
        line["_feed"] = {
            key: line.get(key, "")
            for key in (
                "transaction_type",
                "customer_id",
                "customer_name",
                "vendor_id",
                "vendor_name",
            )
        }
        line.update(
            status="categorized",
            transaction_type=kind,
            categorized_transaction_id=doc_id,
            customer_id=str(record.get("customer_id", "")),
            customer_name=str(record.get("customer_name", "")),
            vendor_id=str(record.get("vendor_id", "")),
            vendor_name=str(record.get("vendor_name", "")),
            _links=[doc_id],
            _linked=[{"module": module, "id": doc_id, "created": True}],
        )
        ledger.store.update(TXN_MODULE, transaction_id, line, ledger.now())
    return line


def ensure_unreconciled(ledger: Ledger, txn: Mapping[str, Any]) -> None:
    """A transaction (or the book records a feed line stands for) inside a completed
    reconciliation is locked until that reconciliation is undone."""
    for record_id in (str(txn.get("transaction_id", "")), *map(str, txn.get("_links") or [])):
        if record_id and is_reconciled(ledger, record_id):
            raise rule_violation(
                "The transaction has been reconciled. Undo the reconciliation to change it."
            )


def is_reconciled(ledger: Ledger, record_id: str) -> bool:
    return bool(
        ledger.store.count(
            RECONCILIATION_MODULE,
            [
                Filter("status", "eq", "reconciled"),
                Filter("$._transaction_ids", "contains", record_id),
            ],
        )
    )


# Statements ---------------------------------------------------------------------------


def import_statement(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /bankstatements``: every line becomes an uncategorized feed transaction."""
    account_id = str(body.get("account_id") or "")
    if not account_id:
        raise invalid_value("account_id")
    try:
        bank = get_bank_account(ledger, account_id)
    except ApiError:
        raise invalid_value("account_id") from None
    lines = body.get("transactions")
    if not isinstance(lines, list) or not lines:
        raise invalid_value("transactions")
    statement_id = ledger.store.new_id()
    now = ledger.now()
    rows: list[tuple[str, dict[str, Any], str]] = []
    for line in lines:
        if not isinstance(line, dict):
            raise invalid_value("transactions")
        direction = str(line.get("debit_or_credit") or "")
        if direction not in ("debit", "credit"):
            raise invalid_value("debit_or_credit")
        amount = to_decimal(line.get("amount"), "amount")
        if amount <= 0:
            raise invalid_value("amount")
        txn = _blank_transaction(ledger)
        txn.update(_feed_fields(ledger, bank, statement_id, direction, amount, line))
        rows.append((txn["transaction_id"], txn, now))
    dates = sorted(str(t["date"]) for _, t, _ in rows)
    statement = {
        "statement_id": statement_id,
        "account_id": account_id,
        "from_date": str(body.get("start_date") or dates[0]),
        "to_date": str(body.get("end_date") or dates[-1]),
        "source": "csv",
        "transaction_ids": [rid for rid, _, _ in rows],
    }
    with ledger.db.transaction():
        ledger.store.insert_many(TXN_MODULE, rows)
        ledger.store.insert(STATEMENT_MODULE, statement_id, statement, now)
    return statement


def _feed_fields(
    ledger: Ledger,
    bank: Mapping[str, Any],
    statement_id: str,
    direction: str,
    amount: Decimal,
    line: Mapping[str, Any],
) -> dict[str, Any]:
    date = str(line.get("date") or "")
    _date(date)
    money_in = direction == "debit"
    bank_id = str(bank["account_id"])
    return {
        "transaction_id": ledger.store.new_id(),
        "imported_transaction_id": str(line.get("transaction_id") or ""),
        "statement_id": statement_id,
        "status": "uncategorized",
        "source": "statement",
        "transaction_type": "deposit" if money_in else "expense",
        "to_account_id": bank_id if money_in else "",
        "from_account_id": "" if money_in else bank_id,
        "to_account_name": str(bank["account_name"]) if money_in else "",
        "from_account_name": "" if money_in else str(bank["account_name"]),
        "account_id": bank_id,
        "account_name": str(bank["account_name"]),
        "account_type": str(bank["account_type"]),
        "account_ids": [bank_id],
        "debit_or_credit": direction,
        "date": date,
        "amount": ledger.money(amount),
        "sub_total": ledger.money(amount),
        "total": ledger.money(amount),
        "bcy_total": ledger.money(amount),
        "payee": str(line.get("payee") or ""),
        "reference_number": str(line.get("reference_number") or ""),
        "description": str(line.get("description") or ""),
    }


def last_statement(ledger: Ledger, account_id: str) -> list[dict[str, Any]]:
    get_bank_account(ledger, account_id)
    page = ledger.store.query(
        STATEMENT_MODULE, [Filter("account_id", "eq", account_id)], per_page=1
    )
    if not page.records:
        return []
    statement = page.records[0]
    lines = []
    for txn_id in statement.get("transaction_ids") or []:
        txn = ledger.store.get(TXN_MODULE, str(txn_id))
        if txn is None:
            continue
        lines.append(
            {
                "transaction_id": txn["transaction_id"],
                "debit_or_credit": txn["debit_or_credit"],
                "date": txn["date"],
                "customer_id": txn.get("customer_id", ""),
                "payee": txn.get("payee", ""),
                "reference_number": txn.get("reference_number", ""),
                "transaction_type": txn["transaction_type"],
                "amount": txn["amount"],
                "status": txn["status"],
            }
        )
    return [
        {
            "statement_id": statement["statement_id"],
            "from_date": statement["from_date"],
            "to_date": statement["to_date"],
            "source": statement["source"],
            "transactions": lines,
        }
    ]


def delete_statement(ledger: Ledger, account_id: str, statement_id: str) -> None:
    """Delete the last imported statement and its still-uncategorized lines."""
    get_bank_account(ledger, account_id)
    statement = ledger.store.get(STATEMENT_MODULE, statement_id)
    if statement is None or str(statement.get("account_id")) != account_id:
        raise not_found("Statement")
    latest = ledger.store.query(
        STATEMENT_MODULE, [Filter("account_id", "eq", account_id)], per_page=1
    ).records
    if latest and str(latest[0]["statement_id"]) != statement_id:
        raise rule_violation("Only the last imported statement can be deleted.")
    with ledger.db.transaction():
        for txn_id in statement.get("transaction_ids") or []:
            txn = ledger.store.get(TXN_MODULE, str(txn_id))
            if txn is not None and txn["status"] in ("uncategorized", "excluded"):
                ledger.store.delete(TXN_MODULE, str(txn_id))
        ledger.store.delete(STATEMENT_MODULE, statement_id)


# Presentation and listing -------------------------------------------------------------

_HIDDEN = ("account_ids",)


def present_transaction(ledger: Ledger, txn: Mapping[str, Any]) -> dict[str, Any]:
    """The stored record minus bookkeeping keys (``account_ids`` and ``_private`` ones)."""
    return {k: v for k, v in txn.items() if k not in _HIDDEN and not k.startswith("_")}


def present_transaction_for(account_id: str) -> Any:
    """List rows seen from ``account_id`` (a transfer is money out of one, into the other)."""

    def present(ledger: Ledger, txn: dict[str, Any]) -> dict[str, Any]:
        shaped = present_transaction(ledger, txn)
        if account_id and account_id in (txn.get("account_ids") or []):
            sides = (str(txn.get("to_account_id") or ""), str(txn.get("from_account_id") or ""))
            # A linked feed line has no sides (it does not post); its direction is stored.
            money_in = sides[0] == account_id or (
                not any(sides) and txn.get("debit_or_credit") == "debit"
            )
            other = txn.get("from_account_name") if money_in else txn.get("to_account_name")
            shaped["debit_or_credit"] = "debit" if money_in else "credit"
            shaped["offset_account_name"] = other or ""
            if account_id != shaped["account_id"]:
                shaped["account_id"] = account_id
                shaped["account_name"] = (
                    txn.get("to_account_name") if money_in else txn.get("from_account_name")
                )
        return shaped

    return present


_CATEGORIZED = ("categorized", "manually_added", "matched")

TXN_FILTERS: dict[str, Any] = {
    "Status.Uncategorized": lambda ledger: [Filter("status", "eq", "uncategorized")],
    "Status.Categorized": lambda ledger: [Filter("status", "in", list(_CATEGORIZED))],
    "Status.ManuallyAdded": lambda ledger: [Filter("status", "eq", "manually_added")],
    "Status.Excluded": lambda ledger: [Filter("status", "eq", "excluded")],
    "Status.Matched": lambda ledger: [Filter("status", "eq", "matched")],
}

TXN_LIST = ListSpec(
    module=TXN_MODULE,
    list_key="banktransactions",
    report_name="Bank Transactions",
    sort_columns=frozenset({"date", "amount", "created_time", "last_modified_time"}),
    default_sort="date",
    filter_by=TXN_FILTERS,
    statuses={"all": lambda ledger: []},
    search_fields=("payee", "description", "reference_number", "customer_name", "vendor_name"),
    text_fields=("reference_number",),
    exact_fields=("transaction_type",),
    date_fields=("date",),
    number_fields=("amount",),
    present=present_transaction,
)


def _also(factory: FilterFactory, extra: list[Filter]) -> FilterFactory:
    return lambda ledger: [*factory(ledger), *extra]


def transaction_list_spec(query: Mapping[str, str]) -> tuple[ListSpec, dict[str, str]]:
    """The list spec for one request: ``account_id`` matches either side of a
    transaction, and Zoho's dotted range names (``date.start``) become ours."""
    params = dict(query)
    renames = {
        "date.start": "date_start",
        "date.end": "date_end",
        "amount.start": "amount_greater_equals",
        "amount.end": "amount_less_equals",
        "transaction_status": "status",
    }
    for old, new in renames.items():
        if params.get(old):
            params.setdefault(new, params[old])
        params.pop(old, None)
    if params.get("status", "").lower() == "all":
        params.pop("status")
    account_id = params.pop("account_id", "")
    if not account_id:
        return TXN_LIST, params
    extra = [Filter("$.account_ids", "contains", account_id)]
    filters: dict[str, FilterFactory] = {"Status.All": lambda ledger: list(extra)}
    for name, factory in TXN_FILTERS.items():
        filters[name] = _also(factory, extra)
    spec = replace(TXN_LIST, filter_by=filters, present=present_transaction_for(account_id))
    return spec, params


# --- seeding -----------------------------------------------------------------------------
_SEED_BANKS = (
    ("Chase Business Checking", "bank", "JPMorgan Chase"),
    ("Wells Fargo Savings", "bank", "Wells Fargo"),
    ("Amex Business Gold", "credit_card", "American Express"),
    ("Bank of America Operating", "bank", "Bank of America"),
    ("Citi Business Card", "credit_card", "Citibank"),
    ("PayPal", "bank", "PayPal"),
)


@seeder("bankaccounts")
def seed_bank_accounts(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` bank and card accounts with realistic names and masked numbers."""
    coa.ensure_default_accounts(ledger)
    store = ledger.store
    taken = {str(r["account_name"]) for r in store.find(coa.MODULE, [])}
    created: list[str] = []
    serial = 0
    with ledger.db.transaction():
        now = ledger.now()
        while len(created) < count:
            name, kind, bank = _SEED_BANKS[serial % len(_SEED_BANKS)]
            cycle = serial // len(_SEED_BANKS)
            serial += 1
            name = name if cycle == 0 else f"{name} {cycle + 1}"
            if name in taken:
                continue
            taken.add(name)
            extra = coa.bank_defaults(ledger)
            extra.update(
                bank_name=bank,
                account_number=f"XXXXXX{rng.randint(1000, 9999)}",
                routing_number=f"0{rng.randint(10000000, 99999999)}" if kind == "bank" else "",
                is_paypal_account=bank == "PayPal",
                paypal_email_address="payments@example.com" if bank == "PayPal" else "",
            )
            record = coa.blank_account(ledger, name, kind)
            record.update(extra)
            store.insert(coa.MODULE, record["account_id"], record, now)
            created.append(str(record["account_id"]))
    return created


_SEED_KINDS = (
    ("deposit", 4),
    ("owner_contribution", 1),
    ("interest_income", 1),
    ("other_income", 1),
    ("owner_drawings", 2),
    ("expense", 3),
    ("transfer_fund", 1),
)
_PAYEES = (
    "Stripe payout",
    "Square deposit",
    "ATM withdrawal",
    "Wire transfer",
    "POS purchase",
    "ACH credit",
    "Utility payment",
    "Card settlement",
)


@seeder(TXN_MODULE)
def seed_bank_transactions(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` bank transactions of the last three months: mostly recorded (manually
    added), about a fifth still uncategorized feed lines, a few excluded."""
    coa.ensure_default_accounts(ledger)
    store = ledger.store
    banks = store.find(
        coa.MODULE,
        [Filter("account_type", "in", list(coa.BANK_TYPES)), Filter("is_active", "eq", True)],
    )
    names = {str(r["account_id"]): r for r in store.find(coa.MODULE, [])}
    by_name = {str(r["account_name"]): r for r in names.values()}
    kinds = [
        kind
        for kind, weight in _SEED_KINDS
        for _ in range(weight)
        if kind != "transfer_fund" or len(banks) > 1
    ]
    offset = ledger.clock.now().strftime("%z")
    # Bank accounts nobody has paid into yet first get an opening owner contribution, so
    # the demo's balances look like a business rather than an overdraft.
    unfunded = [
        b
        for b in banks
        if b["account_type"] == "bank"
        and not store.count(TXN_MODULE, [Filter("to_account_id", "eq", b["account_id"])])
    ]
    created: list[str] = []
    for chunk in _chunks(count):
        with ledger.db.transaction():
            now = ledger.now()
            rows: list[tuple[str, dict[str, Any], str]] = []
            for _ in chunk:
                opening = unfunded.pop(0) if unfunded else None
                bank = opening or rng.choice(banks)
                kind = "owner_contribution" if opening else rng.choice(kinds)
                txn = _blank_transaction(ledger)
                day = (
                    date.fromisoformat(ledger.today())
                    - timedelta(days=120 if opening else rng.randint(0, 90))
                ).isoformat()
                amount = Decimal(
                    rng.choice((15000, 25000, 40000))
                    if opening
                    else rng.choice((25, 60, 140, 320, 875, 1500, 2400))
                )
                txn.update(
                    transaction_id=store.new_id(),
                    transaction_type=kind,
                    date=day,
                    amount=ledger.money(amount),
                    total=ledger.money(amount),
                    bcy_total=ledger.money(amount),
                    sub_total=ledger.money(amount),
                    payee=rng.choice(_PAYEES),
                    reference_number=f"TRX{rng.randint(100000, 999999)}",
                    created_time=f"{day}T{rng.randint(8, 18):02d}:00:00{offset}",
                )
                if kind == "transfer_fund":
                    other = rng.choice([b for b in banks if b["account_id"] != bank["account_id"]])
                elif kind in _DEFAULT_OFFSET:
                    other = by_name.get(_DEFAULT_OFFSET[kind], bank)
                else:
                    other = bank
                money_in = kind in DEPOSIT_TYPES
                source, target = (other, bank) if money_in else (bank, other)
                txn.update(
                    from_account_id=str(source["account_id"]),
                    from_account_name=source["account_name"],
                    to_account_id=str(target["account_id"]),
                    to_account_name=target["account_name"],
                    account_id=str(bank["account_id"]),
                    account_name=bank["account_name"],
                    account_type=bank["account_type"],
                    debit_or_credit="debit" if money_in else "credit",
                    offset_account_name=other["account_name"],
                )
                roll = 1.0 if opening else rng.random()
                if roll < 0.2 and kind != "transfer_fund":
                    # A feed line nobody has categorized yet: only the bank side is known.
                    side = "from_account" if money_in else "to_account"
                    txn.update(
                        {
                            f"{side}_id": "",
                            f"{side}_name": "",
                            "status": "uncategorized",
                            "source": "statement",
                            "offset_account_name": "",
                        }
                    )
                elif roll < 0.24 and kind != "transfer_fund":
                    side = "from_account" if money_in else "to_account"
                    txn.update(
                        {
                            f"{side}_id": "",
                            f"{side}_name": "",
                            "status": "excluded",
                            "source": "statement",
                            "offset_account_name": "",
                        }
                    )
                txn["account_ids"] = [
                    a for a in (txn["from_account_id"], txn["to_account_id"]) if a
                ]
                rows.append((txn["transaction_id"], txn, now))
                created.append(txn["transaction_id"])
            store.insert_many(TXN_MODULE, rows)
    for bank in banks:
        coa.mark_account_used(ledger, str(bank["account_id"]))
    return created


def _chunks(total: int, size: int = 2000) -> list[range]:
    return [range(start, min(total, start + size)) for start in range(0, total, size)]
