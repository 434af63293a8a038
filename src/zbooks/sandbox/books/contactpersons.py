"""Routes of contact persons (``/contacts/contactpersons`` and
``/contacts/{contact_id}/contactpersons``)."""

from __future__ import annotations

from typing import Any

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import contactpersons as persons
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.contacts import get_contact
from zbooks.sandbox.ledger.listing import ListSpec, list_page

SCOPE = "contacts"


def _present(ledger: Ledger, person: dict[str, Any]) -> dict[str, Any]:
    """A list row: the person as embedded in its contact."""
    return persons.embedded(person)


def _single(person: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in person.items() if k not in ("created_time", "last_modified_time")}


LIST_SPEC = ListSpec(
    module=persons.MODULE,
    list_key="contact_persons",
    report_name="Contact Persons",
    sort_columns=frozenset({"first_name", "last_name", "email", "created_time"}),
    default_sort="created_time",
    exact_fields=("contact_id",),
    search_fields=("first_name", "last_name", "email"),
    date_fields=(),
    present=_present,
)


@REGISTRY.route("POST", "/contacts/contactpersons", scope=SCOPE)
def create_person(request: BooksRequest) -> BooksResponse:
    person = persons.create_person(request.ledger, request.body)
    # OAS types this key as an array; it holds one object like every record key.
    return ok("The contactperson has been Created", status=201, contact_person=_single(person))


@REGISTRY.route("PUT", "/contacts/contactpersons/{contact_person_id}", scope=SCOPE)
def update_person(request: BooksRequest) -> BooksResponse:
    person = persons.update_person(
        request.ledger, request.path_params["contact_person_id"], request.body
    )
    return ok("The contactperson details has been updated.", contact_person=_single(person))


@REGISTRY.route("GET", "/contacts/contactpersons/{contact_person_id}", scope=SCOPE)
def get_person_by_id(request: BooksRequest) -> BooksResponse:
    person = persons.get_person(request.ledger, request.path_params["contact_person_id"])
    return ok(contact_person=_single(person))


@REGISTRY.route("DELETE", "/contacts/contactpersons/{contact_person_id}", scope=SCOPE)
def delete_person(request: BooksRequest) -> BooksResponse:
    persons.delete_person(request.ledger, request.path_params["contact_person_id"])
    return ok("The contact person has been deleted.")


@REGISTRY.route("POST", "/contacts/contactpersons/{contact_person_id}/primary", scope=SCOPE)
def mark_primary(request: BooksRequest) -> BooksResponse:
    persons.mark_primary(request.ledger, request.path_params["contact_person_id"])
    return ok("This contact person has been marked as your primary contact person.")


@REGISTRY.route("GET", "/contacts/{contact_id}/contactpersons", scope=SCOPE)
def list_persons(request: BooksRequest) -> BooksResponse:
    contact_id = request.path_params["contact_id"]
    get_contact(request.ledger, contact_id)
    query = {"sort_order": "A", **request.query, "contact_id": contact_id}
    result = list_page(request.ledger, query, LIST_SPEC)
    context = {k: v for k, v in result.page_context.items() if k != "search_criteria"}
    return ok(contact_persons=result.records, page_context=context)


@REGISTRY.route("GET", "/contacts/{contact_id}/contactpersons/{contact_person_id}", scope=SCOPE)
def get_person(request: BooksRequest) -> BooksResponse:
    params = request.path_params
    get_contact(request.ledger, params["contact_id"])
    person = persons.get_person(request.ledger, params["contact_person_id"], params["contact_id"])
    return ok(contact_person=_single(person))
