"""Sales orders: draft -> open (confirmed) -> closed once invoiced; or void.

``invoiced_status`` follows conversions (``not_invoiced`` -> ``invoiced``); converting
copies every line, so a converted order is fully invoiced and reads ``closed``
(UNCONFIRMED: Zoho closes fully invoiced orders when inventory tracking is off).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date
from typing import Any

from zbooks.sandbox.errors import invalid_value, rule_violation
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger import invoices as inv
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import get_contact, mark_has_transaction, refresh_balances
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec
from zbooks.sandbox.ledger.listing import status_in as _status
from zbooks.sandbox.ledger.store import Filter

MODULE = "salesorders"

DEFAULTS: dict[str, Any] = {
    **docs.COMMON_DEFAULTS,
    "salesorder_id": "",
    "salesorder_number": "",
    "customer_id": "",
    "customer_name": "",
    "order_status": "draft",
    "invoiced_status": "not_invoiced",
    "paid_status": "unpaid",
    "shipped_status": "",
    "shipment_date": "",
    "delivery_method": "",
    "delivery_method_id": "",
    "estimate_id": "",
    "billing_address_id": "",
    "shipping_address_id": "",
    "zcrm_potential_id": "",
    "zcrm_potential_name": "",
    "crm_owner_id": "",
    "crm_custom_reference_id": "",
    "discount_applied_on_amount": 0,
    "salesperson_id": "",
    "salesperson_name": "",
    "merchant_id": "",
    "merchant_name": "",
    "pricebook_id": "",
    "sub_statuses": [],
    "invoices": [],
    "notes_default": "",
    "terms_default": "",
    "tax_id": "",
    "tax_authority_id": "",
    "tax_authority_name": "",
    "tax_exemption_id": "",
    "tax_exemption_code": "",
    "avatax_exempt_no": "",
    "avatax_use_code": "",
    "is_update_customer": False,
    "page_width": "8.27in",
    "page_height": "11.69in",
    "orientation": "portrait",
    "template_type": "standard",
}

KIND = docs.DocumentKind(
    module=MODULE,
    resource="Sales Order",
    id_field="salesorder_id",
    number_field="salesorder_number",
    number_prefix="SO-",
    number_width=5,
    number_label="Sales Order number",
    defaults=DEFAULTS,
)

WRITABLE = docs.COMMON_WRITABLE | {
    "delivery_method",
    "pricebook_id",
    "zcrm_potential_id",
    "merchant_id",
    "estimate_id",
}

ROW_FIELDS: dict[str, Any] = {
    "salesorder_id": "",
    "zcrm_potential_id": "",
    "zcrm_potential_name": "",
    "customer_name": "",
    "customer_id": "",
    "status": "",
    "order_status": "",
    "invoiced_status": "not_invoiced",
    "paid_status": "unpaid",
    "salesorder_number": "",
    "reference_number": "",
    "date": "",
    "shipment_date": "",
    "shipment_days": 0,
    "currency_id": "",
    "currency_code": "",
    "total": 0.0,
    "sub_total": 0.0,
    "bcy_total": 0.0,
    "created_time": "",
    "last_modified_time": "",
    "is_emailed": False,
    "has_attachment": False,
    "custom_fields": [],
}


def get_salesorder(ledger: Ledger, salesorder_id: str) -> dict[str, Any]:
    return docs.fetch(ledger, KIND, salesorder_id)


def present_salesorder(ledger: Ledger, order: Mapping[str, Any]) -> dict[str, Any]:
    return docs.present(KIND, order, order_status=order.get("status", "draft"))


def present_row(ledger: Ledger, order: dict[str, Any]) -> dict[str, Any]:
    shipment = str(order.get("shipment_date") or "")
    days = 0
    if shipment:
        days = (date.fromisoformat(shipment) - date.fromisoformat(ledger.today())).days
    rate = docs.dec(order.get("exchange_rate") or 1)
    return docs.present_row(
        order,
        ROW_FIELDS,
        order_status=order.get("status", "draft"),
        shipment_days=days,
        bcy_total=ledger.money(docs.dec(order.get("total")) * rate),
    )


def _set_shipment(order: dict[str, Any], body: Mapping[str, Any]) -> None:
    if "shipment_date" in body:
        order["shipment_date"] = docs.parse_date(body.get("shipment_date"), "shipment_date")
    if order.get("shipment_date") and order["shipment_date"] < order["date"]:
        raise invalid_value("shipment_date")


def create_salesorder(
    ledger: Ledger, body: Mapping[str, Any], *, ignore_auto_number: bool = False
) -> dict[str, Any]:
    with ledger.db.transaction():
        customer_id = str(body.get("customer_id") or "").strip()
        if not customer_id:
            raise invalid_value("customer_id")
        contact = get_contact(ledger, customer_id)
        store = ledger.store
        order_id = store.new_id()
        order: dict[str, Any] = {
            "salesorder_id": order_id,
            "salesorder_number": docs.resolve_number(
                ledger, KIND, body.get("salesorder_number"), ignore_auto_number=ignore_auto_number
            ),
        }
        order.update(docs.contact_fields(ledger, KIND, contact))
        docs.copy_writable(order, body, WRITABLE)
        order["contact_persons_associated"] = docs.associated_persons(
            contact, body.get("contact_persons")
        )
        order["date"] = docs.parse_date(body.get("date"), "date", ledger.today())
        _set_shipment(order, body)
        if "discount" in body:
            order["discount"] = docs.normalise_discount(body.get("discount"))
        order["line_items"] = docs.build_lines(ledger, body.get("line_items"))
        docs.compute_money(ledger, order)
        order.update(
            status="draft", invoiced_status="not_invoiced", paid_status="unpaid", invoices=[]
        )
        docs.add_history(order, "Sales order created", ledger=ledger, operation="Added")
        store.insert(MODULE, order_id, order, ledger.now())
        mark_has_transaction(ledger, customer_id)
        return order


def update_salesorder(
    ledger: Ledger, salesorder_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    with ledger.db.transaction():
        order = get_salesorder(ledger, salesorder_id)
        if order.get("status") == "void":
            raise rule_violation("A void sales order cannot be edited.")
        if body.get("customer_id") and str(body["customer_id"]) != str(order["customer_id"]):
            contact = get_contact(ledger, str(body["customer_id"]))
            order.update(docs.contact_fields(ledger, KIND, contact))
            mark_has_transaction(ledger, str(contact["contact_id"]))
        if "salesorder_number" in body:
            docs.renumber(ledger, KIND, order, body.get("salesorder_number"))
        docs.copy_writable(order, body, WRITABLE)
        if "date" in body:
            order["date"] = docs.parse_date(body.get("date"), "date", order["date"])
        _set_shipment(order, body)
        if "discount" in body:
            order["discount"] = docs.normalise_discount(body.get("discount"))
        if "line_items" in body:
            order["line_items"] = docs.build_lines(
                ledger, body.get("line_items"), previous=order.get("line_items") or []
            )
        docs.compute_money(ledger, order)
        docs.save(ledger, KIND, order)
        return order


def delete_salesorder(ledger: Ledger, salesorder_id: str) -> None:
    with ledger.db.transaction():
        get_salesorder(ledger, salesorder_id)
        ledger.store.delete(MODULE, str(salesorder_id))


def mark_open(ledger: Ledger, salesorder_id: str) -> dict[str, Any]:
    """draft (or void) -> open."""
    with ledger.db.transaction():
        order = get_salesorder(ledger, salesorder_id)
        if order.get("status") in ("open", "closed"):
            return order
        if order.get("status") == "pending_approval":
            raise rule_violation("Approve the sales order before marking it as open.")
        order["status"] = "open"
        docs.add_history(order, "Sales order marked as open", ledger=ledger)
        docs.save(ledger, KIND, order)
        return order


def mark_void(ledger: Ledger, salesorder_id: str) -> dict[str, Any]:
    """draft/open -> void; an invoiced order is refused (void its invoices first)."""
    with ledger.db.transaction():
        order = get_salesorder(ledger, salesorder_id)
        if order.get("invoices"):
            raise rule_violation("A sales order that has been invoiced cannot be voided.")
        order["status"] = "void"
        docs.add_history(order, "Sales order marked as void", ledger=ledger)
        docs.save(ledger, KIND, order)
        return order


def email_salesorder(ledger: Ledger, salesorder_id: str) -> dict[str, Any]:
    with ledger.db.transaction():
        order = get_salesorder(ledger, salesorder_id)
        if order.get("status") == "void":
            raise rule_violation("A void sales order cannot be emailed.")
        order["is_emailed"] = True
        if order.get("status") == "draft":
            order["status"] = "open"
        docs.add_history(order, "Sales order emailed", ledger=ledger, operation="Emailed")
        docs.save(ledger, KIND, order)
        return order


def convert_to_invoice(ledger: Ledger, salesorder_id: str) -> dict[str, Any]:
    """``POST /invoices/fromsalesorder``: a draft invoice with the order's lines."""
    with ledger.db.transaction():
        order = get_salesorder(ledger, salesorder_id)
        if order.get("status") in ("void", "closed"):
            raise rule_violation(
                f"A sales order in {order.get('status')} status cannot be converted."
            )
        body = docs.carry_over(order)
        invoice = inv.create_invoice(
            ledger, body, origin={"salesorder_id": str(order["salesorder_id"])}
        )
        order.setdefault("invoices", []).append(
            {
                "invoice_id": str(invoice["invoice_id"]),
                "invoice_number": invoice["invoice_number"],
                "date": invoice["date"],
                "total": invoice["total"],
            }
        )
        order["_status_before_invoice"] = order.get("status", "draft")
        order["invoiced_status"] = "invoiced"
        order["status"] = "closed"
        docs.add_history(order, f"Converted to invoice {invoice['invoice_number']}", ledger=ledger)
        docs.save(ledger, KIND, order)
        return invoice


def forget_invoice(ledger: Ledger, salesorder_id: str, invoice_id: str) -> None:
    """The invoice made from this order was deleted: the order is open again."""
    order = ledger.store.get(MODULE, str(salesorder_id))
    if order is None:
        return
    order["invoices"] = [
        i for i in order.get("invoices", []) if str(i.get("invoice_id")) != str(invoice_id)
    ]
    if not order["invoices"]:
        order["invoiced_status"] = "not_invoiced"
        if order.get("status") == "closed":
            order["status"] = order.pop("_status_before_invoice", "open")
    docs.save(ledger, KIND, order)


# --- listing ---------------------------------------------------------------------------


def _invoiced(*values: str) -> FilterFactory:
    return lambda ledger: [Filter("invoiced_status", "in", list(values))]


_STATUSES: dict[str, FilterFactory] = {
    "draft": _status("draft"),
    "open": _status("open"),
    "confirmed": _status("open"),
    "void": _status("void"),
    "closed": _status("closed"),
    "invoiced": _invoiced("invoiced"),
    "partially_invoiced": _invoiced("partially_invoiced"),
    "not_invoiced": _invoiced("not_invoiced"),
}

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="salesorders",
    report_name="Sales Orders",
    sort_columns=frozenset(
        {
            "customer_name",
            "salesorder_number",
            "reference_number",
            "shipment_date",
            "total",
            "date",
            "created_time",
            "last_modified_time",
        }
    ),
    filter_by={
        "Status.All": lambda ledger: [],
        "Status.Draft": _STATUSES["draft"],
        "Status.Open": _STATUSES["open"],
        "Status.Confirmed": _STATUSES["open"],
        "Status.Void": _STATUSES["void"],
        "Status.Closed": _STATUSES["closed"],
        "Status.Invoiced": _STATUSES["invoiced"],
        "Status.PartiallyInvoiced": _STATUSES["partially_invoiced"],
        "Status.ToBeInvoiced": lambda ledger: [
            Filter("status", "eq", "open"),
            Filter("invoiced_status", "ne", "invoiced"),
        ],
    },
    statuses=_STATUSES,
    search_fields=("salesorder_number", "reference_number", "customer_name"),
    text_fields=("salesorder_number", "reference_number", "customer_name"),
    exact_fields=("customer_id", "salesperson_id"),
    date_fields=("date", "shipment_date"),
    number_fields=("total",),
    present=present_row,
    row_keys=frozenset({*ROW_FIELDS, "shipment_date", "exchange_rate", "total", "status"}),
)


# --- seeding ---------------------------------------------------------------------------
@seeder(MODULE)
def seed_salesorders(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` sales orders: drafts, open (confirmed) orders, a few void, and closed
    orders whose invoice really exists (``invoiced_status`` = invoiced)."""
    ctx = docs.SeedContext(ledger, rng)
    store = ledger.store
    numbers = docs.NumberSeries.of(ledger, KIND)
    invoice_numbers = docs.NumberSeries.of(ledger, inv.KIND)
    created: list[str] = []
    touched: set[str] = set()
    for chunk in docs.batches(count):
        with ledger.db.transaction():
            now = ledger.now()
            rows: list[tuple[str, dict[str, Any], str]] = []
            invoices: list[tuple[str, dict[str, Any], str]] = []
            for _ in chunk:
                contact = ctx.contact()
                order_id = ctx.ids.one()
                day = ctx.day(200)
                order: dict[str, Any] = {
                    "salesorder_id": order_id,
                    "salesorder_number": numbers.next(),
                    **ctx.contact_fields(KIND, contact),
                    "date": day,
                    "shipment_date": docs.add_days(day, rng.choice((3, 7, 14, 30))),
                    "delivery_method": rng.choice(("Courier", "FedEx", "UPS", "Pickup")),
                    "line_items": ctx.lines(ctx.ids.take(rng.choice((1, 2, 3, 4))), 4),
                    "invoiced_status": "not_invoiced",
                    "paid_status": "unpaid",
                    "invoices": [],
                    "is_emailed": False,
                    "created_time": ctx.stamp(day),
                }
                if rng.random() < 0.4:
                    order["reference_number"] = f"PO-{rng.randint(1000, 99999)}"
                ctx.money(order)
                roll = rng.random()
                order["status"] = "draft" if roll < 0.2 else "void" if roll < 0.25 else "open"
                if order["status"] == "open" and rng.random() < 0.45:
                    invoice = inv.seeded_conversion(
                        ctx,
                        order,
                        number=invoice_numbers.next(),
                        origin={"salesorder_id": order_id},
                    )
                    order["invoices"] = [
                        {
                            "invoice_id": invoice["invoice_id"],
                            "invoice_number": invoice["invoice_number"],
                            "date": invoice["date"],
                            "total": invoice["total"],
                        }
                    ]
                    order["_status_before_invoice"] = "open"
                    order["status"] = "closed"
                    order["invoiced_status"] = "invoiced"
                    invoices.append((invoice["invoice_id"], invoice, now))
                order["is_emailed"] = order["status"] != "draft"
                rows.append((order_id, order, now))
                touched.add(str(contact["contact_id"]))
                created.append(order_id)
            store.insert_many(MODULE, rows)
            store.insert_many(inv.MODULE, invoices)
    numbers.close()
    invoice_numbers.close()
    for customer_id in sorted(touched):
        mark_has_transaction(ledger, customer_id)
        refresh_balances(ledger, customer_id)
    return created
