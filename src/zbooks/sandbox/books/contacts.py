"""Routes of ``/contacts``: parse, call the contacts ledger, return Zoho's envelope."""

from __future__ import annotations

from collections.abc import Mapping

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import contacts as ledger_contacts
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "contacts"


def header(headers: Mapping[str, str], name: str) -> str:
    """A request header, case-insensitively (HTTP layers differ in how they store them)."""
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


def upsert_headers(request: BooksRequest) -> tuple[str, str, bool]:
    """``X-Unique-Identifier-Key``, ``X-Unique-Identifier-Value`` and ``X-Upsert``."""
    return (
        header(request.headers, "X-Unique-Identifier-Key").strip(),
        header(request.headers, "X-Unique-Identifier-Value"),
        header(request.headers, "X-Upsert").strip().lower() == "true",
    )


@REGISTRY.route("POST", "/contacts", scope=SCOPE)
def create_contact(request: BooksRequest) -> BooksResponse:
    contact = ledger_contacts.create_contact(request.ledger, request.body)
    return ok(
        "The contact has been created",
        status=201,
        contact=ledger_contacts.present(request.ledger, contact),
    )


@REGISTRY.route("GET", "/contacts", scope=SCOPE)
def list_contacts(request: BooksRequest) -> BooksResponse:
    spec = ledger_contacts.LIST_SPEC
    result = list_page(request.ledger, request.query, spec)
    return ok(contacts=result.records, page_context=result.page_context)


@REGISTRY.route("PUT", "/contacts", scope=SCOPE)
def upsert_contact(request: BooksRequest) -> BooksResponse:
    key, value, create = upsert_headers(request)
    contact, created = ledger_contacts.upsert_contact(
        request.ledger, key, value, request.body, create=create
    )
    shaped = ledger_contacts.present(request.ledger, contact)
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok("The contact has been created", 200, contact=shaped)
    return ok("Contact has been updated successfully", contact=shaped)


@REGISTRY.route("DELETE", "/contacts", scope=SCOPE)
def delete_contacts(request: BooksRequest) -> BooksResponse:
    raw = request.query.get("contact_ids", "")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    ledger_contacts.delete_contacts(request.ledger, ids)
    return ok("The contacts have been deleted.")


@REGISTRY.route("GET", "/contacts/{contact_id}", scope=SCOPE)
def get_contact(request: BooksRequest) -> BooksResponse:
    contact = ledger_contacts.get_contact(request.ledger, request.path_params["contact_id"])
    return ok(contact=ledger_contacts.present(request.ledger, contact))


@REGISTRY.route("PUT", "/contacts/{contact_id}", scope=SCOPE)
def update_contact(request: BooksRequest) -> BooksResponse:
    contact = ledger_contacts.update_contact(
        request.ledger, request.path_params["contact_id"], request.body
    )
    return ok(
        "Contact has been updated successfully",
        contact=ledger_contacts.present(request.ledger, contact),
    )


@REGISTRY.route("DELETE", "/contacts/{contact_id}", scope=SCOPE)
def delete_contact(request: BooksRequest) -> BooksResponse:
    ledger_contacts.delete_contact(request.ledger, request.path_params["contact_id"])
    return ok("The contact has been deleted.")


@REGISTRY.route("POST", "/contacts/{contact_id}/active", scope=SCOPE)
def mark_active(request: BooksRequest) -> BooksResponse:
    ledger_contacts.set_status(request.ledger, request.path_params["contact_id"], "active")
    return ok("The contact has been marked as active.")


@REGISTRY.route("POST", "/contacts/{contact_id}/inactive", scope=SCOPE)
def mark_inactive(request: BooksRequest) -> BooksResponse:
    ledger_contacts.set_status(request.ledger, request.path_params["contact_id"], "inactive")
    return ok("The contact has been marked as inactive.")


@REGISTRY.route("GET", "/contacts/{contact_id}/address", scope=SCOPE)
def list_addresses(request: BooksRequest) -> BooksResponse:
    found = ledger_contacts.addresses(request.ledger, request.path_params["contact_id"])
    return ok(addresses=found)


@REGISTRY.route("POST", "/contacts/{contact_id}/address", scope=SCOPE)
def add_address(request: BooksRequest) -> BooksResponse:
    # OAS documents 200 (not 201) for this create.
    address = ledger_contacts.add_address(
        request.ledger, request.path_params["contact_id"], request.body
    )
    return ok("The address has been created.", address_info=address)


@REGISTRY.route("PUT", "/contacts/{contact_id}/address/{address_id}", scope=SCOPE)
def update_address(request: BooksRequest) -> BooksResponse:
    params = request.path_params
    address = ledger_contacts.update_address(
        request.ledger, params["contact_id"], params["address_id"], request.body
    )
    return ok("The address has been updated.", address_info=address)


@REGISTRY.route("DELETE", "/contacts/{contact_id}/address/{address_id}", scope=SCOPE)
def delete_address(request: BooksRequest) -> BooksResponse:
    params = request.path_params
    ledger_contacts.delete_address(request.ledger, params["contact_id"], params["address_id"])
    return ok("The address has been deleted.")
