"""Bills: what the organization owes its vendors, and the purchase-line rules shared
with purchase orders.

A bill keeps its own copy of the vendor-payment applications made to it
(``_payments``) and of the vendor credits applied to it (``_credits``); ``recompute``
derives ``payment_made``, ``vendor_credits_applied``, ``balance`` and the settlement
status from them in one place, and the vendor-payment / vendor-credit modules edit
their own side in the same transaction. ``overdue`` is never stored: an open or partially paid bill
reads ``overdue`` once its due date is before the sandbox clock's today.

Bill numbers come from the vendor's paper, so the client always supplies them; they
are unique per vendor (api-facts §3.11).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, rule_violation
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import get_contact, mark_has_transaction, refresh_balances
from zbooks.sandbox.ledger.items import get_item
from zbooks.sandbox.ledger.listing import ListSpec
from zbooks.sandbox.ledger.listing import status_in as _status

MODULE = "bills"
OPEN_STATUSES = ("open", "partially_paid")  # can become overdue / receive payments

PURCHASE_LINE_DEFAULTS: dict[str, Any] = {
    **docs.LINE_DEFAULTS,
    "purchaseorder_item_id": "",
    "sku": "",
    "image_document_id": "",
    "reverse_charge_tax_id": "",
    "reverse_charge_tax_name": "",
    "reverse_charge_tax_percentage": 0.0,
    "reverse_charge_tax_amount": 0.0,
    "tax_exemption_id": "",
    "tax_exemption_code": "",
    "item_total_inclusive_of_tax": 0.0,
    "acquisition_vat_id": "",
    "acquisition_vat_name": "",
    "acquisition_vat_percentage": "",
    "acquisition_vat_amount": "",
    "reverse_charge_vat_id": "",
    "reverse_charge_vat_name": "",
    "reverse_charge_vat_percentage": "",
    "reverse_charge_vat_amount": "",
    "is_billable": False,
    "customer_id": "",
    "customer_name": "",
    "invoice_id": "",
    "invoice_number": "",
    "serial_numbers": [],
}

DEFAULTS: dict[str, Any] = {
    **docs.COMMON_DEFAULTS,
    "status": "open",
    "bill_id": "",
    "bill_number": "",
    "purchaseorder_ids": [],
    "vendor_id": "",
    "vendor_name": "",
    "vat_reg_no": "",
    "source_of_supply": "",
    "destination_of_supply": "",
    "permit_number": "",
    "pricebook_id": "",
    "pricebook_name": "",
    "unused_credits_payable_amount": 0.0,
    "due_date": "",
    "payment_terms": 0,
    "payment_terms_label": "Due on Receipt",
    "payment_expected_date": "",
    "recurring_bill_id": "",
    "due_by_days": "",
    "due_in_days": 0,
    "is_tds_applied": False,
    "is_item_level_tax_calc": False,
    "filed_in_vat_return_id": "",
    "filed_in_vat_return_name": "",
    "filed_in_vat_return_type": "",
    "is_abn_quoted": "",
    "payment_made": 0.0,
    "vendor_credits_applied": 0.0,
    "is_line_item_invoiced": False,
    "purchaseorders": [],
    "acquisition_vat_summary": [],
    "acquisition_vat_total": 0.0,
    "reverse_charge_vat_summary": [],
    "reverse_charge_vat_total": 0.0,
    "balance": 0.0,
    "payments": [],
    "vendor_credits": [],
    "reference_id": "",
    "open_purchaseorders_count": 0,
}

KIND = docs.DocumentKind(
    module=MODULE,
    resource="Bill",
    id_field="bill_id",
    number_field="bill_number",
    number_label="Bill number",
    contact_field="vendor_id",
    contact_name_field="vendor_name",
    auto_number=False,
    unique_number_per_contact=True,
    defaults=DEFAULTS,
    line_defaults=PURCHASE_LINE_DEFAULTS,
)

WRITABLE = docs.COMMON_WRITABLE | {
    "payment_expected_date",
    "recurring_bill_id",
    "is_item_level_tax_calc",
    "source_of_supply",
    "destination_of_supply",
    "permit_number",
    "pricebook_id",
}

ROW_FIELDS: dict[str, Any] = {
    "bill_id": "",
    "vendor_id": "",
    "vendor_name": "",
    "status": "",
    "bill_number": "",
    "reference_number": "",
    "date": "",
    "due_date": "",
    "due_days": "",
    "currency_id": "",
    "currency_code": "",
    "price_precision": 2,
    "exchange_rate": 1.0,
    "total": 0.0,
    "balance": 0.0,
    "location_id": "",
    "location_name": "",
    "created_time": "",
    "last_modified_time": "",
    "attachment_name": "",
    "has_attachment": False,
    "is_tds_applied": False,
    "is_abn_quoted": "",
}


# --- purchase lines (shared with purchase orders) ----------------------------------------
def purchase_lines(
    ledger: Ledger, raw_lines: Any, *, previous: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Build purchase-side lines: each needs an ``item_id`` or an ``account_id``.

    An item fills the purchase rate and purchase account; an account-only line (the
    usual bill line: "Office Supplies, 120.00") is named after its account. Every line
    ends with a valid expense-side ``account_id``/``account_name``.
    """
    if not isinstance(raw_lines, list) or not raw_lines:
        raise invalid_value("line_items")
    prepared: list[dict[str, Any]] = []
    earlier = {str(p.get("line_item_id")): p for p in previous if p.get("line_item_id")}
    for raw in raw_lines:
        if not isinstance(raw, Mapping):
            raise invalid_value("line_items")
        line = dict(raw)
        kept = earlier.get(str(line.get("line_item_id") or ""))
        if kept is not None:
            # An echoed line keeps what it does not restate (build_lines does the same).
            for key in ("item_id", "account_id", "name"):
                if key not in line and kept.get(key):
                    line[key] = kept[key]
        item_id = str(line.get("item_id") or "")
        if item_id:
            item = get_item(ledger, item_id)
            if line.get("rate") in (None, "") and item.get("purchase_rate") not in (None, ""):
                line["rate"] = item["purchase_rate"]
            if not line.get("account_id") and item.get("purchase_account_id"):
                line["account_id"] = item["purchase_account_id"]
            if line.get("description") in (None, "") and item.get("purchase_description"):
                line["description"] = item["purchase_description"]
        elif line.get("account_id"):
            account = coa.require_account(ledger, line["account_id"], "account_id")
            if not str(line.get("name") or "").strip():
                line["name"] = account["account_name"]
            if line.get("rate") in (None, "") and line.get("amount") not in (None, ""):
                line["rate"] = line["amount"]
        else:
            raise rule_violation("Every line item needs an item_id or an account_id.")
        prepared.append(line)
    lines = docs.build_lines(ledger, prepared, previous=previous)
    default_account = coa.default_account_id(ledger, "Cost of Goods Sold")
    for line in lines:
        if not line.get("account_id"):
            line["account_id"] = default_account
        account = coa.require_account(ledger, line["account_id"], "account_id")
        if account.get("account_type") in coa.NO_BILL_LINE_TYPES:
            raise invalid_value("account_id")  # purchases post to expense/asset accounts
        line["account_id"] = str(account["account_id"])
        line["account_name"] = account["account_name"]
    return lines


def finish_money(ledger: Ledger, doc: dict[str, Any]) -> Decimal:
    """``compute_money`` plus the purchase-only derived line fields."""
    total = docs.compute_money(ledger, doc)
    for line in doc["line_items"]:
        line["item_total_inclusive_of_tax"] = (
            line["item_total"]
            if doc.get("is_inclusive_tax")
            else ledger.money(docs.dec(line["item_total"]) + docs.dec(line.get("tax_amount")))
        )
    return total


def vendor_of(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    vendor_id = str(body.get("vendor_id") or "").strip()
    if not vendor_id:
        raise invalid_value("vendor_id")
    contact = get_contact(ledger, vendor_id)
    if contact.get("contact_type") == "customer":
        raise invalid_value("vendor_id")
    return contact


def mark_accounts_used(ledger: Ledger, doc: Mapping[str, Any]) -> None:
    for account_id in {str(line.get("account_id", "")) for line in doc.get("line_items") or []}:
        coa.mark_account_used(ledger, account_id)


# --- reading -----------------------------------------------------------------------------
def get_bill(ledger: Ledger, bill_id: str) -> dict[str, Any]:
    """The stored bill or 404 code 1002 ``Bill does not exist.``"""
    return docs.fetch(ledger, KIND, bill_id)


def current_status(ledger: Ledger, bill: Mapping[str, Any]) -> str:
    return docs.read_status(
        bill,
        ledger.today(),
        open_statuses=OPEN_STATUSES,
        late_status="overdue",
        date_field="due_date",
    )


def _due(status: str, due_date: str, today: str) -> tuple[str, int]:
    """(``due_days`` text, ``due_in_days``): wording UNCONFIRMED, as for invoices."""
    if status not in (*OPEN_STATUSES, "overdue") or not due_date:
        return "", 0
    delta = (date.fromisoformat(due_date) - date.fromisoformat(today)).days
    if delta < 0:
        return f"Overdue by {-delta} day{'s' if delta != -1 else ''}", delta
    if delta == 0:
        return "Due Today", 0
    return f"Due in {delta} day{'s' if delta != 1 else ''}", delta


def present_bill(ledger: Ledger, bill: Mapping[str, Any]) -> dict[str, Any]:
    status = current_status(ledger, bill)
    text, days = _due(status, str(bill.get("due_date", "")), ledger.today())
    return docs.present(
        KIND,
        bill,
        status=status,
        due_by_days=text,
        due_in_days=days,
        payments=[_bill_payment_detail(p) for p in bill.get("_payments") or []],
        vendor_credits=[dict(c) for c in bill.get("_credits") or []],
    )


def present_row(ledger: Ledger, bill: dict[str, Any]) -> dict[str, Any]:
    status = current_status(ledger, bill)
    text, _ = _due(status, str(bill.get("due_date", "")), ledger.today())
    return docs.present_row(bill, ROW_FIELDS, status=status, due_days=text)


def _bill_payment_detail(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "payment_id": entry.get("payment_id", ""),
        "bill_id": entry.get("bill_id", ""),
        "bill_payment_id": entry.get("bill_payment_id", ""),
        "payment_mode": entry.get("payment_mode", ""),
        "payment_number": str(entry.get("payment_number", "")),
        "date": entry.get("date", ""),
        "reference_number": entry.get("reference_number", ""),
        "exchange_rate": entry.get("exchange_rate", 1.0),
        "amount": entry.get("amount", 0.0),
        "paid_through_account_id": entry.get("paid_through_account_id", ""),
        "paid_through_account_name": entry.get("paid_through_account_name", ""),
        "is_single_bill_payment": entry.get("is_single_bill_payment", True),
        "is_paid_via_print_check": False,
        "check_details": [],
        "is_ach_payment": False,
        "ach_payment_status": "",
        "ach_gw_transaction_id": "",
        "filed_in_vat_return_id": "",
        "filed_in_vat_return_name": "",
        "filed_in_vat_return_type": "",
    }


def payments_of(ledger: Ledger, bill_id: str) -> list[dict[str, Any]]:
    """``GET /bills/{id}/payments``."""
    bill = get_bill(ledger, bill_id)
    return [
        {
            "payment_id": p.get("payment_id", ""),
            "bill_id": str(bill["bill_id"]),
            "bill_payment_id": p.get("bill_payment_id", ""),
            "vendor_id": bill.get("vendor_id", ""),
            "vendor_name": bill.get("vendor_name", ""),
            "payment_mode": p.get("payment_mode", ""),
            "date": p.get("date", ""),
            "reference_number": p.get("reference_number", ""),
            "exchange_rate": p.get("exchange_rate", 1.0),
            "amount": p.get("amount", 0.0),
            "paid_through": p.get("paid_through_account_name", ""),
            "is_single_bill_payment": p.get("is_single_bill_payment", True),
        }
        for p in bill.get("_payments") or []
    ]


# --- money bookkeeping -------------------------------------------------------------------
def recompute(ledger: Ledger, bill: dict[str, Any]) -> None:
    """Derive ``payment_made``, ``vendor_credits_applied``, ``balance`` and the
    settlement status from the applications the bill holds."""
    payments = bill.setdefault("_payments", [])
    credits = bill.setdefault("_credits", [])
    bill["payment_made"] = ledger.money(
        sum((docs.dec(p.get("amount")) for p in payments), Decimal(0))
    )
    bill["vendor_credits_applied"] = ledger.money(
        sum((docs.dec(c.get("amount")) for c in credits), Decimal(0))
    )
    # settle() reads "credits_applied"; on a bill that role is played by vendor credits.
    work = {**bill, "credits_applied": bill["vendor_credits_applied"]}
    docs.settle(work, unpaid_status="open", precision=ledger.precision)
    bill["balance"] = work["balance"]
    bill["status"] = work["status"]
    if bill["status"] == "void":
        bill["balance"] = 0.0  # a void bill is owed nothing (UNCONFIRMED presentation)


def settled_amount(bill: Mapping[str, Any]) -> Decimal:
    return docs.dec(bill.get("payment_made")) + docs.dec(bill.get("vendor_credits_applied"))


def check_can_pay(bill: Mapping[str, Any], vendor_id: str, amount: Decimal) -> None:
    """Rules for applying a vendor payment; 400 code 4 (wording UNCONFIRMED)."""
    number = bill.get("bill_number", "")
    if str(bill.get("vendor_id")) != str(vendor_id):
        raise rule_violation(f"Bill {number} does not belong to this vendor.")
    if bill.get("status") in ("draft", "void"):
        raise rule_violation(
            f"Bill {number} is in {bill.get('status')} status; only open bills can be paid."
        )
    if amount <= 0:
        raise invalid_value("amount_applied")
    if amount > docs.dec(bill.get("balance")):
        raise rule_violation(f"The amount applied to bill {number} exceeds its balance due.")


def attach_payment(ledger: Ledger, bill: dict[str, Any], entry: dict[str, Any]) -> None:
    """Record a payment application on the bill (the payment side is the caller's)."""
    bill.setdefault("_payments", []).append(entry)
    recompute(ledger, bill)
    docs.save(ledger, KIND, bill)


def detach_payment(ledger: Ledger, bill: dict[str, Any], bill_payment_id: str) -> None:
    bill["_payments"] = [
        p
        for p in bill.get("_payments", [])
        if str(p.get("bill_payment_id")) != str(bill_payment_id)
    ]
    recompute(ledger, bill)
    docs.save(ledger, KIND, bill)


def attach_credit(ledger: Ledger, bill: dict[str, Any], entry: dict[str, Any]) -> None:
    """Record a vendor-credit application on the bill (the credit side is the caller's).

    ``entry`` is the bill's public ``vendor_credits[]`` row: vendor_credit_id,
    vendor_credit_bill_id, vendor_credit_number, date, amount.
    """
    bill.setdefault("_credits", []).append(entry)
    recompute(ledger, bill)
    docs.save(ledger, KIND, bill)


def detach_credit(ledger: Ledger, bill: dict[str, Any], vendor_credit_bill_id: str) -> None:
    bill["_credits"] = [
        c
        for c in bill.get("_credits", [])
        if str(c.get("vendor_credit_bill_id")) != str(vendor_credit_bill_id)
    ]
    recompute(ledger, bill)
    docs.save(ledger, KIND, bill)


def apply_credits(ledger: Ledger, bill_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /bills/{id}/credits``: apply vendor credits (``apply_vendor_credits``) and
    unused money of vendor payments (``bill_payments``) to this bill, all or nothing.

    An excess payment applied here becomes one more application of that payment (its
    ``bills[]``), exactly as if the payment had been edited to include this bill.
    """
    from zbooks.sandbox.ledger.vendorcredits import apply_to_bills

    credits = body.get("apply_vendor_credits") or []
    payments = body.get("bill_payments") or []
    if not isinstance(credits, list) or not isinstance(payments, list):
        raise invalid_value("apply_vendor_credits")
    if not credits and not payments:
        raise invalid_value("apply_vendor_credits")
    with ledger.db.transaction():
        get_bill(ledger, bill_id)
        for entry in credits:
            if not isinstance(entry, Mapping) or not entry.get("vendor_credit_id"):
                raise invalid_value("vendor_credit_id")
            apply_to_bills(
                ledger,
                str(entry["vendor_credit_id"]),
                [{"bill_id": bill_id, "amount_applied": entry.get("amount_applied")}],
            )
        for entry in payments:
            if not isinstance(entry, Mapping) or not entry.get("payment_id"):
                raise invalid_value("payment_id")
            _apply_excess_payment(
                ledger, str(entry["payment_id"]), bill_id, entry.get("amount_applied")
            )
        return get_bill(ledger, bill_id)


def _apply_excess_payment(ledger: Ledger, payment_id: str, bill_id: str, raw: Any) -> None:
    """Add ``raw`` to the payment's application to this bill (or a new one) through the
    payment module's own update, which enforces Σ applied <= amount and the bill rules."""
    from zbooks.sandbox.ledger.vendorpayments import get_payment, update_payment

    amount = docs.positive_amount(raw, "amount_applied")
    payment = get_payment(ledger, payment_id)
    merged: list[dict[str, Any]] = []
    for entry in payment.get("bills") or []:
        applied = docs.dec(entry.get("amount_applied"))
        if str(entry.get("bill_id")) == str(bill_id):
            applied += amount
            amount = Decimal(0)
        merged.append({"bill_id": str(entry["bill_id"]), "amount_applied": ledger.money(applied)})
    if amount > 0:
        merged.append({"bill_id": str(bill_id), "amount_applied": ledger.money(amount)})
    update_payment(ledger, payment_id, {"bills": merged})


def after_money_change(ledger: Ledger, vendor_id: str) -> None:
    mark_has_transaction(ledger, vendor_id)
    refresh_balances(ledger, vendor_id)


# --- create / update / delete ------------------------------------------------------------
def initial_status(body: Mapping[str, Any]) -> str:
    """Bills are created open; ``status: "draft"`` keeps one as a draft (UNCONFIRMED:
    the API documents no status on create, the UI offers "Save as Draft")."""
    wanted = str(body.get("status") or "open").lower()
    if wanted not in ("open", "draft"):
        raise invalid_value("status")
    return wanted


def create_bill(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    with ledger.db.transaction():
        vendor = vendor_of(ledger, body)
        bill_id = ledger.store.new_id()
        bill: dict[str, Any] = {
            "bill_id": bill_id,
            "bill_number": docs.resolve_number(
                ledger,
                KIND,
                body.get("bill_number"),
                ignore_auto_number=True,
                contact_id=str(vendor["contact_id"]),
            ),
        }
        bill.update(docs.contact_fields(ledger, KIND, vendor))
        bill.pop("shipping_address", None)
        docs.copy_writable(bill, body, WRITABLE)
        bill["date"] = docs.parse_date(body.get("date"), "date", ledger.today())
        docs.apply_terms(bill, body, vendor, creating=True)
        if "discount" in body:
            bill["discount"] = docs.normalise_discount(body.get("discount"))
        bill["line_items"] = purchase_lines(ledger, body.get("line_items"))
        finish_money(ledger, bill)
        bill.update(
            status=initial_status(body), payment_made=0.0, vendor_credits_applied=0.0, _payments=[]
        )
        _link_purchase_orders(ledger, bill, body.get("purchaseorder_ids"))
        recompute(ledger, bill)
        ledger.store.insert(MODULE, bill_id, bill, ledger.now())
        mark_accounts_used(ledger, bill)
        after_money_change(ledger, str(bill["vendor_id"]))
        return bill


def _link_purchase_orders(ledger: Ledger, bill: dict[str, Any], ids: Any) -> None:
    """A bill made from purchase orders marks them billed (api-facts §3.13)."""
    if ids in (None, "", []):
        return
    if isinstance(ids, str):
        ids = [i for i in ids.split(",") if i.strip()]
    if not isinstance(ids, list):
        raise invalid_value("purchaseorder_ids")
    from zbooks.sandbox.ledger.purchaseorders import bill_from

    bill["purchaseorder_ids"] = [str(i).strip() for i in ids]
    bill["purchaseorders"] = [
        bill_from(ledger, po_id, str(bill["vendor_id"])) for po_id in bill["purchaseorder_ids"]
    ]


def update_bill(ledger: Ledger, bill_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """PUT: given fields replace stored ones; ``line_items`` replaces the whole set."""
    with ledger.db.transaction():
        bill = get_bill(ledger, bill_id)
        if bill.get("status") == "void":
            raise rule_violation("A void bill cannot be edited. Mark it as open first.")
        old_vendor = str(bill["vendor_id"])
        new_vendor = str(body.get("vendor_id") or old_vendor)
        vendor: dict[str, Any] = {}
        if new_vendor != old_vendor:
            if bill.get("_payments") or bill.get("_credits"):
                raise rule_violation(
                    "The vendor of a bill with payments or credits applied cannot be changed."
                )
            vendor = vendor_of(ledger, body)
            bill.update(docs.contact_fields(ledger, KIND, vendor))
            bill.pop("shipping_address", None)
            docs.ensure_unique_number(
                ledger, KIND, str(bill["bill_number"]), exclude_id=bill_id, contact_id=new_vendor
            )
        if "bill_number" in body:
            docs.renumber(ledger, KIND, bill, body.get("bill_number"))
        docs.copy_writable(bill, body, WRITABLE)
        if "date" in body:
            bill["date"] = docs.parse_date(body.get("date"), "date", bill["date"])
        docs.apply_terms(bill, body, vendor, creating=False)
        if "discount" in body:
            bill["discount"] = docs.normalise_discount(body.get("discount"))
        if "line_items" in body:
            bill["line_items"] = purchase_lines(
                ledger, body.get("line_items"), previous=bill.get("line_items") or []
            )
        total = finish_money(ledger, bill)
        if total < settled_amount(bill):
            raise rule_violation(
                "The bill total cannot be less than the payments and credits applied to it."
            )
        recompute(ledger, bill)
        docs.save(ledger, KIND, bill)
        mark_accounts_used(ledger, bill)
        for vendor_id in {old_vendor, new_vendor}:
            refresh_balances(ledger, vendor_id)
        mark_has_transaction(ledger, new_vendor)
        return bill


def delete_bill(ledger: Ledger, bill_id: str) -> None:
    """Delete; refused (400) while payments are applied (as for invoices)."""
    with ledger.db.transaction():
        bill = get_bill(ledger, bill_id)
        if bill.get("_payments") or docs.dec(bill.get("vendor_credits_applied")) > 0:
            raise rule_violation(
                "Bills that have payments or credits applied cannot be deleted. "
                "Delete the payments first."
            )
        ledger.store.delete(MODULE, bill_id)
        refresh_balances(ledger, str(bill["vendor_id"]))


# --- status actions ----------------------------------------------------------------------
def mark_open(ledger: Ledger, bill_id: str) -> dict[str, Any]:
    """draft or void -> open (then settled by its payments); open bills stay as they are."""
    with ledger.db.transaction():
        bill = get_bill(ledger, bill_id)
        if bill.get("status") in ("draft", "void"):
            bill["status"] = "open"
            recompute(ledger, bill)
            docs.save(ledger, KIND, bill)
            after_money_change(ledger, str(bill["vendor_id"]))
        return bill


def mark_void(ledger: Ledger, bill_id: str) -> dict[str, Any]:
    """Void: applied vendor payments get the amounts back as unused (excess) payment,
    applied vendor credits get their balance back."""
    from zbooks.sandbox.ledger.vendorcredits import release_from_bill as release_credit
    from zbooks.sandbox.ledger.vendorpayments import release_from_bill

    with ledger.db.transaction():
        bill = get_bill(ledger, bill_id)
        if bill.get("status") == "void":
            return bill
        for entry in list(bill.get("_payments", [])):
            release_from_bill(ledger, str(entry["payment_id"]), str(entry["bill_payment_id"]))
        for entry in list(bill.get("_credits", [])):
            release_credit(
                ledger, str(entry["vendor_credit_id"]), str(entry["vendor_credit_bill_id"])
            )
        bill["_payments"] = []
        bill["_credits"] = []
        bill["status"] = "void"
        recompute(ledger, bill)
        docs.save(ledger, KIND, bill)
        refresh_balances(ledger, str(bill["vendor_id"]))
        return bill


def delete_payment(ledger: Ledger, bill_id: str, bill_payment_id: str) -> None:
    """``DELETE /bills/{id}/payments/{bill_payment_id}``: undo one application; the
    vendor payment stays, its amount becomes unused."""
    from zbooks.sandbox.ledger.vendorpayments import release_from_bill

    with ledger.db.transaction():
        bill = get_bill(ledger, bill_id)
        entry = next(
            (
                p
                for p in bill.get("_payments") or []
                if str(p.get("bill_payment_id")) == str(bill_payment_id)
            ),
            None,
        )
        if entry is None:
            raise invalid_value("bill_payment_id")
        release_from_bill(ledger, str(entry["payment_id"]), str(bill_payment_id))
        detach_payment(ledger, bill, bill_payment_id)
        refresh_balances(ledger, str(bill["vendor_id"]))


# --- listing -----------------------------------------------------------------------------
_late = docs.late(OPEN_STATUSES, date_field="due_date")


STATUS_FILTERS = {
    "draft": _status("draft"),
    "open": docs.on_time("open", date_field="due_date"),
    "overdue": _late,
    "partially_paid": docs.on_time("partially_paid", date_field="due_date"),
    "paid": _status("paid"),
    "void": _status("void"),
    "unpaid": _status(*OPEN_STATUSES),
}

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="bills",
    report_name="Bills",
    sort_columns=frozenset(
        {
            "vendor_name",
            "bill_number",
            "date",
            "due_date",
            "total",
            "balance",
            "created_time",
            "last_modified_time",
        }
    ),
    filter_by={
        "Status.All": lambda ledger: [],
        "Status.Draft": STATUS_FILTERS["draft"],
        "Status.Open": STATUS_FILTERS["open"],
        "Status.Overdue": _late,
        "Status.PartiallyPaid": STATUS_FILTERS["partially_paid"],
        "Status.Paid": STATUS_FILTERS["paid"],
        "Status.Void": STATUS_FILTERS["void"],
        "Status.Unpaid": STATUS_FILTERS["unpaid"],
    },
    statuses=STATUS_FILTERS,
    search_fields=("bill_number", "reference_number", "vendor_name"),
    text_fields=("bill_number", "reference_number", "vendor_name"),
    exact_fields=("vendor_id", "recurring_bill_id"),
    date_fields=("date", "due_date"),
    number_fields=("total", "balance"),
    present=present_row,
    row_keys=frozenset({*ROW_FIELDS, "status", "due_date", "balance"}),
)


# --- seeding -----------------------------------------------------------------------------
SEED_ACCOUNTS = (
    "Office Supplies",
    "Cost of Goods Sold",
    "Advertising And Marketing",
    "Rent Expense",
    "Telephone Expense",
    "IT and Internet Expenses",
    "Travel Expense",
)


class PurchaseSeed:
    """What purchase-side seeders share, read once: vendors, items, taxes, accounts."""

    def __init__(self, ledger: Ledger, rng: random.Random) -> None:
        coa.ensure_default_accounts(ledger)
        self.ctx = docs.SeedContext(ledger, rng, contact_type="vendor")
        self.accounts = [a for a in (coa.account_by_name(ledger, n) for n in SEED_ACCOUNTS) if a]
        self.cogs = coa.account_by_name(ledger, "Cost of Goods Sold") or self.accounts[0]

    def lines(self, line_ids: list[str]) -> list[dict[str, Any]]:
        """Item lines at purchase rates, or account lines ("Rent Expense 1,200.00")."""
        rng = self.ctx.rng
        lines: list[dict[str, Any]] = []
        for line_id in line_ids:
            items = self.ctx.items
            if items and rng.random() < 0.5:
                item = rng.choice(items)
                rate = item.get("purchase_rate") or round(float(item.get("rate") or 10) * 0.6, 2)
                account_id = str(item.get("purchase_account_id") or self.cogs["account_id"])
                account = next(
                    (a for a in self.accounts if a["account_id"] == account_id), self.cogs
                )
                line: dict[str, Any] = {
                    "item_id": str(item["item_id"]),
                    "name": item.get("name", ""),
                    "description": item.get("purchase_description") or "",
                    "rate": float(rate),
                    "unit": item.get("unit", ""),
                    "product_type": item.get("product_type", "goods"),
                    "quantity": float(rng.choice((1, 2, 5, 10, 20))),
                }
            else:
                account = rng.choice(self.accounts)
                line = {
                    "name": account["account_name"],
                    "description": rng.choice(("Monthly charge", "Supplies", "Services", "")),
                    "rate": float(rng.choice((35, 80, 120, 250, 480, 1200))),
                    "quantity": 1.0,
                    "product_type": "service",
                }
            tax_ids = self.ctx.tax_ids
            line.update(
                line_item_id=line_id,
                account_id=str(account["account_id"]),
                account_name=account["account_name"],
                tax_id=rng.choice(tax_ids) if tax_ids and rng.random() < 0.4 else "",
                item_order=len(lines) + 1,
            )
            lines.append(line)
        return lines


@seeder(MODULE)
def seed_bills(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` vendor bills of the last five months: mostly open (overdue once their
    due date passed), a few drafts and voids. Payments come from the vendor-payment
    seeder. Built in memory and bulk inserted."""
    seed = PurchaseSeed(ledger, rng)
    ctx = seed.ctx
    store = ledger.store
    created: list[str] = []
    touched: set[str] = set()
    for chunk in docs.batches(count):
        with ledger.db.transaction():
            now = ledger.now()
            rows: list[tuple[str, dict[str, Any], str]] = []
            for _ in chunk:
                vendor = ctx.contact()
                bill_id = store.new_id()
                day = ctx.day(150)
                terms = int(vendor.get("payment_terms") or rng.choice((0, 15, 30)))
                bill: dict[str, Any] = {
                    "bill_id": bill_id,
                    "bill_number": store.next_number("seed_bill_numbers", "VB-", 6),
                    **ctx.contact_fields(KIND, vendor),
                    "reference_number": f"PO-REF-{rng.randint(1000, 9999)}"
                    if rng.random() < 0.3
                    else "",
                    "date": day,
                    "payment_terms": terms,
                    "payment_terms_label": docs.terms_label(terms),
                    "due_date": docs.add_days(day, terms),
                    "line_items": seed.lines(docs.reserve_ids(ledger, rng.choice((1, 1, 2, 3)))),
                    "payment_made": 0.0,
                    "vendor_credits_applied": 0.0,
                    "_payments": [],
                    "created_time": ctx.stamp(day),
                }
                bill.pop("shipping_address", None)
                ctx.money(bill)
                roll = rng.random()
                bill["status"] = "draft" if roll < 0.08 else "void" if roll < 0.12 else "open"
                recompute(ledger, bill)
                rows.append((bill_id, bill, now))
                touched.add(str(bill["vendor_id"]))
                created.append(bill_id)
            store.insert_many(MODULE, rows)
    for vendor_id in sorted(touched):
        after_money_change(ledger, vendor_id)
    for account in seed.accounts:
        coa.mark_account_used(ledger, str(account["account_id"]))
    return created
