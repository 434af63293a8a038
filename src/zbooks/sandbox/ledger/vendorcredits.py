"""Vendor credits: money a vendor owes back to the organization (scope ``debitnotes``),
spent by applying it to that vendor's bills or by the vendor refunding it.

The payable-side twin of credit notes: ``balance = total - Σ applied to bills -
Σ refunds``; the status follows (``open`` while credit is left, ``closed`` at zero);
``draft`` and ``void`` are set by actions only. A credit's ``bills_credited[]`` is its
side of each application and the bill keeps the mirror entry (``_credits``, see
``ledger.bills``); both sides change in one transaction. Refunds are records of their
own (``vendorcreditrefunds``) so that ``GET /vendorcredits/refunds`` can page over all
of them; the credit keeps only their sum (``total_refunded_amount``).

Lines, money and vendor rules are the bills' (``purchase_lines``, ``finish_money``,
``vendor_of``): a vendor credit is a bill with the sign reversed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger import bills as bill_rules
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import refresh_balances
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec
from zbooks.sandbox.ledger.listing import status_in as _status
from zbooks.sandbox.ledger.store import Filter

MODULE = "vendorcredits"
REFUNDS = "vendorcreditrefunds"
SETTLING = ("open", "closed")  # the statuses money moves between; others are set by actions

DEFAULTS: dict[str, Any] = {
    **docs.COMMON_DEFAULTS,
    "vendor_credit_id": "",
    "vendor_credit_number": "",
    "status": "open",
    "vendor_id": "",
    "vendor_name": "",
    "source_of_supply": "",
    "destination_of_supply": "",
    "pricebook_id": "",
    "filed_in_vat_return_id": "",
    "filed_in_vat_return_name": "",
    "filed_in_vat_return_type": "",
    "acquisition_vat_summary": [],
    "acquisition_vat_total": 0.0,
    "reverse_charge_vat_summary": [],
    "reverse_charge_vat_total": 0.0,
    "total_credits_used": 0.0,
    "total_refunded_amount": 0.0,
    "balance": 0.0,
    "comments": [],
    "vendor_credit_refunds": [],
    "bills_credited": [],
}

KIND = docs.DocumentKind(
    module=MODULE,
    resource="Vendor credit",
    id_field="vendor_credit_id",
    number_field="vendor_credit_number",
    number_prefix="DN-",  # the OAS examples show DN-00002
    number_width=5,
    number_label="Vendor credit number",
    contact_field="vendor_id",
    contact_name_field="vendor_name",
    defaults=DEFAULTS,
    line_defaults=bill_rules.PURCHASE_LINE_DEFAULTS,
)

WRITABLE = docs.COMMON_WRITABLE | {
    "source_of_supply",
    "destination_of_supply",
    "pricebook_id",
    "documents",
}

ROW_FIELDS: dict[str, Any] = {
    "vendor_credit_id": "",
    "vendor_credit_number": "",
    "status": "",
    "reference_number": "",
    "date": "",
    "total": 0.0,
    "balance": 0.0,
    "vendor_id": "",
    "vendor_name": "",
    "currency_id": "",
    "currency_code": "",
    "created_time": "",
    "last_modified_time": "",
    "has_attachment": False,
    "exchange_rate": 1.0,
    "tags": [],
}

REFUND_DEFAULTS: dict[str, Any] = {
    "vendor_credit_refund_id": "",
    "vendor_credit_id": "",
    "vendor_credit_number": "",
    "date": "",
    "refund_mode": "",
    "reference_number": "",
    "amount": 0.0,
    "amount_bcy": 0.0,
    "amount_fcy": 0.0,
    "exchange_rate": 1.0,
    "account_id": "",
    "account_name": "",
    "description": "",
    "customer_name": "",
    "imported_transactions": [],
    "filed_in_vat_return_id": "",
    "filed_in_vat_return_name": "",
    "filed_in_vat_return_type": "",
}


# --- reading ---------------------------------------------------------------------------
def get_vendor_credit(ledger: Ledger, vendor_credit_id: str) -> dict[str, Any]:
    """The stored credit or 404 code 1002 ``Vendor credit does not exist.``"""
    return docs.fetch(ledger, KIND, vendor_credit_id)


def _refund_records(ledger: Ledger, vendor_credit_id: str) -> list[dict[str, Any]]:
    return ledger.store.find(REFUNDS, [Filter("vendor_credit_id", "eq", str(vendor_credit_id))])


def present_vendor_credit(ledger: Ledger, credit: Mapping[str, Any]) -> dict[str, Any]:
    refunds = [
        present_refund(ledger, r) for r in _refund_records(ledger, str(credit["vendor_credit_id"]))
    ]
    credit_id = str(credit["vendor_credit_id"])
    comments = [{**c, "vendor_credit_id": credit_id} for c in credit.get("_comments") or []]
    return docs.present(KIND, credit, vendor_credit_refunds=refunds, comments=comments)


def present_row(ledger: Ledger, credit: dict[str, Any]) -> dict[str, Any]:
    return docs.present_row(credit, ROW_FIELDS)


def present_refund(ledger: Ledger, refund: Mapping[str, Any]) -> dict[str, Any]:
    return docs.with_defaults(REFUND_DEFAULTS, docs.strip_private(refund))


# --- money -----------------------------------------------------------------------------
def recompute(ledger: Ledger, credit: dict[str, Any]) -> None:
    """Derive ``total_credits_used``, ``balance`` and the open/closed status."""
    applied = sum(
        (docs.dec(e.get("amount")) for e in credit.get("bills_credited") or []), Decimal(0)
    )
    refunded = docs.dec(credit.get("total_refunded_amount"))
    credit["total_credits_used"] = ledger.money(applied)
    if credit.get("status") == "void":
        credit["balance"] = 0.0  # a void credit offers nothing to apply (as credit notes)
        return
    balance = docs.dec(credit.get("total")) - applied - refunded
    credit["balance"] = ledger.money(balance)
    if credit.get("status") in SETTLING:  # draft and approval statuses stay as set
        credit["status"] = "open" if balance > 0 else "closed"


def _used(credit: Mapping[str, Any]) -> Decimal:
    return docs.dec(credit.get("total_credits_used")) + docs.dec(
        credit.get("total_refunded_amount")
    )


def _settle_vendor(ledger: Ledger, credit: Mapping[str, Any]) -> None:
    bill_rules.after_money_change(ledger, str(credit["vendor_id"]))


# --- applications to bills -------------------------------------------------------------
def _requested(raw: Any) -> dict[str, Decimal]:
    """``bills[]`` as bill_id -> amount (a bill named twice gets the sum)."""
    if not isinstance(raw, list) or not raw:
        raise invalid_value("bills")
    wanted: dict[str, Decimal] = {}
    for entry in raw:
        if not isinstance(entry, Mapping) or not str(entry.get("bill_id") or "").strip():
            raise invalid_value("bill_id")
        amount = docs.positive_amount(entry.get("amount_applied"), "amount_applied")
        bill_id = str(entry["bill_id"]).strip()
        wanted[bill_id] = wanted.get(bill_id, Decimal(0)) + amount
    return wanted


def apply_to_bills(ledger: Ledger, vendor_credit_id: str, raw_entries: Any) -> list[dict[str, Any]]:
    """``POST /vendorcredits/{id}/bills``: every check passes before anything changes.

    Σ amounts <= the credit's balance; each amount <= that bill's balance; the bill must
    be the same vendor's and open (bills' ``check_can_pay``). 400 code 4 otherwise
    (wording UNCONFIRMED). Returns the new ``bills_credited`` entries.
    """
    with ledger.db.transaction():
        credit = get_vendor_credit(ledger, vendor_credit_id)
        wanted = _requested(raw_entries)
        if credit.get("status") not in SETTLING:
            raise rule_violation(
                f"A vendor credit in {credit.get('status')} status cannot be applied to bills."
            )
        if sum(wanted.values(), Decimal(0)) > docs.dec(credit.get("balance")):
            raise rule_violation("The amount applied exceeds the balance of the vendor credit.")
        targets = []
        for bill_id, amount in wanted.items():
            bill = bill_rules.get_bill(ledger, bill_id)
            bill_rules.check_can_pay(bill, str(credit["vendor_id"]), amount)
            targets.append((bill, amount))
        added = [_attach(ledger, credit, bill, amount) for bill, amount in targets]
        recompute(ledger, credit)
        docs.save(ledger, KIND, credit)
        _settle_vendor(ledger, credit)
        return added


def _attach(
    ledger: Ledger, credit: dict[str, Any], bill: dict[str, Any], amount: Decimal
) -> dict[str, Any]:
    link_id = ledger.store.new_id()
    day = ledger.today()
    entry = {
        "bill_id": str(bill["bill_id"]),
        "vendor_credit_bill_id": link_id,
        "date": day,
        "bill_number": bill.get("bill_number", ""),
        "amount": ledger.money(amount),
    }
    credit.setdefault("bills_credited", []).append(entry)
    bill_rules.attach_credit(
        ledger,
        bill,
        {
            "vendor_credit_id": str(credit["vendor_credit_id"]),
            "vendor_credit_bill_id": link_id,
            "vendor_credit_number": credit.get("vendor_credit_number", ""),
            "date": day,
            "amount": ledger.money(amount),
        },
    )
    return entry


def bills_credited(ledger: Ledger, vendor_credit_id: str) -> list[dict[str, Any]]:
    """``GET /vendorcredits/{id}/bills``."""
    credit = get_vendor_credit(ledger, vendor_credit_id)
    return [
        {"vendor_credit_id": str(credit["vendor_credit_id"]), **entry}
        for entry in credit.get("bills_credited") or []
    ]


def release_from_bill(ledger: Ledger, vendor_credit_id: str, vendor_credit_bill_id: str) -> None:
    """Credit side of one application going away (the bill side is the caller's): the
    amount comes back to the credit's balance. Used when a bill is voided."""
    credit = ledger.store.get(MODULE, str(vendor_credit_id))
    if credit is None:
        return
    credit["bills_credited"] = [
        e
        for e in credit.get("bills_credited") or []
        if str(e.get("vendor_credit_bill_id")) != str(vendor_credit_bill_id)
    ]
    recompute(ledger, credit)
    docs.save(ledger, KIND, credit)


def unapply(ledger: Ledger, vendor_credit_id: str, vendor_credit_bill_id: str) -> None:
    """``DELETE /vendorcredits/{id}/bills/{vendor_credit_bill_id}``: both sides."""
    with ledger.db.transaction():
        credit = get_vendor_credit(ledger, vendor_credit_id)
        known = {str(e.get("vendor_credit_bill_id")): e for e in credit.get("bills_credited") or []}
        entry = known.get(str(vendor_credit_bill_id))
        if entry is None:
            raise not_found("Credit applied")
        bill = ledger.store.get(bill_rules.MODULE, str(entry["bill_id"]))
        if bill is not None:
            bill_rules.detach_credit(ledger, bill, str(vendor_credit_bill_id))
        release_from_bill(ledger, vendor_credit_id, vendor_credit_bill_id)
        refresh_balances(ledger, str(credit["vendor_id"]))


def _release_all(ledger: Ledger, credit: dict[str, Any]) -> None:
    for entry in credit.get("bills_credited") or []:
        bill = ledger.store.get(bill_rules.MODULE, str(entry["bill_id"]))
        if bill is not None:
            bill_rules.detach_credit(ledger, bill, str(entry["vendor_credit_bill_id"]))
    credit["bills_credited"] = []


# --- create / update / delete ----------------------------------------------------------
def create_vendor_credit(
    ledger: Ledger,
    body: Mapping[str, Any],
    *,
    ignore_auto_number: bool = False,
    bill_id: str = "",
) -> dict[str, Any]:
    """Create an ``open`` credit (``status: "draft"`` keeps a draft, as bills do;
    UNCONFIRMED). With ``bill_id`` the credit is applied to that bill at once, up to the
    bill's balance (the ``bill_id`` query parameter of the OAS)."""
    with ledger.db.transaction():
        vendor = bill_rules.vendor_of(ledger, body)
        credit_id = ledger.store.new_id()
        credit: dict[str, Any] = {
            "vendor_credit_id": credit_id,
            "vendor_credit_number": docs.resolve_number(
                ledger,
                KIND,
                body.get("vendor_credit_number"),
                ignore_auto_number=ignore_auto_number,
            ),
        }
        credit.update(docs.contact_fields(ledger, KIND, vendor))
        credit.pop("shipping_address", None)
        docs.copy_writable(credit, body, WRITABLE)
        credit["date"] = docs.parse_date(body.get("date"), "date", ledger.today())
        if "discount" in body:
            credit["discount"] = docs.normalise_discount(body.get("discount"))
        credit["line_items"] = bill_rules.purchase_lines(ledger, body.get("line_items"))
        bill_rules.finish_money(ledger, credit)
        credit.update(
            status=bill_rules.initial_status(body), bills_credited=[], total_refunded_amount=0.0
        )
        recompute(ledger, credit)
        docs.add_history(credit, "Vendor credit created", ledger=ledger, operation="Added")
        ledger.store.insert(MODULE, credit_id, credit, ledger.now())
        bill_rules.mark_accounts_used(ledger, credit)
        target = str(bill_id or "")
        if target:
            bill = bill_rules.get_bill(ledger, target)
            amount = min(docs.dec(credit["balance"]), docs.dec(bill.get("balance")))
            if amount > 0:
                apply_to_bills(ledger, credit_id, [{"bill_id": target, "amount_applied": amount}])
                credit = get_vendor_credit(ledger, credit_id)
        _settle_vendor(ledger, credit)
        return credit


def update_vendor_credit(
    ledger: Ledger, vendor_credit_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """PUT: given fields replace stored ones; ``line_items`` replaces the whole set. The
    new total may not fall below what was already applied or refunded."""
    with ledger.db.transaction():
        credit = get_vendor_credit(ledger, vendor_credit_id)
        if credit.get("status") == "void":
            raise rule_violation("A void vendor credit cannot be edited.")
        old_vendor = str(credit["vendor_id"])
        if body.get("vendor_id") and str(body["vendor_id"]) != old_vendor:
            if _used(credit) > 0:
                raise rule_violation(
                    "The vendor of a vendor credit that has been applied or refunded "
                    "cannot be changed."
                )
            credit.update(docs.contact_fields(ledger, KIND, bill_rules.vendor_of(ledger, body)))
            credit.pop("shipping_address", None)
        if "vendor_credit_number" in body:
            docs.renumber(ledger, KIND, credit, body.get("vendor_credit_number"))
        docs.copy_writable(credit, body, WRITABLE)
        if "date" in body:
            credit["date"] = docs.parse_date(body.get("date"), "date", credit["date"])
        if "discount" in body:
            credit["discount"] = docs.normalise_discount(body.get("discount"))
        if "line_items" in body:
            credit["line_items"] = bill_rules.purchase_lines(
                ledger, body.get("line_items"), previous=credit.get("line_items") or []
            )
        if bill_rules.finish_money(ledger, credit) < _used(credit):
            raise rule_violation(
                "The vendor credit total cannot be less than the credits already used."
            )
        recompute(ledger, credit)
        docs.save(ledger, KIND, credit)
        bill_rules.mark_accounts_used(ledger, credit)
        refresh_balances(ledger, old_vendor)
        _settle_vendor(ledger, credit)
        return credit


def delete_vendor_credit(ledger: Ledger, vendor_credit_id: str) -> None:
    """Delete; the bills it was applied to get their balance back and its refunds go
    with it (UNCONFIRMED: Zoho may refuse while refunds exist)."""
    with ledger.db.transaction():
        credit = get_vendor_credit(ledger, vendor_credit_id)
        _release_all(ledger, credit)
        for refund in _refund_records(ledger, vendor_credit_id):
            ledger.store.delete(REFUNDS, str(refund["vendor_credit_refund_id"]))
        ledger.store.delete(MODULE, str(vendor_credit_id))
        refresh_balances(ledger, str(credit["vendor_id"]))


# --- status actions --------------------------------------------------------------------
def mark_open(ledger: Ledger, vendor_credit_id: str) -> dict[str, Any]:
    """draft or void -> open (closed when nothing is left); open/closed stay as they are."""
    with ledger.db.transaction():
        credit = get_vendor_credit(ledger, vendor_credit_id)
        if credit.get("status") in ("draft", "void"):
            credit["status"] = "open"
            recompute(ledger, credit)
            docs.save(ledger, KIND, credit)
            _settle_vendor(ledger, credit)
        return credit


def mark_void(ledger: Ledger, vendor_credit_id: str) -> dict[str, Any]:
    """Void; refused while any of the credit is applied to bills or refunded (un-apply
    and delete the refunds first). Wording UNCONFIRMED, code 4."""
    with ledger.db.transaction():
        credit = get_vendor_credit(ledger, vendor_credit_id)
        if credit.get("status") == "void":
            return credit
        if credit.get("bills_credited") or docs.dec(credit.get("total_refunded_amount")) > 0:
            raise rule_violation(
                "A vendor credit that has been applied to bills or refunded cannot be voided."
            )
        credit["status"] = "void"
        recompute(ledger, credit)
        docs.save(ledger, KIND, credit)
        refresh_balances(ledger, str(credit["vendor_id"]))
        return credit


# --- refunds ---------------------------------------------------------------------------
def set_refunded(ledger: Ledger, credit: dict[str, Any], refunded: Decimal) -> None:
    """Refund side (``ledger.refunds``, which owns the refund records and their rules):
    refunds lower the balance like applications do, so a fully refunded credit closes."""
    credit["total_refunded_amount"] = ledger.money(refunded)
    recompute(ledger, credit)
    docs.save(ledger, KIND, credit)


# --- listing ---------------------------------------------------------------------------
_STATUSES: dict[str, FilterFactory] = {
    name: _status(name) for name in ("open", "closed", "void", "draft")
}

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="vendorcredits",  # the OAS list key (not "vendor_credits")
    report_name="Vendor Credits",
    sort_columns=frozenset(
        {
            "vendor_name",
            "vendor_credit_number",
            "balance",
            "total",
            "date",
            "created_time",
            "last_modified_time",
            "reference_number",
        }
    ),
    filter_by={
        "Status.All": lambda ledger: [],
        "Status.Open": _STATUSES["open"],
        "Status.Closed": _STATUSES["closed"],
        "Status.Void": _STATUSES["void"],
        "Status.Draft": _STATUSES["draft"],
    },
    statuses=_STATUSES,
    search_fields=("vendor_credit_number", "vendor_name", "reference_number"),
    text_fields=("vendor_credit_number", "reference_number", "vendor_name", "notes"),
    exact_fields=("vendor_id",),
    date_fields=("date",),
    number_fields=("total", "balance"),
    present=present_row,
    row_keys=frozenset(ROW_FIELDS),
)

REFUND_LIST_SPEC = ListSpec(
    module=REFUNDS,
    list_key="vendor_credit_refunds",
    report_name="Vendor Credit Refunds",
    sort_columns=frozenset(
        {
            "customer_name",
            "vendor_credit_number",
            "amount",
            "date",
            "created_time",
            "last_modified_time",
            "reference_number",
        }
    ),
    search_fields=("vendor_credit_number", "customer_name", "reference_number"),
    exact_fields=("customer_id", "vendor_id", "vendor_credit_id"),
    date_fields=("date",),
    number_fields=("amount",),
    present=present_refund,
)


# --- seeding ---------------------------------------------------------------------------
@seeder(MODULE)
def seed_vendor_credits(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` vendor credits through the module's own rules: most open, about a third
    applied to an open bill of the same vendor, a few void. Goes through
    ``create_vendor_credit`` (not bulk inserts): vendor credits are rare documents."""
    seed = bill_rules.PurchaseSeed(ledger, rng)
    created: list[str] = []
    for _ in range(count):
        vendor = seed.ctx.contact()
        lines = [
            {k: v for k, v in line.items() if k != "line_item_id"}
            for line in seed.lines(["0"] * rng.choice((1, 1, 2)))
        ]
        credit = create_vendor_credit(
            ledger,
            {
                "vendor_id": vendor["contact_id"],
                "date": seed.ctx.day(120),
                "reference_number": f"RMA-{rng.randint(100, 9999)}",
                "line_items": lines,
            },
        )
        credit_id = str(credit["vendor_credit_id"])
        roll = rng.random()
        if roll < 0.35:
            _seed_apply(ledger, credit, rng)
        elif roll < 0.42:
            mark_void(ledger, credit_id)
        created.append(credit_id)
    return created


def _seed_apply(ledger: Ledger, credit: Mapping[str, Any], rng: random.Random) -> None:
    open_bills = ledger.store.query(
        bill_rules.MODULE,
        [
            Filter("vendor_id", "eq", str(credit["vendor_id"])),
            Filter("status", "in", list(bill_rules.OPEN_STATUSES)),
        ],
        per_page=5,
    ).records
    if not open_bills:
        return
    bill = rng.choice(open_bills)
    amount = min(docs.dec(credit["balance"]), docs.dec(bill["balance"]))
    if amount > 0:
        apply_to_bills(
            ledger,
            str(credit["vendor_credit_id"]),
            [{"bill_id": str(bill["bill_id"]), "amount_applied": amount}],
        )
