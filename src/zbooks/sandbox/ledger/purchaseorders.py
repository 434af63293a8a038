"""Purchase orders: what the organization asks a vendor to deliver.

No money moves, so a purchase order only has totals and a status machine (api-facts
§3.13): ``draft`` -> ``open`` (issued) -> ``billed`` (or ``cancelled``). A bill created
with ``purchaseorder_ids`` marks those orders billed.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from zbooks.sandbox.errors import invalid_value, rule_violation
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.bills import (
    PURCHASE_LINE_DEFAULTS,
    PurchaseSeed,
    finish_money,
    mark_accounts_used,
    purchase_lines,
    vendor_of,
)
from zbooks.sandbox.ledger.contacts import get_contact, mark_has_transaction
from zbooks.sandbox.ledger.listing import ListSpec
from zbooks.sandbox.ledger.listing import status_in as _status

MODULE = "purchaseorders"

_DELIVERY_ADDRESS: dict[str, Any] = {
    "zip": "",
    "is_verifiable": False,
    "state": "",
    "address1": "",
    "address2": "",
    "is_valid": "",
    "city": "",
    "country": "",
    "address": "",
    "email": "",
    "is_primary": "",
    "organization_address_id": "",
    "phone": "",
    "is_verified": False,
}

DEFAULTS: dict[str, Any] = {
    **docs.COMMON_DEFAULTS,
    "purchaseorder_id": "",
    "purchaseorder_number": "",
    "source_of_supply": "",
    "destination_of_supply": "",
    "pricebook_id": "",
    "pricebook_name": "",
    "expected_delivery_date": "",
    "delivery_date": "",
    "discount": "",
    "discount_account_id": "",
    "vendor_id": "",
    "vendor_name": "",
    "crm_owner_id": "",
    "acquisition_vat_summary": [],
    "acquisition_vat_total": 0.0,
    "reverse_charge_vat_summary": [],
    "reverse_charge_vat_total": 0.0,
    "ship_via": "",
    "ship_via_id": "",
    "attention": "",
    "delivery_org_address_id": "",
    "delivery_customer_id": "",
    "delivery_address": _DELIVERY_ADDRESS,
    "page_width": "8.27in",
    "page_height": "11.69in",
    "orientation": "portrait",
    "template_type": "standard",
    "can_mark_as_bill": False,
    "can_mark_as_unbill": False,
    "billed_status": "",
    "bill_ids": [],
}

KIND = docs.DocumentKind(
    module=MODULE,
    resource="Purchase order",
    id_field="purchaseorder_id",
    number_field="purchaseorder_number",
    number_prefix="PO-",
    number_width=5,
    number_label="Purchase Order number",
    contact_field="vendor_id",
    contact_name_field="vendor_name",
    defaults=DEFAULTS,
    line_defaults=PURCHASE_LINE_DEFAULTS,
)

WRITABLE = docs.COMMON_WRITABLE | {
    "delivery_date",
    "expected_delivery_date",
    "ship_via",
    "attention",
    "delivery_org_address_id",
    "delivery_customer_id",
    "discount_account_id",
    "source_of_supply",
    "destination_of_supply",
    "pricebook_id",
    "crm_owner_id",
    "salesorder_id",
}

ROW_FIELDS: dict[str, Any] = {
    "purchaseorder_id": "",
    "vendor_id": "",
    "vendor_name": "",
    "status": "",
    "purchaseorder_number": "",
    "reference_number": "",
    "date": "",
    "delivery_date": "",
    "currency_id": "",
    "currency_code": "",
    "price_precision": 2,
    "total": 0.0,
    "has_attachment": False,
    "created_time": "",
    "last_modified_time": "",
    "custom_fields": [],
}


def get_purchase_order(ledger: Ledger, purchaseorder_id: str) -> dict[str, Any]:
    """The stored order or 404 code 1002 ``Purchase order does not exist.``"""
    return docs.fetch(ledger, KIND, purchaseorder_id)


def _flags(order: dict[str, Any]) -> None:
    status = order.get("status")
    order["can_mark_as_bill"] = status in ("open", "partially_billed")
    order["can_mark_as_unbill"] = status == "billed"


def present_purchase_order(ledger: Ledger, order: Mapping[str, Any]) -> dict[str, Any]:
    return docs.present(KIND, order)


def present_row(ledger: Ledger, order: dict[str, Any]) -> dict[str, Any]:
    return docs.present_row(order, ROW_FIELDS)


def _dates(order: dict[str, Any], body: Mapping[str, Any]) -> None:
    for key in ("delivery_date", "expected_delivery_date"):
        if key in body:
            order[key] = docs.parse_date(body.get(key), key)
            if order[key] and order[key] < order["date"]:
                raise invalid_value(key)


def create_purchase_order(
    ledger: Ledger, body: Mapping[str, Any], *, ignore_auto_number: bool = False
) -> dict[str, Any]:
    with ledger.db.transaction():
        vendor = vendor_of(ledger, body)
        order_id = ledger.store.new_id()
        order: dict[str, Any] = {
            "purchaseorder_id": order_id,
            "purchaseorder_number": docs.resolve_number(
                ledger,
                KIND,
                body.get("purchaseorder_number"),
                ignore_auto_number=ignore_auto_number,
            ),
        }
        order.update(docs.contact_fields(ledger, KIND, vendor))
        order.pop("shipping_address", None)
        docs.copy_writable(order, body, WRITABLE)
        order["contact_persons_associated"] = docs.associated_persons(
            vendor, body.get("contact_persons_associated") or body.get("contact_persons")
        )
        order["date"] = docs.parse_date(body.get("date"), "date", ledger.today())
        _dates(order, body)
        if "discount" in body:
            order["discount"] = docs.normalise_discount(body.get("discount"))
        order["line_items"] = purchase_lines(ledger, body.get("line_items"))
        finish_money(ledger, order)
        order.update(status="draft", is_emailed=False, bill_ids=[], billed_status="")
        _flags(order)
        ledger.store.insert(MODULE, order_id, order, ledger.now())
        mark_has_transaction(ledger, str(order["vendor_id"]))
        return order


def update_purchase_order(
    ledger: Ledger, purchaseorder_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """PUT: given fields replace stored ones; ``line_items`` replaces the whole set."""
    with ledger.db.transaction():
        order = get_purchase_order(ledger, purchaseorder_id)
        if order.get("status") in ("billed", "cancelled"):
            # UNCONFIRMED: Zoho refuses edits of billed/cancelled orders.
            raise rule_violation(f"A {order['status']} purchase order cannot be edited.")
        vendor_id = str(body.get("vendor_id") or order["vendor_id"])
        if vendor_id != order["vendor_id"]:
            vendor = vendor_of(ledger, body)
            order.update(docs.contact_fields(ledger, KIND, vendor))
            order.pop("shipping_address", None)
        if "purchaseorder_number" in body:
            docs.renumber(ledger, KIND, order, body.get("purchaseorder_number"))
        docs.copy_writable(order, body, WRITABLE)
        if "contact_persons_associated" in body or "contact_persons" in body:
            order["contact_persons_associated"] = docs.associated_persons(
                get_contact(ledger, vendor_id),
                body.get("contact_persons_associated") or body.get("contact_persons"),
            )
        if "date" in body:
            order["date"] = docs.parse_date(body.get("date"), "date", order["date"])
        _dates(order, body)
        if "discount" in body:
            order["discount"] = docs.normalise_discount(body.get("discount"))
        if "line_items" in body:
            order["line_items"] = purchase_lines(
                ledger, body.get("line_items"), previous=order.get("line_items") or []
            )
        finish_money(ledger, order)
        docs.save(ledger, KIND, order)
        mark_has_transaction(ledger, vendor_id)
        return order


def delete_purchase_order(ledger: Ledger, purchaseorder_id: str) -> None:
    get_purchase_order(ledger, purchaseorder_id)
    ledger.store.delete(MODULE, str(purchaseorder_id))


# --- status actions ----------------------------------------------------------------------
_MOVES: dict[str, tuple[str, ...]] = {
    # target -> statuses it may come from (the target itself is a no-op)
    "open": ("draft", "approved", "cancelled"),
    "billed": ("open", "partially_billed"),
    "cancelled": ("draft", "open"),
}


def set_status(ledger: Ledger, purchaseorder_id: str, target: str) -> dict[str, Any]:
    """``POST /purchaseorders/{id}/status/open|billed|cancelled``.

    Refused moves answer 400 code 4 (wording UNCONFIRMED).
    """
    with ledger.db.transaction():
        order = get_purchase_order(ledger, purchaseorder_id)
        current = str(order.get("status"))
        if current == target:
            return order
        if current not in _MOVES[target]:
            raise rule_violation(
                f"A {current.replace('_', ' ')} purchase order cannot be marked as {target}."
            )
        order["status"] = target
        if target == "billed":
            order["billed_status"] = "billed"
        _flags(order)
        docs.save(ledger, KIND, order)
        if target == "billed":
            mark_accounts_used(ledger, order)
        return order


def bill_from(ledger: Ledger, purchaseorder_id: str, vendor_id: str) -> dict[str, Any]:
    """A bill is being made from this order: check it and mark it billed.

    Returns the bill's ``purchaseorders[]`` entry.
    """
    order = ledger.store.get(MODULE, purchaseorder_id)
    if order is None:
        raise invalid_value("purchaseorder_ids")
    if str(order.get("vendor_id")) != vendor_id:
        raise rule_violation(
            f"Purchase order {order['purchaseorder_number']} belongs to another vendor."
        )
    if order.get("status") == "cancelled":
        raise rule_violation(
            f"Purchase order {order['purchaseorder_number']} is cancelled and cannot be billed."
        )
    order["status"] = "billed"
    order["billed_status"] = "billed"
    _flags(order)
    docs.save(ledger, KIND, order)
    return {
        "purchaseorder_id": purchaseorder_id,
        "purchaseorder_number": order["purchaseorder_number"],
        "purchaseorder_date": order.get("date", ""),
        "purchaseorder_status": "billed",
    }


# --- listing -----------------------------------------------------------------------------


LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="purchaseorders",
    report_name="Purchase Orders",
    sort_columns=frozenset(
        {
            "vendor_name",
            "purchaseorder_number",
            "date",
            "delivery_date",
            "total",
            "created_time",
            "last_modified_time",
        }
    ),
    filter_by={
        "Status.All": lambda ledger: [],
        "Status.Draft": _status("draft"),
        "Status.Open": _status("open"),
        "Status.Issued": _status("open"),
        "Status.Billed": _status("billed"),
        "Status.PartiallyBilled": _status("partially_billed"),
        "Status.Cancelled": _status("cancelled"),
        "Status.Closed": _status("closed"),
    },
    search_fields=("purchaseorder_number", "reference_number", "vendor_name"),
    text_fields=("purchaseorder_number", "reference_number", "vendor_name"),
    exact_fields=("vendor_id",),
    date_fields=("date", "delivery_date"),
    number_fields=("total",),
    present=present_row,
    row_keys=frozenset(ROW_FIELDS),
)


# --- seeding -----------------------------------------------------------------------------
@seeder(MODULE)
def seed_purchase_orders(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` purchase orders of the last three months: drafts, issued (open),
    billed and a few cancelled. Built in memory and bulk inserted."""
    seed = PurchaseSeed(ledger, rng)
    ctx = seed.ctx
    store = ledger.store
    numbers = docs.NumberSeries.of(ledger, KIND)
    created: list[str] = []
    touched: set[str] = set()
    for chunk in docs.batches(count):
        with ledger.db.transaction():
            now = ledger.now()
            rows: list[tuple[str, dict[str, Any], str]] = []
            for _ in chunk:
                vendor = ctx.contact()
                order_id = store.new_id()
                day = ctx.day(90)
                order: dict[str, Any] = {
                    "purchaseorder_id": order_id,
                    "purchaseorder_number": numbers.next(),
                    **ctx.contact_fields(KIND, vendor),
                    "date": day,
                    "delivery_date": docs.add_days(day, rng.choice((7, 14, 21, 30))),
                    "line_items": seed.lines(docs.reserve_ids(ledger, rng.choice((1, 2, 3)))),
                    "is_emailed": False,
                    "bill_ids": [],
                    "created_time": ctx.stamp(day),
                }
                order.pop("shipping_address", None)
                ctx.money(order)
                roll = rng.random()
                order["status"] = (
                    "draft"
                    if roll < 0.2
                    else "open"
                    if roll < 0.65
                    else "billed"
                    if roll < 0.92
                    else "cancelled"
                )
                order["billed_status"] = "billed" if order["status"] == "billed" else ""
                order["is_emailed"] = order["status"] != "draft" and rng.random() < 0.7
                _flags(order)
                rows.append((order_id, order, now))
                touched.add(str(order["vendor_id"]))
                created.append(order_id)
            store.insert_many(MODULE, rows)
    for vendor_id in sorted(touched):
        mark_has_transaction(ledger, vendor_id)
    return created
