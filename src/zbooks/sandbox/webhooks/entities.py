"""Which Books records workflow rules can watch, and how each is named on the wire.

A workflow rule names its module as an ``entity`` ("invoice"); the record store keeps
records under the API's collection name ("invoices"); the webhook's default payload uses
the key of ``GET /<collection>/{id}`` ("invoice", but "payment" for customer payments).
This table ties the three together so the change feed (store modules) can be matched
against rules (entities) and the payload built under the right key.

The module list follows api-facts §6.1. Entity spellings with and without underscores
("salesorder", "sales_order") are both accepted because Zoho's own spelling in
``entity`` is UNCONFIRMED for several modules.
"""

# ruff: noqa: E501  (the entity table reads best one row per line)
from __future__ import annotations

from dataclasses import dataclass

from zbooks.sandbox.errors import invalid_value


@dataclass(frozen=True)
class Entity:
    name: str  # canonical workflow/webhook entity, e.g. "invoice"
    module: str  # record store module, e.g. "invoices"
    collection: str  # API path collection, e.g. "invoices", "contacts/contactpersons"
    key: str  # payload key, e.g. "invoice"
    id_field: str
    name_field: str  # what history shows as entity_name
    contact_type: str | None = None  # customer/vendor are contacts of one type

    def matches(self, record: dict[str, object] | None) -> bool:
        """Whether a record of ``module`` belongs to this entity (customer vs vendor)."""
        if self.contact_type is None or record is None:
            return True
        return record.get("contact_type") == self.contact_type


# fmt: off
ENTITIES: tuple[Entity, ...] = (
    #      name               store module               API collection             key                id field               name field
    Entity("invoice",         "invoices",                "invoices",                "invoice",         "invoice_id",          "invoice_number"),
    Entity("estimate",        "estimates",               "estimates",               "estimate",        "estimate_id",         "estimate_number"),
    Entity("salesorder",      "salesorders",             "salesorders",             "salesorder",      "salesorder_id",       "salesorder_number"),
    Entity("customerpayment", "customerpayments",        "customerpayments",        "payment",         "payment_id",          "payment_number"),
    Entity("creditnote",      "creditnotes",             "creditnotes",             "creditnote",      "creditnote_id",       "creditnote_number"),
    Entity("bill",            "bills",                   "bills",                   "bill",            "bill_id",             "bill_number"),
    Entity("vendorpayment",   "vendorpayments",          "vendorpayments",          "vendorpayment",   "payment_id",          "payment_number"),
    Entity("purchaseorder",   "purchaseorders",          "purchaseorders",          "purchaseorder",   "purchaseorder_id",    "purchaseorder_number"),
    Entity("expense",         "expenses",                "expenses",                "expense",         "expense_id",          "reference_number"),
    Entity("journal",         "journals",                "journals",                "journal",         "journal_id",          "entry_number"),
    Entity("contact",         "contacts",                "contacts",                "contact",         "contact_id",          "contact_name"),
    Entity("customer",        "contacts",                "contacts",                "contact",         "contact_id",          "contact_name", "customer"),
    Entity("vendor",          "contacts",                "contacts",                "contact",         "contact_id",          "contact_name", "vendor"),
    Entity("contact_person",  "contactpersons",          "contacts/contactpersons", "contact_person",  "contact_person_id",   "first_name"),
    Entity("item",            "items",                   "items",                   "item",            "item_id",             "name"),
    Entity("project",         "generic:projects",        "projects",                "project",         "project_id",          "project_name"),
    Entity("retainerinvoice", "generic:retainerinvoices", "retainerinvoices",       "retainerinvoice", "retainerinvoice_id",  "retainerinvoice_number"),
)
# fmt: on

_BY_NAME = {e.name: e for e in ENTITIES}
_ALIASES = {
    "sales_order": "salesorder",
    "customer_payment": "customerpayment",
    "payment": "customerpayment",
    "credit_note": "creditnote",
    "vendor_payment": "vendorpayment",
    "purchase_order": "purchaseorder",
    "contactperson": "contact_person",
    "retainer_invoice": "retainerinvoice",
}


def find_entity(name: str) -> Entity | None:
    key = name.strip().lower()
    return _BY_NAME.get(_ALIASES.get(key, key))


def require_entity(name: object, field: str = "entity") -> Entity:
    """The entity a request names; unknown or missing -> 400 code 4."""
    entity = find_entity(name) if isinstance(name, str) else None
    if entity is None:
        raise invalid_value(field)
    return entity


def entities_for_module(module: str) -> tuple[Entity, ...]:
    """Every entity a change to ``module`` may concern (contacts: contact, customer, vendor)."""
    return tuple(e for e in ENTITIES if e.module == module)


WATCHED_MODULES = frozenset(e.module for e in ENTITIES)


def filter_label(entity: Entity) -> str:
    """The ``filter_by`` value of lists filtered by module: ``Entity.Invoice``,
    ``Entity.ContactPerson`` (the OAS shows ``Entity.All``, ``Entity.Invoice``...)."""
    return "Entity." + entity.name.replace("_", " ").title().replace(" ", "")
