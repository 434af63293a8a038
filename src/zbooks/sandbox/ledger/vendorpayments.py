"""Vendor payments: money paid to a vendor, applied to some of the vendor's bills.

Same rules as customer payments (api-facts §3.8/§3.12): Σ ``amount_applied`` <=
``amount``, each application <= that bill's balance, the bill must be the vendor's and
open. What is not applied stays on the payment as ``unused_amount`` (also exposed as
``balance``), which the vendor's ``unused_credits_payable_amount`` sums up.

The payment keeps its applications (``bills[]``) and each bill keeps the mirror entry
(``_payments``); both sides change in one transaction.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger import bills as bill_rules
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import refresh_balances
from zbooks.sandbox.ledger.currencies import ensure_base_currency
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec
from zbooks.sandbox.ledger.store import Filter

MODULE = "vendorpayments"

DEFAULTS: dict[str, Any] = {
    "payment_id": "",
    "vendor_id": "",
    "vendor_name": "",
    "payment_mode": "cash",
    "payment_number": 0,
    "date": "",
    "reference_number": "",
    "description": "",
    "exchange_rate": 1.0,
    "tax_account_name": "",
    "tax_amount_withheld": 0.0,
    "amount": 0.0,
    "balance": 0.0,
    "unused_amount": 0.0,
    "bcy_amount": 0.0,
    "bcy_balance": 0.0,
    "currency_id": "",
    "currency_code": "",
    "currency_symbol": "",
    "paid_through_account_id": "",
    "paid_through_account_name": "",
    "paid_through_account_type": "",
    "is_paid_via_print_check": False,
    "is_ach_payment": False,
    "ach_payment_status": "",
    "ach_gw_transaction_id": "",
    "check_details": {
        "amount_in_words": "",
        "check_id": "",
        "check_number": "",
        "check_status": "",
        "memo": "",
    },
    "billing_address": [],
    "comments": "",
    "imported_transactions": [],
    "vendorpayment_refunds": [],
    "bills": [],
    "bill_numbers": "",
    "location_id": "",
    "location_name": "",
    "documents": [],
    "custom_fields": [],
    "tags": [],
    "has_attachment": False,
    "created_time": "",
    "last_modified_time": "",
}

ROW_FIELDS: dict[str, Any] = {
    "payment_id": "",
    "vendor_id": "",
    "vendor_name": "",
    "bill_numbers": "",
    "payment_mode": "",
    "payment_number": 0,
    "date": "",
    "reference_number": "",
    "description": "",
    "exchange_rate": 1.0,
    "amount": 0.0,
    "bcy_amount": 0.0,
    "paid_through_account_id": "",
    "paid_through_account_name": "",
    "balance": 0.0,
    "unused_amount": 0.0,
    "bcy_balance": 0.0,
    "created_time": "",
    "last_modified_time": "",
    "is_paid_via_print_check": False,
    "has_attachment": False,
    "is_ach_payment": False,
    "ach_payment_status": "",
    "ach_gw_transaction_id": "",
    "tags": [],
    "check_details": [],
}

_TEXT = ("payment_mode", "reference_number", "description", "location_id")


def get_payment(ledger: Ledger, payment_id: str) -> dict[str, Any]:
    record = ledger.store.get(MODULE, str(payment_id))
    if record is None:
        raise not_found("Vendor payment")
    return record


def present_payment(ledger: Ledger, payment: Mapping[str, Any]) -> dict[str, Any]:
    """The detail object; each application shows its bill as it is now."""
    shaped: dict[str, Any] = {**DEFAULTS, **payment}
    details = payment.get("check_details")
    shaped["check_details"] = {
        **DEFAULTS["check_details"],
        **(details if isinstance(details, dict) else {}),
    }
    rows = []
    for entry in payment.get("bills") or []:
        bill = ledger.store.get(bill_rules.MODULE, str(entry.get("bill_id")))
        rows.append(
            {
                "bill_payment_id": entry.get("bill_payment_id", ""),
                "bill_id": entry.get("bill_id", ""),
                "bill_number": (bill or {}).get("bill_number", entry.get("bill_number", "")),
                "date": (bill or {}).get("date", ""),
                "due_date": (bill or {}).get("due_date", ""),
                "total": (bill or {}).get("total", 0.0),
                "balance": (bill or {}).get("balance", 0.0),
                "price_precision": ledger.precision,
                "amount_applied": entry.get("amount_applied", 0.0),
                "tax_amount_withheld": entry.get("tax_amount_withheld", 0.0),
            }
        )
    shaped["bills"] = rows
    return shaped


def present_row(ledger: Ledger, payment: dict[str, Any]) -> dict[str, Any]:
    row = docs.present_row(payment, ROW_FIELDS)
    details = payment.get("check_details")
    row["check_details"] = [details] if isinstance(details, dict) and details else []
    return row


# --- validation --------------------------------------------------------------------------
def _applications(
    ledger: Ledger,
    raw: Any,
    vendor_id: str,
    amount: Decimal,
    previous: Mapping[str, Mapping[str, Any]],
) -> list[tuple[dict[str, Any], Decimal, str]]:
    """Validate ``bills[]``: (bill, amount_applied, bill_payment_id) per application.

    ``previous`` maps bill_id -> this payment's current application, whose amount is
    still inside the bill's ``payment_made`` and must be added back to its balance.
    """
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise invalid_value("bills")
    seen: set[str] = set()
    result: list[tuple[dict[str, Any], Decimal, str]] = []
    total = Decimal(0)
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise invalid_value("bills")
        bill_id = str(entry.get("bill_id") or "").strip()
        if not bill_id:
            raise invalid_value("bill_id")
        if bill_id in seen:
            raise rule_violation("A bill can appear only once in a payment.")
        seen.add(bill_id)
        applied = docs.dec(entry.get("amount_applied"), "amount_applied")
        if applied == 0:
            continue
        bill = bill_rules.get_bill(ledger, bill_id)
        earlier = previous.get(bill_id)
        if earlier is not None:
            # Judge the bill as if this payment's old application were not there.
            bill = dict(bill)
            bill["balance"] = float(
                docs.dec(bill.get("balance")) + docs.dec(earlier.get("amount_applied"))
            )
            if bill.get("status") in ("paid", "partially_paid"):
                bill["status"] = "open"
        bill_rules.check_can_pay(bill, vendor_id, applied)
        total += applied
        bill_payment_id = str((earlier or {}).get("bill_payment_id") or ledger.store.new_id())
        result.append((bill, applied, bill_payment_id))
    if total > amount:
        raise rule_violation(
            "The amount applied to the bills is more than the amount paid."
        )  # wording UNCONFIRMED
    return result


def _paid_through(ledger: Ledger, body: Mapping[str, Any], current: str) -> dict[str, Any]:
    """The account the money left; default Petty Cash (UNCONFIRMED default)."""
    account_id = str(body.get("paid_through_account_id") or current or "")
    if not account_id:
        account_id = coa.default_account_id(ledger, "Petty Cash")
    account = coa.require_account(ledger, account_id, "paid_through_account_id")
    return account


def _fill(ledger: Ledger, payment: dict[str, Any], body: Mapping[str, Any]) -> None:
    for key in _TEXT:
        if key in body:
            payment[key] = "" if body[key] is None else str(body[key])
    for key in ("custom_fields", "tags"):
        if key in body:
            if not isinstance(body[key], list):
                raise invalid_value(key)
            payment[key] = body[key]
    if "check_details" in body:
        details = body["check_details"]
        if isinstance(details, list):
            details = details[0] if details else {}
        if not isinstance(details, dict):
            raise invalid_value("check_details")
        payment["check_details"] = details
    if "is_paid_via_print_check" in body:
        payment["is_paid_via_print_check"] = bool(body["is_paid_via_print_check"])
    if "exchange_rate" in body:
        rate = docs.dec(body["exchange_rate"] or 1, "exchange_rate")
        if rate <= 0:
            raise invalid_value("exchange_rate")
        payment["exchange_rate"] = float(rate)
    if "date" in body or not payment.get("date"):
        payment["date"] = docs.parse_date(body.get("date"), "date", ledger.today())
    account = _paid_through(ledger, body, str(payment.get("paid_through_account_id", "")))
    payment["paid_through_account_id"] = str(account["account_id"])
    payment["paid_through_account_name"] = account["account_name"]
    payment["paid_through_account_type"] = account["account_type"]


def _write_applications(
    ledger: Ledger,
    payment: dict[str, Any],
    applications: list[tuple[dict[str, Any], Decimal, str]],
) -> None:
    """Store the payment's ``bills[]`` and mirror each application onto its bill."""
    entries = []
    single = len(applications) == 1
    for bill, applied, bill_payment_id in applications:
        entries.append(
            {
                "bill_payment_id": bill_payment_id,
                "bill_id": str(bill["bill_id"]),
                "bill_number": bill.get("bill_number", ""),
                "amount_applied": ledger.money(applied),
                "tax_amount_withheld": 0.0,
            }
        )
        stored = bill_rules.get_bill(ledger, str(bill["bill_id"]))
        stored["_payments"] = [
            p
            for p in stored.get("_payments") or []
            if str(p.get("bill_payment_id")) != bill_payment_id
        ]
        bill_rules.attach_payment(
            ledger,
            stored,
            {
                "payment_id": payment["payment_id"],
                "bill_payment_id": bill_payment_id,
                "bill_id": str(bill["bill_id"]),
                "payment_number": payment["payment_number"],
                "payment_mode": payment.get("payment_mode", ""),
                "date": payment["date"],
                "reference_number": payment.get("reference_number", ""),
                "exchange_rate": payment.get("exchange_rate", 1.0),
                "amount": ledger.money(applied),
                "paid_through_account_id": payment["paid_through_account_id"],
                "paid_through_account_name": payment["paid_through_account_name"],
                "is_single_bill_payment": single,
            },
        )
    payment["bills"] = entries
    payment["bill_numbers"] = ",".join(str(e["bill_number"]) for e in entries)
    _recompute(ledger, payment)


def _recompute(ledger: Ledger, payment: dict[str, Any]) -> None:
    applied = sum(
        (docs.dec(e.get("amount_applied")) for e in payment.get("bills") or []), Decimal(0)
    )
    refunded = docs.dec(payment.get("amount_refunded"))
    unused = ledger.money(docs.dec(payment.get("amount")) - applied - refunded)
    payment["unused_amount"] = payment["balance"] = payment["bcy_balance"] = unused
    payment["bcy_amount"] = payment["amount"]


def set_refunded(ledger: Ledger, payment: dict[str, Any], refunded: Decimal) -> None:
    """Refund side (``ledger.refunds``): money the vendor gave back is no longer unused."""
    payment["amount_refunded"] = ledger.money(refunded)
    _recompute(ledger, payment)
    ledger.store.update(MODULE, str(payment["payment_id"]), payment, ledger.now())


# --- create / update / delete --------------------------------------------------------------
def create_payment(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    with ledger.db.transaction():
        vendor = bill_rules.vendor_of(ledger, body)
        vendor_id = str(vendor["contact_id"])
        amount = docs.positive_amount(body.get("amount"), "amount")
        applications = _applications(ledger, body.get("bills"), vendor_id, amount, {})
        currency = ensure_base_currency(ledger)
        payment: dict[str, Any] = {
            "payment_id": ledger.store.new_id(),
            "payment_number": ledger.db.next_counter(
                f"org:{ledger.org_id}", "number:vendorpayments"
            ),
            "vendor_id": vendor_id,
            "vendor_name": vendor.get("contact_name", ""),
            "amount": ledger.money(amount),
            "payment_mode": "cash",
            "currency_id": vendor.get("currency_id") or currency.get("currency_id", ""),
            "currency_code": vendor.get("currency_code") or currency.get("currency_code", ""),
            "currency_symbol": vendor.get("currency_symbol") or currency.get("currency_symbol", ""),
            "bills": [],
        }
        _fill(ledger, payment, body)
        _write_applications(ledger, payment, applications)
        ledger.store.insert(MODULE, payment["payment_id"], payment, ledger.now())
        coa.mark_account_used(ledger, payment["paid_through_account_id"])
        bill_rules.after_money_change(ledger, vendor_id)
        return payment


def update_payment(ledger: Ledger, payment_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """PUT: given fields replace stored ones; a given ``bills[]`` replaces the applications
    (a bill named again keeps its ``bill_payment_id``)."""
    with ledger.db.transaction():
        payment = get_payment(ledger, payment_id)
        old_vendor = str(payment["vendor_id"])
        vendor_id = str(body.get("vendor_id") or old_vendor)
        previous = {str(e["bill_id"]): e for e in payment.get("bills") or []}
        if vendor_id != old_vendor:
            vendor = bill_rules.vendor_of(ledger, body)
            payment["vendor_name"] = vendor.get("contact_name", "")
            payment["vendor_id"] = vendor_id
            if "bills" not in body and previous:
                raise rule_violation("The vendor of a payment applied to bills cannot be changed.")
        amount = (
            docs.positive_amount(body.get("amount"), "amount")
            if "amount" in body
            else docs.dec(payment.get("amount"))
        )
        raw_bills = (
            body["bills"]
            if "bills" in body
            else [
                {"bill_id": e["bill_id"], "amount_applied": e["amount_applied"]}
                for e in payment.get("bills") or []
            ]
        )
        # Refunded money has left the payment: only the rest can pay bills.
        refunded = docs.dec(payment.get("amount_refunded"))
        if amount < refunded:
            raise rule_violation(
                "The payment amount cannot be less than the amount refunded."
            )  # wording UNCONFIRMED
        applications = _applications(ledger, raw_bills, vendor_id, amount - refunded, previous)
        payment["amount"] = ledger.money(amount)
        _fill(ledger, payment, body)
        kept = {bill_payment_id for _, _, bill_payment_id in applications}
        for entry in previous.values():
            if str(entry["bill_payment_id"]) not in kept:
                _detach(ledger, entry)
        _write_applications(ledger, payment, applications)
        ledger.store.update(MODULE, payment_id, payment, ledger.now())
        coa.mark_account_used(ledger, payment["paid_through_account_id"])
        for vid in {old_vendor, vendor_id}:
            refresh_balances(ledger, vid)
        bill_rules.after_money_change(ledger, vendor_id)
        return payment


def _detach(ledger: Ledger, entry: Mapping[str, Any]) -> None:
    bill = ledger.store.get(bill_rules.MODULE, str(entry["bill_id"]))
    if bill is not None:
        bill_rules.detach_payment(ledger, bill, str(entry["bill_payment_id"]))


def delete_payment(ledger: Ledger, payment_id: str) -> None:
    """Delete; every bill it paid gets its balance and status back."""
    with ledger.db.transaction():
        payment = get_payment(ledger, payment_id)
        if docs.dec(payment.get("amount_refunded")) > 0:
            # UNCONFIRMED: Zoho may delete the refunds too; refusing loses nothing.
            raise rule_violation(
                "The payment cannot be deleted as it has refunds. Delete the refunds first."
            )
        for entry in payment.get("bills") or []:
            _detach(ledger, entry)
        ledger.store.delete(MODULE, payment_id)
        refresh_balances(ledger, str(payment["vendor_id"]))


def release_from_bill(ledger: Ledger, payment_id: str, bill_payment_id: str) -> None:
    """Drop one application from the payment side (the bill side is the caller's): the
    amount becomes unused. Used when a bill is voided or one bill payment deleted."""
    payment = ledger.store.get(MODULE, str(payment_id))
    if payment is None:
        return
    payment["bills"] = [
        e
        for e in payment.get("bills") or []
        if str(e.get("bill_payment_id")) != str(bill_payment_id)
    ]
    payment["bill_numbers"] = ",".join(str(e["bill_number"]) for e in payment["bills"])
    _recompute(ledger, payment)
    ledger.store.update(MODULE, str(payment_id), payment, ledger.now())


# --- listing -----------------------------------------------------------------------------
_MODES = {
    "Check": "check",
    "Cash": "cash",
    "BankTransfer": "banktransfer",
    "CreditCard": "creditcard",
    "BankRemittance": "bankremittance",
    "Others": "others",
}


def _mode(value: str) -> Any:
    return lambda ledger: [Filter("payment_mode", "eq", value)]


LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="vendorpayments",
    report_name="Payments Made",
    sort_columns=frozenset(
        {
            "vendor_name",
            "payment_number",
            "date",
            "amount",
            "balance",
            "reference_number",
            "created_time",
            "last_modified_time",
        }
    ),
    filter_by={
        "PaymentMode.All": lambda ledger: [],
        **{f"PaymentMode.{name}": _mode(value) for name, value in _MODES.items()},
    },
    default_filter="PaymentMode.All",
    search_fields=("vendor_name", "reference_number", "bill_numbers", "description"),
    text_fields=("vendor_name", "reference_number", "description", "payment_mode"),
    exact_fields=("vendor_id",),
    date_fields=("date",),
    number_fields=("amount",),
    present=present_row,
    row_keys=frozenset({*ROW_FIELDS, "check_details"}),
)


def also(factory: FilterFactory, extra: list[Filter]) -> FilterFactory:
    """``factory`` plus fixed extra filters (per-request list parameters)."""
    return lambda ledger: [*factory(ledger), *extra]


def bill_filter(bill_id: str) -> Filter:
    """Payments applied to one bill (``bill_id=`` list parameter)."""
    return Filter("$.bills", "contains", bill_id)


# --- seeding -----------------------------------------------------------------------------
SEED_MODES = ("check", "check", "banktransfer", "banktransfer", "cash", "creditcard")


@seeder(MODULE)
def seed_vendor_payments(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` payments to vendors, paying their oldest open bills in full or in part
    (bills are seeded first when there are none); when no bill is left, an advance
    payment with the whole amount unused."""
    store = ledger.store
    if not store.count(bill_rules.MODULE):
        bill_rules.seed_bills(ledger, max(count, 4), rng)
    coa.ensure_default_accounts(ledger)
    through = [
        a
        for a in (coa.account_by_name(ledger, name) for name in ("Petty Cash", "Business Checking"))
        if a
    ]
    through += store.find(coa.MODULE, [Filter("account_type", "eq", "bank")])
    unpaid = store.find(bill_rules.MODULE, [Filter("status", "in", list(bill_rules.OPEN_STATUSES))])
    unpaid.sort(key=lambda b: (str(b.get("date")), str(b["bill_id"])))
    vendors = docs.SeedContext(ledger, rng, contact_type="vendor").contacts
    currency = ensure_base_currency(ledger)
    created: list[str] = []
    touched: set[str] = set()
    with ledger.db.transaction():
        now = ledger.now()
        rows: list[tuple[str, dict[str, Any], str]] = []
        changed: dict[str, dict[str, Any]] = {}
        for _ in range(count):
            bill = unpaid.pop(0) if unpaid and rng.random() < 0.9 else None
            account = rng.choice(through)
            payment_id = store.new_id()
            if bill is not None:
                balance = docs.dec(bill["balance"])
                applied = (
                    balance
                    if rng.random() < 0.7
                    else docs.dec(ledger.money(balance * Decimal(rng.choice((25, 40, 50))) / 100))
                )
                amount = applied
                vendor = {"contact_id": bill["vendor_id"], "contact_name": bill["vendor_name"]}
                day = max(str(bill["date"]), docs.add_days(str(bill["date"]), rng.randint(0, 30)))
                day = min(day, ledger.today())
            else:
                applied = Decimal(0)
                amount = Decimal(rng.choice((100, 250, 500, 1000)))
                vendor = rng.choice(vendors)
                day = (
                    date.fromisoformat(ledger.today()) - timedelta(days=rng.randint(0, 60))
                ).isoformat()
            number = ledger.db.next_counter(f"org:{ledger.org_id}", "number:vendorpayments")
            payment: dict[str, Any] = {
                "payment_id": payment_id,
                "payment_number": number,
                "vendor_id": str(vendor["contact_id"]),
                "vendor_name": vendor.get("contact_name", ""),
                "payment_mode": rng.choice(SEED_MODES),
                "date": day,
                "reference_number": f"CHK-{rng.randint(1000, 9999)}" if rng.random() < 0.5 else "",
                "amount": ledger.money(amount),
                "exchange_rate": 1.0,
                "currency_id": str(currency.get("currency_id", "")),
                "currency_code": str(currency.get("currency_code", "")),
                "currency_symbol": str(currency.get("currency_symbol", "")),
                "paid_through_account_id": str(account["account_id"]),
                "paid_through_account_name": account["account_name"],
                "paid_through_account_type": account["account_type"],
                "bills": [],
                "created_time": f"{day}T{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:00"
                + ledger.clock.now().strftime("%z"),
            }
            if bill is not None and applied > 0:
                link = store.new_id()
                payment["bills"] = [
                    {
                        "bill_payment_id": link,
                        "bill_id": str(bill["bill_id"]),
                        "bill_number": bill.get("bill_number", ""),
                        "amount_applied": ledger.money(applied),
                        "tax_amount_withheld": 0.0,
                    }
                ]
                bill.setdefault("_payments", []).append(
                    {
                        "payment_id": payment_id,
                        "bill_payment_id": link,
                        "bill_id": str(bill["bill_id"]),
                        "payment_number": number,
                        "payment_mode": payment["payment_mode"],
                        "date": day,
                        "reference_number": payment["reference_number"],
                        "exchange_rate": 1.0,
                        "amount": ledger.money(applied),
                        "paid_through_account_id": payment["paid_through_account_id"],
                        "paid_through_account_name": payment["paid_through_account_name"],
                        "is_single_bill_payment": True,
                    }
                )
                bill_rules.recompute(ledger, bill)
                changed[str(bill["bill_id"])] = bill
            payment["bill_numbers"] = ",".join(str(b["bill_number"]) for b in payment["bills"])
            _recompute(ledger, payment)
            rows.append((payment_id, payment, now))
            touched.add(payment["vendor_id"])
            created.append(payment_id)
        store.insert_many(MODULE, rows)
        for bill_id, bill in changed.items():
            store.update(bill_rules.MODULE, bill_id, bill, now)
        for account in through:
            coa.mark_account_used(ledger, str(account["account_id"]))
    for vendor_id in sorted(touched):
        bill_rules.after_money_change(ledger, vendor_id)
    return created
