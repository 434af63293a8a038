"""Customer payments: money received and how it is spread over invoices.

A payment's ``invoices[]`` is its side of each application; the invoice keeps the
mirror entry (``_payments``, see ``ledger.invoices``). Both sides change in one
transaction. ``unused_amount = amount - Σ amount_applied`` is the customer's excess
credit: voiding an invoice removes its entry here, so the money becomes unused.
"""

from __future__ import annotations

import copy
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
from zbooks.sandbox.ledger.store import Filter

MODULE = "customerpayments"
RESOURCE = "Payment"
DEFAULT_ACCOUNT = "Undeposited Funds"  # UNCONFIRMED default deposit account per mode
# UNCONFIRMED wording: lowering a payment below what was already refunded.
REFUNDED_EXCEEDS_AMOUNT = "The payment amount cannot be less than the amount refunded."
# UNCONFIRMED: Zoho may instead delete the refunds with the payment; refusing loses nothing.
HAS_REFUNDS = "The payment cannot be deleted as it has refunds. Delete the refunds first."

DEFAULTS: dict[str, Any] = {
    "payment_id": "",
    "payment_number": "",
    "payment_mode": "",
    "amount": 0.0,
    "amount_refunded": 0.0,
    "unused_amount": 0.0,
    "bank_charges": 0.0,
    "bcy_amount": 0.0,
    "date": "",
    "status": "success",
    "reference_number": "",
    "description": "",
    "customer_id": "",
    "customer_name": "",
    "email": "",
    "invoices": [],
    "currency_id": "",
    "currency_code": "",
    "currency_symbol": "",
    "exchange_rate": 1.0,
    "account_id": "",
    "account_name": DEFAULT_ACCOUNT,
    "tax_account_id": "",
    "tax_account_name": "",
    "tax_amount_withheld": 0.0,
    "payment_gateway": "",
    "location_id": "",
    "location_name": "",
    "tags": [],
    "custom_fields": [],
    "created_time": "",
    "last_modified_time": "",
}

ROW_FIELDS: dict[str, Any] = {
    "payment_id": "",
    "payment_number": "",
    "invoice_number": "",
    "date": "",
    "payment_mode": "",
    "amount": 0.0,
    "bcy_amount": 0.0,
    "unused_amount": 0.0,
    "account_id": "",
    "account_name": DEFAULT_ACCOUNT,
    "description": "",
    "reference_number": "",
    "customer_id": "",
    "customer_name": "",
    "currency_code": "",
    "created_time": "",
    "last_modified_time": "",
    "location_id": "",
    "location_name": "",
    "tags": [],
}

WRITABLE = (
    "reference_number",
    "description",
    "bank_charges",
    "exchange_rate",
    "location_id",
    "custom_fields",
    "tags",
    "contact_persons",
)

# filter_by PaymentMode.<X> -> the normalised payment_mode it selects.
PAYMENT_MODES = {
    "Check": "check",
    "Cash": "cash",
    "BankTransfer": "banktransfer",
    "Paypal": "paypal",
    "CreditCard": "creditcard",
    "GoogleCheckout": "googlecheckout",
    "Credit": "credit",
    "Authorizenet": "authorizenet",
    "BankRemittance": "bankremittance",
    "Payflowpro": "payflowpro",
    "Stripe": "stripe",
    "TwoCheckout": "2checkout",
    "Braintree": "braintree",
}


def _mode_key(mode: str) -> str:
    return "".join(mode.lower().split())


def get_payment(ledger: Ledger, payment_id: str) -> dict[str, Any]:
    payment = ledger.store.get(MODULE, str(payment_id))
    if payment is None:
        raise not_found(RESOURCE)
    return payment


def _save(ledger: Ledger, payment: dict[str, Any]) -> None:
    ledger.store.update(MODULE, str(payment["payment_id"]), payment, ledger.now())


def set_refunded(ledger: Ledger, payment: dict[str, Any], refunded: Decimal) -> None:
    """Refund side (``ledger.refunds``): the refunded total is no longer unused."""
    payment["amount_refunded"] = ledger.money(refunded)
    _recompute(ledger, payment)
    _save(ledger, payment)


def _recompute(ledger: Ledger, payment: dict[str, Any]) -> None:
    applied = sum((docs.dec(e.get("amount_applied")) for e in payment["invoices"]), Decimal(0))
    payment["unused_amount"] = ledger.money(
        docs.dec(payment["amount"]) - applied - docs.dec(payment.get("amount_refunded"))
    )
    payment["invoice_numbers"] = ", ".join(str(e["invoice_number"]) for e in payment["invoices"])


# --- applications ----------------------------------------------------------------------
def _parse_entries(raw: Any) -> list[tuple[str, Decimal, Decimal]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid_value("invoices")
    entries: list[tuple[str, Decimal, Decimal]] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, Mapping) or not item.get("invoice_id"):
            raise invalid_value("invoice_id")
        invoice_id = str(item["invoice_id"])
        if invoice_id in seen:
            raise invalid_value("invoice_id")
        seen.add(invoice_id)
        if item.get("amount_applied") in (None, ""):
            raise invalid_value("amount_applied")
        amount = docs.dec(item.get("amount_applied"), "amount_applied")
        withheld = docs.dec(item.get("tax_amount_withheld"), "tax_amount_withheld")
        if amount < 0 or withheld < 0:
            raise invalid_value("amount_applied")
        if amount == 0 and withheld == 0:
            continue  # a zero line applies nothing
        entries.append((invoice_id, amount, withheld))
    return entries


def _attach(
    ledger: Ledger,
    payment: dict[str, Any],
    invoice: dict[str, Any],
    amount: Decimal,
    withheld: Decimal = Decimal(0),
    *,
    invoice_payment_id: str = "",
    single: bool = False,
) -> None:
    link_id = invoice_payment_id or ledger.store.new_id()
    payment["invoices"].append(
        {
            "invoice_payment_id": link_id,
            "invoice_id": str(invoice["invoice_id"]),
            "invoice_number": invoice.get("invoice_number", ""),
            "date": invoice.get("date", ""),
            "invoice_amount": invoice.get("total", 0.0),
            "amount_applied": ledger.money(amount),
            "tax_amount_withheld": ledger.money(withheld),
        }
    )
    inv.attach_payment(
        ledger,
        invoice,
        {
            "invoice_payment_id": link_id,
            "payment_id": str(payment["payment_id"]),
            "payment_number": payment.get("payment_number", ""),
            "payment_mode": payment.get("payment_mode", ""),
            "description": payment.get("description", ""),
            "date": payment.get("date", ""),
            "reference_number": payment.get("reference_number", ""),
            "exchange_rate": payment.get("exchange_rate", 1.0),
            "amount": ledger.money(amount),
            "tax_amount_withheld": ledger.money(withheld),
            "is_single_invoice_payment": single,
        },
    )


def _apply_all(
    ledger: Ledger,
    payment: dict[str, Any],
    entries: list[tuple[str, Decimal, Decimal]],
    keep_ids: Mapping[str, str] | None = None,
) -> None:
    """Validate every application first (Σ <= amount, each <= balance, same customer,
    invoice not draft/void), then record both sides."""
    total_applied = sum((amount for _, amount, _ in entries), Decimal(0))
    # Refunded money has left the payment: only the rest can be applied.
    available = docs.dec(payment["amount"]) - docs.dec(payment.get("amount_refunded"))
    if available < 0:
        raise rule_violation(REFUNDED_EXCEEDS_AMOUNT)
    if total_applied > available:
        raise rule_violation("The amount applied to invoices exceeds the payment amount.")
    invoices = []
    for invoice_id, amount, withheld in entries:
        invoice = inv.get_invoice(ledger, invoice_id)
        inv.check_can_receive(ledger, invoice, payment["customer_id"], amount + withheld)
        invoices.append(invoice)
    payment["invoices"] = []
    single = len(entries) == 1
    for invoice, (_, amount, withheld) in zip(invoices, entries, strict=True):
        _attach(
            ledger,
            payment,
            invoice,
            amount,
            withheld,
            invoice_payment_id=(keep_ids or {}).get(str(invoice["invoice_id"]), ""),
            single=single,
        )
    _recompute(ledger, payment)


def _release_all(ledger: Ledger, payment: dict[str, Any]) -> None:
    """Take the payment off every invoice it pays (invoice side; caller saves payment)."""
    for entry in payment.get("invoices", []):
        invoice = ledger.store.get(inv.MODULE, str(entry["invoice_id"]))
        if invoice is not None:
            inv.detach_payment(ledger, invoice, str(entry["invoice_payment_id"]))
    payment["invoices"] = []


def release_from_invoice(ledger: Ledger, payment_id: str, invoice_payment_id: str) -> None:
    """Payment side of an invoice being voided: the applied amount becomes unused."""
    payment = ledger.store.get(MODULE, str(payment_id))
    if payment is None:
        return
    payment["invoices"] = [
        e
        for e in payment["invoices"]
        if str(e.get("invoice_payment_id")) != str(invoice_payment_id)
    ]
    _recompute(ledger, payment)
    _save(ledger, payment)


def unapply(ledger: Ledger, invoice_id: str, invoice_payment_id: str) -> None:
    """``DELETE /invoices/{id}/payments/{invoice_payment_id}``: both sides."""
    with ledger.db.transaction():
        invoice = inv.get_invoice(ledger, invoice_id)
        entry = next(
            (
                p
                for p in invoice.get("_payments", [])
                if str(p.get("invoice_payment_id")) == str(invoice_payment_id)
            ),
            None,
        )
        if entry is None:
            raise not_found(RESOURCE)
        inv.detach_payment(ledger, invoice, str(invoice_payment_id))
        release_from_invoice(ledger, str(entry["payment_id"]), str(invoice_payment_id))
        refresh_balances(ledger, str(invoice["customer_id"]))


def apply_excess(ledger: Ledger, payment_id: str, invoice_id: str, amount_raw: Any) -> None:
    """Apply part of a payment's unused amount to another invoice of the customer."""
    with ledger.db.transaction():
        payment = get_payment(ledger, payment_id)
        amount = docs.positive_amount(amount_raw, "amount_applied")
        if amount > docs.dec(payment.get("unused_amount")):
            raise rule_violation("The amount applied exceeds the unused amount of the payment.")
        invoice = inv.get_invoice(ledger, invoice_id)
        inv.check_can_receive(ledger, invoice, payment["customer_id"], amount)
        _attach(ledger, payment, invoice, amount)
        _recompute(ledger, payment)
        _save(ledger, payment)
        refresh_balances(ledger, str(payment["customer_id"]))


# --- create / update / delete ----------------------------------------------------------
def _account_name(ledger: Ledger, account_id: str) -> str:
    account = ledger.store.get("chartofaccounts", account_id) if account_id else None
    return str(account.get("account_name", DEFAULT_ACCOUNT)) if account else DEFAULT_ACCOUNT


def _set_fields(
    ledger: Ledger, payment: dict[str, Any], body: Mapping[str, Any], *, creating: bool
) -> None:
    if creating or "payment_mode" in body:
        mode = str(body.get("payment_mode") or "").strip()
        if not mode:
            raise invalid_value("payment_mode")
        payment["payment_mode"] = mode
        payment["_mode"] = _mode_key(mode)
    if creating or "amount" in body:
        amount = docs.positive_amount(body.get("amount"), "amount")
        payment["amount"] = ledger.money(amount)
        payment["bcy_amount"] = ledger.money(
            amount * docs.dec(body.get("exchange_rate") or payment.get("exchange_rate") or 1)
        )
    if creating or "date" in body:
        # api-facts lists date as required; we default it to today (UNCONFIRMED leniency).
        payment["date"] = docs.parse_date(body.get("date"), "date", ledger.today())
    docs.copy_writable(payment, body, WRITABLE)
    if "account_id" in body:
        payment["account_id"] = str(body.get("account_id") or "")
        payment["account_name"] = _account_name(ledger, payment["account_id"])


def _customer(ledger: Ledger, customer_id: Any) -> dict[str, Any]:
    if not str(customer_id or "").strip():
        raise invalid_value("customer_id")
    return get_contact(ledger, str(customer_id))


def create_payment(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    """Record a payment and apply it to the given invoices (empty = advance payment,
    UNCONFIRMED whether Zoho accepts an empty list)."""
    with ledger.db.transaction():
        contact = _customer(ledger, body.get("customer_id"))
        store = ledger.store
        payment_id = store.new_id()
        payment: dict[str, Any] = {
            "payment_id": payment_id,
            "payment_number": _next_number(ledger),
            "customer_id": str(contact["contact_id"]),
            "customer_name": contact.get("contact_name", ""),
            "email": contact.get("email", ""),
            "currency_id": contact.get("currency_id") or ledger.org.get("currency_id", ""),
            "currency_code": contact.get("currency_code") or ledger.org.get("currency_code", ""),
            "currency_symbol": ledger.org.get("currency_symbol", ""),
            "account_name": DEFAULT_ACCOUNT,
            "amount_refunded": 0.0,
            "invoices": [],
        }
        _set_fields(ledger, payment, body, creating=True)
        _apply_all(ledger, payment, _parse_entries(body.get("invoices")))
        store.insert(MODULE, payment_id, payment, ledger.now())
        mark_has_transaction(ledger, payment["customer_id"])
        refresh_balances(ledger, payment["customer_id"])
        return payment


def _next_number(ledger: Ledger) -> str:
    """Payment numbers are plain sequence numbers ("1", "2", ...) as in api-facts A.4."""
    return docs.next_number_in(ledger, MODULE, "", 1)


def update_payment(ledger: Ledger, payment_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """PUT re-applies: the old applications are released, then the new set (the body's
    ``invoices``, or the previous ones when omitted) is validated and applied."""
    with ledger.db.transaction():
        payment = get_payment(ledger, payment_id)
        old_customer = str(payment["customer_id"])
        previous = [
            {
                "invoice_id": e["invoice_id"],
                "amount_applied": e["amount_applied"],
                "tax_amount_withheld": e.get("tax_amount_withheld", 0),
            }
            for e in payment["invoices"]
        ]
        keep_ids = {str(e["invoice_id"]): str(e["invoice_payment_id"]) for e in payment["invoices"]}
        _release_all(ledger, payment)
        if body.get("customer_id") and str(body["customer_id"]) != old_customer:
            contact = _customer(ledger, body["customer_id"])
            payment["customer_id"] = str(contact["contact_id"])
            payment["customer_name"] = contact.get("contact_name", "")
            payment["email"] = contact.get("email", "")
        if "payment_number" in body and str(body["payment_number"] or "").strip():
            number = str(body["payment_number"]).strip()
            other = ledger.store.find_one(MODULE, "payment_number", number)
            if other is not None and str(other["payment_id"]) != str(payment_id):
                raise rule_violation(f"Payment number {number} already exists", code=1001)
            payment["payment_number"] = number
            docs.remember_number(ledger, MODULE, "", number)
        _set_fields(ledger, payment, body, creating=False)
        entries = _parse_entries(body.get("invoices", previous))
        _apply_all(ledger, payment, entries, keep_ids)
        _save(ledger, payment)
        for customer_id in {old_customer, str(payment["customer_id"])}:
            refresh_balances(ledger, customer_id)
        mark_has_transaction(ledger, str(payment["customer_id"]))
        return payment


def delete_payment(ledger: Ledger, payment_id: str) -> None:
    """Delete, restoring every invoice's balance and status."""
    with ledger.db.transaction():
        payment = get_payment(ledger, payment_id)
        if docs.dec(payment.get("amount_refunded")) > 0:
            raise rule_violation(HAS_REFUNDS)
        _release_all(ledger, payment)
        ledger.store.delete(MODULE, str(payment_id))
        refresh_balances(ledger, str(payment["customer_id"]))


# --- presentation ----------------------------------------------------------------------
def present_payment(ledger: Ledger, payment: Mapping[str, Any]) -> dict[str, Any]:
    shaped = copy.deepcopy(DEFAULTS)
    shaped.update(docs.strip_private(payment))
    shaped.pop("invoice_numbers", None)
    rows = []
    for entry in payment.get("invoices", []):
        invoice = ledger.store.get(inv.MODULE, str(entry["invoice_id"])) or {}
        balance = invoice.get("balance", 0.0)
        rows.append(
            {
                **entry,
                "balance_amount": balance,
                # The same invoice facts under the names older clients read.
                "balance": balance,
                "total": invoice.get("total", entry.get("invoice_amount", 0.0)),
                "due_date": invoice.get("due_date", ""),
            }
        )
    shaped["invoices"] = rows
    return shaped


def present_row(ledger: Ledger, payment: dict[str, Any]) -> dict[str, Any]:
    numbers = payment.get("invoice_numbers", "")
    return docs.present_row(
        payment,
        ROW_FIELDS,
        invoice_number=numbers,
        invoice_numbers=numbers,
        bcy_unused_amount=payment.get("unused_amount", 0.0),
    )


def _mode_filter(mode: str) -> FilterFactory:
    return lambda ledger: [Filter("_mode", "eq", mode)]


_FILTER_BY: dict[str, FilterFactory] = {
    "PaymentMode.All": lambda ledger: [],
    **{f"PaymentMode.{name}": _mode_filter(mode) for name, mode in PAYMENT_MODES.items()},
    # Any mode outside the named ones (free-text modes are accepted, api-facts §3.8).
    "PaymentMode.Others": lambda ledger: [
        Filter("_mode", "ne", mode) for mode in PAYMENT_MODES.values()
    ],
}

LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="customerpayments",
    report_name="Customer Payments",
    sort_columns=frozenset(
        {
            "customer_name",
            "payment_number",
            "payment_mode",
            "date",
            "amount",
            "unused_amount",
            "reference_number",
            "created_time",
            "last_modified_time",
        }
    ),
    filter_by=_FILTER_BY,
    default_filter="PaymentMode.All",
    search_fields=("payment_number", "reference_number", "customer_name", "description"),
    text_fields=("customer_name", "reference_number", "payment_mode", "description"),
    exact_fields=("customer_id",),
    date_fields=("date",),
    number_fields=("amount",),
    present=present_row,
    row_keys=frozenset({*ROW_FIELDS, "invoice_numbers", "unused_amount"}),
)


# --- seeding ---------------------------------------------------------------------------
SEED_MODES = ("cash", "check", "banktransfer", "creditcard", "bankremittance")


def seeded_payment(
    ctx: docs.SeedContext,
    *,
    payment_id: str,
    number: str,
    contact: Mapping[str, Any],
    amount: Decimal,
    day: str,
    applications: list[tuple[dict[str, Any], str, Decimal]],
) -> dict[str, Any]:
    """A payment record built in memory, applied to ``(invoice, link_id, amount)``s.

    The invoices get their mirror entries and are recomputed here; the caller stores
    both (bulk seeding never goes through the per-request code).
    """
    places = ctx.precision
    mode = ctx.rng.choice(SEED_MODES)
    payment: dict[str, Any] = {
        "payment_id": payment_id,
        "payment_number": number,
        "payment_mode": mode,
        "_mode": mode,
        "amount": docs.quantize(amount, places),
        "bcy_amount": docs.quantize(amount, places),
        "amount_refunded": 0.0,
        "date": day,
        "reference_number": f"REF-{ctx.rng.randint(10000, 99999)}"
        if ctx.rng.random() < 0.5
        else "",
        "customer_id": str(contact["contact_id"]),
        "customer_name": contact.get("contact_name", ""),
        "email": contact.get("email", ""),
        "currency_id": contact.get("currency_id") or ctx.org.get("currency_id", ""),
        "currency_code": contact.get("currency_code") or ctx.org.get("currency_code", ""),
        "currency_symbol": ctx.org.get("currency_symbol", ""),
        "account_name": DEFAULT_ACCOUNT,
        "invoices": [],
        "created_time": ctx.stamp(day),
    }
    single = len(applications) == 1
    applied = Decimal(0)
    for invoice, link_id, value in applications:
        applied += value
        payment["invoices"].append(
            {
                "invoice_payment_id": link_id,
                "invoice_id": str(invoice["invoice_id"]),
                "invoice_number": invoice.get("invoice_number", ""),
                "date": invoice.get("date", ""),
                "invoice_amount": invoice.get("total", 0.0),
                "amount_applied": docs.quantize(value, places),
                "tax_amount_withheld": 0.0,
            }
        )
        invoice.setdefault("_payments", []).append(
            {
                "invoice_payment_id": link_id,
                "payment_id": payment_id,
                "payment_number": number,
                "payment_mode": mode,
                "description": "",
                "date": day,
                "reference_number": payment["reference_number"],
                "exchange_rate": 1.0,
                "amount": docs.quantize(value, places),
                "tax_amount_withheld": 0.0,
                "is_single_invoice_payment": single,
            }
        )
        inv.recompute(ctx.ledger, invoice, precision=places)
    payment["unused_amount"] = docs.quantize(amount - applied, places)
    payment["invoice_numbers"] = ", ".join(e["invoice_number"] for e in payment["invoices"])
    return payment


@seeder(MODULE)
def seed_payments(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` payments: most settle (part of) an open invoice of the customer, about
    one in ten is an advance payment that stays unused credit."""
    ctx = docs.SeedContext(ledger, rng)
    store = ledger.store
    open_invoices = store.find(inv.MODULE, [Filter("status", "in", list(inv.OPEN_STATUSES))])
    by_contact = {str(c["contact_id"]): c for c in ctx.contacts}
    numbers = docs.NumberSeries(ledger, MODULE, "payment_number", "", 1)
    created: list[str] = []
    touched: set[str] = set()
    for chunk in docs.batches(count):
        with ledger.db.transaction():
            payments: list[tuple[str, dict[str, Any], str]] = []
            changed: dict[str, dict[str, Any]] = {}
            now = ledger.now()
            for _ in chunk:
                payment_id = ctx.ids.one()
                number = numbers.next()
                invoice = (
                    open_invoices.pop(rng.randrange(len(open_invoices)))
                    if (open_invoices and rng.random() < 0.9)
                    else None
                )
                if invoice is not None and str(invoice["customer_id"]) in by_contact:
                    contact = by_contact[str(invoice["customer_id"])]
                    balance = docs.dec(invoice["balance"])
                    value = (
                        balance
                        if rng.random() < 0.7
                        else docs.dec(
                            docs.quantize(
                                balance * Decimal(rng.choice((25, 40, 50, 60))) / 100, ctx.precision
                            )
                        )
                    )
                    day = max(str(invoice["date"]), ctx.day(60))
                    applications = [(invoice, ctx.ids.one(), value)]
                    changed[str(invoice["invoice_id"])] = invoice
                else:
                    contact = ctx.contact()
                    value = Decimal(rng.choice((100, 250, 500, 1000)))
                    day = ctx.day(120)
                    applications = []
                payment = seeded_payment(
                    ctx,
                    payment_id=payment_id,
                    number=number,
                    contact=contact,
                    amount=value,
                    day=day,
                    applications=applications,
                )
                payments.append((payment_id, payment, now))
                touched.add(str(contact["contact_id"]))
                created.append(payment_id)
            store.insert_many(MODULE, payments)
            for invoice_id, invoice in changed.items():
                store.update(inv.MODULE, invoice_id, invoice, now)
    numbers.close()
    for customer_id in sorted(touched):
        mark_has_transaction(ledger, customer_id)
        refresh_balances(ledger, customer_id)
    return created
