"""Expenses: money spent from a paid-through account (cash, bank, card) on an expense
account, optionally billable to a customer (api-facts §3.14).

An expense is a single amount or an itemized list of lines, each with its own account
and tax. Tax follows ``compute_totals``: with ``is_inclusive_tax`` the amount already
contains the tax, otherwise the tax is added on top. Its status says whether it can
still be re-billed: ``unbilled`` (billable, not yet invoiced), ``invoiced``,
``reimbursed`` or ``nonbillable``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import get_contact, mark_has_transaction
from zbooks.sandbox.ledger.currencies import ensure_base_currency
from zbooks.sandbox.ledger.listing import ListSpec
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.taxes import tax_rates
from zbooks.sandbox.ledger.totals import compute_totals

MODULE = "expenses"
# UNCONFIRMED spelling: api-facts lists "non-billable"; the filter constant is
# Status.Nonbillable and we store the same word in lower case.
NONBILLABLE = "nonbillable"

DEFAULTS: dict[str, Any] = {
    "expense_id": "",
    "transaction_id": "",
    "transaction_type": "expense",
    "gst_no": "",
    "gst_treatment": "",
    "tax_treatment": "",
    "destination_of_supply": "",
    "destination_of_supply_state": "",
    "place_of_supply": "",
    "hsn_or_sac": "",
    "source_of_supply": "",
    "vat_reg_no": "",
    "vat_treatment": "",
    "product_type": "",
    "reverse_charge_tax_id": "",
    "reverse_charge_tax_name": "",
    "reverse_charge_tax_percentage": 0.0,
    "reverse_charge_tax_amount": 0.0,
    "acquisition_vat_id": "",
    "reverse_charge_vat_id": "",
    "tax_amount": 0.0,
    "is_itemized_expense": False,
    "is_pre_gst": "",
    "trip_id": "",
    "trip_number": "",
    "reverse_charge_vat_total": 0.0,
    "acquisition_vat_total": 0.0,
    "acquisition_vat_summary": [],
    "reverse_charge_vat_summary": [],
    "taxes": [],
    "expense_item_id": "",
    "account_id": "",
    "account_name": "",
    "paid_through_account_id": "",
    "paid_through_account_name": "",
    "date": "",
    "tax_id": "",
    "tax_name": "",
    "tax_percentage": 0.0,
    "currency_id": "",
    "currency_code": "",
    "exchange_rate": 1.0,
    "sub_total": 0.0,
    "total": 0.0,
    "bcy_total": 0.0,
    "total_without_tax": 0.0,
    "bcy_total_without_tax": 0.0,
    "amount": 0.0,
    "is_inclusive_tax": False,
    "reference_number": "",
    "description": "",
    "is_billable": False,
    "is_personal": False,
    "customer_id": "",
    "customer_name": "",
    "vendor_id": "",
    "vendor_name": "",
    "expense_receipt_name": "",
    "expense_receipt_type": "",
    "status": NONBILLABLE,
    "invoice_id": "",
    "invoice_number": "",
    "location_id": "",
    "location_name": "",
    "project_id": "",
    "project_name": "",
    "mileage_rate": 0.0,
    "mileage_type": "",
    "mileage_unit": "",
    "expense_type": "non-mileage",
    "start_reading": 0.0,
    "end_reading": 0.0,
    "distance": 0.0,
    "employee_id": "",
    "recurring_expense_id": "",
    "line_items": [],
    "tags": [],
    "custom_fields": [],
    "documents": [],
    "has_attachment": False,
    "created_time": "",
    "last_modified_time": "",
}

ROW_FIELDS: dict[str, Any] = {
    "expense_id": "",
    "date": "",
    "account_name": "",
    "paid_through_account_name": "",
    "description": "",
    "currency_id": "",
    "currency_code": "",
    "bcy_total": 0.0,
    "bcy_total_without_tax": 0.0,
    "total": 0.0,
    "total_without_tax": 0.0,
    "is_billable": False,
    "reference_number": "",
    "customer_id": "",
    "customer_name": "",
    "vendor_id": "",
    "vendor_name": "",
    "status": "",
    "location_id": "",
    "location_name": "",
    "created_time": "",
    "last_modified_time": "",
    "expense_receipt_name": "",
    "mileage_rate": 0.0,
    "mileage_unit": "",
    "expense_type": "non-mileage",
    "start_reading": 0.0,
    "end_reading": 0.0,
}

_TEXT = (
    "reference_number",
    "description",
    "project_id",
    "location_id",
    "mileage_type",
    "mileage_unit",
    "employee_id",
    "vat_treatment",
    "tax_treatment",
    "product_type",
    "gst_no",
    "source_of_supply",
    "destination_of_supply",
    "place_of_supply",
    "hsn_or_sac",
)
_NUMBERS = ("mileage_rate", "start_reading", "end_reading", "distance")


def get_expense(ledger: Ledger, expense_id: str) -> dict[str, Any]:
    record = ledger.store.get(MODULE, str(expense_id))
    if record is None:
        raise not_found("Expense")
    return record


def present_expense(ledger: Ledger, expense: Mapping[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **expense}


def present_row(ledger: Ledger, expense: dict[str, Any]) -> dict[str, Any]:
    return docs.present_row(expense, ROW_FIELDS)


def _lines(ledger: Ledger, expense: dict[str, Any], body: Mapping[str, Any]) -> None:
    """Itemized lines (each with account, amount, tax) or the single-amount form."""
    raw = body.get("line_items")
    if raw not in (None, []):
        if not isinstance(raw, list):
            raise invalid_value("line_items")
        lines = []
        for index, entry in enumerate(raw):
            if not isinstance(entry, Mapping):
                raise invalid_value("line_items")
            account = coa.require_account(ledger, entry.get("account_id"), "account_id")
            lines.append(
                {
                    "line_item_id": str(entry.get("line_item_id") or ledger.store.new_id()),
                    "account_id": str(account["account_id"]),
                    "account_name": account["account_name"],
                    "description": str(entry.get("description") or ""),
                    "amount": float(docs.positive_amount(entry.get("amount"), "amount")),
                    "tax_id": str(entry.get("tax_id") or ""),
                    "item_order": index + 1,
                    "product_type": str(entry.get("product_type") or ""),
                    "tags": entry.get("tags") if isinstance(entry.get("tags"), list) else [],
                }
            )
        expense["line_items"] = lines
        expense["is_itemized_expense"] = True
        expense["account_id"] = lines[0]["account_id"]
        expense["account_name"] = lines[0]["account_name"]
        expense["tax_id"] = lines[0]["tax_id"] if len(lines) == 1 else ""
        return
    if body.get("line_items") == [] or not expense.get("is_itemized_expense"):
        expense["is_itemized_expense"] = False
        expense["line_items"] = []
    if "account_id" in body or not expense.get("account_id"):
        if not body.get("account_id"):
            raise invalid_value("account_id")
        account = coa.require_account(ledger, body.get("account_id"), "account_id")
        expense["account_id"] = str(account["account_id"])
        expense["account_name"] = account["account_name"]
    if "amount" in body or not expense.get("amount"):
        expense["amount"] = float(docs.positive_amount(body.get("amount"), "amount"))
    if "tax_id" in body:
        expense["tax_id"] = str(body.get("tax_id") or "")


def _money(ledger: Ledger, expense: dict[str, Any]) -> None:
    """Sub-total, tax and total via the shared document arithmetic."""
    if expense.get("is_itemized_expense"):
        lines = [
            {"rate": line["amount"], "quantity": 1, "tax_id": line["tax_id"]}
            for line in expense["line_items"]
        ]
    else:
        lines = [{"rate": expense["amount"], "quantity": 1, "tax_id": expense.get("tax_id", "")}]
    inclusive = bool(expense.get("is_inclusive_tax"))
    totals = compute_totals(
        {"line_items": lines, "is_inclusive_tax": inclusive}, tax_rates(ledger), ledger.precision
    )
    gross = totals.sub_total
    tax = totals.tax_total
    net = gross - tax if inclusive else gross
    total = gross if inclusive else gross + tax
    if expense.get("is_itemized_expense"):
        for line, computed in zip(expense["line_items"], totals.line_items, strict=True):
            line["tax_name"] = computed.get("tax_name", "") if line["tax_id"] else ""
            line["tax_percentage"] = computed.get("tax_percentage", 0.0) if line["tax_id"] else 0.0
            line["tax_amount"] = computed.get("tax_amount", 0.0) if line["tax_id"] else 0.0
            line["item_total"] = line["amount"]
        expense["amount"] = ledger.money(gross)
    first = totals.line_items[0] if len(totals.line_items) == 1 else {}
    expense["tax_name"] = first.get("tax_name", "") if expense.get("tax_id") else ""
    expense["tax_percentage"] = first.get("tax_percentage", 0.0) if expense.get("tax_id") else 0.0
    expense["tax_amount"] = ledger.money(tax)
    expense["taxes"] = [
        {"tax_id": t["tax_id"], "tax_name": t["tax_name"], "tax_amount": t["tax_amount"]}
        for t in totals.taxes
    ]
    rate = docs.dec(expense.get("exchange_rate") or 1, "exchange_rate")
    expense["sub_total"] = expense["total_without_tax"] = ledger.money(net)
    expense["total"] = ledger.money(total)
    expense["bcy_total"] = ledger.money(Decimal(str(expense["total"])) * rate)
    expense["bcy_total_without_tax"] = ledger.money(net * rate)


def _contacts(ledger: Ledger, expense: dict[str, Any], body: Mapping[str, Any]) -> None:
    for role in ("customer", "vendor"):
        key = f"{role}_id"
        if key in body:
            expense[key] = str(body.get(key) or "")
        contact_id = expense.get(key, "")
        expense[f"{role}_name"] = (
            get_contact(ledger, contact_id).get("contact_name", "") if contact_id else ""
        )
    if "is_billable" in body:
        expense["is_billable"] = bool(body["is_billable"])
    if expense.get("is_billable") and not expense.get("customer_id"):
        raise invalid_value("customer_id")  # a billable expense is re-billed to someone
    if expense.get("status") not in ("invoiced", "reimbursed"):
        expense["status"] = "unbilled" if expense.get("is_billable") else NONBILLABLE


def _fill(ledger: Ledger, expense: dict[str, Any], body: Mapping[str, Any]) -> None:
    for key in _TEXT:
        if key in body:
            expense[key] = "" if body[key] is None else str(body[key])
    for key in _NUMBERS:
        if key in body:
            expense[key] = float(docs.dec(body[key], key))
    for key in ("tags", "custom_fields"):
        if key in body:
            if not isinstance(body[key], list):
                raise invalid_value(key)
            expense[key] = body[key]
    if "is_inclusive_tax" in body:
        expense["is_inclusive_tax"] = bool(body["is_inclusive_tax"])
    if "exchange_rate" in body:
        if docs.dec(body["exchange_rate"] or 1, "exchange_rate") <= 0:
            raise invalid_value("exchange_rate")
        expense["exchange_rate"] = float(docs.dec(body["exchange_rate"] or 1))
    if "date" in body or not expense.get("date"):
        # UNCONFIRMED: the OAS marks date required; we default to today like documents.
        expense["date"] = docs.parse_date(body.get("date"), "date", ledger.today())
    if "paid_through_account_id" in body or not expense.get("paid_through_account_id"):
        if not body.get("paid_through_account_id"):
            raise invalid_value("paid_through_account_id")
        paid = coa.require_account(
            ledger, body["paid_through_account_id"], "paid_through_account_id"
        )
        expense["paid_through_account_id"] = str(paid["account_id"])
        expense["paid_through_account_name"] = paid["account_name"]
    _lines(ledger, expense, body)
    if expense["account_id"] == expense["paid_through_account_id"]:
        raise invalid_value("paid_through_account_id")
    _contacts(ledger, expense, body)
    _money(ledger, expense)
    if expense.get("mileage_type") or expense.get("mileage_rate"):
        expense["expense_type"] = "mileage"


def _after(ledger: Ledger, expense: Mapping[str, Any]) -> None:
    for account_id in {
        expense["account_id"],
        expense["paid_through_account_id"],
        *(line["account_id"] for line in expense.get("line_items") or []),
    }:
        coa.mark_account_used(ledger, str(account_id))
    for key in ("customer_id", "vendor_id"):
        if expense.get(key):
            mark_has_transaction(ledger, str(expense[key]))


def create_expense(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    currency = ensure_base_currency(ledger)
    expense_id = ledger.store.new_id()
    expense: dict[str, Any] = {
        "expense_id": expense_id,
        "transaction_id": expense_id,
        "transaction_type": "expense",
        "currency_id": str(currency.get("currency_id", "")),
        "currency_code": str(currency.get("currency_code", "")),
        "exchange_rate": 1.0,
        "is_inclusive_tax": False,
        "is_billable": False,
        "status": NONBILLABLE,
        "expense_type": "non-mileage",
    }
    if body.get("currency_id"):
        expense["currency_id"] = str(body["currency_id"])
    _fill(ledger, expense, body)
    with ledger.db.transaction():
        ledger.store.insert(MODULE, expense_id, expense, ledger.now())
        _after(ledger, expense)
    return expense


def update_expense(ledger: Ledger, expense_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    expense = get_expense(ledger, expense_id)
    if expense.get("status") == "invoiced":
        # UNCONFIRMED wording: an expense already re-billed on an invoice is locked.
        raise rule_violation("An invoiced expense cannot be edited.")
    _fill(ledger, expense, body)
    with ledger.db.transaction():
        ledger.store.update(MODULE, expense_id, expense, ledger.now())
        _after(ledger, expense)
    return expense


def delete_expense(ledger: Ledger, expense_id: str) -> None:
    expense = get_expense(ledger, expense_id)
    if expense.get("status") == "invoiced":
        raise rule_violation("An invoiced expense cannot be deleted.")
    ledger.store.delete(MODULE, expense_id)


# --- listing -----------------------------------------------------------------------------
def _eq(field: str, value: Any) -> Any:
    return lambda ledger: [Filter(field, "eq", value)]


STATUS_FILTERS = {
    "unbilled": _eq("status", "unbilled"),
    "invoiced": _eq("status", "invoiced"),
    "reimbursed": _eq("status", "reimbursed"),
    "nonbillable": _eq("status", NONBILLABLE),
    "non-billable": _eq("status", NONBILLABLE),
    "billable": _eq("is_billable", True),
}

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="expenses",
    report_name="Expenses",
    sort_columns=frozenset(
        {
            "date",
            "account_name",
            "total",
            "bcy_total",
            "reference_number",
            "customer_name",
            "created_time",
            "last_modified_time",
        }
    ),
    filter_by={
        "Status.All": lambda ledger: [],
        "Status.Billable": _eq("is_billable", True),
        "Status.Nonbillable": _eq("is_billable", False),
        "Status.Reimbursed": STATUS_FILTERS["reimbursed"],
        "Status.Invoiced": STATUS_FILTERS["invoiced"],
        "Status.Unbilled": STATUS_FILTERS["unbilled"],
    },
    statuses=STATUS_FILTERS,
    search_fields=(
        "description",
        "reference_number",
        "account_name",
        "customer_name",
        "vendor_name",
    ),
    text_fields=("description", "reference_number", "account_name", "customer_name", "vendor_name"),
    exact_fields=(
        "customer_id",
        "vendor_id",
        "paid_through_account_id",
        "project_id",
        "recurring_expense_id",
    ),
    date_fields=("date",),
    number_fields=("amount", "total"),
    present=present_row,
    row_keys=frozenset(ROW_FIELDS),
)


# --- seeding -----------------------------------------------------------------------------
_SEED_EXPENSES = (
    ("Travel Expense", ("Flight to client site", "Taxi", "Train tickets")),
    ("Meals and Entertainment", ("Team lunch", "Client dinner", "Coffee meeting")),
    ("Office Supplies", ("Printer paper", "Toner", "Stationery")),
    ("Lodging", ("Hotel, 2 nights", "Hotel, 1 night")),
    ("Fuel/Mileage Expenses", ("Fuel", "Parking")),
    ("IT and Internet Expenses", ("Cloud hosting", "Software subscription")),
    ("Telephone Expense", ("Mobile plan", "Conference line")),
)


@seeder(MODULE)
def seed_expenses(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` expenses of the last four months, paid from petty cash or a bank
    account; about a fifth billable to a customer (some already invoiced)."""
    coa.ensure_default_accounts(ledger)
    store = ledger.store
    rates = tax_rates(ledger)
    tax_ids = [t for t, r in rates.items() if not r.members][:3]
    kinds = [
        (a, notes)
        for a, notes in ((coa.account_by_name(ledger, n), notes) for n, notes in _SEED_EXPENSES)
        if a
    ]
    through = [
        a
        for a in (coa.account_by_name(ledger, n) for n in ("Petty Cash", "Business Checking"))
        if a
    ]
    through += store.find(coa.MODULE, [Filter("account_type", "in", list(coa.BANK_TYPES))])
    customers = docs.SeedContext(ledger, rng, contact_type="customer").contacts
    vendors = store.find("contacts", [Filter("contact_type", "eq", "vendor")])
    currency = ensure_base_currency(ledger)
    precision = ledger.precision
    offset = ledger.clock.now().strftime("%z")
    created: list[str] = []
    for chunk in docs.batches(count):
        with ledger.db.transaction():
            now = ledger.now()
            rows: list[tuple[str, dict[str, Any], str]] = []
            for _ in chunk:
                account, notes = rng.choice(kinds)
                paid = rng.choice(through)
                expense_id = store.new_id()
                day = (
                    date.fromisoformat(ledger.today()) - timedelta(days=rng.randint(0, 120))
                ).isoformat()
                expense: dict[str, Any] = {
                    "expense_id": expense_id,
                    "transaction_id": expense_id,
                    "transaction_type": "expense",
                    "date": day,
                    "account_id": str(account["account_id"]),
                    "account_name": account["account_name"],
                    "paid_through_account_id": str(paid["account_id"]),
                    "paid_through_account_name": paid["account_name"],
                    "amount": float(rng.choice((12.5, 24, 38.9, 65, 120, 249.99, 480))),
                    "tax_id": rng.choice(tax_ids) if tax_ids and rng.random() < 0.3 else "",
                    "is_inclusive_tax": rng.random() < 0.5,
                    "description": rng.choice(notes),
                    "reference_number": f"RCPT-{rng.randint(10000, 99999)}"
                    if rng.random() < 0.4
                    else "",
                    "currency_id": str(currency.get("currency_id", "")),
                    "currency_code": str(currency.get("currency_code", "")),
                    "exchange_rate": 1.0,
                    "is_billable": False,
                    "customer_id": "",
                    "customer_name": "",
                    "vendor_id": "",
                    "vendor_name": "",
                    "status": NONBILLABLE,
                    "expense_type": "non-mileage",
                    "is_itemized_expense": False,
                    "line_items": [],
                    "created_time": f"{day}T{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:00"
                    + offset,
                }
                if customers and rng.random() < 0.2:
                    customer = rng.choice(customers)
                    expense.update(
                        is_billable=True,
                        customer_id=str(customer["contact_id"]),
                        customer_name=customer.get("contact_name", ""),
                        status="invoiced" if rng.random() < 0.3 else "unbilled",
                    )
                if vendors and rng.random() < 0.3:
                    vendor = rng.choice(vendors)
                    expense.update(
                        vendor_id=str(vendor["contact_id"]),
                        vendor_name=vendor.get("contact_name", ""),
                    )
                _seed_money(expense, rates, precision)
                rows.append((expense_id, expense, now))
                created.append(expense_id)
            store.insert_many(MODULE, rows)
    for account in [a for a, _ in kinds] + through:
        coa.mark_account_used(ledger, str(account["account_id"]))
    return created


def _seed_money(expense: dict[str, Any], rates: Mapping[str, Any], precision: int) -> None:
    lines = [{"rate": expense["amount"], "quantity": 1, "tax_id": expense["tax_id"]}]
    inclusive = bool(expense["is_inclusive_tax"])
    totals = compute_totals({"line_items": lines, "is_inclusive_tax": inclusive}, rates, precision)
    tax = totals.tax_total
    net = totals.sub_total - tax if inclusive else totals.sub_total
    total = totals.sub_total if inclusive else totals.sub_total + tax
    line = totals.line_items[0]
    expense.update(
        tax_name=line.get("tax_name", "") if expense["tax_id"] else "",
        tax_percentage=line.get("tax_percentage", 0.0) if expense["tax_id"] else 0.0,
        tax_amount=float(tax),
        sub_total=float(net),
        total_without_tax=float(net),
        bcy_total_without_tax=float(net),
        total=float(total),
        bcy_total=float(total),
        taxes=[
            {"tax_id": t["tax_id"], "tax_name": t["tax_name"], "tax_amount": t["tax_amount"]}
            for t in totals.taxes
        ],
    )
