"""Items: the price list documents draw their line defaults from.

An item's tax fields (``tax_name``, ``tax_percentage``, ``tax_type``) are copied from
the tax at write time, like Zoho shows them; documents never read them (they use
``tax_rates``), so a later tax edit cannot change a document's arithmetic through here.
"""

from __future__ import annotations

import random
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import find_by_unique_key
from zbooks.sandbox.ledger.listing import ListSpec
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.taxes import (
    bool_value,
    describe,
    lines_reference,
    name_taken,
    tax_rates,
    text_value,
)
from zbooks.sandbox.ledger.totals import to_decimal

MODULE = "items"
PRODUCT_TYPES = ("goods", "service", "digital_service")
ITEM_TYPES = ("sales", "purchases", "sales_and_purchases", "inventory")

# Line field <- item field; filled only when the line does not give it.
_LINE_DEFAULTS = (
    ("name", "name"),
    ("description", "description"),
    ("rate", "rate"),
    ("unit", "unit"),
    ("tax_id", "tax_id"),
    ("product_type", "product_type"),
)
TEXT_FIELDS = (
    "description",
    "unit",
    "sku",
    "hsn_or_sac",
    "sat_item_key_code",
    "unitkey_code",
    "purchase_tax_rule_id",
    "sales_tax_rule_id",
    "tax_exemption_id",
    "purchase_tax_exemption_id",
    "avatax_tax_code",
    "avatax_use_code",
    "account_id",
    "purchase_description",
    "purchase_account_id",
    "inventory_account_id",
    "vendor_id",
    "reorder_level",
)
LIST_FIELDS = (
    "item_id",
    "name",
    "status",
    "description",
    "rate",
    "unit",
    "tax_id",
    "purchase_tax_rule_id",
    "sales_tax_rule_id",
    "tax_name",
    "tax_percentage",
    "tax_type",
    "sku",
    "product_type",
    "sat_item_key_code",
    "unitkey_code",
    "custom_fields",
    "item_type",
    "purchase_rate",
    "created_time",
    "last_modified_time",
)


def get_item(ledger: Ledger, item_id: str) -> dict[str, Any]:
    """The stored item, or 404 code 1002 ``Item does not exist.``"""
    item = ledger.store.get(MODULE, str(item_id))
    if item is None:
        raise not_found("Item")
    return item


def line_defaults(ledger: Ledger, line: dict[str, Any]) -> dict[str, Any]:
    """A copy of a document line completed from its item.

    Fields the caller sent win (even an explicit ``rate`` of 0); missing, ``None`` or
    ``""`` ones come from the item, except that ``tax_id: ""`` is kept (it deliberately
    removes the tax). A line without ``item_id`` is returned unchanged (free-text
    line). An unknown ``item_id`` raises 404 ``Item does not exist.``
    """
    result = dict(line)
    item_id = str(line.get("item_id") or "")
    if not item_id:
        return result
    item = get_item(ledger, item_id)
    for line_field, item_field in _LINE_DEFAULTS:
        missing = (None,) if line_field == "tax_id" else (None, "")
        if result.get(line_field) in missing:
            result[line_field] = item.get(item_field, "")
    return result


def defaults(item_id: str) -> dict[str, Any]:
    """Every documented item field with Zoho's empty values."""
    return {
        "item_id": item_id,
        "name": "",
        "status": "active",
        "description": "",
        "rate": 0.0,
        "unit": "",
        "sku": "",
        "product_type": "goods",
        "tax_id": "",
        "tax_name": "",
        # items.yml types this as a string; like every percentage the API sends a number.
        "tax_percentage": 0.0,
        "tax_type": "",
        "is_taxable": True,
        "tax_exemption_id": "",
        "purchase_tax_exemption_id": "",
        "purchase_tax_rule_id": "",
        "sales_tax_rule_id": "",
        "hsn_or_sac": "",
        "sat_item_key_code": "",
        "unitkey_code": "",
        "avatax_tax_code": "",
        "avatax_use_code": "",
        "item_tax_preferences": [],
        "locations": [],
        "custom_fields": [],
        "item_type": "sales",
        "account_id": "",
        "account_name": "",
        "purchase_rate": 0.0,
        "purchase_description": "",
        "purchase_account_id": "",
        "purchase_account_name": "",
        "inventory_account_id": "",
        "vendor_id": "",
        "vendor_name": "",
        "reorder_level": "",
    }


def _rate(value: Any, field: str) -> float:
    if isinstance(value, bool) or value is None or value == "":
        raise invalid_value(field)
    amount = to_decimal(value, field)
    if amount < 0:
        raise invalid_value(field)
    return float(amount)


def _apply(ledger: Ledger, body: dict[str, Any], item: dict[str, Any]) -> None:
    if "name" in body or not item["name"]:
        name = text_value(body, "name", 100).strip()
        if not name:
            raise invalid_value("name")
        if name_taken(ledger, MODULE, "name", name, item["item_id"], "item_id"):
            # UNCONFIRMED code (1001 is rumoured) and wording.
            raise rule_violation("An item with this name already exists.", code=1001)
        item["name"] = name
    if "rate" in body or "rate" not in item:
        item["rate"] = _rate(body.get("rate"), "rate")
    for field in TEXT_FIELDS:
        if field in body:
            item[field] = text_value(body, field)
    if "is_taxable" in body:
        item["is_taxable"] = bool_value(body, "is_taxable")
    if "product_type" in body:
        if body["product_type"] not in PRODUCT_TYPES:
            raise invalid_value("product_type")
        item["product_type"] = body["product_type"]
    if "item_type" in body:
        if body["item_type"] not in ITEM_TYPES:
            raise invalid_value("item_type")
        item["item_type"] = body["item_type"]
    if body.get("purchase_rate") not in (None, ""):
        item["purchase_rate"] = _rate(body["purchase_rate"], "purchase_rate")
    if "tax_id" in body:
        if body["tax_id"] in ("", None):
            item.update({"tax_id": "", "tax_name": "", "tax_percentage": 0.0, "tax_type": ""})
        else:
            item.update(describe(ledger, str(body["tax_id"])))
    for field in ("custom_fields", "item_tax_preferences", "locations"):
        if field in body:
            value = body[field]
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise invalid_value(field)
            item[field] = [dict(v) for v in value]


def create_item(ledger: Ledger, body: dict[str, Any]) -> dict[str, Any]:
    """Create an item; ``name`` (unique) and ``rate`` are required."""
    if "rate" not in body:
        raise invalid_value("rate")
    with ledger.db.transaction():
        item = defaults(ledger.store.new_id())
        _apply(ledger, body, item)
        ledger.store.insert(MODULE, item["item_id"], item, ledger.now())
        return item


def update_item(ledger: Ledger, item_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Partial update (fields left out keep their values)."""
    with ledger.db.transaction():
        item = get_item(ledger, item_id)
        _apply(ledger, body, item)
        ledger.store.update(MODULE, item["item_id"], item, ledger.now())
        return item


def delete_item(ledger: Ledger, item_id: str) -> None:
    """Delete an item no document line uses (UNCONFIRMED code 4 for the refusal)."""
    with ledger.db.transaction():
        item = get_item(ledger, item_id)
        if lines_reference(ledger, "item_id", item["item_id"]):
            raise rule_violation(
                "The item cannot be deleted as it is associated with transactions. "
                "Mark it as inactive instead."
            )
        ledger.store.delete(MODULE, item["item_id"])


def set_status(ledger: Ledger, item_id: str, status: str) -> None:
    with ledger.db.transaction():
        item = get_item(ledger, item_id)
        item["status"] = status
        ledger.store.update(MODULE, item["item_id"], item, ledger.now())


def upsert_item(
    ledger: Ledger, key: str, value: str, body: dict[str, Any], *, create: bool
) -> tuple[dict[str, Any], bool]:
    """``PUT /items`` with ``X-Unique-Identifier-Key/-Value`` (see contacts)."""
    if not key:
        raise invalid_value("X-Unique-Identifier-Key")
    with ledger.db.transaction():
        match = find_by_unique_key(ledger, MODULE, key, value)
        if match is not None:
            return update_item(ledger, match["item_id"], body), False
        if not create:
            raise not_found("Item")
        return create_item(ledger, body), True


def item_details(ledger: Ledger, item_ids: list[str]) -> list[dict[str, Any]]:
    """``GET /itemdetails?item_ids=``: the items in the order asked; unknown ids 404."""
    if not item_ids:
        raise invalid_value("item_ids")
    return [get_item(ledger, item_id) for item_id in item_ids]


def present_row(ledger: Ledger, item: dict[str, Any]) -> dict[str, Any]:
    return {field: item.get(field, "") for field in LIST_FIELDS}


LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="items",
    report_name="Items",
    sort_columns=frozenset(
        {"name", "rate", "tax_name", "sku", "created_time", "last_modified_time"}
    ),
    default_sort="name",
    filter_by={
        "Status.Active": lambda _l: [Filter("status", "eq", "active")],
        "Status.Inactive": lambda _l: [Filter("status", "eq", "inactive")],
    },
    search_fields=("name", "description", "sku"),
    text_fields=("name", "description", "sku"),
    exact_fields=("tax_id", "product_type", "item_type"),
    number_fields=("rate",),
    date_fields=(),
    present=present_row,
    row_keys=frozenset(LIST_FIELDS),
)


# seeding ----------------------------------------------------------------------------
_GOODS = (
    "Widget",
    "Gadget",
    "Hard Drive",
    "Monitor",
    "Keyboard",
    "Desk Lamp",
    "Office Chair",
    "Router",
    "Cable Kit",
    "Toner Cartridge",
    "Notebook",
    "Headset",
    "Webcam",
    "Projector",
    "Standing Desk",
    "Filing Cabinet",
    "Whiteboard",
    "Label Printer",
    "Power Bank",
    "Tablet",
)
_SERVICES = (
    "Consulting",
    "Installation",
    "Support Plan",
    "Training Session",
    "Design Review",
    "Maintenance Visit",
    "Data Migration",
    "Audit",
    "Onboarding",
    "Repair Service",
)
_GRADES = (
    "Basic",
    "Standard",
    "Premium",
    "Pro",
    "Deluxe",
    "Compact",
    "Ultra",
    "Eco",
    "Classic",
    "Industrial",
)


def _seed_names(rng: random.Random) -> list[tuple[str, str]]:
    """Every (name, product_type) combination, shuffled deterministically."""
    names = [(f"{g} {n}", "goods") for g in _GRADES for n in _GOODS]
    names += [(f"{g} {n}", "service") for g in _GRADES for n in _SERVICES]
    rng.shuffle(names)
    return names


@seeder("items")
def seed_items(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` goods and services with unique names, realistic rates and taxes."""
    taken = {str(i.get("name", "")).casefold() for i in ledger.store.find(MODULE, [])}
    rates = tax_rates(ledger)
    taxes = [t for t in ledger.store.find("taxes", []) if str(t["tax_id"]) in rates]
    pool = _seed_names(rng)
    rows: list[tuple[str, dict[str, Any], str]] = []
    serial = 0
    with ledger.db.transaction():
        now = ledger.now()
        while len(rows) < count:
            base_name, product_type = pool[serial % len(pool)]
            cycle = serial // len(pool)
            serial += 1
            name = base_name if cycle == 0 else f"{base_name} Mk {cycle + 1}"
            if name.casefold() in taken:
                continue
            taken.add(name.casefold())
            item = defaults(ledger.store.new_id())
            service = product_type == "service"
            rate = round(rng.uniform(40, 250) if service else rng.uniform(2, 1500), 2)
            item.update(
                {
                    "name": name,
                    "description": f"{name} ({'per hour' if service else 'each'})",
                    "rate": rate,
                    "unit": "hrs" if service else rng.choice(("pcs", "box", "set", "Nos")),
                    "sku": "" if service else f"SKU-{rng.randint(10000, 99999)}-{len(rows)}",
                    "product_type": product_type,
                    "item_type": "sales" if service else "sales_and_purchases",
                    "purchase_rate": 0.0 if service else round(rate * rng.uniform(0.4, 0.8), 2),
                }
            )
            if taxes and rng.random() < 0.7:
                tax = rng.choice(taxes)
                item["tax_id"] = tax["tax_id"]
                item["tax_name"] = tax.get("tax_name", "")
                item["tax_type"] = tax.get("tax_type", "tax")
                item["tax_percentage"] = float(rates[str(tax["tax_id"])].percentage)
            rows.append((item["item_id"], item, now))
        ledger.store.insert_many(MODULE, rows)
    return [item_id for item_id, _, _ in rows]
