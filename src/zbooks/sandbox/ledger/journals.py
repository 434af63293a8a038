"""Manual journals: balanced debit/credit lines posted straight to accounts.

The one rule that matters (api-facts §3.16): the debits must equal the credits, or the
journal is refused. Only ``published`` journals post to the general ledger
(``accounts_chart.postings``); ``draft`` ones are just saved.

Lifecycle: ``draft`` -> (``submitted`` -> ``approved`` | ``rejected``) -> ``published``.
The approval steps use the shared state machine of ``ledger.approvals``. A published
journal is corrected by reversing it: a NEW journal with every line's side swapped,
which cancels the original in the ledger from the reversal date on.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger import approvals
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import get_contact, mark_has_transaction
from zbooks.sandbox.ledger.currencies import ensure_base_currency
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.taxes import tax_rates

MODULE = "journals"
JOURNAL_TYPES = ("both", "cash", "accrual")
STATUSES = ("draft", "published")  # what a client may set on create/update
# Approval statuses per api-facts §3.16 and the OAS list filter (``submitted``, not the
# sales documents' ``pending_approval``).
PUBLISHABLE = ("draft", "approved")
# UNCONFIRMED code and wording: Zoho documents only that an unbalanced journal is a 400.
UNBALANCED_MESSAGE = (
    "The journal entry is not balanced: the total of debits must equal the total of credits."
)

DEFAULTS: dict[str, Any] = {
    "journal_id": "",
    "entry_number": "",
    "reference_number": "",
    "notes": "",
    "currency_id": "",
    "currency_code": "",
    "currency_symbol": "",
    "exchange_rate": 1.0,
    "journal_date": "",
    "journal_type": "both",
    "entity_type": "journal",
    "vat_treatment": "",
    "product_type": "",
    "include_in_vat_return": False,
    "is_bas_adjustment": False,
    "line_items": [],
    "location_id": "",
    "location_name": "",
    "line_item_total": 0.0,
    "total": 0.0,
    "bcy_total": 0.0,
    "price_precision": 2,
    "taxes": [],
    "status": "draft",
    "custom_fields": [],
    "custom_field": "",
    "tags": [],
    "created_time": "",
    "last_modified_time": "",
}

LINE_DEFAULTS: dict[str, Any] = {
    "line_id": "",
    "account_id": "",
    "account_name": "",
    "customer_id": "",
    "customer_name": "",
    "description": "",
    "debit_or_credit": "debit",
    "tax_exemption_id": "",
    "tax_exemption_type": "",
    "tax_exemption_code": "",
    "tax_authority_id": "",
    "tax_authority_name": "",
    "tax_id": "",
    "tax_name": "",
    "tax_type": "",
    "tax_percentage": "",
    "amount": 0.0,
    "bcy_amount": 0.0,
    "acquisition_vat_id": "",
    "acquisition_vat_name": "",
    "acquisition_vat_percentage": "",
    "acquisition_vat_amount": "",
    "reverse_charge_vat_id": "",
    "reverse_charge_vat_name": "",
    "reverse_charge_vat_percentage": "",
    "reverse_charge_vat_amount": "",
    "tags": [],
    "location_id": "",
    "location_name": "",
    "project_id": "",
    "project_name": "",
}

ROW_FIELDS: dict[str, Any] = {
    "journal_id": "",
    "journal_date": "",
    "entry_number": "",
    "reference_number": "",
    "currency_id": "",
    "notes": "",
    "journal_type": "both",
    "entity_type": "journal",
    "status": "",
    "total": 0.0,
    "bcy_total": 0.0,
    "custom_field": "",
    "tags": [],
    "created_time": "",
    "last_modified_time": "",
}


# Journals are not line-item documents, but the approval state machine only needs to
# know where the record lives and how to name it.
KIND = docs.DocumentKind(
    module=MODULE,
    resource="Journal",
    id_field="journal_id",
    number_field="entry_number",
    number_label="Journal entry",
    contact_field="",
    contact_name_field="",
    defaults=DEFAULTS,
)
FLOW = approvals.ApprovalFlow(
    KIND, "journal", pending="submitted", approved="approved", rejected="rejected"
)


def get_journal(ledger: Ledger, journal_id: str) -> dict[str, Any]:
    record = ledger.store.get(MODULE, str(journal_id))
    if record is None:
        raise not_found("Journal")
    return record


def present_journal(ledger: Ledger, journal: Mapping[str, Any]) -> dict[str, Any]:
    shaped = {**DEFAULTS, **docs.strip_private(journal)}
    shaped["line_items"] = [{**LINE_DEFAULTS, **line} for line in journal.get("line_items") or []]
    return shaped


def present_row(ledger: Ledger, journal: dict[str, Any]) -> dict[str, Any]:
    return docs.present_row(journal, ROW_FIELDS)


def _lines(ledger: Ledger, raw: Any, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or len(raw) < 2:
        raise invalid_value("line_items")
    known = {str(line.get("line_id")) for line in previous}
    rates = None
    lines = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise invalid_value("line_items")
        side = str(entry.get("debit_or_credit") or "").lower()
        if side not in ("debit", "credit"):
            raise invalid_value("debit_or_credit")
        amount = docs.positive_amount(entry.get("amount"), "amount")
        account = coa.require_account(ledger, entry.get("account_id"), "account_id")
        line_id = str(entry.get("line_id") or "")
        line: dict[str, Any] = {
            "line_id": line_id if line_id in known else ledger.store.new_id(),
            "account_id": str(account["account_id"]),
            "account_name": account["account_name"],
            "debit_or_credit": side,
            "amount": ledger.money(amount),
            "bcy_amount": ledger.money(amount),
            "description": str(entry.get("description") or ""),
        }
        for key in ("project_id", "location_id", "tax_exemption_id", "tax_authority_id"):
            if entry.get(key):
                line[key] = str(entry[key])
        if isinstance(entry.get("tags"), list):
            line["tags"] = entry["tags"]
        if entry.get("customer_id"):
            contact = get_contact(ledger, str(entry["customer_id"]))
            line["customer_id"] = str(contact["contact_id"])
            line["customer_name"] = contact.get("contact_name", "")
        if entry.get("tax_id"):
            rates = rates if rates is not None else tax_rates(ledger)
            rate = rates.get(str(entry["tax_id"]))
            if rate is None:
                raise invalid_value("tax_id")
            line["tax_id"] = rate.tax_id
            line["tax_name"] = rate.tax_name
            line["tax_percentage"] = str(rate.percentage)
        lines.append(line)
    return lines


def _totals(ledger: Ledger, journal: dict[str, Any]) -> None:
    """Σ debits must equal Σ credits; the journal total is that common sum."""
    debits = sum(
        (
            docs.dec(line["amount"])
            for line in journal["line_items"]
            if line["debit_or_credit"] == "debit"
        ),
        Decimal(0),
    )
    credits = sum(
        (
            docs.dec(line["amount"])
            for line in journal["line_items"]
            if line["debit_or_credit"] == "credit"
        ),
        Decimal(0),
    )
    if debits != credits:
        raise rule_violation(UNBALANCED_MESSAGE)
    rate = docs.dec(journal.get("exchange_rate") or 1, "exchange_rate")
    journal["line_item_total"] = journal["total"] = ledger.money(debits)
    journal["bcy_total"] = ledger.money(debits * rate)
    journal["price_precision"] = ledger.precision


def _fill(ledger: Ledger, journal: dict[str, Any], body: Mapping[str, Any]) -> None:
    for key in ("reference_number", "notes", "vat_treatment", "product_type", "location_id"):
        if key in body:
            journal[key] = "" if body[key] is None else str(body[key])
    if "reference_number" in journal and len(journal["reference_number"]) > 100:
        raise invalid_value("reference_number")
    for key in ("include_in_vat_return", "is_bas_adjustment"):
        if key in body:
            journal[key] = bool(body[key])
    for key in ("custom_fields", "tags"):
        if key in body:
            if not isinstance(body[key], list):
                raise invalid_value(key)
            journal[key] = body[key]
    if "journal_type" in body:
        kind = str(body.get("journal_type") or "both").lower()
        if kind not in JOURNAL_TYPES:
            raise invalid_value("journal_type")
        journal["journal_type"] = kind
    if "exchange_rate" in body:
        if docs.dec(body["exchange_rate"] or 1, "exchange_rate") <= 0:
            raise invalid_value("exchange_rate")
        journal["exchange_rate"] = float(docs.dec(body["exchange_rate"] or 1))
    if "journal_date" in body or not journal.get("journal_date"):
        if not body.get("journal_date"):
            raise invalid_value("journal_date")
        journal["journal_date"] = docs.parse_date(body["journal_date"], "journal_date")
    if "line_items" in body or not journal.get("line_items"):
        journal["line_items"] = _lines(
            ledger, body.get("line_items"), journal.get("line_items") or []
        )
    _totals(ledger, journal)


def _after(ledger: Ledger, journal: Mapping[str, Any]) -> None:
    for line in journal["line_items"]:
        coa.mark_account_used(ledger, line["account_id"])
        if line.get("customer_id"):
            mark_has_transaction(ledger, line["customer_id"])


def create_journal(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create a journal; ``status`` draft (default, UNCONFIRMED) or published."""
    status = str(body.get("status") or "draft").lower()
    if status not in STATUSES:
        raise invalid_value("status")
    currency = ensure_base_currency(ledger)
    journal: dict[str, Any] = {
        "journal_id": ledger.store.new_id(),
        "currency_id": str(body.get("currency_id") or currency.get("currency_id", "")),
        "currency_code": str(currency.get("currency_code", "")),
        "currency_symbol": str(currency.get("currency_symbol", "")),
        "exchange_rate": 1.0,
        "journal_type": "both",
        "entity_type": "journal",
        "status": status,
    }
    _fill(ledger, journal, body)
    with ledger.db.transaction():
        # Entry numbers are plain sequence numbers ("1", "2", ...) per the OAS example.
        journal["entry_number"] = str(
            ledger.db.next_counter(f"org:{ledger.org_id}", "number:journals")
        )
        ledger.store.insert(MODULE, journal["journal_id"], journal, ledger.now())
        _after(ledger, journal)
    return journal


def update_journal(ledger: Ledger, journal_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    journal = get_journal(ledger, journal_id)
    if "status" in body:
        status = str(body.get("status") or journal["status"]).lower()
        if status not in STATUSES:
            raise invalid_value("status")
        if status == "published":
            _check_publishable(journal)
        journal["status"] = status
    if body.get("entry_number"):
        journal["entry_number"] = str(body["entry_number"])
    _fill(ledger, journal, body)
    with ledger.db.transaction():
        ledger.store.update(MODULE, journal_id, journal, ledger.now())
        _after(ledger, journal)
    return journal


def delete_journal(ledger: Ledger, journal_id: str) -> None:
    """Delete; deleting a reversal makes its original reversible again."""
    with ledger.db.transaction():
        journal = get_journal(ledger, journal_id)
        ledger.store.delete(MODULE, journal_id)
        original = ledger.store.get(MODULE, str(journal.get("_reversal_of") or ""))
        if original is not None and original.get("_reversed_by") == str(journal_id):
            original.pop("_reversed_by")
            ledger.store.update(MODULE, original["journal_id"], original, ledger.now(), touch=False)


def _check_publishable(journal: Mapping[str, Any]) -> None:
    """Only a draft or an approved journal may be published; one awaiting approval (or
    rejected) must go through approval first. Code 4 and wording are UNCONFIRMED."""
    status = str(journal.get("status") or "draft")
    if status != "published" and status not in PUBLISHABLE:
        raise rule_violation(
            f"Journal entry {journal.get('entry_number', '')} is {status}; only draft or "
            "approved journals can be published."
        )


def publish(ledger: Ledger, journal_id: str) -> dict[str, Any]:
    """draft/approved -> published (publishing a published journal changes nothing)."""
    with ledger.db.transaction():
        journal = get_journal(ledger, journal_id)
        if journal.get("status") != "published":
            _check_publishable(journal)
            journal["status"] = "published"
            ledger.store.update(MODULE, journal_id, journal, ledger.now())
        return journal


# --- approval ----------------------------------------------------------------------------
def submit(ledger: Ledger, journal_id: str) -> dict[str, Any]:
    """draft (or rejected) -> submitted."""
    return approvals.submit(ledger, FLOW, journal_id)


def approve(ledger: Ledger, journal_id: str) -> dict[str, Any]:
    """submitted -> approved. UNCONFIRMED: Zoho lists ``approved`` as a status of its own
    (OAS list filter), so an approved journal still has to be published to post."""
    return approvals.approve(ledger, FLOW, journal_id)


def reject(ledger: Ledger, journal_id: str, reason: str = "") -> dict[str, Any]:
    """submitted -> rejected (it may be edited and submitted again)."""
    return approvals.reject(ledger, FLOW, journal_id, reason)


# --- reversal ----------------------------------------------------------------------------
# Fields the reversal copies from the original (money settings and classification).
_REVERSAL_CARRIES = (
    "reference_number",
    "currency_id",
    "currency_code",
    "currency_symbol",
    "exchange_rate",
    "journal_type",
    "vat_treatment",
    "product_type",
    "include_in_vat_return",
    "is_bas_adjustment",
    "location_id",
    "location_name",
    "tags",
)


def _flag(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in ("", "false"):
        return False
    if text == "true":
        return True
    raise invalid_value(name)


def reverse(
    ledger: Ledger, journal_id: str, reversal_date: str, scheduled: str = ""
) -> dict[str, Any]:
    """``POST /journals/{id}/reverse``: a NEW published journal dated ``reversal_date``
    whose lines are the original's with debit and credit swapped, so the pair nets to
    zero on every account. The original keeps its content and ``last_modified_time``;
    only a private link records that it has been reversed.

    Rules (UNCONFIRMED, plausible readings): only a published journal has postings to
    reverse; a journal is reversed once; the reversal cannot predate the original.
    ``is_reversal_scheduled`` needs no separate handling here: postings are read by date,
    so a reversal dated in the future takes effect on that date.
    """
    _flag(scheduled, "is_reversal_scheduled")
    if not reversal_date.strip():
        raise invalid_value("reversal_date")
    day = docs.parse_date(reversal_date, "reversal_date")
    with ledger.db.transaction():
        original = get_journal(ledger, journal_id)
        number = original.get("entry_number", "")
        if original.get("status") != "published":
            raise rule_violation(
                f"Journal entry {number} is {original.get('status', 'draft')}; only published "
                "journals can be reversed."
            )
        if original.get("_reversed_by"):
            raise rule_violation(f"Journal entry {number} has already been reversed.")
        if day < str(original.get("journal_date", "")):
            raise invalid_value("reversal_date")
        reversal: dict[str, Any] = {
            key: copy.deepcopy(original[key]) for key in _REVERSAL_CARRIES if key in original
        }
        reversal.update(
            journal_id=ledger.store.new_id(),
            journal_date=day,
            entity_type="journal",
            status="published",
            notes=f"Reversal of journal entry {number}",
            line_items=[_swapped(ledger, line) for line in original.get("line_items") or []],
            _reversal_of=str(original["journal_id"]),
        )
        _totals(ledger, reversal)
        reversal["entry_number"] = str(
            ledger.db.next_counter(f"org:{ledger.org_id}", "number:journals")
        )
        ledger.store.insert(MODULE, reversal["journal_id"], reversal, ledger.now())
        original["_reversed_by"] = reversal["journal_id"]
        ledger.store.update(MODULE, str(journal_id), original, ledger.now(), touch=False)
        _after(ledger, reversal)
        return reversal


def _swapped(ledger: Ledger, line: Mapping[str, Any]) -> dict[str, Any]:
    swapped = copy.deepcopy(dict(line))
    swapped["line_id"] = ledger.store.new_id()
    swapped["debit_or_credit"] = "credit" if line.get("debit_or_credit") == "debit" else "debit"
    return swapped


# --- listing -----------------------------------------------------------------------------
def _period(which: str) -> Any:
    """``JournalDate.*`` ranges relative to the sandbox clock's today."""

    def factory(ledger: Ledger) -> list[Filter]:
        today = date.fromisoformat(ledger.today())
        if which == "Today":
            start, end = today, today
        elif which == "ThisWeek":
            start = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start Sunday
            end = start + timedelta(days=6)
        elif which == "ThisMonth":
            start = today.replace(day=1)
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        elif which == "ThisQuarter":
            first_month = 3 * ((today.month - 1) // 3) + 1
            start = today.replace(month=first_month, day=1)
            end = (start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
        else:  # ThisYear
            start, end = today.replace(month=1, day=1), today.replace(month=12, day=31)
        return [
            Filter("journal_date", "ge", start.isoformat()),
            Filter("journal_date", "le", end.isoformat()),
        ]

    return factory


LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="journals",
    report_name="Journals",
    sort_columns=frozenset(
        {
            "journal_date",
            "entry_number",
            "reference_number",
            "total",
            "created_time",
            "last_modified_time",
        }
    ),
    default_sort="journal_date",
    filter_by={
        "JournalDate.All": lambda ledger: [],
        **{
            f"JournalDate.{p}": _period(p)
            for p in ("Today", "ThisWeek", "ThisMonth", "ThisQuarter", "ThisYear")
        },
    },
    default_filter="JournalDate.All",
    search_fields=("entry_number", "reference_number", "notes"),
    text_fields=("entry_number", "reference_number", "notes"),
    exact_fields=("journal_type",),
    date_fields=("journal_date",),
    number_fields=("total",),
    present=present_row,
    row_keys=frozenset(ROW_FIELDS),
)


def list_query(query: Mapping[str, str]) -> dict[str, str]:
    """Zoho's journal list filters ``date*`` on ``journal_date``; ``account_id`` and
    ``customer_id`` match any line (handled by the caller's extra filters)."""
    params = dict(query)
    for suffix in ("", "_start", "_end", "_before", "_after"):
        if params.get(f"date{suffix}"):
            params.setdefault(f"journal_date{suffix}", params.pop(f"date{suffix}"))
    return params


def list_spec_for(query: Mapping[str, str]) -> tuple[ListSpec, dict[str, str]]:
    """The list spec and parameters for one request (line filters folded in)."""
    params = list_query(query)
    extra = line_filters(params)
    for key in _LINE_KEYS:
        params.pop(key, None)
    if not extra:
        return LIST_SPEC, params
    filters = {name: _also(factory, extra) for name, factory in LIST_SPEC.filter_by.items()}
    return replace(LIST_SPEC, filter_by=filters), params


def _also(factory: FilterFactory, extra: list[Filter]) -> FilterFactory:
    return lambda ledger: [*factory(ledger), *extra]


_LINE_KEYS = ("account_id", "customer_id", "vendor_id", "tax_id", "project_id")


def line_filters(query: Mapping[str, str]) -> list[Filter]:
    """Journals with a line on ``account_id`` / for ``customer_id`` (textual pre-filter
    over the lines; ids are globally unique so a match is a real reference)."""
    filters = []
    for key in _LINE_KEYS:
        if query.get(key):
            filters.append(Filter("$.line_items", "contains", query[key]))
    return filters


# --- seeding -----------------------------------------------------------------------------
# (debit account, credit account, note): everyday adjustments an accountant posts.
_SEED_ENTRIES = (
    ("Rent Expense", "Prepaid Expenses", "Monthly rent from prepaid"),
    ("Salaries and Employee Wages", "Business Checking", "Payroll"),
    ("Bank Fees and Charges", "Business Checking", "Bank service charges"),
    ("Business Checking", "Owner's Equity", "Owner capital injection"),
    ("Drawings", "Business Checking", "Owner withdrawal"),
    ("Furniture and Equipment", "Accounts Payable", "Equipment purchase on credit"),
    ("Office Supplies", "Petty Cash", "Petty cash reconciliation"),
)


@seeder(MODULE)
def seed_journals(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` balanced journals of the last six months, most published; some split
    the debit over two lines."""
    coa.ensure_default_accounts(ledger)
    store = ledger.store
    names = {r["account_name"]: r for r in store.find(coa.MODULE, [])}
    entries = [
        (names[d], names[c], note) for d, c, note in _SEED_ENTRIES if d in names and c in names
    ]
    currency = ensure_base_currency(ledger)
    offset = ledger.clock.now().strftime("%z")
    created: list[str] = []
    used: set[str] = set()
    for chunk in docs.batches(count):
        with ledger.db.transaction():
            now = ledger.now()
            rows: list[tuple[str, dict[str, Any], str]] = []
            for _ in chunk:
                debit, credit, note = rng.choice(entries)
                amount = Decimal(rng.choice((50, 120, 300, 750, 1500, 4200)))
                parts = [amount] if rng.random() < 0.7 else [amount * 3 / 5, amount * 2 / 5]
                day = (
                    date.fromisoformat(ledger.today()) - timedelta(days=rng.randint(0, 180))
                ).isoformat()
                lines = [_seed_line(ledger, debit, "debit", part, note) for part in parts]
                lines.append(_seed_line(ledger, credit, "credit", amount, note))
                journal_id = store.new_id()
                journal = {
                    "journal_id": journal_id,
                    "entry_number": str(
                        ledger.db.next_counter(f"org:{ledger.org_id}", "number:journals")
                    ),
                    "journal_date": day,
                    "reference_number": f"ADJ-{rng.randint(100, 999)}",
                    "notes": note,
                    "journal_type": "both",
                    "entity_type": "journal",
                    "currency_id": str(currency.get("currency_id", "")),
                    "currency_code": str(currency.get("currency_code", "")),
                    "currency_symbol": str(currency.get("currency_symbol", "")),
                    "exchange_rate": 1.0,
                    "line_items": lines,
                    "status": "published" if rng.random() < 0.85 else "draft",
                    "created_time": f"{day}T{rng.randint(8, 18):02d}:00:00{offset}",
                }
                _totals(ledger, journal)
                used.update({str(debit["account_id"]), str(credit["account_id"])})
                rows.append((journal_id, journal, now))
                created.append(journal_id)
            store.insert_many(MODULE, rows)
    for account_id in sorted(used):
        coa.mark_account_used(ledger, account_id)
    return created


def _seed_line(
    ledger: Ledger, account: Mapping[str, Any], side: str, amount: Decimal, note: str
) -> dict[str, Any]:
    return {
        "line_id": ledger.store.new_id(),
        "account_id": str(account["account_id"]),
        "account_name": account["account_name"],
        "debit_or_credit": side,
        "amount": ledger.money(amount),
        "bcy_amount": ledger.money(amount),
        "description": note,
    }
