"""Contacts (customers and vendors): validation, derived balances, delete protection.

Balances are derived, never typed in: ``refresh_balances`` recomputes them from the
documents other modules store, so every module only has to call it after it changes a
document of the contact. Contact persons live in ``contactpersons`` (see that module);
the contact carries a denormalised copy of them.
"""

from __future__ import annotations

import json
import random
import weakref
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zbooks.sandbox.db import Database
from zbooks.sandbox.errors import ApiError, invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger import contactpersons as persons
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.currencies import ensure_base_currency, get_currency
from zbooks.sandbox.ledger.listing import ListSpec
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.taxes import bool_value, describe, name_taken, text_value
from zbooks.sandbox.ledger.totals import to_decimal

MODULE = "contacts"
CONTACT_TYPES = ("customer", "vendor")
SUB_TYPES = ("business", "individual")

_OPEN_INVOICE = ("sent", "viewed", "overdue", "partially_paid")
_OPEN_BILL = ("open", "overdue", "partially_paid")

# Documents that make a contact undeletable, by the field that names the contact.
_REFERENCES: tuple[tuple[str, str], ...] = (
    ("invoices", "customer_id"),
    ("estimates", "customer_id"),
    ("salesorders", "customer_id"),
    ("customerpayments", "customer_id"),
    ("creditnotes", "customer_id"),
    ("recurringinvoices", "customer_id"),
    ("retainerinvoices", "customer_id"),
    ("projects", "customer_id"),
    ("expenses", "customer_id"),
    ("bills", "vendor_id"),
    ("vendorpayments", "vendor_id"),
    ("purchaseorders", "vendor_id"),
    ("vendorcredits", "vendor_id"),
    ("expenses", "vendor_id"),
)

ADDRESS_FIELDS = (
    "attention",
    "address",
    "street2",
    "state_code",
    "city",
    "state",
    "zip",
    "country",
    "fax",
    "phone",
)
TEMPLATE_FIELDS = (
    "invoice_template_id",
    "estimate_template_id",
    "creditnote_template_id",
    "purchaseorder_template_id",
    "salesorder_template_id",
    "retainerinvoice_template_id",
    "paymentthankyou_template_id",
    "retainerinvoice_paymentthankyou_template_id",
    "invoice_email_template_id",
    "estimate_email_template_id",
    "creditnote_email_template_id",
    "purchaseorder_email_template_id",
    "salesorder_email_template_id",
    "retainerinvoice_email_template_id",
    "paymentthankyou_email_template_id",
    "retainerinvoice_paymentthankyou_email_template_id",
    "statement_template_id",
    "payment_remittance_email_template_id",
    "bill_template_id",
)
# Plain text fields a request may set (validated as strings).
TEXT_FIELDS = (
    "company_name",
    "website",
    "language_code",
    "pricebook_id",
    "contact_number",
    "notes",
    "owner_id",
    "place_of_contact",
    "gst_no",
    "gst_treatment",
    "tax_treatment",
    "tax_regime",
    "legal_name",
    "vat_treatment",
    "vat_reg_no",
    "tax_reg_no",
    "country_code",
    "tax_authority_id",
    "tax_authority_name",
    "tax_exemption_id",
    "tax_exemption_code",
    "tax_exemption_certificate_number",
    "avatax_exempt_no",
    "avatax_use_code",
    "tds_tax_id",
    "tax_id_type",
    "tax_id_value",
    "facebook",
    "twitter",
)
BOOL_FIELDS = (
    "ignore_auto_number_generation",
    "is_portal_enabled",
    "is_taxable",
    "is_tds_registered",
    "track_1099",
    "payment_reminder_enabled",
)
LIST_FIELDS = (
    "contact_id",
    "contact_name",
    "customer_name",
    "vendor_name",
    "company_name",
    "website",
    "language_code",
    "contact_type",
    "customer_sub_type",
    "status",
    "is_linked_with_zohocrm",
    "payment_terms",
    "payment_terms_label",
    "currency_id",
    "currency_code",
    "outstanding_receivable_amount",
    "outstanding_receivable_amount_bcy",
    "outstanding_payable_amount",
    "outstanding_payable_amount_bcy",
    "unused_credits_receivable_amount",
    "unused_credits_receivable_amount_bcy",
    "unused_credits_payable_amount",
    "unused_credits_payable_amount_bcy",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "gst_treatment",
    "gst_no",
    "place_of_contact",
    "has_attachment",
    "created_time",
    "last_modified_time",
)
_BALANCE_FIELDS = (
    "outstanding_receivable_amount",
    "outstanding_receivable_amount_bcy",
    "outstanding_payable_amount",
    "outstanding_payable_amount_bcy",
    "unused_credits_receivable_amount",
    "unused_credits_receivable_amount_bcy",
    "unused_credits_payable_amount",
    "unused_credits_payable_amount_bcy",
)
_INTERNAL = ("addresses", "customer_name", "vendor_name")
# Fields clients read unconditionally (e.g. the zohobooks-api package's parsers), which
# are absent from records stored before they were added: filled in on every read.
_TEMPLATE_NAME_FIELDS = tuple(
    f"{kind}_template_name" for kind in ("invoice", "estimate", "creditnote")
) + tuple(f"{kind}_email_template_name" for kind in ("invoice", "estimate", "creditnote"))
READ_DEFAULTS: dict[str, Any] = {
    "contact_salutation": "",
    "is_crm_customer": False,
    "price_precision": 2,
    "gst_no": "",
    "place_of_contact": "",
}


def blank_address(address_id: str = "") -> dict[str, Any]:
    address: dict[str, Any] = {"address_id": address_id} if address_id else {}
    address.update({field: "" for field in ADDRESS_FIELDS})
    return address


def defaults(ledger: Ledger, contact_id: str, currency: Mapping[str, Any]) -> dict[str, Any]:
    """Every documented field of a contact with Zoho's empty values."""
    return {
        "contact_id": contact_id,
        "contact_name": "",
        "company_name": "",
        "has_transaction": False,
        "contact_type": "customer",
        "customer_sub_type": "business",
        "credit_limit": 0.0,
        "pricebook_id": "",
        "contact_number": "",
        "ignore_auto_number_generation": False,
        "is_taxable": True,
        "tax_id": "",
        "tax_name": "",
        "tax_percentage": 0.0,
        "tax_authority_id": "",
        "tax_exemption_id": "",
        "tax_authority_name": "",
        "tax_exemption_code": "",
        "place_of_contact": "",
        "gst_no": "",
        "tax_treatment": "",
        "tax_regime": "",
        "legal_name": "",
        "is_tds_registered": False,
        "vat_treatment": "",
        "gst_treatment": "",
        "is_linked_with_zohocrm": False,
        "website": "",
        "language_code": "en",
        "owner_id": "",
        "primary_contact_id": "",
        "payment_terms": 0,
        "payment_terms_label": "Due on Receipt",
        "currency_id": currency["currency_id"],
        "currency_code": currency["currency_code"],
        "currency_symbol": currency["currency_symbol"],
        "opening_balances": [],
        **{field: 0.0 for field in _BALANCE_FIELDS},
        "status": "active",
        "is_portal_enabled": False,
        "payment_reminder_enabled": True,
        "facebook": "",
        "twitter": "",
        "custom_fields": [],
        "tags": [],
        "billing_address": blank_address(ledger.store.new_id()),
        "shipping_address": blank_address(ledger.store.new_id()),
        "addresses": [],
        "contact_persons": [],
        "default_templates": {field: "" for field in TEMPLATE_FIELDS},
        "notes": "",
        "has_attachment": False,
        **{field: "" for field in persons.PRIMARY_FIELDS},
    }


def present(ledger: Ledger, contact: dict[str, Any]) -> dict[str, Any]:
    """The contact as ``GET /contacts/{id}`` returns it."""
    shown = {**READ_DEFAULTS, **{k: v for k, v in contact.items() if k not in _INTERNAL}}
    templates = shown.get("default_templates")
    if isinstance(templates, dict):
        shown["default_templates"] = {
            **{name: "" for name in _TEMPLATE_NAME_FIELDS},
            **templates,
        }
    return shown


def present_row(ledger: Ledger, contact: dict[str, Any]) -> dict[str, Any]:
    """A ``contacts[]`` list row."""
    row = {field: contact.get(field, "") for field in LIST_FIELDS}
    row["customer_name"] = contact.get("contact_name", "")
    row["vendor_name"] = contact.get("contact_name", "")
    return row


def get_contact(ledger: Ledger, contact_id: str) -> dict[str, Any]:
    """The stored contact, or 404 code 1002 ``Contact does not exist.``"""
    contact = ledger.store.get(MODULE, str(contact_id))
    if contact is None:
        raise not_found("Contact")
    return contact


# One expression index per party field lets a balance refresh read only the contact's
# own documents instead of scanning every invoice of the organization (100,000 invoices:
# ~140 ms -> well under 1 ms). The path must be a literal in both index and query for
# SQLite to use the index, hence the raw SQL below instead of ``store.find``.
_PARTY_INDEXES = (
    "CREATE INDEX IF NOT EXISTS records_by_customer_id "
    "ON records (org_id, module, json_extract(data, '$.customer_id'))",
    "CREATE INDEX IF NOT EXISTS records_by_vendor_id "
    "ON records (org_id, module, json_extract(data, '$.vendor_id'))",
)


def _quoted(values: tuple[str, ...]) -> str:
    return ",".join(f"'{value}'" for value in values)


# The documents that can move a balance: open invoices, bills and credits, and payments
# with money left. Everything else (drafts, paid, void) adds exactly zero, yet reading
# it made every refresh cost O(documents of the contact): creating 10,000 draft
# invoices for one customer slowed each create from 4 ms to 40 ms. Partial indexes
# hold only these rows, so a refresh costs O(open documents). SQLite uses a partial
# index only when the query repeats its WHERE term verbatim, hence one constant each.
_STATUS = "json_extract(data, '$.status')"
_UNUSED = "json_extract(data, '$.unused_amount')"
_OPEN_RECEIVABLE = (
    f"((module='invoices' AND {_STATUS} IN ({_quoted(_OPEN_INVOICE)}))"
    f" OR (module='creditnotes' AND {_STATUS}='open')"
    f" OR (module='customerpayments' AND {_UNUSED}<>0))"
)
_OPEN_PAYABLE = (
    f"((module='bills' AND {_STATUS} IN ({_quoted(_OPEN_BILL)}))"
    f" OR (module='vendorcredits' AND {_STATUS}='open')"
    f" OR (module='vendorpayments' AND {_UNUSED}<>0))"
)
_OPEN_DOCUMENTS = {"customer_id": _OPEN_RECEIVABLE, "vendor_id": _OPEN_PAYABLE}
_OPEN_INDEXES = tuple(
    f"CREATE INDEX IF NOT EXISTS records_open_by_{field} "
    f"ON records (org_id, json_extract(data, '$.{field}')) WHERE {where}"
    for field, where in _OPEN_DOCUMENTS.items()
)
_INDEXED: weakref.WeakSet[Database] = weakref.WeakSet()


def _ensure_party_indexes(ledger: Ledger) -> None:
    if ledger.db in _INDEXED:
        return
    # ``conn.execute`` (not ``ensure_schema``/executescript, which would COMMIT an outer
    # transaction): SQLite DDL is transactional, so this joins the caller's transaction.
    with ledger.db.transaction() as conn:
        for ddl in (*_PARTY_INDEXES, *_OPEN_INDEXES):
            conn.execute(ddl)
    _INDEXED.add(ledger.db)


def _party_rows(
    ledger: Ledger, field: str, contact_id: str
) -> list[tuple[str, str, Decimal, Decimal]]:
    """(module, status, balance, unused_amount) of the contact's open documents."""
    _ensure_party_indexes(ledger)
    # The open-documents term already names ``modules``; ``INDEXED BY`` makes SQLite fail
    # loudly rather than fall back to a scan should the two ever drift apart.
    sql = (
        f"SELECT module, {_STATUS} AS status, "
        "json_extract(data, '$.balance') AS balance, "
        f"{_UNUSED} AS unused FROM records INDEXED BY records_open_by_{field} "
        f"WHERE org_id=? AND json_extract(data, '$.{field}')=? AND {_OPEN_DOCUMENTS[field]}"
    )
    with ledger.db.read() as conn:
        rows = conn.execute(sql, (ledger.org_id, contact_id)).fetchall()
    return [
        (
            str(r["module"]),
            str(r["status"] or ""),
            to_decimal(r["balance"], "balance"),
            to_decimal(r["unused"], "unused_amount"),
        )
        for r in rows
    ]


def compute_balances(ledger: Ledger, contact_id: str) -> dict[str, float]:
    """The derived money fields of a contact (api-facts §3.2; composition UNCONFIRMED).

    receivable = Σ balance of invoices sent/viewed/overdue/partially_paid;
    receivable credits = Σ balance of open credit notes + Σ unused_amount of payments;
    payable = Σ balance of bills open/overdue/partially_paid;
    payable credits = Σ balance of open vendor credits + Σ unused_amount of payments.
    """
    cid = str(contact_id)
    receivable = credits_receivable = payable = credits_payable = Decimal(0)
    for module, status, balance, unused in _party_rows(ledger, "customer_id", cid):
        if module == "invoices" and status in _OPEN_INVOICE:
            receivable += balance
        elif module == "creditnotes" and status == "open":
            credits_receivable += balance
        elif module == "customerpayments":
            credits_receivable += unused
    for module, status, balance, unused in _party_rows(ledger, "vendor_id", cid):
        if module == "bills" and status in _OPEN_BILL:
            payable += balance
        elif module == "vendorcredits" and status == "open":
            credits_payable += balance
        elif module == "vendorpayments":
            credits_payable += unused
    values = {
        "outstanding_receivable_amount": ledger.money(receivable),
        "unused_credits_receivable_amount": ledger.money(credits_receivable),
        "outstanding_payable_amount": ledger.money(payable),
        "unused_credits_payable_amount": ledger.money(credits_payable),
    }
    # Single-currency sandbox: base-currency twins carry the same values.
    values.update({f"{key}_bcy": value for key, value in list(values.items())})
    return values


def refresh_balances(ledger: Ledger, contact_id: str) -> None:
    """Recompute and store the contact's derived balances.

    Saved with ``touch=False``: a balance moving because an invoice was paid is not an
    edit of the contact, so incremental syncs on ``last_modified_time`` do not refetch it.
    Unknown contacts are ignored (the document may reference a contact deleted later).
    """
    with ledger.db.transaction():
        contact = ledger.store.get(MODULE, str(contact_id))
        if contact is None:
            return
        balances = compute_balances(ledger, contact_id)
        if all(contact.get(k) == v for k, v in balances.items()):
            return
        contact.update(balances)
        ledger.store.update(MODULE, str(contact_id), contact, ledger.now(), touch=False)


def mark_has_transaction(ledger: Ledger, contact_id: str) -> None:
    """Record that a transaction references the contact (it can no longer be deleted)."""
    with ledger.db.transaction():
        contact = ledger.store.get(MODULE, str(contact_id))
        if contact is None or contact.get("has_transaction") is True:
            return
        contact["has_transaction"] = True
        ledger.store.update(MODULE, str(contact_id), contact, ledger.now(), touch=False)


# validation -------------------------------------------------------------------------
def _duplicate(name: str, contact_type: str) -> ApiError:
    # Exact text OBSERVED for customers; the vendor wording is our guess (UNCONFIRMED).
    return rule_violation(
        f'The {contact_type} "{name}" already exists. Please specify a different name.',
        code=3062,
    )


def _money(value: Any, field: str) -> float:
    amount = to_decimal(value, field)
    if amount < 0:
        raise invalid_value(field)
    return float(amount)


def _address(value: Any, field: str, current: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_value(field)
    merged = dict(current)
    for key in ADDRESS_FIELDS:
        if key in value:
            merged[key] = text_value(value, key)
    return merged


def _terms(body: dict[str, Any], contact: dict[str, Any]) -> None:
    if "payment_terms" in body:
        raw = body["payment_terms"]
        try:
            days = int(str(raw).strip() or 0)
        except ValueError:
            raise invalid_value("payment_terms") from None
        if isinstance(raw, bool) or days < 0:
            raise invalid_value("payment_terms")
        contact["payment_terms"] = days
        if "payment_terms_label" not in body:
            contact["payment_terms_label"] = f"Net {days}" if days else "Due on Receipt"
    if "payment_terms_label" in body:
        contact["payment_terms_label"] = text_value(body, "payment_terms_label", 100)


def _apply(ledger: Ledger, body: dict[str, Any], contact: dict[str, Any]) -> None:
    """Copy the writable fields of ``body`` onto ``contact`` (omitted fields unchanged)."""
    if "contact_type" in body:
        if body["contact_type"] not in CONTACT_TYPES:
            raise invalid_value("contact_type")
        contact["contact_type"] = body["contact_type"]
    if "contact_name" in body or not contact["contact_name"]:
        name = text_value(body, "contact_name", 200).strip()
        if not name:
            raise invalid_value("contact_name")
        if name_taken(ledger, MODULE, "contact_name", name, contact["contact_id"], "contact_id"):
            raise _duplicate(name, contact["contact_type"])
        contact["contact_name"] = name
    if "customer_sub_type" in body:
        if body["customer_sub_type"] not in SUB_TYPES:
            raise invalid_value("customer_sub_type")
        contact["customer_sub_type"] = body["customer_sub_type"]
    for field in TEXT_FIELDS:
        if field in body:
            contact[field] = text_value(body, field)
    for field in BOOL_FIELDS:
        if field in body:
            contact[field] = bool_value(body, field)
    if "credit_limit" in body:
        contact["credit_limit"] = _money(body["credit_limit"], "credit_limit")
    _terms(body, contact)
    if "currency_id" in body:
        try:
            currency = get_currency(ledger, str(body["currency_id"]))
        except ApiError:
            raise invalid_value("currency_id") from None
        contact["currency_id"] = currency["currency_id"]
        contact["currency_code"] = currency["currency_code"]
        contact["currency_symbol"] = currency["currency_symbol"]
    if "tax_id" in body:
        if body["tax_id"] in ("", None):
            contact.update({"tax_id": "", "tax_name": "", "tax_percentage": 0.0})
        else:
            tax = describe(ledger, str(body["tax_id"]))
            contact.update({k: tax[k] for k in ("tax_id", "tax_name", "tax_percentage")})
    for field in ("billing_address", "shipping_address"):
        if field in body:
            contact[field] = _address(body[field], field, contact[field])
    if "default_templates" in body:
        templates = body["default_templates"]
        if not isinstance(templates, dict):
            raise invalid_value("default_templates")
        contact["default_templates"] = {
            **contact["default_templates"],
            **{k: text_value(templates, k) for k in TEMPLATE_FIELDS if k in templates},
        }
    for field in ("custom_fields", "tags", "opening_balances"):
        if field in body:
            value = body[field]
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise invalid_value(field)
            contact[field] = [dict(v) for v in value]


# CRUD -------------------------------------------------------------------------------
def create_contact(ledger: Ledger, body: dict[str, Any]) -> dict[str, Any]:
    """Create a contact; inline ``contact_persons`` are created with it and the first
    (or the one flagged ``is_primary_contact``) becomes primary."""
    inline = body.get("contact_persons", [])
    if not isinstance(inline, list) or not all(isinstance(p, dict) for p in inline):
        raise invalid_value("contact_persons")
    base = ensure_base_currency(ledger)
    with ledger.db.transaction():
        contact = defaults(ledger, ledger.store.new_id(), base)
        _apply(ledger, body, contact)
        now = ledger.now()
        people = [persons.new_person(ledger, contact["contact_id"], p) for p in inline]
        flagged = [p for p in people if p["is_primary_contact"]]
        for person in people:
            person["is_primary_contact"] = person is (flagged[0] if flagged else people[0])
        contact.update(persons.denormalised(people))
        ledger.store.insert(MODULE, contact["contact_id"], contact, now)
        ledger.store.insert_many(persons.MODULE, [(p["contact_person_id"], p, now) for p in people])
        return get_contact(ledger, contact["contact_id"])


def update_contact(ledger: Ledger, contact_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """``PUT /contacts/{id}``: partial; ``contact_persons`` given replaces the set."""
    with ledger.db.transaction():
        contact = get_contact(ledger, contact_id)
        _apply(ledger, body, contact)
        ledger.store.update(MODULE, contact["contact_id"], contact, ledger.now())
        if "contact_persons" in body:
            persons.replace_persons(ledger, contact["contact_id"], body["contact_persons"])
            persons.sync_contact(ledger, contact["contact_id"])
        return get_contact(ledger, contact_id)


def _undeletable(ledger: Ledger, contact: dict[str, Any]) -> bool:
    if contact.get("has_transaction"):
        return True
    cid = contact["contact_id"]
    return any(ledger.store.count(m, [Filter(f, "eq", cid)]) for m, f in _REFERENCES)


def delete_contact(ledger: Ledger, contact_id: str) -> None:
    """Delete a contact and its persons; refused once a transaction references it."""
    with ledger.db.transaction():
        contact = get_contact(ledger, contact_id)
        if _undeletable(ledger, contact):
            # UNCONFIRMED code (4) and wording: Zoho refuses with a 400.
            raise rule_violation(
                "The contact cannot be deleted as it has transactions associated with it. "
                "Mark it as inactive instead."
            )
        for person in persons.persons_of(ledger, contact["contact_id"]):
            ledger.store.delete(persons.MODULE, person["contact_person_id"])
        ledger.store.delete(MODULE, contact["contact_id"])


def delete_contacts(ledger: Ledger, contact_ids: list[str]) -> None:
    """Bulk delete: all or nothing, so a refusal leaves every contact in place."""
    if not contact_ids:
        raise invalid_value("contact_ids")
    with ledger.db.transaction():
        for contact_id in contact_ids:
            delete_contact(ledger, contact_id)


def set_status(ledger: Ledger, contact_id: str, status: str) -> None:
    with ledger.db.transaction():
        contact = get_contact(ledger, contact_id)
        contact["status"] = status
        ledger.store.update(MODULE, contact["contact_id"], contact, ledger.now())


# upsert -----------------------------------------------------------------------------
def find_by_unique_key(ledger: Ledger, module: str, key: str, value: str) -> dict[str, Any] | None:
    """The record whose ``key`` equals ``value``: a top-level field, or a custom field
    when ``key`` is a ``cf_<api_name>`` (matched on the custom field's ``api_name``)."""
    found = ledger.store.find(module, [Filter(key, "eq", value)]) if key.isidentifier() else []
    if found:
        return found[0]
    if not key.startswith("cf_"):
        return None
    sql = (
        "SELECT r.data FROM records r, json_each(r.data, '$.custom_fields') cf "
        "WHERE r.org_id=? AND r.module=? AND json_extract(cf.value, '$.api_name')=? "
        "AND CAST(json_extract(cf.value, '$.value') AS TEXT)=? ORDER BY r.rowid LIMIT 1"
    )
    with ledger.db.read() as conn:
        row = conn.execute(sql, (ledger.org_id, module, key, str(value))).fetchone()
    return None if row is None else dict(json.loads(row["data"]))


def upsert_contact(
    ledger: Ledger, key: str, value: str, body: dict[str, Any], *, create: bool
) -> tuple[dict[str, Any], bool]:
    """``PUT /contacts`` with ``X-Unique-Identifier-Key/-Value``: update the match, or
    create when ``create`` (``X-Upsert: true``). Returns (contact, created). Without a
    match and without X-Upsert: 404 (UNCONFIRMED code)."""
    if not key:
        raise invalid_value("X-Unique-Identifier-Key")
    with ledger.db.transaction():
        match = find_by_unique_key(ledger, MODULE, key, value)
        if match is not None:
            return update_contact(ledger, match["contact_id"], body), False
        if not create:
            raise not_found("Contact")
        return create_contact(ledger, body), True


# addresses --------------------------------------------------------------------------
def addresses(ledger: Ledger, contact_id: str) -> list[dict[str, Any]]:
    """Billing, shipping, then the additional addresses (``GET /contacts/{id}/address``)."""
    contact = get_contact(ledger, contact_id)
    return [
        dict(contact["billing_address"]),
        dict(contact["shipping_address"]),
        *[dict(a) for a in contact.get("addresses", [])],
    ]


def add_address(ledger: Ledger, contact_id: str, body: dict[str, Any]) -> dict[str, Any]:
    with ledger.db.transaction():
        contact = get_contact(ledger, contact_id)
        address = _address(body, "address", blank_address(ledger.store.new_id()))
        contact.setdefault("addresses", []).append(address)
        ledger.store.update(MODULE, contact["contact_id"], contact, ledger.now())
        return address


def _find_address(contact: dict[str, Any], address_id: str) -> dict[str, Any]:
    for address in contact.get("addresses", []):
        if address.get("address_id") == address_id:
            return dict(address)
    raise not_found("Address")


def update_address(
    ledger: Ledger, contact_id: str, address_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    with ledger.db.transaction():
        contact = get_contact(ledger, contact_id)
        for key in ("billing_address", "shipping_address"):
            if contact[key].get("address_id") == address_id:
                contact[key] = _address(body, "address", contact[key])
                ledger.store.update(MODULE, contact["contact_id"], contact, ledger.now())
                return dict(contact[key])
        address = _address(body, "address", _find_address(contact, address_id))
        contact["addresses"] = [
            address if a.get("address_id") == address_id else a for a in contact["addresses"]
        ]
        ledger.store.update(MODULE, contact["contact_id"], contact, ledger.now())
        return address


def delete_address(ledger: Ledger, contact_id: str, address_id: str) -> None:
    """Only additional addresses can be deleted; billing/shipping are part of the contact."""
    with ledger.db.transaction():
        contact = get_contact(ledger, contact_id)
        _find_address(contact, address_id)
        contact["addresses"] = [
            a for a in contact["addresses"] if a.get("address_id") != address_id
        ]
        ledger.store.update(MODULE, contact["contact_id"], contact, ledger.now())


# listing ----------------------------------------------------------------------------
def _ids_where(ledger: Ledger, condition: str) -> list[Filter]:
    """Contacts matching a SQL condition over their JSON ``data`` (for filters that
    compare two fields or aggregate, which ``Filter`` cannot express). ``condition``
    may use ``:org`` for the organization id."""
    with ledger.db.read() as conn:
        rows = conn.execute(
            "SELECT record_id FROM records WHERE org_id=:org AND module='contacts' "
            f"AND {condition}",
            {"org": ledger.org_id},
        ).fetchall()
    return [Filter("contact_id", "in", [str(r["record_id"]) for r in rows])]


def _duplicates(ledger: Ledger) -> list[Filter]:
    # UNCONFIRMED meaning: contacts whose primary email is shared with another contact.
    return _ids_where(
        ledger,
        "json_extract(data, '$.email') != '' AND lower(json_extract(data, '$.email')) IN ("
        "SELECT lower(json_extract(d.data, '$.email')) FROM records d WHERE d.org_id=:org "
        "AND d.module='contacts' AND json_extract(d.data, '$.email') != '' "
        "GROUP BY lower(json_extract(d.data, '$.email')) HAVING count(*) > 1)",
    )


def _credit_exceeded(ledger: Ledger) -> list[Filter]:
    return _ids_where(
        ledger,
        "json_extract(data, '$.credit_limit') > 0 AND "
        "json_extract(data, '$.outstanding_receivable_amount') > "
        "json_extract(data, '$.credit_limit')",
    )


def _with_invoices(statuses: tuple[str, ...]) -> Any:
    def factory(ledger: Ledger) -> list[Filter]:
        invoices = ledger.store.find("invoices", [Filter("status", "in", statuses)])
        return [Filter("contact_id", "in", sorted({str(i.get("customer_id")) for i in invoices}))]

    return factory


LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="contacts",
    report_name="Contacts",
    sort_columns=frozenset(
        {
            "contact_name",
            "company_name",
            "first_name",
            "last_name",
            "email",
            "outstanding_receivable_amount",
            "outstanding_payable_amount",
            "created_time",
            "last_modified_time",
        }
    ),
    default_sort="created_time",
    filter_by={
        "Status.Active": lambda _l: [Filter("status", "eq", "active")],
        "Status.Inactive": lambda _l: [Filter("status", "eq", "inactive")],
        "Status.Duplicate": _duplicates,
        "Status.PortalEnabled": lambda _l: [Filter("is_portal_enabled", "eq", True)],
        "Status.PortalDisabled": lambda _l: [Filter("is_portal_enabled", "ne", True)],
        "Status.CreditLimitExceed": _credit_exceeded,
        "Status.Crm": lambda _l: [Filter("is_linked_with_zohocrm", "eq", True)],
        "Invoice.OverDue": _with_invoices(("overdue",)),
        "Invoice.Unpaid": _with_invoices(_OPEN_INVOICE),
    },
    search_fields=("contact_name", "company_name", "email", "notes"),
    text_fields=("contact_name", "company_name", "first_name", "last_name", "email", "phone"),
    exact_fields=("contact_type", "customer_sub_type"),
    date_fields=(),
    present=present_row,
    row_keys=frozenset({*LIST_FIELDS, "contact_name"}),
)


# seeding ----------------------------------------------------------------------------
_SURNAMES = (
    "Bowman",
    "Carter",
    "Delgado",
    "Ellison",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ibarra",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Underwood",
    "Vasquez",
    "Whitaker",
    "Xu",
    "Young",
    "Zimmerman",
    "Abbott",
    "Brennan",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fontaine",
    "Gallagher",
    "Haddad",
    "Ivanov",
    "Jovanovic",
    "Keller",
    "Lindqvist",
    "Mendes",
    "Novak",
    "Olsen",
)
_TRADES = (
    "Furniture",
    "Logistics",
    "Bakery",
    "Consulting",
    "Engineering",
    "Textiles",
    "Media",
    "Robotics",
    "Foods",
    "Hardware",
    "Design",
    "Analytics",
    "Supplies",
    "Marine",
    "Energy",
    "Pharma",
    "Motors",
    "Printing",
    "Travel",
    "Security",
    "Builders",
    "Optics",
    "Farms",
    "Outfitters",
    "Software",
)
_SUFFIXES = (
    "and Co",
    "Ltd",
    "LLC",
    "Inc",
    "Group",
    "GmbH",
    "Partners",
    "Holdings",
    "Trading",
    "Studio",
)
_FIRST = (
    "Will",
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jack",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Raul",
    "Sara",
    "Tom",
    "Uma",
    "Victor",
    "Wen",
    "Yusuf",
    "Zoe",
)
_CITIES = (
    ("Pleasanton", "CA", "94588"),
    ("Austin", "TX", "73301"),
    ("Denver", "CO", "80202"),
    ("Seattle", "WA", "98101"),
    ("Boston", "MA", "02108"),
    ("Chicago", "IL", "60601"),
    ("Miami", "FL", "33101"),
    ("Portland", "OR", "97201"),
    ("Atlanta", "GA", "30301"),
    ("Phoenix", "AZ", "85001"),
)
_STREETS = ("Hopyard Rd", "Main St", "Oak Ave", "Market St", "Elm St", "Cedar Ln", "Pine Rd")


def _seed_name_pool(rng: random.Random) -> list[str]:
    names = [f"{s} {t} {x}" for s in _SURNAMES for t in _TRADES for x in _SUFFIXES]
    rng.shuffle(names)
    return names


@seeder("contacts")
def seed_contacts(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """``count`` customers (about three quarters) and vendors with unique names, an
    address and one or two persons each. Built as dicts and bulk-inserted (5,000 contacts
    take well under a few seconds)."""
    base = ensure_base_currency(ledger)
    taken = {str(c.get("contact_name", "")).casefold() for c in ledger.store.find(MODULE, [])}
    pool = _seed_name_pool(rng)
    contact_rows: list[tuple[str, dict[str, Any], str]] = []
    person_rows: list[tuple[str, dict[str, Any], str]] = []
    serial = 0
    with ledger.db.transaction():
        now = ledger.now()
        while len(contact_rows) < count:
            base_name = pool[serial % len(pool)]
            cycle = serial // len(pool)
            serial += 1
            name = base_name if cycle == 0 else f"{base_name} {cycle + 1}"
            if name.casefold() in taken:
                continue
            taken.add(name.casefold())
            contact = defaults(ledger, ledger.store.new_id(), base)
            terms = rng.choice((0, 15, 30, 30, 45, 60))
            city, state, zip_code = rng.choice(_CITIES)
            domain = "".join(ch for ch in name.lower() if ch.isalnum())[:24] + ".example.com"
            address = {
                "attention": "",
                "address": f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
                "street2": "",
                "state_code": state,
                "city": city,
                "state": state,
                "zip": zip_code,
                "country": "U.S.A",
                "fax": "",
                "phone": f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            }
            contact.update(
                {
                    "contact_name": name,
                    "company_name": name,
                    "contact_type": "customer" if rng.random() < 0.75 else "vendor",
                    "payment_terms": terms,
                    "payment_terms_label": f"Net {terms}" if terms else "Due on Receipt",
                    "credit_limit": float(rng.choice((0, 0, 1000, 5000, 10000))),
                    "website": f"www.{domain}",
                    "billing_address": {**contact["billing_address"], **address},
                    "shipping_address": {**contact["shipping_address"], **address},
                }
            )
            people = []
            for index in range(rng.choice((1, 1, 2))):
                first = rng.choice(_FIRST)
                person = persons.new_person(
                    ledger,
                    contact["contact_id"],
                    {
                        "salutation": rng.choice(("Mr.", "Ms.", "Mx.", "Dr.")),
                        "first_name": first,
                        "last_name": rng.choice(_SURNAMES),
                        "email": f"{first.lower()}{index or ''}@{domain}",
                        "phone": address["phone"],
                        "designation": rng.choice(("Owner", "Buyer", "Accounts", "Manager")),
                    },
                )
                person["is_primary_contact"] = index == 0
                people.append(person)
                person_rows.append((person["contact_person_id"], person, now))
            contact.update(persons.denormalised(people))
            contact_rows.append((contact["contact_id"], contact, now))
        ledger.store.insert_many(MODULE, contact_rows)
        ledger.store.insert_many(persons.MODULE, person_rows)
    return [contact_id for contact_id, _, _ in contact_rows]
