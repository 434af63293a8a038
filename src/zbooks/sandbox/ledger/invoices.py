"""Invoices: creation, edits, the status machine and the money that settles them.

The invoice is where payments, credit notes and write-offs meet, so it keeps its own
copy of what was applied to it (``_payments``, ``_credits``): every change to those
lists goes through ``recompute`` which derives ``payment_made``, ``credits_applied``,
``balance`` and the settlement status in one place. The payment or credit note on the
other side is updated in the same transaction by its own module.

``overdue`` is never stored: a sent or partially paid invoice reads ``overdue`` once its
due date is before the sandbox clock's today (``read_status``); list filters use the same
rule in SQL (``late_filters``/``on_time_filters``).
"""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger import details
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.contacts import get_contact, mark_has_transaction, refresh_balances
from zbooks.sandbox.ledger.listing import ListSpec
from zbooks.sandbox.ledger.listing import status_in as _status
from zbooks.sandbox.ledger.store import Filter

MODULE = "invoices"
OPEN_STATUSES = ("sent", "viewed", "partially_paid")  # can become overdue / receive money
PORTAL_URL = "https://books.sandbox.zbooks.invalid/portal/invoices/{invoice_id}"

DEFAULTS: dict[str, Any] = {
    **docs.COMMON_DEFAULTS,
    "invoice_id": "",
    "invoice_number": "",
    "ach_payment_initiated": False,
    "cfdi_usage": "",
    "cfdi_reference_type": "",
    "reference_invoice_id": "",
    "vat_reg_no": "",
    "payment_terms": 0,
    "payment_terms_label": "Due on Receipt",
    "due_date": "",
    "payment_expected_date": "",
    "last_payment_date": "",
    "customer_id": "",
    "customer_name": "",
    "discount_type": "item_level",
    "recurring_invoice_id": "",
    "is_viewed_by_client": False,
    "client_viewed_time": "",
    "payment_reminder_enabled": True,
    "payment_made": 0.0,
    "credits_applied": 0.0,
    "tax_amount_withheld": 0.0,
    "balance": 0.0,
    "write_off_amount": 0.0,
    "allow_partial_payments": True,
    "payment_options": {"payment_gateways": []},
    "reminders_sent": 0,
    "last_reminder_sent_date": "",
    "salesperson_id": "",
    "salesperson_name": "",
    "estimate_id": "",
    "salesorder_id": "",
    "invoice_url": "",
}

KIND = docs.DocumentKind(
    module=MODULE,
    resource="Invoice",
    id_field="invoice_id",
    number_field="invoice_number",
    number_prefix="INV-",
    number_width=6,
    number_label="Invoice number",
    defaults=DEFAULTS,
)

WRITABLE = docs.COMMON_WRITABLE | {
    "allow_partial_payments",
    "payment_options",
    "payment_expected_date",
    "payment_reminder_enabled",
    "recurring_invoice_id",
    "cfdi_usage",
    "vat_reg_no",
}

ROW_FIELDS: dict[str, Any] = {
    "invoice_id": "",
    "ach_payment_initiated": False,
    "customer_name": "",
    "customer_id": "",
    "status": "",
    "invoice_number": "",
    "reference_number": "",
    "date": "",
    "due_date": "",
    "due_days": "",
    "currency_id": "",
    "schedule_time": "",
    "currency_code": "",
    "is_viewed_by_client": False,
    "has_attachment": False,
    "client_viewed_time": "",
    "total": 0.0,
    "balance": 0.0,
    "created_time": "",
    "last_modified_time": "",
    "is_emailed": False,
    "reminders_sent": 0,
    "last_reminder_sent_date": "",
    "payment_expected_date": "",
    "last_payment_date": "",
    "custom_fields": [],
    "documents": "",
    "location_id": "",
    "location_name": "",
    "salesperson_id": "",
    "salesperson_name": "",
    "shipping_charge": 0.0,
    "adjustment": 0.0,
    "write_off_amount": 0.0,
    "exchange_rate": 1.0,
    "tags": [],
}


# --- reading ---------------------------------------------------------------------------
def get_invoice(ledger: Ledger, invoice_id: str) -> dict[str, Any]:
    """The stored invoice or 404 code 1002 ``Invoice does not exist.``"""
    return docs.fetch(ledger, KIND, invoice_id)


def current_status(ledger: Ledger, invoice: Mapping[str, Any]) -> str:
    return status_on(invoice, ledger.today())


def status_on(invoice: Mapping[str, Any], today: str) -> str:
    """The status a client sees on ``today`` (reads only ``STATUS_KEYS``)."""
    return docs.read_status(
        invoice,
        today,
        open_statuses=OPEN_STATUSES,
        late_status="overdue",
        date_field="due_date",
    )


STATUS_KEYS = frozenset({"status", "due_date", "balance"})


@functools.lru_cache(maxsize=4096)
def _day(iso: str) -> date:
    """Parsed once per distinct date: a list page asks for the same few hundred dates."""
    return date.fromisoformat(iso)


def due_days(status: str, due_date: str, today: str) -> str:
    """The list's human hint: ``Overdue by 3 days``, ``Due in 5 days``, ``Due Today``
    (wording UNCONFIRMED)."""
    if status not in (*OPEN_STATUSES, "overdue") or not due_date:
        return ""
    delta = (_day(due_date) - _day(today)).days
    if delta < 0:
        return f"Overdue by {-delta} day{'s' if delta != -1 else ''}"
    if delta == 0:
        return "Due Today"
    return f"Due in {delta} day{'s' if delta != 1 else ''}"


def present_invoice(ledger: Ledger, invoice: Mapping[str, Any]) -> dict[str, Any]:
    """The detail object as Zoho returns it (every documented field)."""
    return shape_invoice(invoice, current_status(ledger, invoice))


def shape_invoice(invoice: Mapping[str, Any], status: str) -> dict[str, Any]:
    """The detail object with the given read-time status (also what ``ledger.details``
    stores, with a placeholder status)."""
    return docs.present(
        KIND,
        invoice,
        status=status,
        # Older clients read the associated persons under this earlier name.
        contact_persons_details=invoice.get("contact_persons_associated", []),
    )


details.register(
    details.DetailSpec(
        module=MODULE,
        envelope_key="invoice",
        shape=shape_invoice,
        status_of=status_on,
        status_keys=STATUS_KEYS,
        statuses=frozenset({"overdue"}),
        sources=(__name__, docs.__name__),
        defaults=(KIND.defaults, KIND.line_defaults, docs.ADDRESS_DEFAULTS),
    )
)


def present_row(ledger: Ledger, invoice: dict[str, Any]) -> dict[str, Any]:
    today = ledger.today()  # once per row: reading the clock is a list page's hot path
    status = docs.read_status(
        invoice, today, open_statuses=OPEN_STATUSES, late_status="overdue", date_field="due_date"
    )
    return docs.present_row(
        invoice,
        ROW_FIELDS,
        status=status,
        due_days=due_days(status, str(invoice.get("due_date", "")), today),
    )


# --- money bookkeeping -----------------------------------------------------------------
def recompute(ledger: Ledger, invoice: dict[str, Any], precision: int | None = None) -> None:
    """Derive ``payment_made``, ``credits_applied``, ``balance``, status and
    ``last_payment_date`` from the applications the invoice holds.

    ``precision`` lets bulk seeders skip reading the organization per invoice.
    """
    places = ledger.precision if precision is None else precision
    payments = invoice.setdefault("_payments", [])
    credits = invoice.setdefault("_credits", [])
    invoice["payment_made"] = docs.quantize(
        sum((docs.dec(p.get("amount")) for p in payments), Decimal(0)), places
    )
    invoice["tax_amount_withheld"] = docs.quantize(
        sum((docs.dec(p.get("tax_amount_withheld")) for p in payments), Decimal(0)), places
    )
    invoice["credits_applied"] = docs.quantize(
        sum((docs.dec(c.get("amount_applied")) for c in credits), Decimal(0)), places
    )
    invoice["last_payment_date"] = max((str(p.get("date", "")) for p in payments), default="")
    docs.settle(invoice, unpaid_status="sent", precision=places)
    if invoice.get("status") == "void":
        # A void invoice is owed nothing (UNCONFIRMED presentation); draft restores it.
        invoice["balance"] = 0.0


def settled_amount(invoice: Mapping[str, Any]) -> Decimal:
    """What already settles the invoice: payments, credits, withheld tax, write-off."""
    return (
        docs.dec(invoice.get("payment_made"))
        + docs.dec(invoice.get("credits_applied"))
        + docs.dec(invoice.get("tax_amount_withheld"))
        + docs.dec(invoice.get("write_off_amount"))
    )


def check_can_receive(
    ledger: Ledger, invoice: Mapping[str, Any], customer_id: str, amount: Decimal
) -> None:
    """Rules for applying money (payment or credit) to an invoice; 400 otherwise.

    Codes and wording are UNCONFIRMED (api-facts §3.8); we answer code 4.
    """
    number = invoice.get("invoice_number", "")
    if str(invoice.get("customer_id")) != str(customer_id):
        raise rule_violation(f"Invoice {number} does not belong to this customer.")
    # A draft takes money: Zoho's facts name no rule against it, and the app records a
    # payment on a draft by issuing it (``_attach`` marks it sent). UNCONFIRMED: refusing
    # void invoices and those awaiting approval (nothing can be owed on them yet).
    if invoice.get("status") in (*docs.AWAITING_APPROVAL, "void"):
        raise rule_violation(
            f"Invoice {number} is in {invoice.get('status')} status; "
            "only sent invoices can be paid or credited."
        )
    if amount < 0:
        raise invalid_value("amount_applied")
    if amount > docs.dec(invoice.get("balance")):
        raise rule_violation(f"The amount applied to invoice {number} exceeds its balance due.")


def _attach(
    ledger: Ledger, invoice: dict[str, Any], bucket: str, entry: dict[str, Any], history: str
) -> None:
    """Add a payment or credit application (``bucket``) and settle the invoice again; a
    draft is issued first (UNCONFIRMED: status ``sent``, as when it is marked sent)."""
    if invoice.get("status") == "draft":
        _to_sent(ledger, invoice, "Invoice marked as sent")
    invoice.setdefault(bucket, []).append(entry)
    recompute(ledger, invoice)
    docs.add_history(invoice, history, ledger=ledger, operation="Added")
    docs.save(ledger, KIND, invoice)


def _detach(
    ledger: Ledger, invoice: dict[str, Any], bucket: str, id_field: str, entry_id: str
) -> None:
    invoice[bucket] = [e for e in invoice.get(bucket, []) if str(e.get(id_field)) != str(entry_id)]
    recompute(ledger, invoice)
    docs.save(ledger, KIND, invoice)


def attach_payment(ledger: Ledger, invoice: dict[str, Any], entry: dict[str, Any]) -> None:
    """Record a payment application on the invoice (the payment side is the caller's)."""
    history = (
        f"Payment of amount {invoice.get('currency_code', '')}"
        f"{entry.get('amount')} received and applied for {invoice.get('invoice_number')}"
    )
    _attach(ledger, invoice, "_payments", entry, history)


def detach_payment(ledger: Ledger, invoice: dict[str, Any], invoice_payment_id: str) -> None:
    _detach(ledger, invoice, "_payments", "invoice_payment_id", invoice_payment_id)


def attach_credit(ledger: Ledger, invoice: dict[str, Any], entry: dict[str, Any]) -> None:
    history = (
        f"Credits of amount {invoice.get('currency_code', '')}{entry.get('amount_applied')} "
        f"applied from {entry.get('creditnotes_number', '')}"
    )
    _attach(ledger, invoice, "_credits", entry, history)


def detach_credit(ledger: Ledger, invoice: dict[str, Any], creditnotes_invoice_id: str) -> None:
    _detach(ledger, invoice, "_credits", "creditnotes_invoice_id", creditnotes_invoice_id)


def _after_money_change(ledger: Ledger, customer_id: str) -> None:
    mark_has_transaction(ledger, customer_id)
    refresh_balances(ledger, customer_id)


# --- create / update / delete ----------------------------------------------------------
def _customer(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    customer_id = str(body.get("customer_id") or "").strip()
    if not customer_id:
        raise invalid_value("customer_id")
    contact = get_contact(ledger, customer_id)
    if contact.get("contact_type") == "vendor":
        raise invalid_value("customer_id")
    return contact


def create_invoice(
    ledger: Ledger,
    body: Mapping[str, Any],
    *,
    ignore_auto_number: bool = False,
    send: bool = False,
    origin: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Create an invoice (``draft``; ``sent`` with ``send``). Returns the stored record.

    ``origin`` links the invoice to the estimate or sales order it came from.
    """
    with ledger.db.transaction():
        contact = _customer(ledger, body)
        store = ledger.store
        invoice_id = store.new_id()
        invoice: dict[str, Any] = {
            "invoice_id": invoice_id,
            "invoice_number": docs.resolve_number(
                ledger, KIND, body.get("invoice_number"), ignore_auto_number=ignore_auto_number
            ),
        }
        invoice.update(docs.contact_fields(ledger, KIND, contact))
        docs.copy_writable(invoice, body, WRITABLE)
        invoice["contact_persons_associated"] = docs.associated_persons(
            contact, body.get("contact_persons")
        )
        invoice["date"] = docs.parse_date(body.get("date"), "date", ledger.today())
        docs.apply_terms(invoice, body, contact, creating=True)
        if "discount" in body:
            invoice["discount"] = docs.normalise_discount(body.get("discount"))
        invoice["line_items"] = docs.build_lines(ledger, body.get("line_items"))
        docs.compute_money(ledger, invoice)
        invoice.update(
            status="draft",
            payment_made=0.0,
            credits_applied=0.0,
            write_off_amount=0.0,
            tax_amount_withheld=0.0,
            is_emailed=False,
            invoice_url=PORTAL_URL.format(invoice_id=invoice_id),
            _payments=[],
            _credits=[],
            _comments=[],
        )
        if origin:
            invoice.update(origin)
        recompute(ledger, invoice)
        docs.add_history(
            invoice,
            f"Invoice created for {invoice['currency_code']}{invoice['total']:.2f}",
            ledger=ledger,
            operation="Added",
        )
        if send:
            invoice["is_emailed"] = True
            _to_sent(ledger, invoice, "Invoice emailed")
        store.insert(MODULE, invoice_id, invoice, ledger.now())
        _after_money_change(ledger, invoice["customer_id"])
        return invoice


def update_invoice(ledger: Ledger, invoice_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """PUT: given fields replace stored ones; ``line_items`` replaces the whole set."""
    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        if invoice.get("status") == "void":
            raise rule_violation("A void invoice cannot be edited. Change it to draft first.")
        old_customer = str(invoice["customer_id"])
        new_customer = str(body.get("customer_id") or old_customer)
        contact: dict[str, Any] = {}
        if new_customer != old_customer:
            if invoice.get("_payments") or invoice.get("_credits"):
                raise rule_violation(
                    "The customer of an invoice with payments or credits cannot be changed."
                )
            contact = _customer(ledger, body)
            invoice.update(docs.contact_fields(ledger, KIND, contact))
        if "invoice_number" in body:
            docs.renumber(ledger, KIND, invoice, body.get("invoice_number"))
        docs.copy_writable(invoice, body, WRITABLE)
        if "contact_persons" in body:
            contact = contact or get_contact(ledger, new_customer)
            invoice["contact_persons_associated"] = docs.associated_persons(
                contact, body.get("contact_persons")
            )
        if "date" in body:
            invoice["date"] = docs.parse_date(body.get("date"), "date", invoice["date"])
        docs.apply_terms(invoice, body, contact, creating=False)
        if "discount" in body:
            invoice["discount"] = docs.normalise_discount(body.get("discount"))
        if "line_items" in body:
            invoice["line_items"] = docs.build_lines(
                ledger, body.get("line_items"), previous=invoice.get("line_items") or []
            )
        total = docs.compute_money(ledger, invoice)
        if total < settled_amount(invoice):
            raise rule_violation(
                "The invoice total cannot be less than the payments and credits applied to it."
            )
        recompute(ledger, invoice)
        docs.add_history(invoice, "Invoice updated", ledger=ledger, operation="Updated")
        docs.save(ledger, KIND, invoice)
        for customer_id in {old_customer, new_customer}:
            refresh_balances(ledger, customer_id)
        mark_has_transaction(ledger, new_customer)
        return invoice


def delete_invoice(ledger: Ledger, invoice_id: str) -> None:
    """Delete; refused (400) while payments or credits are applied (api-facts §3.5)."""
    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        if invoice.get("_payments") or invoice.get("_credits"):
            raise rule_violation(
                "Invoices that have payments or credits applied cannot be deleted. "
                "Delete the payments and credits first."
            )
        ledger.store.delete(MODULE, str(invoice_id))
        _unlink_origin(ledger, invoice)
        refresh_balances(ledger, str(invoice["customer_id"]))


def _unlink_origin(ledger: Ledger, invoice: Mapping[str, Any]) -> None:
    """An estimate or sales order converted into this invoice forgets it."""
    if invoice.get("estimate_id"):
        from zbooks.sandbox.ledger.estimates import forget_invoice as forget_in_estimate

        forget_in_estimate(ledger, str(invoice["estimate_id"]), str(invoice["invoice_id"]))
    if invoice.get("salesorder_id"):
        from zbooks.sandbox.ledger.salesorders import forget_invoice as forget_in_order

        forget_in_order(ledger, str(invoice["salesorder_id"]), str(invoice["invoice_id"]))


# --- status actions --------------------------------------------------------------------
def _to_sent(ledger: Ledger, invoice: dict[str, Any], note: str) -> None:
    if invoice.get("status") == "pending_approval":
        raise rule_violation("Approve the invoice before sending it.")  # wording UNCONFIRMED
    if invoice.get("status") in ("draft", "approved"):
        invoice["status"] = "sent"
        recompute(ledger, invoice)
        docs.add_history(invoice, note, ledger=ledger, operation="Updated")


def mark_sent(ledger: Ledger, invoice_id: str) -> dict[str, Any]:
    """draft -> sent (an already sent invoice stays as it is; void is refused)."""
    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        if invoice.get("status") == "void":
            raise rule_violation("A void invoice cannot be marked as sent.")
        _to_sent(ledger, invoice, "Invoice marked as sent")
        docs.save(ledger, KIND, invoice)
        _after_money_change(ledger, str(invoice["customer_id"]))
        return invoice


def mark_void(ledger: Ledger, invoice_id: str) -> dict[str, Any]:
    """Void: applied payments become unused credit of their payment (the customer's
    excess), applied credit notes get their balance back, any write-off is undone."""
    from zbooks.sandbox.ledger.creditnotes import release_from_invoice as release_credit
    from zbooks.sandbox.ledger.customerpayments import release_from_invoice as release_payment

    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        if invoice.get("status") == "void":
            return invoice
        for entry in list(invoice.get("_payments", [])):
            release_payment(ledger, str(entry["payment_id"]), str(entry["invoice_payment_id"]))
        for entry in list(invoice.get("_credits", [])):
            release_credit(
                ledger, str(entry["creditnote_id"]), str(entry["creditnotes_invoice_id"])
            )
        invoice["_payments"] = []
        invoice["_credits"] = []
        invoice["write_off_amount"] = 0.0
        invoice["status"] = "void"
        recompute(ledger, invoice)
        docs.add_history(invoice, "Invoice status changed to Void", ledger=ledger)
        docs.save(ledger, KIND, invoice)
        refresh_balances(ledger, str(invoice["customer_id"]))
        return invoice


def mark_draft(ledger: Ledger, invoice_id: str) -> dict[str, Any]:
    """void -> draft only (the only documented way back)."""
    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        if invoice.get("status") != "void":
            raise rule_violation("Only a void invoice can be changed to draft.")
        invoice["status"] = "draft"
        recompute(ledger, invoice)
        docs.add_history(invoice, "Invoice status changed from Void to Draft", ledger=ledger)
        docs.save(ledger, KIND, invoice)
        refresh_balances(ledger, str(invoice["customer_id"]))
        return invoice


def write_off(ledger: Ledger, invoice_id: str) -> dict[str, Any]:
    """The remaining balance of a sent invoice is written off; it reads ``paid``."""
    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        if invoice.get("status") not in OPEN_STATUSES or docs.dec(invoice.get("balance")) <= 0:
            raise rule_violation("Only unpaid sent invoices with a balance can be written off.")
        invoice["write_off_amount"] = ledger.money(
            docs.dec(invoice.get("write_off_amount")) + docs.dec(invoice["balance"])
        )
        recompute(ledger, invoice)
        docs.add_history(
            invoice,
            f"Invoice written off for {invoice.get('currency_code', '')}"
            f"{invoice['write_off_amount']}",
            ledger=ledger,
        )
        docs.save(ledger, KIND, invoice)
        refresh_balances(ledger, str(invoice["customer_id"]))
        return invoice


def cancel_write_off(ledger: Ledger, invoice_id: str) -> dict[str, Any]:
    """Undo a write-off: the balance and the previous unpaid status come back."""
    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        if docs.dec(invoice.get("write_off_amount")) <= 0:
            raise rule_violation("This invoice has not been written off.")
        invoice["write_off_amount"] = 0.0
        recompute(ledger, invoice)
        docs.add_history(invoice, "Write off cancelled", ledger=ledger)
        docs.save(ledger, KIND, invoice)
        refresh_balances(ledger, str(invoice["customer_id"]))
        return invoice


# --- email -----------------------------------------------------------------------------
def email_content(ledger: Ledger, invoice_id: str) -> dict[str, Any]:
    """The default email a client would send (``GET /invoices/{id}/email``)."""
    invoice = get_invoice(ledger, invoice_id)
    org = ledger.org
    contact = ledger.store.get("contacts", str(invoice.get("customer_id"))) or {}
    number = invoice["invoice_number"]
    to_contacts = [
        {
            "first_name": p.get("first_name", ""),
            "selected": bool(p.get("is_primary_contact")),
            "phone": p.get("phone", ""),
            "email": p.get("email", ""),
            "last_name": p.get("last_name", ""),
            "salutation": p.get("salutation", ""),
            "contact_person_id": str(p.get("contact_person_id", "")),
            "mobile": p.get("mobile", ""),
        }
        for p in contact.get("contact_persons") or []
    ]
    to_mails = ",".join(c["email"] for c in to_contacts if c["selected"] and c["email"])
    org_name = org.get("name", "")
    org_email = org.get("email", "")
    return {
        "bcc_mails": [],
        "gateways_configured": False,
        "gateways_associated": False,
        "bcc_mails_str": "",
        "body": (
            f"Dear {invoice.get('customer_name', '')},<br><br>Thank you for your business. "
            f"Your invoice {number} for {invoice.get('currency_code', '')}"
            f"{invoice.get('total')} is attached.<br><br>Regards,<br>{org_name}"
        ),
        "documents": "",
        "customer_name": invoice.get("customer_name", ""),
        "attach_pdf": True,
        "entity_id": str(invoice["invoice_id"]),
        "cc_mails_list": [],
        "file_name_without_extension": number,
        "to_mails_str": to_mails,
        "cc_mails_str": "",
        "from_email": org_email,
        "from_address": org_email,
        "deprecated_placeholders_used": [],
        "error_list": [],
        "subject": f"Invoice - {number} from {org_name}",
        "emailtemplates": [
            {"selected": True, "name": "Default", "email_template_id": ""},
        ],
        "emailtemplate_documents": [],
        "to_contacts": to_contacts,
        "attachment_name": "",
        "file_name": f"{number}.pdf",
        "from_emails": [
            {
                "user_name": org_name,
                "selected": True,
                "email": org_email,
                "organization_contact_id": "",
                "is_org_email_id": True,
            }
        ],
        "customer_id": str(invoice.get("customer_id", "")),
    }


def email_invoice(ledger: Ledger, invoice_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Record an email (nothing is sent): ``is_emailed``, draft -> sent, history entry."""
    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        if invoice.get("status") == "void":
            raise rule_violation("A void invoice cannot be emailed.")
        recipients = body.get("to_mail_ids") or []
        if not isinstance(recipients, list):
            raise invalid_value("to_mail_ids")
        invoice["is_emailed"] = True
        _to_sent(ledger, invoice, "Invoice marked as sent")
        target = ", ".join(str(r) for r in recipients) or "the customer"
        docs.add_history(
            invoice, f"Invoice emailed to {target}", ledger=ledger, operation="Emailed"
        )
        invoice.setdefault("_emails", []).append(
            {
                "to_mail_ids": [str(r) for r in recipients],
                "cc_mail_ids": list(body.get("cc_mail_ids") or []),
                "subject": str(body.get("subject") or ""),
                "body": str(body.get("body") or ""),
                "sent_time": ledger.now(),
            }
        )
        docs.save(ledger, KIND, invoice)
        _after_money_change(ledger, str(invoice["customer_id"]))
        return invoice


def history(ledger: Ledger, invoice_id: str) -> list[dict[str, Any]]:
    invoice = get_invoice(ledger, invoice_id)
    return [
        {**c, "invoice_id": str(invoice["invoice_id"])}
        for c in copy.deepcopy(invoice.get("_comments", []))
    ]


def _user_comment(invoice: Mapping[str, Any], comment_id: str) -> dict[str, Any]:
    for comment in invoice.get("_comments", []):
        if str(comment.get("comment_id")) == str(comment_id):
            if comment.get("comment_type") == "system":
                raise rule_violation("System history entries cannot be changed.")
            return dict(comment)
    raise not_found("Comment")


def add_comment(ledger: Ledger, invoice_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """A user's comment joins the same Comments & History list as the system entries."""
    description = str(body.get("description") or "").strip()
    if not description:
        raise invalid_value("description")
    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        docs.add_history(invoice, description, ledger=ledger, commented_by="User")
        comment = invoice["_comments"][-1]
        comment["comment_type"] = "internal"
        comment["show_comment_to_clients"] = bool(body.get("show_comment_to_clients", False))
        docs.save(ledger, KIND, invoice)
        return {**comment, "invoice_id": str(invoice_id)}


def update_comment(
    ledger: Ledger, invoice_id: str, comment_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    description = str(body.get("description") or "").strip()
    if not description:
        raise invalid_value("description")
    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        _user_comment(invoice, comment_id)
        for comment in invoice["_comments"]:
            if str(comment.get("comment_id")) == str(comment_id):
                comment["description"] = description
                if "show_comment_to_clients" in body:
                    comment["show_comment_to_clients"] = bool(body["show_comment_to_clients"])
                updated = dict(comment)
        docs.save(ledger, KIND, invoice)
        return {**updated, "invoice_id": str(invoice_id)}


def delete_comment(ledger: Ledger, invoice_id: str, comment_id: str) -> None:
    with ledger.db.transaction():
        invoice = get_invoice(ledger, invoice_id)
        _user_comment(invoice, comment_id)
        invoice["_comments"] = [
            c for c in invoice["_comments"] if str(c.get("comment_id")) != str(comment_id)
        ]
        docs.save(ledger, KIND, invoice)


# --- applied money, as the invoice sub-resources show it -------------------------------
def payments_of(ledger: Ledger, invoice_id: str) -> list[dict[str, Any]]:
    invoice = get_invoice(ledger, invoice_id)
    return [
        {
            "payment_id": str(p.get("payment_id", "")),
            # Typed integer in this list only (the payment itself carries a string).
            "payment_number": _number(p.get("payment_number", "")),
            "invoice_id": str(invoice["invoice_id"]),
            "invoice_payment_id": str(p.get("invoice_payment_id", "")),
            "payment_mode": p.get("payment_mode", ""),
            "description": p.get("description", ""),
            "date": p.get("date", ""),
            "reference_number": p.get("reference_number", ""),
            "exchange_rate": p.get("exchange_rate", 1.0),
            "amount": p.get("amount", 0.0),
            "tax_amount_withheld": p.get("tax_amount_withheld", 0.0),
            "online_transaction_id": "",
            "is_single_invoice_payment": bool(p.get("is_single_invoice_payment", False)),
        }
        for p in invoice.get("_payments", [])
    ]


def _number(value: Any) -> Any:
    text = str(value)
    return int(text) if text.isdigit() else text


def credits_of(ledger: Ledger, invoice_id: str) -> list[dict[str, Any]]:
    invoice = get_invoice(ledger, invoice_id)
    return [
        {
            "creditnote_id": str(c.get("creditnote_id", "")),
            "creditnotes_invoice_id": str(c.get("creditnotes_invoice_id", "")),
            "creditnotes_number": c.get("creditnotes_number", ""),
            "credited_date": c.get("credited_date", ""),
            "amount_applied": c.get("amount_applied", 0.0),
        }
        for c in invoice.get("_credits", [])
    ]


def apply_credits(ledger: Ledger, invoice_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /invoices/{id}/credits``: apply credit notes (``apply_creditnotes``) and
    excess payments (``invoice_payments``) to this invoice, all or nothing.

    An excess payment applied here is recorded as a payment of the invoice (it is the
    payment's money; whether Zoho reports it under credits_applied is UNCONFIRMED).
    """
    from zbooks.sandbox.ledger.creditnotes import apply_to_invoices
    from zbooks.sandbox.ledger.customerpayments import apply_excess

    notes = body.get("apply_creditnotes") or []
    payments = body.get("invoice_payments") or []
    if not isinstance(notes, list) or not isinstance(payments, list):
        raise invalid_value("apply_creditnotes")
    if not notes and not payments:
        raise invalid_value("apply_creditnotes")
    with ledger.db.transaction():
        get_invoice(ledger, invoice_id)
        for entry in notes:
            if not isinstance(entry, Mapping) or not entry.get("creditnote_id"):
                raise invalid_value("creditnote_id")
            apply_to_invoices(
                ledger,
                str(entry["creditnote_id"]),
                [{"invoice_id": invoice_id, "amount_applied": entry.get("amount_applied")}],
            )
        for entry in payments:
            if not isinstance(entry, Mapping) or not entry.get("payment_id"):
                raise invalid_value("payment_id")
            apply_excess(ledger, str(entry["payment_id"]), invoice_id, entry.get("amount_applied"))
        return get_invoice(ledger, invoice_id)


# --- listing ---------------------------------------------------------------------------
_late = docs.late(OPEN_STATUSES, date_field="due_date")


_STATUS_FILTERS = {
    "draft": _status("draft"),
    "sent": docs.on_time("sent", date_field="due_date"),
    "viewed": docs.on_time("viewed", date_field="due_date"),
    "overdue": _late,
    "partially_paid": docs.on_time("partially_paid", date_field="due_date"),
    "paid": _status("paid"),
    "void": _status("void"),
    "unpaid": _status(*OPEN_STATUSES),
}

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="invoices",
    report_name="Invoices",
    counts=True,
    sort_columns=frozenset(
        {
            "customer_name",
            "invoice_number",
            "date",
            "due_date",
            "total",
            "balance",
            "created_time",
            "last_modified_time",
        }
    ),
    filter_by={
        "Status.All": lambda ledger: [],
        "Status.Sent": _STATUS_FILTERS["sent"],
        "Status.Draft": _STATUS_FILTERS["draft"],
        "Status.OverDue": _late,
        "Status.Paid": _STATUS_FILTERS["paid"],
        "Status.Void": _STATUS_FILTERS["void"],
        "Status.Unpaid": _STATUS_FILTERS["unpaid"],
        "Status.PartiallyPaid": _STATUS_FILTERS["partially_paid"],
        "Status.Viewed": _STATUS_FILTERS["viewed"],
        "Date.PaymentExpectedDate": lambda ledger: [Filter("payment_expected_date", "gt", "")],
    },
    statuses=_STATUS_FILTERS,
    search_fields=("invoice_number", "reference_number", "customer_name"),
    text_fields=("invoice_number", "reference_number", "customer_name"),
    exact_fields=("customer_id", "recurring_invoice_id", "salesperson_id"),
    date_fields=("date", "due_date"),
    number_fields=("total", "balance"),
    present=present_row,
    row_keys=frozenset({*ROW_FIELDS, "status", "due_date", "balance"}),
)


# --- seeding ---------------------------------------------------------------------------
def seeded_invoice(
    ctx: docs.SeedContext, *, invoice_id: str, number: str, line_ids: list[str]
) -> dict[str, Any]:
    """A realistic draft invoice built in memory (no per-record database work)."""
    rng = ctx.rng
    contact = ctx.contact()
    day = ctx.day(400)
    terms = int(contact.get("payment_terms") or rng.choice((0, 15, 30, 45)))
    invoice: dict[str, Any] = {
        "invoice_id": invoice_id,
        "invoice_number": number,
        **ctx.contact_fields(KIND, contact),
        "date": day,
        "payment_terms": terms,
        "payment_terms_label": docs.terms_label(terms),
        "due_date": docs.add_days(day, terms),
        "line_items": ctx.lines(line_ids, len(line_ids)),
        "status": "draft",
        "write_off_amount": 0.0,
        "is_emailed": False,
        "invoice_url": PORTAL_URL.format(invoice_id=invoice_id),
        "_payments": [],
        "_credits": [],
        "_comments": [],
        "created_time": ctx.stamp(day),
    }
    if rng.random() < 0.3:
        invoice["reference_number"] = f"PO-{rng.randint(1000, 99999)}"
    if rng.random() < 0.15:
        invoice["discount"] = rng.choice(("5.00%", "10.00%", 20.0))
        invoice["discount_type"] = "entity_level"
    if rng.random() < 0.2:
        invoice["shipping_charge"] = float(rng.choice((5, 10, 25)))
    ctx.money(invoice)
    recompute(ctx.ledger, invoice, precision=ctx.precision)
    return invoice


@seeder(MODULE)
def seed_invoices(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` invoices with a realistic mix: a few drafts and voids; older invoices
    mostly paid (with real payment records), some partially paid or written off, the
    rest open (overdue once their due date has passed). Built in memory, bulk inserted
    in batches, so 100,000 invoices take seconds."""
    from zbooks.sandbox.ledger import customerpayments as cp

    ctx = docs.SeedContext(ledger, rng)
    store = ledger.store
    numbers = docs.NumberSeries.of(ledger, KIND)
    payment_numbers = docs.NumberSeries(ledger, cp.MODULE, "payment_number", "", 1)
    by_contact = {str(c["contact_id"]): c for c in ctx.contacts}
    created: list[str] = []
    touched: set[str] = set()
    for chunk in docs.batches(count):
        with ledger.db.transaction():
            rows: list[tuple[str, dict[str, Any], str]] = []
            payments: list[tuple[str, dict[str, Any], str]] = []
            for _ in chunk:
                invoice_id = ctx.ids.one()
                line_ids = ctx.ids.take(rng.choice((1, 1, 2, 2, 3, 4)))
                invoice = seeded_invoice(
                    ctx, invoice_id=invoice_id, number=numbers.next(), line_ids=line_ids
                )
                paid_before = len(payments)
                _seed_outcome(ctx, invoice, by_contact, payment_numbers, payments)
                # Last touched when it was issued, or when its payment was recorded: the
                # history of real books, spread over months, rather than every invoice
                # sharing the second it was seeded in (which no organization has, and
                # which made incremental scans re-read whole pages).
                # (Stamps of one organization share its offset: as text they sort in
                # time order.)
                touched_at = _seeded_moment(ctx, invoice)
                if len(payments) > paid_before:
                    touched_at = max(touched_at, payments[-1][2])
                rows.append((invoice_id, invoice, touched_at))
                touched.add(str(invoice["customer_id"]))
                created.append(invoice_id)
            store.insert_many(MODULE, rows)
            store.insert_many(cp.MODULE, payments)
    numbers.close()
    payment_numbers.close()
    for customer_id in sorted(touched):
        mark_has_transaction(ledger, customer_id)
        refresh_balances(ledger, customer_id)
    return created


def _seed_outcome(
    ctx: docs.SeedContext,
    invoice: dict[str, Any],
    by_contact: Mapping[str, Mapping[str, Any]],
    payment_numbers: docs.NumberSeries,
    payments: list[tuple[str, dict[str, Any], str]],
) -> None:
    """Decide what happened to a seeded invoice since it was issued."""
    from zbooks.sandbox.ledger import customerpayments as cp

    rng = ctx.rng
    roll = rng.random()
    if roll < 0.07:
        return  # draft
    invoice["is_emailed"] = rng.random() < 0.8
    if roll < 0.11:
        invoice["status"] = "void"
        recompute(ctx.ledger, invoice, precision=ctx.precision)
        return
    invoice["status"] = "sent"
    recompute(ctx.ledger, invoice, precision=ctx.precision)
    total = docs.dec(invoice["total"])
    if total <= 0:
        return
    age = (ctx.today - date.fromisoformat(invoice["date"])).days
    paid_chance = min(0.85, 0.15 + age / 450)
    outcome = rng.random()
    if outcome < paid_chance:
        value = total
    elif outcome < paid_chance + 0.12:
        value = docs.dec(
            docs.quantize(total * Decimal(rng.choice((20, 40, 50, 75))) / 100, ctx.precision)
        )
    elif outcome < paid_chance + 0.14:
        invoice["write_off_amount"] = invoice["balance"]
        recompute(ctx.ledger, invoice, precision=ctx.precision)
        return
    else:
        return
    if value <= 0:
        return
    latest = min(ctx.today, date.fromisoformat(invoice["due_date"]) + timedelta(days=20))
    earliest = date.fromisoformat(invoice["date"])
    span = max((latest - earliest).days, 0)
    day = (earliest + timedelta(days=rng.randint(0, span))).isoformat()
    payment_id = ctx.ids.one()
    payment = cp.seeded_payment(
        ctx,
        payment_id=payment_id,
        number=payment_numbers.next(),
        contact=by_contact[str(invoice["customer_id"])],
        amount=value,
        day=day,
        applications=[(invoice, ctx.ids.one(), value)],
    )
    payments.append((payment_id, payment, _seeded_moment(ctx, payment)))


def _seeded_moment(ctx: docs.SeedContext, record: Mapping[str, Any]) -> str:
    """A seeded record's modification time: its creation stamp (a minute of a working
    day, never after now) with seconds taken from its id, so that records created in the
    same minute still differ, as typed-in records do. Today's records keep ``00:00:00``,
    which is never after now."""
    stamp = str(record["created_time"])
    if stamp.startswith(ctx.today.isoformat()):
        return stamp
    id_key = "payment_id" if "payment_id" in record else "invoice_id"
    seconds = int(str(record[id_key])[-6:]) % 60
    return f"{stamp[:17]}{seconds:02d}{stamp[19:]}"


def seeded_conversion(
    ctx: docs.SeedContext,
    source: Mapping[str, Any],
    *,
    number: str,
    origin: Mapping[str, str],
) -> dict[str, Any]:
    """An invoice made from an estimate or sales order, built in memory for seeders."""
    body = docs.carry_over(source)
    invoice_id = ctx.ids.one()
    day = max(str(source.get("date", "")), ctx.day(30))
    terms = 30
    invoice: dict[str, Any] = {
        **body,
        "invoice_id": invoice_id,
        "invoice_number": number,
        **{
            key: copy.deepcopy(source[key])
            for key in (
                "customer_name",
                "currency_id",
                "currency_code",
                "currency_symbol",
                "price_precision",
            )
            if key in source
        },
        "date": day,
        "payment_terms": terms,
        "payment_terms_label": docs.terms_label(terms),
        "due_date": docs.add_days(day, terms),
        "status": "draft",
        "write_off_amount": 0.0,
        "is_emailed": False,
        "invoice_url": PORTAL_URL.format(invoice_id=invoice_id),
        "_payments": [],
        "_credits": [],
        "_comments": [],
        "created_time": ctx.stamp(day),
        **origin,
    }
    for line, line_id in zip(
        invoice["line_items"], ctx.ids.take(len(invoice["line_items"])), strict=True
    ):
        line[docs.LINE_ID] = line_id
    ctx.money(invoice)
    if ctx.rng.random() < 0.6:
        invoice["status"] = "sent"
    recompute(ctx.ledger, invoice, precision=ctx.precision)
    return invoice
