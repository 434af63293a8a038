"""Machinery shared by every line-item document: invoices, estimates, sales orders,
credit notes, bills and purchase orders.

A module describes its document with a ``DocumentKind`` (collection, id and number
fields, number prefix, contact field, the documented default fields) and calls these
helpers for the parts that are the same everywhere: numbering and its uniqueness,
building line items (PUT replaces the line set but keeps echoed ``line_item_id``s),
money via ``compute_totals``, due dates from payment terms, balances and settlement
statuses, read-time status derivation ("overdue", "expired") and the shape of the
JSON a client sees (every documented field present, private ``_keys`` removed).

Stored records hold only what was given or computed; ``present`` fills the documented
defaults at read time. That keeps 100,000 seeded documents small.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

import orjson

from zbooks.sandbox.errors import ApiError, invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import FilterFactory
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.totals import TaxRate, compute_totals, to_decimal
from zbooks.sandbox.ledger.totals import bounded as totals_bounded

PRIVATE_PREFIX = "_"
LINE_ID = "line_item_id"

# Fields compute_totals derives; a client echoing them back must not override the math.
COMPUTED_LINE_FIELDS = (
    "item_total",
    "discount_amount",
    "tax_name",
    "tax_percentage",
    "tax_amount",
    "bcy_rate",
)

ADDRESS_DEFAULTS: dict[str, Any] = {
    "attention": "",
    "address": "",
    "street2": "",
    "city": "",
    "state": "",
    "state_code": "",
    "zip": "",
    "country": "",
    "fax": "",
    "phone": "",
}

LINE_DEFAULTS: dict[str, Any] = {
    "line_item_id": "",
    "item_id": "",
    "project_id": "",
    "project_name": "",
    "time_entry_ids": [],
    "location_id": "",
    "location_name": "",
    "item_type": "",
    "product_type": "goods",
    "expense_id": "",
    "expense_receipt_name": "",
    "sat_item_key_code": "",
    "unitkey_code": "",
    "name": "",
    "description": "",
    "item_order": 1,
    "bcy_rate": 0.0,
    "rate": 0.0,
    "quantity": 1.0,
    "unit": "",
    "discount_amount": 0.0,
    "discount": 0.0,
    "tags": [],
    "tax_id": "",
    "tds_tax_id": "",
    "tax_name": "",
    "tax_type": "tax",
    "tax_percentage": 0.0,
    "tax_amount": 0.0,
    "tax_treatment_code": "",
    "item_total": 0.0,
    "line_item_category": "",
    "account_id": "",
    "account_name": "",
    "hsn_or_sac": "",
    "item_custom_fields": [],
}

# Fields every line-item document shares (sales and purchase side alike).
COMMON_DEFAULTS: dict[str, Any] = {
    "reference_number": "",
    "date": "",
    "status": "draft",
    "currency_id": "",
    "currency_code": "",
    "currency_symbol": "",
    "exchange_rate": 1.0,
    "discount": 0.0,
    "discount_amount": 0.0,
    "is_discount_before_tax": True,
    "discount_type": "entity_level",
    "is_inclusive_tax": False,
    "is_pre_gst": False,
    "place_of_supply": "",
    "gst_no": "",
    "gst_treatment": "",
    "vat_treatment": "",
    "tax_treatment": "",
    "is_reverse_charge_applied": False,
    "line_items": [],
    "shipping_charge": 0.0,
    "adjustment": 0.0,
    "adjustment_description": "",
    "sub_total": 0.0,
    "tax_total": 0.0,
    "total": 0.0,
    "taxes": [],
    "price_precision": 2,
    "billing_address": ADDRESS_DEFAULTS,
    "shipping_address": ADDRESS_DEFAULTS,
    "notes": "",
    "terms": "",
    "custom_fields": [],
    "tags": [],
    "template_id": "",
    "template_name": "",
    "location_id": "",
    "location_name": "",
    "contact_persons_associated": [],
    "has_attachment": False,
    "attachment_name": "",
    "documents": [],
    "can_send_in_mail": True,
    "is_emailed": False,
    "created_time": "",
    "last_modified_time": "",
    "created_by_id": "",
}

# Body fields a client may set on any document (numbers, contact, status and money
# results are handled by the module itself).
COMMON_WRITABLE = frozenset(
    {
        "reference_number",
        "currency_id",
        "exchange_rate",
        "discount",
        "is_discount_before_tax",
        "discount_type",
        "is_inclusive_tax",
        "shipping_charge",
        "adjustment",
        "adjustment_description",
        "notes",
        "terms",
        "custom_fields",
        "tags",
        "template_id",
        "location_id",
        "salesperson_id",
        "salesperson_name",
        "project_id",
        "billing_address",
        "shipping_address",
        "place_of_supply",
        "gst_no",
        "gst_treatment",
        "vat_treatment",
        "tax_treatment",
        "is_reverse_charge_applied",
        "contact_persons",
    }
)


@dataclass(frozen=True)
class DocumentKind:
    """What differs between document modules; everything else is shared.

    ``auto_number`` False means the client always supplies the number (bills);
    ``unique_number_per_contact`` scopes uniqueness to the contact (a bill number is
    unique per vendor). ``defaults`` are the documented fields of the detail object.
    """

    module: str
    resource: str
    id_field: str
    number_field: str
    number_prefix: str = ""
    number_width: int = 6
    number_label: str = ""
    contact_field: str = "customer_id"
    contact_name_field: str = "customer_name"
    auto_number: bool = True
    unique_number_per_contact: bool = False
    defaults: Mapping[str, Any] = field(default_factory=lambda: COMMON_DEFAULTS)
    line_defaults: Mapping[str, Any] = field(default_factory=lambda: LINE_DEFAULTS)


# --- money -----------------------------------------------------------------------------
def dec(value: Any, field_name: str = "amount") -> Decimal:
    """A stored or submitted amount as Decimal (floats go through ``str`` to stay exact)."""
    return to_decimal(value, field_name)


def positive_amount(value: Any, field_name: str) -> Decimal:
    """A required amount greater than zero (400 ``Invalid value passed for <field>``)."""
    if value is None or value == "":
        raise invalid_value(field_name)
    amount = dec(value, field_name)
    if amount <= 0:
        raise invalid_value(field_name)
    return amount


# --- records ---------------------------------------------------------------------------
def fetch(ledger: Ledger, kind: DocumentKind, doc_id: str) -> dict[str, Any]:
    """The stored record, or 404 code 1002 ``<Resource> does not exist.``"""
    record = ledger.store.get(kind.module, str(doc_id))
    if record is None:
        raise not_found(kind.resource)
    return record


def save(ledger: Ledger, kind: DocumentKind, record: dict[str, Any]) -> None:
    ledger.store.update(kind.module, str(record[kind.id_field]), record, ledger.now())


def copy_writable(target: dict[str, Any], body: Mapping[str, Any], fields: Iterable[str]) -> None:
    """Copy the client-settable fields present in ``body`` (PUT leaves others unchanged);
    amounts that cannot be negative (or zero) are refused here, before they are stored."""
    for name in fields:
        if name in body:
            check_sign(name, body[name])
            target[name] = copy.deepcopy(body[name])


# Amounts no real document can hold below (or at) zero. UNCONFIRMED codes: 400 code 4,
# "Invalid value passed for <field>", Zoho's answer to other impossible values.
NON_NEGATIVE = frozenset({"bank_charges"})
POSITIVE = frozenset({"exchange_rate"})


def check_sign(name: str, value: Any) -> None:
    """400 code 4 for a negative bank charge, a zero or negative exchange rate..."""
    if value is None or value == "" or (name not in NON_NEGATIVE and name not in POSITIVE):
        return
    amount = to_decimal(value, name)
    if amount < 0 or (name in POSITIVE and amount == 0):
        raise invalid_value(name)


def normalise_discount(value: Any) -> Any:
    """Absolute discounts become numbers; percentages keep Zoho's string form with two
    decimals (``"10%"`` -> ``"10.00%"``, OBSERVED in live responses and webhook payloads)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        percent = to_decimal(value.strip()[:-1], "discount")
        if percent < 0 or percent > 100:
            raise invalid_value("discount")
        cents = percent.quantize(Decimal("0.01"))
        return f"{cents if cents == percent else percent}%"
    amount = dec(value, "discount")
    if amount < 0:
        raise invalid_value("discount")
    return float(amount)


# --- numbering -------------------------------------------------------------------------
def ensure_unique_number(
    ledger: Ledger,
    kind: DocumentKind,
    number: str,
    *,
    exclude_id: str | None = None,
    contact_id: str = "",
) -> None:
    """400 code 1001 ``<label> <number> already exists`` (code and wording UNCONFIRMED)."""
    filters = [Filter(kind.number_field, "eq", number)]
    if kind.unique_number_per_contact and contact_id:
        filters.append(Filter(kind.contact_field, "eq", contact_id))
    for other in ledger.store.query(kind.module, filters, per_page=2).records:
        if str(other.get(kind.id_field)) != str(exclude_id or ""):
            label = kind.number_label or f"{kind.resource} number"
            raise ApiError(400, 1001, f"{label} {number} already exists")


def _manual_key(ledger: Ledger, module: str) -> str:
    return f"manual-numbers:{ledger.org_id}:{module}"


def manual_numbers(ledger: Ledger, module: str) -> set[str]:
    """Numbers clients chose by hand that look like auto numbers (``INV-000042``)."""
    raw = ledger.db.get_meta(_manual_key(ledger, module))
    return set(json.loads(raw)) if raw else set()


def remember_number(ledger: Ledger, module: str, prefix: str, number: str) -> None:
    """Note a hand-chosen number the auto sequence could reach, so the sequence skips it
    without scanning every document for each new number."""
    if not number.startswith(prefix) or not number[len(prefix) :].isdigit():
        return
    with ledger.db.transaction():
        taken = manual_numbers(ledger, module)
        if number not in taken:
            taken.add(number)
            ledger.db.set_meta(_manual_key(ledger, module), json.dumps(sorted(taken)))


def next_number_in(ledger: Ledger, module: str, prefix: str, width: int) -> str:
    """The next auto number of a series, skipping numbers taken by hand."""
    taken = manual_numbers(ledger, module)
    while True:
        number = ledger.store.next_number(module, prefix, width)
        if number not in taken:
            return number


def next_free_number(ledger: Ledger, kind: DocumentKind) -> str:
    return next_number_in(ledger, kind.module, kind.number_prefix, kind.number_width)


def resolve_number(
    ledger: Ledger,
    kind: DocumentKind,
    supplied: Any,
    *,
    ignore_auto_number: bool,
    contact_id: str = "",
) -> str:
    """The number of a new document.

    With auto-numbering, a client-supplied number needs
    ``ignore_auto_number_generation=true``; without it Zoho rejects the request (facts
    §3.5). UNCONFIRMED code and wording: the facts give neither, so we answer Zoho's
    generic 400 code 4 "Invalid value passed for <number field>".
    """
    given = str(supplied or "").strip()
    if kind.auto_number and not ignore_auto_number:
        if given:
            raise invalid_value(kind.number_field)
        return next_free_number(ledger, kind)
    if not given:
        raise invalid_value(kind.number_field)
    if len(given) > 100:
        raise invalid_value(kind.number_field)
    ensure_unique_number(ledger, kind, given, contact_id=contact_id)
    if kind.auto_number:
        remember_number(ledger, kind.module, kind.number_prefix, given)
    return given


def renumber(ledger: Ledger, kind: DocumentKind, record: dict[str, Any], supplied: Any) -> None:
    """PUT may change the number (the UI allows it); it must stay unique."""
    given = str(supplied or "").strip()
    if not given or given == record.get(kind.number_field):
        return
    ensure_unique_number(
        ledger,
        kind,
        given,
        exclude_id=str(record[kind.id_field]),
        contact_id=str(record.get(kind.contact_field, "")),
    )
    record[kind.number_field] = given
    if kind.auto_number:
        remember_number(ledger, kind.module, kind.number_prefix, given)


# --- dates and terms -------------------------------------------------------------------
def parse_date(value: Any, field_name: str, default: str = "") -> str:
    """``yyyy-mm-dd`` or 400 ``Invalid value passed for <field>``; empty -> ``default``."""
    if value is None or value == "":
        return default
    try:
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        raise invalid_value(field_name) from None


def add_days(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def terms_label(days: int) -> str:
    return "Due on Receipt" if days == 0 else f"Net {days}"


def parse_terms(value: Any) -> int:
    """Payment terms in days, 0..100 (the 100-day cap is UNCONFIRMED)."""
    try:
        days = int(str(value).strip() or 0)
    except ValueError:
        raise invalid_value("payment_terms") from None
    if not 0 <= days <= 100:
        raise invalid_value("payment_terms")
    return days


def apply_terms(
    doc: dict[str, Any], body: Mapping[str, Any], contact: Mapping[str, Any], *, creating: bool
) -> None:
    """Set ``payment_terms``/``payment_terms_label``/``due_date``.

    Terms come from the body, else (on create) the contact; the due date is the body's,
    else ``date + terms``. On update the due date follows a changed date or terms.
    """
    if "payment_terms" in body and body["payment_terms"] not in (None, ""):
        days = parse_terms(body["payment_terms"])
    elif creating:
        days = max(int(dec(contact.get("payment_terms"), "payment_terms")), 0)
    else:
        days = max(int(dec(doc.get("payment_terms"), "payment_terms")), 0)
    doc["payment_terms"] = days
    label = body.get("payment_terms_label")
    if label:
        doc["payment_terms_label"] = str(label)
    elif creating or "payment_terms" in body:
        doc["payment_terms_label"] = (
            contact.get("payment_terms_label")
            if creating and "payment_terms" not in body and contact.get("payment_terms_label")
            else terms_label(days)
        )
    if body.get("due_date"):
        doc["due_date"] = parse_date(body["due_date"], "due_date")
        if doc["due_date"] < doc["date"]:
            raise invalid_value("due_date")
    elif creating or "date" in body or "payment_terms" in body:
        doc["due_date"] = add_days(doc["date"], days)


# --- contact context -------------------------------------------------------------------
def contact_fields(
    ledger: Ledger, kind: DocumentKind, contact: Mapping[str, Any]
) -> dict[str, Any]:
    """Fields a document copies from its contact and organization when created."""
    org = ledger.org
    code = contact.get("currency_code") or org.get("currency_code", "")
    fields: dict[str, Any] = {
        kind.contact_field: str(contact.get("contact_id", "")),
        kind.contact_name_field: contact.get("contact_name", ""),
        "currency_id": contact.get("currency_id") or org.get("currency_id", ""),
        "currency_code": code,
        "currency_symbol": contact.get("currency_symbol") or org.get("currency_symbol", "") or code,
        "price_precision": ledger.precision,
    }
    for key in ("billing_address", "shipping_address"):
        address = contact.get(key)
        if isinstance(address, Mapping):
            fields[key] = {**ADDRESS_DEFAULTS, **address}
    return fields


def associated_persons(contact: Mapping[str, Any], person_ids: Any) -> list[dict[str, Any]]:
    """``contact_persons_associated`` for the contact person ids a client selected."""
    if not isinstance(person_ids, list):
        return []
    wanted = {
        str(p.get("contact_person_id", "")) if isinstance(p, Mapping) else str(p)
        for p in person_ids
    }
    found = []
    for person in contact.get("contact_persons") or []:
        pid = str(person.get("contact_person_id", ""))
        if pid in wanted:
            first, last = person.get("first_name", ""), person.get("last_name", "")
            found.append(
                {
                    "contact_person_id": pid,
                    "contact_person_name": f"{first} {last}".strip(),
                    "first_name": first,
                    "last_name": last,
                    "contact_person_email": person.get("email", ""),
                    "phone": person.get("phone", ""),
                    "mobile": person.get("mobile", ""),
                    "communication_preference": {
                        "is_email_enabled": True,
                        "is_sms_enabled": False,
                        "is_whatsapp_enabled": False,
                    },
                }
            )
    return found


# --- line items ------------------------------------------------------------------------
def _fill_from_item(ledger: Ledger, line: dict[str, Any]) -> dict[str, Any]:
    from zbooks.sandbox.ledger.items import line_defaults

    return dict(line_defaults(ledger, line))


def build_lines(
    ledger: Ledger,
    raw_lines: Any,
    *,
    previous: Sequence[Mapping[str, Any]] = (),
    require_lines: bool = True,
) -> list[dict[str, Any]]:
    """The new line set of a document (create, or PUT which REPLACES the set).

    A line echoing the ``line_item_id`` of a current line keeps that id and its other
    stored values unless given again; any other line gets a new id; current lines not
    echoed are dropped. A line needs an ``item_id`` (the item fills name, rate, tax...)
    or a ``name`` and a ``rate``.
    """
    if not isinstance(raw_lines, list) or (require_lines and not raw_lines):
        raise invalid_value("line_items")
    by_id = {str(p.get(LINE_ID, "")): p for p in previous if p.get(LINE_ID)}
    store = ledger.store
    lines: list[dict[str, Any]] = []
    used: set[str] = set()
    for index, raw in enumerate(raw_lines):
        if not isinstance(raw, Mapping):
            raise invalid_value("line_items")
        given_id = str(raw.get(LINE_ID) or "")
        if given_id in by_id and given_id not in used:
            line = {k: v for k, v in by_id[given_id].items() if k not in COMPUTED_LINE_FIELDS}
            line.update({k: copy.deepcopy(v) for k, v in raw.items()})
            line[LINE_ID] = given_id
        else:
            line = {k: copy.deepcopy(v) for k, v in raw.items()}
            line[LINE_ID] = store.new_id()
        used.add(line[LINE_ID])
        for computed in COMPUTED_LINE_FIELDS:
            line.pop(computed, None)
        if line.get("item_id"):
            line["item_id"] = str(line["item_id"])
            line = _fill_from_item(ledger, line)
        elif not str(line.get("name") or "").strip():
            raise rule_violation("Every line item needs an item_id, or a name and a rate.")
        elif line.get("rate") in (None, ""):
            raise invalid_value("rate")
        line["item_order"] = index + 1
        if line.get("tax_id") is None:
            line["tax_id"] = ""
        line["tax_id"] = str(line["tax_id"])
        if "discount" in line and line["discount"] not in (None, ""):
            line["discount"] = normalise_discount(line["discount"])
        quantity = dec(line.get("quantity", 1) if line.get("quantity") != "" else 1, "quantity")
        if quantity < 0:
            raise invalid_value("quantity")
        if dec(line.get("rate"), "rate") < 0:
            raise invalid_value("rate")
        lines.append(line)
    return lines


def compute_money(
    ledger: Ledger,
    doc: dict[str, Any],
    *,
    rates: Mapping[str, TaxRate] | None = None,
    precision: int | None = None,
) -> Decimal:
    """Run ``compute_totals`` and merge every derived money field into ``doc``.

    ``rates``/``precision`` may be passed in by bulk seeders so 100,000 documents do
    not re-read the tax table each. Returns the document total.
    """
    if rates is None:
        from zbooks.sandbox.ledger.taxes import tax_rates

        rates = tax_rates(ledger)
    places = ledger.precision if precision is None else precision
    if doc.get("discount") not in (None, "", 0, 0.0, "0") and not doc.get("discount_type"):
        doc["discount_type"] = "entity_level"
    totals = compute_totals(doc, rates, places)
    doc.update(totals.as_fields())
    rate_factor = dec(doc.get("exchange_rate") or 1, "exchange_rate")
    if rate_factor <= 0:
        raise invalid_value("exchange_rate")
    for line in doc["line_items"]:
        if not line.get("tax_id"):
            line["tax_name"] = ""
            line["tax_percentage"] = 0.0
            line["tax_amount"] = 0.0
        line["bcy_rate"] = float(dec(line["rate"]) * rate_factor)
    doc["price_precision"] = places
    return totals.total


# --- balances and statuses ---------------------------------------------------------------
# Submitted for approval, or approved but not yet issued (``ledger.approvals``): like a
# draft, such a document neither settles nor takes payments until it is sent/opened.
AWAITING_APPROVAL = ("pending_approval", "approved")
NOT_ISSUED = ("draft", *AWAITING_APPROVAL)


def settle(
    doc: dict[str, Any],
    *,
    unpaid_status: str,
    frozen: Iterable[str] = (*NOT_ISSUED, "void"),
    precision: int = 2,
) -> None:
    """Recompute ``balance`` and the settlement status after any money change.

    ``balance = total - payment_made - credits_applied - write_off_amount -
    tax_amount_withheld``. Statuses in ``frozen`` (not yet issued, void) never move here;
    others become ``paid`` at zero balance, ``partially_paid`` once something is
    settled, else ``unpaid_status`` (``sent`` for invoices, ``open`` for bills).
    """
    settled = (
        dec(doc.get("payment_made"))
        + dec(doc.get("credits_applied"))
        + dec(doc.get("write_off_amount"))
        + dec(doc.get("tax_amount_withheld"))
    )
    total = dec(doc.get("total"))
    balance = total - settled
    quantum = Decimal(1).scaleb(-precision)
    doc["balance"] = float(balance.quantize(quantum))
    if doc.get("status") in set(frozen):
        return
    if balance <= 0:
        doc["status"] = "paid"  # a zero-total document marked sent reads paid (UNCONFIRMED)
    elif settled > 0:
        doc["status"] = "partially_paid"
    else:
        doc["status"] = unpaid_status


def read_status(
    doc: Mapping[str, Any],
    today: str,
    *,
    open_statuses: Collection[str],
    late_status: str,
    date_field: str,
    needs_balance: bool = True,
) -> str:
    """The status a client sees NOW: e.g. a sent invoice whose due date has passed with a
    balance left reads ``overdue``. Derived at read time from the sandbox clock so that
    advancing the clock is enough; list filters use ``late_filters`` to agree."""
    status = str(doc.get("status", ""))
    deadline = str(doc.get(date_field) or "")
    if not deadline or deadline >= today or status not in open_statuses:
        return status
    if needs_balance and dec(doc.get("balance")) <= 0:
        return status
    return late_status


def late_filters(
    today: str, *, open_statuses: Sequence[str], date_field: str, needs_balance: bool = True
) -> list[Filter]:
    """SQL twin of ``read_status``: records that read as late (overdue/expired) today."""
    filters = [
        Filter("status", "in", list(open_statuses)),
        Filter(date_field, "ne", ""),
        Filter(date_field, "lt", today),
    ]
    if needs_balance:
        filters.append(Filter("balance", "gt", 0))
    return filters


def on_time_filters(statuses: Sequence[str], today: str, *, date_field: str) -> list[Filter]:
    """Records whose stored status is one of ``statuses`` and that do NOT read as late.

    Open documents always carry a balance, so "deadline >= today" is exactly "not late";
    a module whose deadline may be empty stores a sortable stand-in (``9999-12-31``).
    """
    return [Filter("status", "in", list(statuses)), Filter(date_field, "ge", today)]


def late(
    open_statuses: Sequence[str], *, date_field: str, needs_balance: bool = True
) -> FilterFactory:
    """The list filter for "reads as late today" (overdue, expired), by the sandbox clock."""
    return lambda ledger: late_filters(
        ledger.today(),
        open_statuses=open_statuses,
        date_field=date_field,
        needs_balance=needs_balance,
    )


def on_time(*statuses: str, date_field: str) -> FilterFactory:
    """The list filter for "stored status is one of ``statuses`` and not late today"."""
    return lambda ledger: on_time_filters(statuses, ledger.today(), date_field=date_field)


# --- presentation ----------------------------------------------------------------------
def strip_private(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith(PRIVATE_PREFIX)}


def with_defaults(defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``{**defaults, **values}`` where a default list/dict is copied, never shared.

    This is on every read's hot path: copying only the (few, small) mutable defaults the
    record lacks is ~10x cheaper than deep-copying all of them.
    """
    merged = {**defaults, **values}
    for key, empty in _mutable_keys(defaults):
        if key not in values:
            merged[key] = [] if empty is list else {} if empty is dict else _fresh(empty)
    return merged


def _fresh(value: Any) -> Any:
    """A private copy of a JSON-shaped default (dicts, lists, scalars): several times
    cheaper than ``copy.deepcopy``, which reads spend on defaults like
    ``payment_options``."""
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    return value


_MUTABLE_KEYS: dict[int, tuple[tuple[str, Any], ...]] = {}


def _mutable_keys(defaults: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """(key, ``list``/``dict`` for an empty default, else the default to deep-copy) for
    each list or dict default; cached per module-level defaults mapping."""
    found = _MUTABLE_KEYS.get(id(defaults))
    if found is None:
        found = tuple(
            (k, v if v else type(v)) for k, v in defaults.items() if isinstance(v, dict | list)
        )
        _MUTABLE_KEYS[id(defaults)] = found
    return found


_ADDRESS_KEYS = ("billing_address", "shipping_address")


def present(kind: DocumentKind, record: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """The detail object: documented defaults, then the stored values, then overrides."""
    shaped = _public_with_defaults(kind.defaults, record, rebuilt=True)
    shaped.update(overrides)
    for key in _ADDRESS_KEYS:
        if isinstance(shaped.get(key), Mapping):
            shaped[key] = {**ADDRESS_DEFAULTS, **shaped[key]}
    line_defaults = kind.line_defaults
    shaped["line_items"] = [
        _public_with_defaults(line_defaults, line) for line in record.get("line_items") or []
    ]
    return shaped


def _public_with_defaults(
    defaults: Mapping[str, Any], values: Mapping[str, Any], *, rebuilt: bool = False
) -> dict[str, Any]:
    """``with_defaults(defaults, strip_private(values))`` in one pass, the hot half of
    every GET by id. Merging first and then dropping the few private keys beats
    filtering every key; with ``rebuilt``, defaults that ``present`` replaces anyway
    (the line list, and address dicts it re-merges) are not copied first.

    Which keys to restore, drop and fill depends only on the defaults and on the
    record's keys, and stored records come in a handful of shapes: that plan is worked
    out once per shape (``_plan``) instead of testing every key of every read."""
    merged = {**defaults, **values}
    plan = _plan(defaults, values, rebuilt)
    for key in plan.restore:
        merged[key] = defaults[key]  # as strip-then-merge: the default shows through
    for key in plan.drop:
        del merged[key]
    for key, make in plan.fill:
        merged[key] = make()
    return merged


@dataclass(frozen=True)
class _MergePlan:
    defaults: Mapping[str, Any]  # held so that its id cannot be reused while cached
    restore: tuple[str, ...]
    drop: tuple[str, ...]
    fill: tuple[tuple[str, Callable[[], Any]], ...]  # (key, maker of a private copy)


def _copier(empty: Any) -> Callable[[], Any]:
    """A maker of fresh copies of a default: ``list``/``dict`` for empty ones, else
    parsing its JSON (several times cheaper than walking it in Python) when the default
    is plain JSON, else ``_fresh``."""
    if empty is list or empty is dict:
        return cast("Callable[[], Any]", empty)
    if _plain_json(empty):
        try:
            return functools.partial(orjson.loads, orjson.dumps(empty))
        except orjson.JSONEncodeError:  # an integer beyond 64 bits
            pass
    return functools.partial(_fresh, empty)


def _plain_json(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    if isinstance(value, float):
        return type(value) is float and math.isfinite(value)  # orjson writes NaN as null
    return value is None or type(value) in (str, int, bool)


_PLANS: dict[tuple[int, tuple[str, ...], bool], _MergePlan] = {}
_MAX_PLANS = 4096


def _plan(defaults: Mapping[str, Any], values: Mapping[str, Any], rebuilt: bool) -> _MergePlan:
    shape = tuple(values)
    key = (id(defaults), shape, rebuilt)
    plan = _PLANS.get(key)
    if plan is not None and plan.defaults is defaults:
        return plan
    private = [k for k in shape if k.startswith(PRIVATE_PREFIX)]
    fill = []
    for name, empty in _mutable_keys(defaults):
        if name in values and not name.startswith(PRIVATE_PREFIX):
            continue
        if rebuilt and (
            name == "line_items" or (name in _ADDRESS_KEYS and isinstance(defaults[name], Mapping))
        ):
            continue
        fill.append((name, _copier(empty)))
    plan = _MergePlan(
        defaults=defaults,
        restore=tuple(k for k in private if k in defaults),
        drop=tuple(k for k in private if k not in defaults),
        fill=tuple(fill),
    )
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


def present_row(
    record: Mapping[str, Any], fields: Mapping[str, Any], **overrides: Any
) -> dict[str, Any]:
    """A list row: exactly the documented row fields (defaults where absent). Rows are
    built from a freshly parsed record, so its values need no copying; only a list or
    dict default the record lacks is copied (a page renders 200 rows: one comprehension
    and a pass over the few mutable defaults cost a third of a per-field loop)."""
    # ``{**fields, **record}`` minus the record's other keys is ``{name:
    # record.get(name, default)}`` in the fields' order, built in C: a projected row
    # (``ledger.rows``) has no other keys at all, so nothing is left to drop.
    row = {**fields, **record}
    if len(row) > len(fields):
        for key in row.keys() - fields.keys():
            del row[key]
    for key, empty in _mutable_keys(fields):
        if key not in record:
            row[key] = [] if empty is list else {} if empty is dict else _fresh(empty)
    row.update(overrides)
    return row


def add_history(
    record: dict[str, Any],
    description: str,
    *,
    ledger: Ledger,
    operation: str = "",
    commented_by: str = "System",
) -> None:
    """Append a system comment to the document's history (what Zoho shows under
    Comments & History: created, sent, emailed, payment received, voided ...)."""
    now = ledger.now()
    history = record.setdefault("_comments", [])
    history.append(
        {
            "comment_id": ledger.store.new_id(),
            "description": description,
            "commented_by_id": "",
            "commented_by": commented_by,
            "comment_type": "system",
            "date": now[:10],
            "date_description": "",
            "time": now[11:16],
            "operation_type": operation,
            "transaction_id": "",
            "transaction_type": "",
        }
    )


# --- conversions -----------------------------------------------------------------------
CARRIED_FIELDS = (
    "reference_number",
    "currency_id",
    "exchange_rate",
    "discount",
    "is_discount_before_tax",
    "discount_type",
    "is_inclusive_tax",
    "shipping_charge",
    "adjustment",
    "adjustment_description",
    "notes",
    "terms",
    "salesperson_id",
    "salesperson_name",
    "location_id",
    "billing_address",
    "shipping_address",
    "place_of_supply",
    "gst_treatment",
    "tax_treatment",
)


def carry_over(source: Mapping[str, Any], contact_field: str = "customer_id") -> dict[str, Any]:
    """A create body copying a document into another kind (estimate -> invoice,
    sales order -> invoice, purchase order -> bill): same contact, money settings and
    lines; lines get new ids and their derived fields are recomputed."""
    body: dict[str, Any] = {contact_field: source.get(contact_field, "")}
    for name in CARRIED_FIELDS:
        if name in source:
            body[name] = copy.deepcopy(source[name])
    body["line_items"] = [
        {
            k: copy.deepcopy(v)
            for k, v in line.items()
            if k != LINE_ID and k not in COMPUTED_LINE_FIELDS and not k.startswith(PRIVATE_PREFIX)
        }
        for line in source.get("line_items") or []
    ]
    return body


# --- printable layout ------------------------------------------------------------------
def printable_lines(
    kind: DocumentKind,
    doc: Mapping[str, Any],
    *,
    title: str,
    org_name: str,
    dates: Sequence[tuple[str, str]] = (),
    amounts: Sequence[tuple[str, str]] = (),
) -> list[str]:
    """The text of a document's PDF: header, parties, line table, totals.

    ``dates``/``amounts`` are ``(label, field)`` pairs the kind wants printed beyond the
    common ones (due date, balance due, ...).
    """
    code = str(doc.get("currency_code", ""))

    def money(value: Any) -> str:
        return f"{code} {dec(value):,.2f}".strip()

    lines = [
        org_name,
        "",
        title.upper(),
        f"{title} #: {doc.get(kind.number_field, '')}",
        f"Status: {str(doc.get('status', '')).replace('_', ' ').title()}",
        f"Date: {doc.get('date', '')}",
    ]
    lines += [f"{label}: {doc.get(name, '')}" for label, name in dates if doc.get(name)]
    if doc.get("reference_number"):
        lines.append(f"Reference: {doc['reference_number']}")
    lines += ["", f"Bill To: {doc.get(kind.contact_name_field, '')}", ""]
    header = f"{'#':>3}  {'Item':<36}{'Qty':>9}{'Rate':>13}{'Amount':>15}"
    lines += [header, "-" * len(header)]
    for number, line in enumerate(doc.get("line_items") or [], start=1):
        name = str(line.get("name") or line.get("description") or "")
        lines.append(
            f"{number:>3}  {name[:35]:<36}{dec(line.get('quantity')):>9,.2f}"
            f"{dec(line.get('rate')):>13,.2f}{dec(line.get('item_total')):>15,.2f}"
        )
        if line.get("description") and line.get("name"):
            lines.append(f"     {str(line['description'])[:70]}")
    lines.append("-" * len(header))
    width = len(header)
    summary = [("Sub Total", doc.get("sub_total"))]
    if dec(doc.get("discount_amount")):
        summary.append(("Discount", -dec(doc.get("discount_amount"))))
    summary += [
        (str(t.get("tax_name", "Tax")), t.get("tax_amount")) for t in doc.get("taxes") or []
    ]
    if dec(doc.get("shipping_charge")):
        summary.append(("Shipping", doc.get("shipping_charge")))
    if dec(doc.get("adjustment")):
        summary.append(("Adjustment", doc.get("adjustment")))
    summary.append(("Total", doc.get("total")))
    summary += [(label, doc.get(name)) for label, name in amounts]
    for label, value in summary:
        text = f"{label}: {money(value)}"
        lines.append(f"{text:>{width}}")
    if doc.get("notes"):
        lines += ["", "Notes:", str(doc["notes"])]
    if doc.get("terms"):
        lines += ["", "Terms & Conditions:", str(doc["terms"])]
    return lines


# --- bulk seeding ----------------------------------------------------------------------
def quantize(value: Decimal | float | int | str, precision: int) -> float:
    """Half-up rounding to ``precision`` as a JSON number, without reading the org."""
    amount = totals_bounded(Decimal(str(value)), "amount")
    return float(amount.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP))


class SeedContext:
    """What bulk seeders need, read ONCE: contacts of one type, items, tax rates, org
    settings. Everything per record is computed in memory so 100,000 documents are a
    matter of ``compute_totals`` plus a few ``insert_many`` batches.

    When the organization has no contacts or items yet, a few are created through their
    own modules' seeders so that documents reference real records.
    """

    def __init__(
        self, ledger: Ledger, rng: random.Random, *, contact_type: str = "customer"
    ) -> None:
        self.ledger = ledger
        self.rng = rng
        self.contacts = self._contacts(contact_type)
        self.items = self._items()
        from zbooks.sandbox.ledger.taxes import tax_rates

        self.rates = tax_rates(ledger)
        self.tax_ids = [t for t, rate in self.rates.items() if not rate.members][:4]
        org = ledger.org
        self.org = org
        self.precision = int(org.get("price_precision", 2))
        now = ledger.clock.now()
        self.today = now.date()
        self.offset = now.strftime("%z")
        self._fields: dict[tuple[str, str], dict[str, Any]] = {}
        self.ids = IdPool(ledger)

    def _contacts(self, contact_type: str) -> list[dict[str, Any]]:
        store = self.ledger.store
        wanted = [Filter("contact_type", "eq", contact_type)]
        found = store.find("contacts", wanted)
        if not found:
            from zbooks.sandbox.ledger.contacts import create_contact, seed_contacts

            seed_contacts(self.ledger, 12, self.rng)
            found = store.find("contacts", wanted)
            if not found:
                create_contact(
                    self.ledger,
                    {"contact_name": f"Seed {contact_type.title()}", "contact_type": contact_type},
                )
                found = store.find("contacts", wanted)
        return found

    def _items(self) -> list[dict[str, Any]]:
        store = self.ledger.store
        found = store.find("items", [Filter("status", "eq", "active")])
        if not found:
            from zbooks.sandbox.ledger.items import seed_items

            seed_items(self.ledger, 8, self.rng)
            found = store.find("items", [Filter("status", "eq", "active")])
        return found

    def contact(self) -> dict[str, Any]:
        return self.rng.choice(self.contacts)

    def contact_fields(self, kind: DocumentKind, contact: Mapping[str, Any]) -> dict[str, Any]:
        key = (kind.contact_field, str(contact.get("contact_id")))
        if key not in self._fields:
            self._fields[key] = contact_fields(self.ledger, kind, contact)
        cached = self._fields[key]
        return {k: dict(v) if isinstance(v, dict) else v for k, v in cached.items()}

    def day(self, max_age_days: int) -> str:
        return (self.today - timedelta(days=self.rng.randint(0, max_age_days))).isoformat()

    def stamp(self, day: str) -> str:
        """A creation timestamp on ``day`` (never after now)."""
        moment = f"{day}T{self.rng.randint(8, 18):02d}:{self.rng.randint(0, 59):02d}:00"
        if day == self.today.isoformat():
            moment = f"{day}T00:00:00"
        return moment + self.offset

    def lines(self, line_ids: Iterable[str], count: int) -> list[dict[str, Any]]:
        """``count`` realistic lines (items when there are any, else service lines)."""
        rng = self.rng
        lines = []
        for line_id, _ in zip(line_ids, range(count), strict=False):
            line: dict[str, Any] = {"line_item_id": line_id}
            if self.items and rng.random() < 0.85:
                item = rng.choice(self.items)
                line.update(
                    item_id=str(item.get("item_id", "")),
                    name=item.get("name", ""),
                    description=item.get("description", ""),
                    rate=item.get("rate", 0.0),
                    unit=item.get("unit", ""),
                    product_type=item.get("product_type", "goods"),
                    tax_id=str(item.get("tax_id") or ""),
                )
            else:
                line.update(
                    name=rng.choice(("Consulting", "Installation", "Support plan", "Training")),
                    rate=float(rng.choice((45, 60, 75, 90, 120, 150))),
                    unit="hrs",
                    product_type="service",
                    tax_id=rng.choice(self.tax_ids) if self.tax_ids and rng.random() < 0.5 else "",
                )
            line["quantity"] = float(rng.choice((1, 1, 1, 2, 3, 5, 10)))
            if rng.random() < 0.1:
                line["discount"] = rng.choice(("5.00%", "10.00%", 5.0))
            if line["tax_id"] and line["tax_id"] not in self.rates:
                line["tax_id"] = ""
            lines.append(line)
        return lines

    def money(self, doc: dict[str, Any]) -> Decimal:
        return compute_money(self.ledger, doc, rates=self.rates, precision=self.precision)


def reserve_ids(ledger: Ledger, count: int) -> list[str]:
    """``count`` fresh record ids, exactly as ``store.new_id()`` would hand them out."""
    return ledger.store.reserve_ids(count)


class IdPool:
    """Record ids for bulk seeding, reserved a block at a time."""

    def __init__(self, ledger: Ledger, block: int = 4096) -> None:
        self.ledger = ledger
        self.block = block
        self._ids: list[str] = []

    def take(self, count: int = 1) -> list[str]:
        while len(self._ids) < count:
            self._ids.extend(reserve_ids(self.ledger, max(self.block, count)))
        taken, self._ids = self._ids[:count], self._ids[count:]
        return taken

    def one(self) -> str:
        return self.take(1)[0]


def batches(total: int, size: int = 2000) -> Iterable[range]:
    for start in range(0, total, size):
        yield range(start, min(total, start + size))


class NumberSeries:
    """Auto numbers for bulk seeding.

    Numbers taken by hand are read once (see ``remember_number``) instead of one lookup
    per new document, which would make seeding quadratic. Values come from the store's
    own counter one at a time (cheap inside the seeder's batch transaction), so the
    sequence never has gaps and documents created later through the API continue it.
    """

    def __init__(
        self, ledger: Ledger, module: str, number_field: str, prefix: str, width: int
    ) -> None:
        self.store = ledger.store
        self.module = module
        self.number_field = number_field
        self.prefix = prefix
        self.width = width
        self.taken = manual_numbers(ledger, module)

    @classmethod
    def of(cls, ledger: Ledger, kind: DocumentKind) -> NumberSeries:
        return cls(ledger, kind.module, kind.number_field, kind.number_prefix, kind.number_width)

    def next(self) -> str:
        while True:
            number = self.store.next_number(self.module, self.prefix, self.width)
            if number not in self.taken:
                return number

    def close(self) -> None:
        """Nothing to release (kept so callers can treat a series as a resource)."""
