"""Credit notes: money owed back to a customer, spent by applying it to invoices.

``balance = total - Σ applied to invoices - refunds``; the status follows: ``open``
while credit is left, ``closed`` at zero, and ``draft``/``void`` are set by actions
only. A credit note's ``invoices[]`` is its side of each application; the invoice keeps
the mirror entry (``_credits``, see ``ledger.invoices``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger import invoices as inv
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import get_contact, mark_has_transaction, refresh_balances
from zbooks.sandbox.ledger.listing import FilterFactory, ListSpec
from zbooks.sandbox.ledger.listing import status_in as _status
from zbooks.sandbox.ledger.store import Filter

MODULE = "creditnotes"

DEFAULTS: dict[str, Any] = {
    **docs.COMMON_DEFAULTS,
    "creditnote_id": "",
    "creditnote_number": "",
    "status": "open",
    "customer_id": "",
    "customer_name": "",
    "email": "",
    "vat_reg_no": "",
    "cfdi_usage": "",
    "cfdi_reference_type": "",
    "balance": 0.0,
    "total_credits_used": 0.0,
    "total_refunded_amount": 0.0,
    "invoices": [],
    "salesperson_id": "",
    "salesperson_name": "",
    "updated_time": "",
}

KIND = docs.DocumentKind(
    module=MODULE,
    resource="Credit Note",
    id_field="creditnote_id",
    number_field="creditnote_number",
    number_prefix="CN-",
    number_width=5,
    number_label="Credit Note number",
    defaults=DEFAULTS,
)

WRITABLE = docs.COMMON_WRITABLE | {"vat_reg_no", "cfdi_usage", "cfdi_reference_type"}

ROW_FIELDS: dict[str, Any] = {
    "creditnote_id": "",
    "creditnote_number": "",
    "status": "",
    "reference_number": "",
    "date": "",
    "total": 0.0,
    "balance": 0.0,
    "location_id": "",
    "location_name": "",
    "customer_id": "",
    "customer_name": "",
    "currency_id": "",
    "currency_code": "",
    "created_time": "",
    "last_modified_time": "",
    "is_emailed": False,
}


def get_creditnote(ledger: Ledger, creditnote_id: str) -> dict[str, Any]:
    return docs.fetch(ledger, KIND, creditnote_id)


def recompute(ledger: Ledger, note: dict[str, Any], precision: int | None = None) -> None:
    places = ledger.precision if precision is None else precision
    applied = sum((docs.dec(e.get("amount")) for e in note.get("invoices", [])), Decimal(0))
    refunded = docs.dec(note.get("total_refunded_amount"))
    note["total_credits_used"] = docs.quantize(applied, places)
    balance = docs.dec(note.get("total")) - applied - refunded
    if note.get("status") == "void":
        note["balance"] = 0.0  # a void credit note offers no credit
        return
    note["balance"] = docs.quantize(balance, places)
    if note.get("status") not in docs.NOT_ISSUED:
        note["status"] = "open" if balance > 0 else "closed"


def set_refunded(ledger: Ledger, note: dict[str, Any], refunded: Decimal) -> None:
    """Refund side (``ledger.refunds``): refunds lower the balance like applications do,
    so a fully refunded note closes and reopens when a refund is deleted."""
    note["total_refunded_amount"] = ledger.money(refunded)
    recompute(ledger, note)
    docs.save(ledger, KIND, note)


def _refuse_if_refunded(note: Mapping[str, Any], action: str) -> None:
    """UNCONFIRMED: Zoho's rule and wording; refusing keeps refunds from pointing at a
    credit note that no longer offers (or has) the money they gave back."""
    if docs.dec(note.get("total_refunded_amount")) > 0:
        raise rule_violation(
            f"A credit note that has been refunded cannot be {action}. Delete the refunds first."
        )


def present_creditnote(ledger: Ledger, note: Mapping[str, Any]) -> dict[str, Any]:
    return docs.present(KIND, note, updated_time=note.get("last_modified_time", ""))


def present_row(ledger: Ledger, note: dict[str, Any]) -> dict[str, Any]:
    return docs.present_row(note, ROW_FIELDS)


def _customer(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    customer_id = str(body.get("customer_id") or "").strip()
    if not customer_id:
        raise invalid_value("customer_id")
    return get_contact(ledger, customer_id)


# --- applications ----------------------------------------------------------------------
def _parse_entries(raw: Any) -> list[tuple[str, Decimal]]:
    if not isinstance(raw, list) or not raw:
        raise invalid_value("invoices")
    entries: list[tuple[str, Decimal]] = []
    for item in raw:
        if not isinstance(item, Mapping) or not item.get("invoice_id"):
            raise invalid_value("invoice_id")
        entries.append(
            (
                str(item["invoice_id"]),
                docs.positive_amount(item.get("amount_applied"), "amount_applied"),
            )
        )
    return entries


def _attach(ledger: Ledger, note: dict[str, Any], invoice: dict[str, Any], amount: Decimal) -> None:
    link_id = ledger.store.new_id()
    today = ledger.today()
    note.setdefault("invoices", []).append(
        {
            "creditnote_invoice_id": link_id,
            "invoice_id": str(invoice["invoice_id"]),
            "invoice_number": invoice.get("invoice_number", ""),
            "amount": ledger.money(amount),
            "date": today,
        }
    )
    inv.attach_credit(
        ledger,
        invoice,
        {
            "creditnotes_invoice_id": link_id,
            "creditnote_id": str(note["creditnote_id"]),
            "creditnotes_number": note.get("creditnote_number", ""),
            "credited_date": today,
            "amount_applied": ledger.money(amount),
        },
    )


def _apply(ledger: Ledger, note: dict[str, Any], entries: list[tuple[str, Any]]) -> None:
    """Validate then apply ``(invoice_id, amount)`` pairs; the caller saves ``note``."""
    if note.get("status") in ("draft", "void"):
        raise rule_violation(
            f"A credit note in {note.get('status')} status cannot be applied to invoices."
        )
    amounts = [docs.dec(amount) for _, amount in entries]
    if sum(amounts, Decimal(0)) > docs.dec(note.get("balance")):
        raise rule_violation("The amount applied exceeds the balance of the credit note.")
    targets = []
    for (invoice_id, _), amount in zip(entries, amounts, strict=True):
        invoice = inv.get_invoice(ledger, invoice_id)
        inv.check_can_receive(ledger, invoice, note["customer_id"], amount)
        targets.append(invoice)
    for invoice, amount in zip(targets, amounts, strict=True):
        _attach(ledger, note, invoice, amount)
    recompute(ledger, note)


def apply_to_invoices(ledger: Ledger, creditnote_id: str, raw_entries: Any) -> dict[str, Any]:
    """``POST /creditnotes/{id}/invoices``: each <= invoice balance, Σ <= note balance."""
    with ledger.db.transaction():
        note = get_creditnote(ledger, creditnote_id)
        _apply(ledger, note, list(_parse_entries(raw_entries)))
        docs.save(ledger, KIND, note)
        refresh_balances(ledger, str(note["customer_id"]))
        return note


def release_from_invoice(ledger: Ledger, creditnote_id: str, creditnote_invoice_id: str) -> None:
    """Credit-note side of an invoice being voided: the credit comes back."""
    note = ledger.store.get(MODULE, str(creditnote_id))
    if note is None:
        return
    note["invoices"] = [
        e
        for e in note.get("invoices", [])
        if str(e.get("creditnote_invoice_id")) != str(creditnote_invoice_id)
    ]
    recompute(ledger, note)
    docs.save(ledger, KIND, note)


def _release_all(ledger: Ledger, note: dict[str, Any]) -> None:
    for entry in note.get("invoices", []):
        invoice = ledger.store.get(inv.MODULE, str(entry["invoice_id"]))
        if invoice is not None:
            inv.detach_credit(ledger, invoice, str(entry["creditnote_invoice_id"]))
    note["invoices"] = []


def unapply(ledger: Ledger, creditnote_id: str, creditnote_invoice_id: str) -> None:
    """``DELETE /creditnotes/{id}/invoices/{creditnote_invoice_id}``: both sides."""
    with ledger.db.transaction():
        note = get_creditnote(ledger, creditnote_id)
        entry = next(
            (
                e
                for e in note.get("invoices", [])
                if str(e.get("creditnote_invoice_id")) == str(creditnote_invoice_id)
            ),
            None,
        )
        if entry is None:
            raise not_found("Credit applied")
        invoice = ledger.store.get(inv.MODULE, str(entry["invoice_id"]))
        if invoice is not None:
            inv.detach_credit(ledger, invoice, str(creditnote_invoice_id))
        release_from_invoice(ledger, creditnote_id, creditnote_invoice_id)
        refresh_balances(ledger, str(note["customer_id"]))


def unapply_from_invoice(ledger: Ledger, invoice_id: str, creditnotes_invoice_id: str) -> None:
    """``DELETE /invoices/{id}/creditsapplied/{creditnotes_invoice_id}``."""
    invoice = inv.get_invoice(ledger, invoice_id)
    entry = next(
        (
            c
            for c in invoice.get("_credits", [])
            if str(c.get("creditnotes_invoice_id")) == str(creditnotes_invoice_id)
        ),
        None,
    )
    if entry is None:
        raise not_found("Credit applied")
    unapply(ledger, str(entry["creditnote_id"]), creditnotes_invoice_id)


def invoices_credited(ledger: Ledger, creditnote_id: str) -> list[dict[str, Any]]:
    note = get_creditnote(ledger, creditnote_id)
    return [
        {
            "creditnote_id": str(note["creditnote_id"]),
            "invoice_id": str(e["invoice_id"]),
            "creditnote_invoice_id": str(e["creditnote_invoice_id"]),
            "date": e.get("date", ""),
            "invoice_number": e.get("invoice_number", ""),
            "creditnote_number": note.get("creditnote_number", ""),
            "credited_amount": e.get("amount", 0.0),
        }
        for e in note.get("invoices", [])
    ]


# --- create / update / delete ----------------------------------------------------------
def create_creditnote(
    ledger: Ledger,
    body: Mapping[str, Any],
    *,
    ignore_auto_number: bool = False,
    invoice_id: str = "",
) -> dict[str, Any]:
    """Create an ``open`` credit note (UNCONFIRMED: Zoho may create drafts when approval
    is on). With ``invoice_id`` the credit is applied to that invoice at once, up to the
    invoice's balance."""
    with ledger.db.transaction():
        contact = _customer(ledger, body)
        store = ledger.store
        note_id = store.new_id()
        note: dict[str, Any] = {
            "creditnote_id": note_id,
            "creditnote_number": docs.resolve_number(
                ledger,
                KIND,
                body.get("creditnote_number"),
                ignore_auto_number=ignore_auto_number,
            ),
        }
        note.update(docs.contact_fields(ledger, KIND, contact))
        note["email"] = contact.get("email", "")
        docs.copy_writable(note, body, WRITABLE)
        note["date"] = docs.parse_date(body.get("date"), "date", ledger.today())
        if "discount" in body:
            note["discount"] = docs.normalise_discount(body.get("discount"))
        note["line_items"] = docs.build_lines(ledger, body.get("line_items"))
        docs.compute_money(ledger, note)
        note.update(status="open", invoices=[], total_refunded_amount=0.0, is_emailed=False)
        recompute(ledger, note)
        docs.add_history(note, "Credit note created", ledger=ledger, operation="Added")
        store.insert(MODULE, note_id, note, ledger.now())
        target = str(invoice_id or body.get("invoice_id") or "")
        if target:
            invoice = inv.get_invoice(ledger, target)
            amount = min(docs.dec(note["balance"]), docs.dec(invoice.get("balance")))
            if amount > 0:
                _apply(ledger, note, [(target, amount)])
                docs.save(ledger, KIND, note)
        mark_has_transaction(ledger, str(note["customer_id"]))
        refresh_balances(ledger, str(note["customer_id"]))
        return note


def update_creditnote(
    ledger: Ledger, creditnote_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    with ledger.db.transaction():
        note = get_creditnote(ledger, creditnote_id)
        if note.get("status") == "void":
            raise rule_violation("A void credit note cannot be edited.")
        if body.get("customer_id") and str(body["customer_id"]) != str(note["customer_id"]):
            if note.get("invoices"):
                raise rule_violation(
                    "The customer of a credit note applied to invoices cannot be changed."
                )
            old_customer = str(note["customer_id"])
            note.update(docs.contact_fields(ledger, KIND, _customer(ledger, body)))
            refresh_balances(ledger, old_customer)
        if "creditnote_number" in body:
            docs.renumber(ledger, KIND, note, body.get("creditnote_number"))
        docs.copy_writable(note, body, WRITABLE)
        if "date" in body:
            note["date"] = docs.parse_date(body.get("date"), "date", note["date"])
        if "discount" in body:
            note["discount"] = docs.normalise_discount(body.get("discount"))
        if "line_items" in body:
            note["line_items"] = docs.build_lines(
                ledger, body.get("line_items"), previous=note.get("line_items") or []
            )
        total = docs.compute_money(ledger, note)
        used = docs.dec(note.get("total_credits_used")) + docs.dec(
            note.get("total_refunded_amount")
        )
        if total < used:
            raise rule_violation(
                "The credit note total cannot be less than the credits already used."
            )
        recompute(ledger, note)
        docs.save(ledger, KIND, note)
        refresh_balances(ledger, str(note["customer_id"]))
        return note


def delete_creditnote(ledger: Ledger, creditnote_id: str) -> None:
    """Delete; credits it had applied go back to their invoices' balances."""
    with ledger.db.transaction():
        note = get_creditnote(ledger, creditnote_id)
        _refuse_if_refunded(note, "deleted")
        _release_all(ledger, note)
        ledger.store.delete(MODULE, str(creditnote_id))
        refresh_balances(ledger, str(note["customer_id"]))


def mark_void(ledger: Ledger, creditnote_id: str) -> dict[str, Any]:
    with ledger.db.transaction():
        note = get_creditnote(ledger, creditnote_id)
        _refuse_if_refunded(note, "voided")
        _release_all(ledger, note)
        note["status"] = "void"
        recompute(ledger, note)
        docs.save(ledger, KIND, note)
        refresh_balances(ledger, str(note["customer_id"]))
        return note


def mark_open(ledger: Ledger, creditnote_id: str) -> dict[str, Any]:
    """draft or void -> open (closed if nothing is left)."""
    with ledger.db.transaction():
        note = get_creditnote(ledger, creditnote_id)
        if note.get("status") in ("open", "closed"):
            return note
        if note.get("status") == "pending_approval":
            raise rule_violation("Approve the credit note before marking it as open.")
        note["status"] = "open"
        recompute(ledger, note)
        docs.save(ledger, KIND, note)
        refresh_balances(ledger, str(note["customer_id"]))
        return note


def mark_draft(ledger: Ledger, creditnote_id: str) -> dict[str, Any]:
    """void, or open with nothing applied -> draft."""
    with ledger.db.transaction():
        note = get_creditnote(ledger, creditnote_id)
        if note.get("invoices") or docs.dec(note.get("total_refunded_amount")) > 0:
            raise rule_violation(
                "A credit note that has been applied or refunded cannot be changed to draft."
            )
        note["status"] = "draft"
        recompute(ledger, note)
        docs.save(ledger, KIND, note)
        refresh_balances(ledger, str(note["customer_id"]))
        return note


# --- listing ---------------------------------------------------------------------------


_STATUSES: dict[str, FilterFactory] = {
    name: _status(name) for name in ("open", "closed", "void", "draft")
}

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="creditnotes",
    report_name="Credit Notes",
    sort_columns=frozenset(
        {
            "customer_name",
            "creditnote_number",
            "balance",
            "total",
            "date",
            "created_time",
            "last_modified_time",
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
    search_fields=("creditnote_number", "customer_name", "reference_number"),
    text_fields=("creditnote_number", "reference_number", "customer_name"),
    exact_fields=("customer_id",),
    date_fields=("date",),
    number_fields=("total", "balance"),
    present=present_row,
    row_keys=frozenset(ROW_FIELDS),
)


# --- seeding ---------------------------------------------------------------------------
@seeder(MODULE)
def seed_creditnotes(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` credit notes: most open, some applied to an open invoice of the same
    customer (closing the note or part of the invoice), a few draft or void."""
    ctx = docs.SeedContext(ledger, rng)
    store = ledger.store
    numbers = docs.NumberSeries.of(ledger, KIND)
    open_by_customer: dict[str, list[dict[str, Any]]] = {}
    for invoice in store.find(inv.MODULE, [Filter("status", "in", list(inv.OPEN_STATUSES))]):
        open_by_customer.setdefault(str(invoice["customer_id"]), []).append(invoice)
    created: list[str] = []
    touched: set[str] = set()
    for chunk in docs.batches(count):
        with ledger.db.transaction():
            now = ledger.now()
            rows: list[tuple[str, dict[str, Any], str]] = []
            changed: dict[str, dict[str, Any]] = {}
            for _ in chunk:
                contact = ctx.contact()
                note_id = ctx.ids.one()
                day = ctx.day(300)
                note: dict[str, Any] = {
                    "creditnote_id": note_id,
                    "creditnote_number": numbers.next(),
                    **ctx.contact_fields(KIND, contact),
                    "email": contact.get("email", ""),
                    "date": day,
                    "reference_number": f"RMA-{rng.randint(100, 9999)}",
                    "line_items": ctx.lines(ctx.ids.take(rng.choice((1, 1, 2))), 2),
                    "status": "open",
                    "invoices": [],
                    "total_refunded_amount": 0.0,
                    "is_emailed": False,
                    "created_time": ctx.stamp(day),
                }
                ctx.money(note)
                roll = rng.random()
                if roll < 0.06:
                    note["status"] = "draft"
                elif roll < 0.12:
                    note["status"] = "void"
                recompute(ledger, note, ctx.precision)
                candidates = open_by_customer.get(str(contact["contact_id"]), [])
                if note["status"] == "open" and candidates and rng.random() < 0.45:
                    invoice = candidates.pop()
                    amount = min(docs.dec(note["balance"]), docs.dec(invoice["balance"]))
                    if amount > 0:
                        _seed_application(ctx, note, invoice, amount)
                        changed[str(invoice["invoice_id"])] = invoice
                rows.append((note_id, note, now))
                touched.add(str(contact["contact_id"]))
                created.append(note_id)
            store.insert_many(MODULE, rows)
            for invoice_id, invoice in changed.items():
                store.update(inv.MODULE, invoice_id, invoice, now)
    numbers.close()
    for customer_id in sorted(touched):
        mark_has_transaction(ledger, customer_id)
        refresh_balances(ledger, customer_id)
    return created


def _seed_application(
    ctx: docs.SeedContext, note: dict[str, Any], invoice: dict[str, Any], amount: Decimal
) -> None:
    link_id = ctx.ids.one()
    day = max(str(note["date"]), str(invoice["date"]))
    value = docs.quantize(amount, ctx.precision)
    note["invoices"].append(
        {
            "creditnote_invoice_id": link_id,
            "invoice_id": str(invoice["invoice_id"]),
            "invoice_number": invoice.get("invoice_number", ""),
            "amount": value,
            "date": day,
        }
    )
    invoice.setdefault("_credits", []).append(
        {
            "creditnotes_invoice_id": link_id,
            "creditnote_id": str(note["creditnote_id"]),
            "creditnotes_number": note["creditnote_number"],
            "credited_date": day,
            "amount_applied": value,
        }
    )
    inv.recompute(ctx.ledger, invoice, precision=ctx.precision)
    recompute(ctx.ledger, note, ctx.precision)
