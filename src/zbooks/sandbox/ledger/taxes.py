"""Taxes and tax groups of an organization, and the rate table documents compute with.

Taxes and tax groups share the ``taxes`` module (a group is a record whose
``tax_type`` is ``tax_group``) because Zoho lists them together under
``GET /settings/taxes`` and documents reference both through one ``tax_id`` field.
A group stores only its member ids; its percentage is always derived from the current
member taxes, so editing a member changes every group that contains it.

``tax_rates`` is the single place other modules read rates from; it reads the store
each time, so there is no cache to invalidate.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.totals import TaxRate, to_decimal

MODULE = "taxes"
GROUP = "tax_group"
TAX_TYPES = ("tax", "compound_tax")

# Documents whose line_items may reference items and taxes (delete protection).
DOCUMENT_MODULES = (
    "invoices",
    "estimates",
    "salesorders",
    "creditnotes",
    "bills",
    "purchaseorders",
    "vendorcredits",
    "recurringinvoices",
)

_TAX_DEFAULTS: dict[str, Any] = {
    "tax_factor": "rate",
    "tax_specific_type": "",
    "tax_authority_id": "",
    "tax_authority_name": "",
    "is_value_added": False,
    "is_default_tax": False,
    "is_editable": True,
    "output_tax_account_name": "",
    "purchase_tax_account_name": "",
    "tax_account_id": "",
    "purchase_tax_account_id": "",
    "tds_payable_account_id": "",
    "country": "",
    "country_code": "",
    "purchase_tax_expense_account_id": "",
    "status": "active",
}
_TEXT_FIELDS = (
    "tax_factor",
    "tax_specific_type",
    "tax_authority_id",
    "tax_authority_name",
    "country_code",
    "purchase_tax_expense_account_id",
)
_BOOL_FIELDS = ("is_value_added", "is_editable")


# helpers shared by the master-data modules -------------------------------------------
def name_taken(
    ledger: Ledger, module: str, field: str, name: str, exclude_id: str = "", id_field: str = ""
) -> bool:
    """True when another record of ``module`` has ``field`` equal to ``name`` ignoring
    case (Zoho's names are unique case-insensitively; UNCONFIRMED for every module)."""
    wanted = name.strip().casefold()
    for record in ledger.store.find(module, [Filter(field, "startswith", name.strip())]):
        other = str(record.get(id_field, "")) if id_field else ""
        if str(record.get(field, "")).strip().casefold() == wanted and other != exclude_id:
            return True
    return False


def lines_reference(ledger: Ledger, field: str, value: str) -> bool:
    """True when any document line (``line_items[].<field>``) of the organization
    carries ``value``. One SQL query over every document module via ``json_each``."""
    marks = ",".join("?" * len(DOCUMENT_MODULES))
    sql = (
        "SELECT 1 FROM records r, json_each(r.data, '$.line_items') li "
        f"WHERE r.org_id=? AND r.module IN ({marks}) "
        "AND json_extract(li.value, ?) = ? LIMIT 1"
    )
    with ledger.db.read() as conn:
        row = conn.execute(
            sql, (ledger.org_id, *DOCUMENT_MODULES, f"$.{field}", str(value))
        ).fetchone()
    return row is not None


def text_value(body: dict[str, Any], field: str, limit: int = 0) -> str:
    """A string field of a request body; numbers are accepted and stringified."""
    from zbooks.sandbox.errors import too_long

    value = body.get(field, "")
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid_value(field)
    text = str(value)
    if limit and len(text) > limit:
        raise too_long(field, limit)
    return text


def bool_value(body: dict[str, Any], field: str) -> bool:
    value = body.get(field)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid_value(field)


# rates ------------------------------------------------------------------------------
def _rate_of(tax: dict[str, Any]) -> TaxRate:
    return TaxRate(
        tax_id=str(tax["tax_id"]),
        tax_name=str(tax.get("tax_name", "")),
        percentage=to_decimal(tax.get("tax_percentage", 0), "tax_percentage"),
        compound=tax.get("tax_type") == "compound_tax",
    )


def tax_rates(ledger: Ledger) -> dict[str, TaxRate]:
    """Every tax and tax group of the organization keyed by ``tax_id``/``tax_group_id``.

    A group's ``members`` are its member taxes (read from the current tax records, so a
    changed member percentage changes the group too); its percentage is their sum.
    """
    rates: dict[str, TaxRate] = {}
    groups: list[dict[str, Any]] = []
    for tax in ledger.store.find(MODULE, []):
        if tax.get("tax_type") == GROUP:
            groups.append(tax)
        else:
            rate = _rate_of(tax)
            rates[rate.tax_id] = rate
    for group in groups:
        members = tuple(rates[m] for m in _member_ids(group) if m in rates)
        group_id = str(group["tax_id"])
        rates[group_id] = TaxRate(
            tax_id=group_id,
            tax_name=str(group.get("tax_name", "")),
            percentage=sum((m.percentage for m in members), Decimal(0)),
            members=members,
        )
    return rates


def _member_ids(group: dict[str, Any]) -> list[str]:
    return [str(t) for t in group.get("taxes") or []]


# taxes ------------------------------------------------------------------------------
def get_tax(ledger: Ledger, tax_id: str) -> dict[str, Any]:
    """A tax or tax group record, or 404 ``Tax does not exist.``"""
    record = ledger.store.get(MODULE, str(tax_id))
    if record is None:
        raise not_found("Tax")
    return record


def _percentage(body: dict[str, Any]) -> float:
    value = body.get("tax_percentage")
    if isinstance(value, bool) or value is None or value == "":
        raise invalid_value("tax_percentage")
    percentage = to_decimal(value, "tax_percentage")
    if percentage < 0 or percentage > 100:
        raise invalid_value("tax_percentage")
    return float(percentage)


def _apply_tax_fields(ledger: Ledger, body: dict[str, Any], record: dict[str, Any]) -> None:
    if "tax_name" in body or "tax_name" not in record:
        name = text_value(body, "tax_name", 50).strip()
        if not name:
            raise invalid_value("tax_name")
        if name_taken(ledger, MODULE, "tax_name", name, record.get("tax_id", ""), "tax_id"):
            # UNCONFIRMED code and wording for a duplicate tax name.
            raise rule_violation(f'The tax "{name}" already exists.', code=1001)
        record["tax_name"] = name
    if "tax_percentage" in body or "tax_percentage" not in record:
        record["tax_percentage"] = _percentage(body)
    if "tax_type" in body or "tax_type" not in record:
        tax_type = body.get("tax_type") or "tax"
        if tax_type not in TAX_TYPES:
            raise invalid_value("tax_type")
        record["tax_type"] = tax_type
    for field in _TEXT_FIELDS:
        if field in body:
            record[field] = text_value(body, field)
    for field in _BOOL_FIELDS:
        if field in body:
            record[field] = bool_value(body, field)


def create_tax(ledger: Ledger, body: dict[str, Any]) -> dict[str, Any]:
    """Create a tax (``tax`` or ``compound_tax``) from ``tax_name`` and ``tax_percentage``."""
    with ledger.db.transaction():
        record: dict[str, Any] = {"tax_id": ledger.store.new_id(), **_TAX_DEFAULTS}
        _apply_tax_fields(ledger, body, record)
        ledger.store.insert(MODULE, record["tax_id"], record, ledger.now())
    return record


def update_tax(ledger: Ledger, tax_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Partial update; groups containing the tax follow automatically (derived rate)."""
    with ledger.db.transaction():
        record = get_tax(ledger, tax_id)
        if record.get("tax_type") == GROUP:
            raise not_found("Tax")
        _apply_tax_fields(ledger, body, record)
        ledger.store.update(MODULE, record["tax_id"], record, ledger.now())
    return record


def _in_use(ledger: Ledger, tax_id: str) -> str:
    """Why a tax or group cannot be deleted, or "" when it can."""
    for record in ledger.store.find(MODULE, [Filter("tax_type", "eq", GROUP)]):
        if tax_id in _member_ids(record):
            return "This tax is associated with a tax group and cannot be deleted."
    if ledger.store.count("items", [Filter("tax_id", "eq", tax_id)]):
        return "This tax is associated with items and cannot be deleted."
    if ledger.store.count("contacts", [Filter("tax_id", "eq", tax_id)]):
        return "This tax is associated with contacts and cannot be deleted."
    if lines_reference(ledger, "tax_id", tax_id):
        return "This tax is associated with transactions and cannot be deleted."
    return ""


def delete_tax(ledger: Ledger, tax_id: str) -> None:
    """Delete a tax or group unless something still uses it (UNCONFIRMED code 4)."""
    with ledger.db.transaction():
        record = get_tax(ledger, tax_id)
        reason = _in_use(ledger, record["tax_id"])
        if reason:
            raise rule_violation(reason)
        ledger.store.delete(MODULE, record["tax_id"])


def present_tax(ledger: Ledger, record: dict[str, Any]) -> dict[str, Any]:
    """A tax row (list and single); a group shows its derived percentage."""
    row = dict(record)
    if record.get("tax_type") == GROUP:
        rate = tax_rates(ledger).get(str(record["tax_id"]))
        row["tax_percentage"] = float(rate.percentage) if rate else 0.0
        row.pop("taxes", None)
    return row


# tax groups -------------------------------------------------------------------------
def _group_members(ledger: Ledger, body: dict[str, Any]) -> list[str]:
    raw = body.get("taxes")
    if isinstance(raw, str):
        ids = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list):
        ids = [str(t.get("tax_id", "") if isinstance(t, dict) else t).strip() for t in raw]
    else:
        raise invalid_value("taxes")
    if not ids or len(set(ids)) != len(ids):
        raise invalid_value("taxes")
    for member_id in ids:
        member = ledger.store.get(MODULE, member_id)
        if member is None or member.get("tax_type") == GROUP:
            raise invalid_value("taxes")
    return ids


def get_tax_group(ledger: Ledger, group_id: str) -> dict[str, Any]:
    record = ledger.store.get(MODULE, str(group_id))
    if record is None or record.get("tax_type") != GROUP:
        raise not_found("Tax group")
    return record


def _apply_group_fields(ledger: Ledger, body: dict[str, Any], record: dict[str, Any]) -> None:
    if "tax_group_name" in body or "tax_name" not in record:
        name = text_value(body, "tax_group_name", 50).strip()
        if not name:
            raise invalid_value("tax_group_name")
        if name_taken(ledger, MODULE, "tax_name", name, record["tax_id"], "tax_id"):
            raise rule_violation(f'The tax "{name}" already exists.', code=1001)
        record["tax_name"] = name
        record["tax_group_name"] = name
    if "taxes" in body or "taxes" not in record:
        record["taxes"] = _group_members(ledger, body)


def create_tax_group(ledger: Ledger, body: dict[str, Any]) -> dict[str, Any]:
    """A group from ``tax_group_name`` and ``taxes`` (comma-separated member tax ids)."""
    with ledger.db.transaction():
        group_id = ledger.store.new_id()
        record: dict[str, Any] = {
            "tax_id": group_id,
            "tax_group_id": group_id,
            "tax_type": GROUP,
            **{k: v for k, v in _TAX_DEFAULTS.items() if k != "tax_factor"},
        }
        _apply_group_fields(ledger, body, record)
        ledger.store.insert(MODULE, group_id, record, ledger.now())
    return record


def update_tax_group(ledger: Ledger, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
    with ledger.db.transaction():
        record = get_tax_group(ledger, group_id)
        _apply_group_fields(ledger, body, record)
        ledger.store.update(MODULE, record["tax_id"], record, ledger.now())
    return record


def delete_tax_group(ledger: Ledger, group_id: str) -> None:
    get_tax_group(ledger, group_id)
    delete_tax(ledger, group_id)


def present_tax_group(ledger: Ledger, record: dict[str, Any]) -> dict[str, Any]:
    """``{tax_group_id, tax_group_name, tax_group_percentage, taxes[]}`` with members."""
    members = []
    total = Decimal(0)
    for member_id in _member_ids(record):
        tax = ledger.store.get(MODULE, member_id)
        if tax is None:
            continue
        total += to_decimal(tax.get("tax_percentage"), "tax_percentage")
        members.append(
            {
                "tax_id": tax["tax_id"],
                "tax_name": tax.get("tax_name", ""),
                "tax_percentage": tax.get("tax_percentage", 0),
                "tax_type": tax.get("tax_type", "tax"),
                "tax_factor": tax.get("tax_factor", "rate"),
                "tax_authority_id": tax.get("tax_authority_id", ""),
                "tax_authority_name": tax.get("tax_authority_name", ""),
            }
        )
    return {
        "tax_group_id": record["tax_id"],
        "tax_group_name": record.get("tax_name", ""),
        "tax_group_percentage": float(total),
        "taxes": members,
    }


def describe(ledger: Ledger, tax_id: str, field: str = "tax_id") -> dict[str, Any]:
    """``tax_name``/``tax_percentage``/``tax_type`` of a tax or group for embedding in an
    item or contact; an unknown id is ``Invalid value passed for <field>``."""
    rate = tax_rates(ledger).get(str(tax_id))
    record = ledger.store.get(MODULE, str(tax_id))
    if rate is None or record is None:
        raise invalid_value(field)
    return {
        "tax_id": rate.tax_id,
        "tax_name": rate.tax_name,
        "tax_percentage": float(rate.percentage),
        "tax_type": record.get("tax_type", "tax"),
    }


# seeding ----------------------------------------------------------------------------
_SEED_TAXES: tuple[tuple[str, float, str], ...] = (
    ("Sales Tax", 8.25, "tax"),
    ("State Tax", 6.0, "tax"),
    ("County Tax", 1.5, "tax"),
    ("City Tax", 0.75, "tax"),
    ("VAT", 20.0, "tax"),
    ("Reduced VAT", 5.0, "tax"),
    ("GST", 10.0, "tax"),
    ("Service Tax", 12.0, "tax"),
    ("Luxury Surcharge", 2.5, "compound_tax"),
    ("Excise Duty", 4.0, "tax"),
)


@seeder("taxes")
def seed_taxes(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` realistic taxes; from 4 on, the last one is a group of the first two.

    Names already used in the organization are skipped, so seeding twice still works.
    """
    taken = {str(t.get("tax_name", "")).casefold() for t in ledger.store.find(MODULE, [])}
    created: list[tuple[str, dict[str, Any], str]] = []
    simple = count - 1 if count >= 4 else count
    serial = 0
    with ledger.db.transaction():
        now = ledger.now()
        while len(created) < simple:
            if serial < len(_SEED_TAXES):
                name, percentage, tax_type = _SEED_TAXES[serial]
            else:
                name = f"Regional Tax {serial - len(_SEED_TAXES) + 1}"
                percentage, tax_type = round(rng.uniform(0.5, 15.0), 2), "tax"
            serial += 1
            if name.casefold() in taken:
                continue
            taken.add(name.casefold())
            tax_id = ledger.store.new_id()
            record = {
                "tax_id": tax_id,
                **_TAX_DEFAULTS,
                "tax_name": name,
                "tax_percentage": percentage,
                "tax_type": tax_type,
            }
            created.append((tax_id, record, now))
        if count >= 4 and len(created) >= 2:
            group_id = ledger.store.new_id()
            name = "Combined Sales Tax"
            while name.casefold() in taken:
                name = f"{name} {rng.randint(2, 999)}"
            members = [created[0][0], created[1][0]]
            group = {
                "tax_id": group_id,
                "tax_group_id": group_id,
                "tax_type": GROUP,
                **{k: v for k, v in _TAX_DEFAULTS.items() if k != "tax_factor"},
                "tax_name": name,
                "tax_group_name": name,
                "taxes": members,
            }
            created.append((group_id, group, now))
        ledger.store.insert_many(MODULE, created)
    return [tax_id for tax_id, _, _ in created]
