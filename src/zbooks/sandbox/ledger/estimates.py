"""Estimates (quotes): draft -> sent -> accepted/declined -> invoiced.

``expired`` is never stored: a sent estimate whose ``expiry_date`` is before the sandbox
clock's today reads ``expired``. An estimate without an expiry date never expires, so
the record keeps a sortable stand-in ``_expires`` (``9999-12-31``) that list filters use.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from zbooks.sandbox.errors import invalid_value, rule_violation
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger import invoices as inv
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import get_contact, mark_has_transaction, refresh_balances
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec
from zbooks.sandbox.ledger.listing import status_in as _status

MODULE = "estimates"
NEVER = "9999-12-31"
OPEN_STATUSES = ("sent", "viewed")  # the statuses that can expire

DEFAULTS: dict[str, Any] = {
    **docs.COMMON_DEFAULTS,
    "estimate_id": "",
    "estimate_number": "",
    "customer_id": "",
    "customer_name": "",
    "expiry_date": "",
    "accepted_date": "",
    "declined_date": "",
    "is_viewed_by_client": False,
    "client_viewed_time": "",
    "salesperson_id": "",
    "salesperson_name": "",
    "project": {"project_id": "", "project_name": ""},
    "invoice_id": "",
    "invoice_ids": [],
}

KIND = docs.DocumentKind(
    module=MODULE,
    resource="Estimate",
    id_field="estimate_id",
    number_field="estimate_number",
    number_prefix="EST-",
    number_width=6,
    number_label="Estimate number",
    defaults=DEFAULTS,
)

WRITABLE = docs.COMMON_WRITABLE

ROW_FIELDS: dict[str, Any] = {
    "estimate_id": "",
    "customer_name": "",
    "customer_id": "",
    "status": "",
    "estimate_number": "",
    "reference_number": "",
    "date": "",
    "currency_id": "",
    "currency_code": "",
    "total": 0.0,
    "location_id": "",
    "location_name": "",
    "created_time": "",
    "last_modified_time": "",
    "accepted_date": "",
    "declined_date": "",
    "expiry_date": "",
    "has_attachment": False,
    "is_viewed_by_client": False,
    "client_viewed_time": "",
}


def get_estimate(ledger: Ledger, estimate_id: str) -> dict[str, Any]:
    return docs.fetch(ledger, KIND, estimate_id)


def current_status(ledger: Ledger, estimate: Mapping[str, Any]) -> str:
    return docs.read_status(
        estimate,
        ledger.today(),
        open_statuses=OPEN_STATUSES,
        late_status="expired",
        date_field="_expires",
        needs_balance=False,
    )


def present_estimate(ledger: Ledger, estimate: Mapping[str, Any]) -> dict[str, Any]:
    return docs.present(KIND, estimate, status=current_status(ledger, estimate))


def present_row(ledger: Ledger, estimate: dict[str, Any]) -> dict[str, Any]:
    return docs.present_row(estimate, ROW_FIELDS, status=current_status(ledger, estimate))


def _set_expiry(estimate: dict[str, Any], body: Mapping[str, Any]) -> None:
    if "expiry_date" in body:
        estimate["expiry_date"] = docs.parse_date(body.get("expiry_date"), "expiry_date")
    expiry = str(estimate.get("expiry_date") or "")
    if expiry and expiry < estimate["date"]:
        raise invalid_value("expiry_date")
    estimate["_expires"] = expiry or NEVER


def create_estimate(
    ledger: Ledger, body: Mapping[str, Any], *, ignore_auto_number: bool = False, send: bool = False
) -> dict[str, Any]:
    with ledger.db.transaction():
        customer_id = str(body.get("customer_id") or "").strip()
        if not customer_id:
            raise invalid_value("customer_id")
        contact = get_contact(ledger, customer_id)
        store = ledger.store
        estimate_id = store.new_id()
        estimate: dict[str, Any] = {
            "estimate_id": estimate_id,
            "estimate_number": docs.resolve_number(
                ledger, KIND, body.get("estimate_number"), ignore_auto_number=ignore_auto_number
            ),
        }
        estimate.update(docs.contact_fields(ledger, KIND, contact))
        docs.copy_writable(estimate, body, WRITABLE)
        estimate["contact_persons_associated"] = docs.associated_persons(
            contact, body.get("contact_persons")
        )
        estimate["date"] = docs.parse_date(body.get("date"), "date", ledger.today())
        _set_expiry(estimate, body)
        if "discount" in body:
            estimate["discount"] = docs.normalise_discount(body.get("discount"))
        estimate["line_items"] = docs.build_lines(ledger, body.get("line_items"))
        docs.compute_money(ledger, estimate)
        estimate.update(status="sent" if send else "draft", is_emailed=send, invoice_ids=[])
        docs.add_history(estimate, "Estimate created", ledger=ledger, operation="Added")
        store.insert(MODULE, estimate_id, estimate, ledger.now())
        mark_has_transaction(ledger, customer_id)
        return estimate


def update_estimate(ledger: Ledger, estimate_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    with ledger.db.transaction():
        estimate = get_estimate(ledger, estimate_id)
        if body.get("customer_id") and str(body["customer_id"]) != str(estimate["customer_id"]):
            contact = get_contact(ledger, str(body["customer_id"]))
            estimate.update(docs.contact_fields(ledger, KIND, contact))
            mark_has_transaction(ledger, str(contact["contact_id"]))
        if "estimate_number" in body:
            docs.renumber(ledger, KIND, estimate, body.get("estimate_number"))
        docs.copy_writable(estimate, body, WRITABLE)
        if "date" in body:
            estimate["date"] = docs.parse_date(body.get("date"), "date", estimate["date"])
        _set_expiry(estimate, body)
        if "discount" in body:
            estimate["discount"] = docs.normalise_discount(body.get("discount"))
        if "line_items" in body:
            estimate["line_items"] = docs.build_lines(
                ledger, body.get("line_items"), previous=estimate.get("line_items") or []
            )
        docs.compute_money(ledger, estimate)
        docs.save(ledger, KIND, estimate)
        return estimate


def delete_estimate(ledger: Ledger, estimate_id: str) -> None:
    with ledger.db.transaction():
        get_estimate(ledger, estimate_id)
        ledger.store.delete(MODULE, str(estimate_id))


# --- status actions --------------------------------------------------------------------
def _change(
    ledger: Ledger, estimate_id: str, status: str, allowed: tuple[str, ...]
) -> dict[str, Any]:
    with ledger.db.transaction():
        estimate = get_estimate(ledger, estimate_id)
        current = str(estimate.get("status"))
        if current == status:
            return estimate
        if current not in allowed:
            raise rule_violation(f"An estimate in {current} status cannot be marked as {status}.")
        estimate["status"] = status
        today = ledger.today()
        if status == "accepted":
            estimate["accepted_date"] = today
        if status == "declined":
            estimate["declined_date"] = today
        docs.add_history(estimate, f"Estimate marked as {status}", ledger=ledger)
        docs.save(ledger, KIND, estimate)
        return estimate


def mark_sent(ledger: Ledger, estimate_id: str) -> dict[str, Any]:
    return _change(ledger, estimate_id, "sent", ("draft", "approved"))


def mark_accepted(ledger: Ledger, estimate_id: str) -> dict[str, Any]:
    # Only a sent estimate can be answered by the customer (draft is refused, UNCONFIRMED).
    return _change(ledger, estimate_id, "accepted", ("sent", "viewed", "declined"))


def mark_declined(ledger: Ledger, estimate_id: str) -> dict[str, Any]:
    return _change(ledger, estimate_id, "declined", ("sent", "viewed", "accepted"))


def email_estimate(ledger: Ledger, estimate_id: str) -> dict[str, Any]:
    with ledger.db.transaction():
        estimate = get_estimate(ledger, estimate_id)
        estimate["is_emailed"] = True
        if estimate.get("status") == "draft":
            estimate["status"] = "sent"
        docs.add_history(estimate, "Estimate emailed", ledger=ledger, operation="Emailed")
        docs.save(ledger, KIND, estimate)
        return estimate


# --- conversion ------------------------------------------------------------------------
def convert_to_invoice(ledger: Ledger, estimate_id: str) -> dict[str, Any]:
    """Create a draft invoice copying the estimate; the estimate reads ``invoiced``.

    A declined or already invoiced estimate is refused (UNCONFIRMED: Zoho may allow
    several invoices per estimate, hence ``invoice_ids``).
    """
    with ledger.db.transaction():
        estimate = get_estimate(ledger, estimate_id)
        status = str(estimate.get("status"))
        if status in ("invoiced", "declined"):
            raise rule_violation(f"An estimate in {status} status cannot be converted.")
        body = docs.carry_over(estimate)
        invoice = inv.create_invoice(
            ledger, body, origin={"estimate_id": str(estimate["estimate_id"])}
        )
        estimate["_status_before_invoice"] = status
        estimate["status"] = "invoiced"
        estimate["invoice_id"] = str(invoice["invoice_id"])
        estimate.setdefault("invoice_ids", []).append(str(invoice["invoice_id"]))
        docs.add_history(
            estimate, f"Converted to invoice {invoice['invoice_number']}", ledger=ledger
        )
        docs.save(ledger, KIND, estimate)
        return invoice


def forget_invoice(ledger: Ledger, estimate_id: str, invoice_id: str) -> None:
    """The invoice made from this estimate was deleted: the estimate goes back."""
    estimate = ledger.store.get(MODULE, str(estimate_id))
    if estimate is None:
        return
    remaining = [i for i in estimate.get("invoice_ids", []) if str(i) != str(invoice_id)]
    estimate["invoice_ids"] = remaining
    estimate["invoice_id"] = remaining[-1] if remaining else ""
    if not remaining and estimate.get("status") == "invoiced":
        estimate["status"] = estimate.pop("_status_before_invoice", "accepted")
    docs.save(ledger, KIND, estimate)


# --- listing ---------------------------------------------------------------------------


_expired = docs.late(OPEN_STATUSES, date_field="_expires", needs_balance=False)


_STATUSES: dict[str, FilterFactory] = {
    "draft": _status("draft"),
    "sent": docs.on_time("sent", date_field="_expires"),
    "viewed": docs.on_time("viewed", date_field="_expires"),
    "expired": _expired,
    "accepted": _status("accepted"),
    "declined": _status("declined"),
    "invoiced": _status("invoiced"),
}

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="estimates",
    report_name="Estimates",
    sort_columns=frozenset(
        {
            "customer_name",
            "estimate_number",
            "date",
            "expiry_date",
            "total",
            "created_time",
            "last_modified_time",
        }
    ),
    filter_by={
        "Status.All": lambda ledger: [],
        "Status.Sent": _STATUSES["sent"],
        "Status.Draft": _STATUSES["draft"],
        "Status.Invoiced": _STATUSES["invoiced"],
        "Status.Accepted": _STATUSES["accepted"],
        "Status.Declined": _STATUSES["declined"],
        "Status.Expired": _expired,
        "Status.Viewed": _STATUSES["viewed"],
    },
    statuses=_STATUSES,
    search_fields=("estimate_number", "reference_number", "customer_name"),
    text_fields=("estimate_number", "reference_number", "customer_name"),
    exact_fields=("customer_id",),
    date_fields=("date", "expiry_date"),
    number_fields=("total",),
    present=present_row,
    row_keys=frozenset({*ROW_FIELDS, "status", "_expires"}),
)


# --- seeding ---------------------------------------------------------------------------
@seeder(MODULE)
def seed_estimates(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` estimates across the whole life cycle: drafts, sent (some past their
    expiry date, so they read ``expired``), accepted, declined and invoiced (with the
    invoice really created)."""
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
                estimate_id = ctx.ids.one()
                day = ctx.day(240)
                expiry = docs.add_days(day, rng.choice((15, 30, 45, 60)))
                estimate: dict[str, Any] = {
                    "estimate_id": estimate_id,
                    "estimate_number": numbers.next(),
                    **ctx.contact_fields(KIND, contact),
                    "date": day,
                    "expiry_date": expiry,
                    "_expires": expiry,
                    "line_items": ctx.lines(ctx.ids.take(rng.choice((1, 2, 3))), 3),
                    "invoice_ids": [],
                    "is_emailed": False,
                    "created_time": ctx.stamp(day),
                }
                ctx.money(estimate)
                roll = rng.random()
                status = (
                    "draft"
                    if roll < 0.2
                    else "sent"
                    if roll < 0.55
                    else "accepted"
                    if roll < 0.75
                    else "declined"
                    if roll < 0.85
                    else "invoiced"
                )
                estimate["status"] = status
                estimate["is_emailed"] = status != "draft"
                if status in ("accepted", "invoiced"):
                    estimate["accepted_date"] = min(expiry, ctx.today.isoformat())
                if status == "declined":
                    estimate["declined_date"] = min(expiry, ctx.today.isoformat())
                if status == "invoiced":
                    estimate["_status_before_invoice"] = "accepted"
                    invoice = inv.seeded_conversion(
                        ctx,
                        estimate,
                        number=invoice_numbers.next(),
                        origin={"estimate_id": estimate_id},
                    )
                    estimate["invoice_id"] = invoice["invoice_id"]
                    estimate["invoice_ids"] = [invoice["invoice_id"]]
                    invoices.append((invoice["invoice_id"], invoice, now))
                rows.append((estimate_id, estimate, now))
                touched.add(str(contact["contact_id"]))
                created.append(estimate_id)
            store.insert_many(MODULE, rows)
            store.insert_many(inv.MODULE, invoices)
    numbers.close()
    invoice_numbers.close()
    for customer_id in sorted(touched):
        mark_has_transaction(ledger, customer_id)
        refresh_balances(ledger, customer_id)
    return created
