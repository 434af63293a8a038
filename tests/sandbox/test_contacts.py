"""Contacts and contact persons: validation, primary person, balances, delete protection,
list filters, addresses, upsert and seeding."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, load_routes
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.db import Database
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger import contacts
from zbooks.sandbox.ledger.base import SEEDERS, Ledger
from zbooks.sandbox.ledger.organizations import create_organization

from .conftest import Call
from .oas import load_oas, requires_oas


def body_of(response: BooksResponse) -> dict[str, Any]:
    assert response.body is not None
    return response.body


def new_contact(call: Call, name: str = "Bowman and Co", **fields: Any) -> dict[str, Any]:
    response = call("POST", "/contacts", body={"contact_name": name, **fields})
    assert response.status == 201
    contact: dict[str, Any] = body_of(response)["contact"]
    return contact


def api_error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


# create / get ----------------------------------------------------------------------
def test_create_returns_full_contact_with_defaults(call: Call) -> None:
    response = call("POST", "/contacts", body={"contact_name": "Bowman and Co"})
    body = body_of(response)
    assert (response.status, body["code"], body["message"]) == (
        201,
        0,
        "The contact has been created",
    )
    contact = body["contact"]
    assert contact["contact_id"].isdigit()
    assert contact["contact_type"] == "customer"
    assert contact["status"] == "active"
    assert contact["payment_terms"] == 0
    assert contact["payment_terms_label"] == "Due on Receipt"
    assert contact["currency_code"] == "USD"
    assert contact["has_transaction"] is False
    assert contact["outstanding_receivable_amount"] == 0
    assert contact["primary_contact_id"] == ""
    assert set(contact["billing_address"]) >= {"address", "city", "zip", "state_code"}
    assert "invoice_template_id" in contact["default_templates"]
    assert "addresses" not in contact
    fetched = body_of(call("GET", f"/contacts/{contact['contact_id']}"))
    assert fetched["message"] == "success"
    assert fetched["contact"] == contact


def test_currency_defaults_to_the_base_currency(call: Call) -> None:
    base = body_of(call("GET", "/settings/currencies"))["currencies"][0]
    contact = new_contact(call)
    assert contact["currency_id"] == base["currency_id"]
    eur = body_of(
        call(
            "POST",
            "/settings/currencies",
            body={"currency_code": "EUR", "currency_format": "1,234,567.89"},
        )
    )["currency"]
    vendor = new_contact(call, "Euro Parts", contact_type="vendor", currency_id=eur["currency_id"])
    assert (vendor["currency_code"], vendor["currency_symbol"]) == ("EUR", "€")
    error = api_error(call, "POST", "/contacts", body={"contact_name": "X", "currency_id": "123"})
    assert (error.status, error.code) == (400, 4)
    assert "currency_id" in error.message


def test_duplicate_name_is_rejected_with_3062(call: Call) -> None:
    new_contact(call, "Bowman and Co")
    error = api_error(call, "POST", "/contacts", body={"contact_name": "bowman AND co "})
    assert (error.status, error.code) == (400, 3062)
    assert (
        error.message
        == 'The customer "bowman AND co" already exists. Please specify a different name.'
    )


def test_contact_name_and_type_are_validated(call: Call) -> None:
    error = api_error(call, "POST", "/contacts", body={"company_name": "No name"})
    assert (error.status, error.code, error.message) == (
        400,
        4,
        "Invalid value passed for contact_name",
    )
    error = api_error(
        call, "POST", "/contacts", body={"contact_name": "A", "contact_type": "supplier"}
    )
    assert error.message == "Invalid value passed for contact_type"
    error = api_error(call, "POST", "/contacts", body={"contact_name": "A", "payment_terms": -1})
    assert error.message == "Invalid value passed for payment_terms"


def test_payment_terms_derive_a_label_unless_given(call: Call) -> None:
    assert new_contact(call, "A", payment_terms=30)["payment_terms_label"] == "Net 30"
    custom = new_contact(call, "B", payment_terms=45, payment_terms_label="Net 45 EOM")
    assert (custom["payment_terms"], custom["payment_terms_label"]) == (45, "Net 45 EOM")


def test_unknown_contact_is_404_1002(call: Call) -> None:
    error = api_error(call, "GET", "/contacts/460000000099999")
    assert (error.status, error.code, error.message) == (404, 1002, "Contact does not exist.")


# contact persons ---------------------------------------------------------------------
def test_first_inline_person_becomes_primary(call: Call) -> None:
    contact = new_contact(
        call,
        contact_persons=[
            {"first_name": "Will", "last_name": "Smith", "email": "will@bowman.com"},
            {"first_name": "Ann", "email": "ann@bowman.com"},
        ],
    )
    people = contact["contact_persons"]
    assert [p["first_name"] for p in people] == ["Will", "Ann"]
    assert [p["is_primary_contact"] for p in people] == [True, False]
    assert contact["primary_contact_id"] == people[0]["contact_person_id"]
    assert (contact["first_name"], contact["email"]) == ("Will", "will@bowman.com")


def test_flagged_inline_person_becomes_primary(call: Call) -> None:
    contact = new_contact(
        call,
        contact_persons=[
            {"first_name": "Will"},
            {"first_name": "Ann", "is_primary_contact": True, "email": "ann@b.com"},
        ],
    )
    primary = next(p for p in contact["contact_persons"] if p["is_primary_contact"])
    assert primary["first_name"] == "Ann"
    assert contact["primary_contact_id"] == primary["contact_person_id"]
    assert contact["contact_persons"][0]["first_name"] == "Ann"  # primary listed first
    assert contact["email"] == "ann@b.com"


def test_invalid_person_email_is_rejected(call: Call) -> None:
    error = api_error(
        call,
        "POST",
        "/contacts",
        body={"contact_name": "A", "contact_persons": [{"first_name": "x", "email": "nope"}]},
    )
    assert error.message == "Invalid value passed for email"
    assert body_of(call("GET", "/contacts"))["contacts"] == []


def test_contact_person_lifecycle(call: Call) -> None:
    contact_id = new_contact(call)["contact_id"]
    response = call(
        "POST",
        "/contacts/contactpersons",
        body={"contact_id": contact_id, "first_name": "Will", "email": "will@b.com"},
    )
    body = body_of(response)
    assert (response.status, body["message"]) == (201, "The contactperson has been Created")
    will = body["contact_person"]
    assert will["is_primary_contact"] is True  # first person of the contact
    ann = body_of(
        call(
            "POST",
            "/contacts/contactpersons",
            body={"contact_id": contact_id, "first_name": "Ann", "email": "ann@b.com"},
        )
    )["contact_person"]
    assert ann["is_primary_contact"] is False

    response = call("POST", f"/contacts/contactpersons/{ann['contact_person_id']}/primary")
    assert body_of(response)["message"] == (
        "This contact person has been marked as your primary contact person."
    )
    contact = body_of(call("GET", f"/contacts/{contact_id}"))["contact"]
    assert contact["primary_contact_id"] == ann["contact_person_id"]
    assert contact["email"] == "ann@b.com"
    flags = {p["first_name"]: p["is_primary_contact"] for p in contact["contact_persons"]}
    assert flags == {"Will": False, "Ann": True}

    updated = body_of(
        call(
            "PUT",
            f"/contacts/contactpersons/{will['contact_person_id']}",
            body={"contact_id": contact_id, "last_name": "Smith"},
        )
    )
    assert updated["message"] == "The contactperson details has been updated."
    assert (
        updated["contact_person"]["first_name"],
        updated["contact_person"]["last_name"],
    ) == (
        "Will",
        "Smith",
    )

    listed = body_of(call("GET", f"/contacts/{contact_id}/contactpersons"))
    assert [p["first_name"] for p in listed["contact_persons"]] == ["Will", "Ann"]
    assert listed["page_context"]["has_more_page"] is False
    one = body_of(call("GET", f"/contacts/{contact_id}/contactpersons/{ann['contact_person_id']}"))
    assert one["contact_person"]["contact_id"] == contact_id

    # Deleting the primary hands the role to the remaining person.
    response = call("DELETE", f"/contacts/contactpersons/{ann['contact_person_id']}")
    assert body_of(response)["message"] == "The contact person has been deleted."
    contact = body_of(call("GET", f"/contacts/{contact_id}"))["contact"]
    assert contact["primary_contact_id"] == will["contact_person_id"]
    assert [p["first_name"] for p in contact["contact_persons"]] == ["Will"]
    assert contact["last_name"] == "Smith"


def test_contact_person_errors(call: Call) -> None:
    contact_id = new_contact(call)["contact_id"]
    other_id = new_contact(call, "Other")["contact_id"]
    error = api_error(call, "POST", "/contacts/contactpersons", body={"contact_id": contact_id})
    assert error.message == "Invalid value passed for first_name"
    error = api_error(
        call, "POST", "/contacts/contactpersons", body={"contact_id": "1", "first_name": "A"}
    )
    assert (error.status, error.message) == (404, "Contact does not exist.")
    person = body_of(
        call("POST", "/contacts/contactpersons", body={"contact_id": contact_id, "first_name": "A"})
    )["contact_person"]
    error = api_error(
        call, "GET", f"/contacts/{other_id}/contactpersons/{person['contact_person_id']}"
    )
    assert (error.status, error.message) == (404, "Contact person does not exist.")


# update ----------------------------------------------------------------------------
def test_put_is_partial_and_touches_last_modified(call: Call, ledger: Ledger) -> None:
    original = new_contact(
        call, website="www.bowman.com", payment_terms=15, billing_address={"city": "Austin"}
    )
    ledger.clock.advance(60)
    response = call(
        "PUT",
        f"/contacts/{original['contact_id']}",
        body={"notes": "VIP", "billing_address": {"zip": "73301"}},
    )
    body = body_of(response)
    assert body["message"] == "Contact has been updated successfully"
    updated = body["contact"]
    assert updated["notes"] == "VIP"
    assert updated["website"] == "www.bowman.com"
    assert (updated["payment_terms"], updated["payment_terms_label"]) == (15, "Net 15")
    assert (updated["billing_address"]["city"], updated["billing_address"]["zip"]) == (
        "Austin",
        "73301",
    )
    assert updated["created_time"] == original["created_time"]
    assert updated["last_modified_time"] > original["last_modified_time"]


def test_put_rename_to_existing_name_is_rejected(call: Call) -> None:
    new_contact(call, "Taken Ltd", contact_type="vendor")
    mine = new_contact(call, "Mine Ltd", contact_type="vendor")
    error = api_error(
        call, "PUT", f"/contacts/{mine['contact_id']}", body={"contact_name": "TAKEN LTD"}
    )
    assert error.code == 3062
    assert error.message.startswith('The vendor "TAKEN LTD" already exists.')
    same = call("PUT", f"/contacts/{mine['contact_id']}", body={"contact_name": "Mine Ltd"})
    assert body_of(same)["contact"]["contact_name"] == "Mine Ltd"


def test_put_contact_persons_replaces_the_set(call: Call) -> None:
    contact = new_contact(call, contact_persons=[{"first_name": "Will"}, {"first_name": "Ann"}])
    will, ann = contact["contact_persons"]
    updated = body_of(
        call(
            "PUT",
            f"/contacts/{contact['contact_id']}",
            body={
                "contact_persons": [
                    {"contact_person_id": ann["contact_person_id"], "last_name": "Lee"},
                    {"first_name": "Zed"},
                ]
            },
        )
    )["contact"]
    names = [(p["first_name"], p["last_name"]) for p in updated["contact_persons"]]
    assert sorted(names) == [("Ann", "Lee"), ("Zed", "")]
    assert will["contact_person_id"] not in {
        p["contact_person_id"] for p in updated["contact_persons"]
    }
    assert sum(p["is_primary_contact"] for p in updated["contact_persons"]) == 1
    assert updated["first_name"] == "Ann"  # the oldest remaining person is primary


# balances ----------------------------------------------------------------------------
def _insert(ledger: Ledger, module: str, **data: Any) -> None:
    ledger.store.insert(module, ledger.store.new_id(), dict(data), ledger.now())


def _refresh_steps(ledger: Ledger, contact_id: str) -> int:
    """SQLite VM steps one balance refresh takes: a count of work, not a timing."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    with ledger.db.read() as conn:
        conn.set_progress_handler(count, 1)
        try:
            contacts.refresh_balances(ledger, contact_id)
        finally:
            conn.set_progress_handler(None, 1)
    return steps


def test_balance_refresh_does_not_read_documents_that_cannot_move_it(
    call: Call, ledger: Ledger
) -> None:
    """Issue 13.10: creating invoices for one customer slowed down with every invoice,
    because each create's balance refresh read all of the customer's documents."""
    cid = new_contact(call, "Busy customer")["contact_id"]
    _insert(ledger, "invoices", customer_id=cid, status="sent", balance=10)
    _insert(ledger, "customerpayments", customer_id=cid, unused_amount=2.5)
    contacts.refresh_balances(ledger, cid)
    few = _refresh_steps(ledger, cid)
    for _ in range(300):
        _insert(ledger, "invoices", customer_id=cid, status="draft", balance=5)
        _insert(ledger, "invoices", customer_id=cid, status="paid", balance=0)
        _insert(ledger, "customerpayments", customer_id=cid, unused_amount=0)
    assert _refresh_steps(ledger, cid) == few
    _insert(ledger, "invoices", customer_id=cid, status="overdue", balance=1)
    assert _refresh_steps(ledger, cid) > few  # an open document is still read
    got = contacts.get_contact(ledger, cid)
    assert got["outstanding_receivable_amount"] == 11
    assert got["unused_credits_receivable_amount"] == 2.5


def test_refresh_balances_from_stored_documents(call: Call, ledger: Ledger) -> None:
    customer = new_contact(call, "Customer")
    vendor = new_contact(call, "Vendor", contact_type="vendor")
    cid, vid = customer["contact_id"], vendor["contact_id"]
    for status, balance in [
        ("sent", 100),
        ("partially_paid", 50.25),
        ("overdue", 10),
        ("viewed", 5),
        ("draft", 999),
        ("void", 7),
        ("paid", 0),
    ]:
        _insert(ledger, "invoices", customer_id=cid, status=status, balance=balance)
    _insert(ledger, "invoices", customer_id=vid, status="sent", balance=1000)  # someone else
    _insert(ledger, "creditnotes", customer_id=cid, status="open", balance=20)
    _insert(ledger, "creditnotes", customer_id=cid, status="closed", balance=0)
    _insert(ledger, "creditnotes", customer_id=cid, status="void", balance=8)
    _insert(ledger, "customerpayments", customer_id=cid, unused_amount=12.5)
    for status, balance in [("open", 40), ("overdue", 60), ("partially_paid", 5), ("draft", 1)]:
        _insert(ledger, "bills", vendor_id=vid, status=status, balance=balance)
    _insert(ledger, "vendorcredits", vendor_id=vid, status="open", balance=9)
    _insert(ledger, "vendorpayments", vendor_id=vid, unused_amount=1.1)

    ledger.clock.advance(120)
    contacts.refresh_balances(ledger, cid)
    contacts.refresh_balances(ledger, vid)
    got = contacts.get_contact(ledger, cid)
    assert got["outstanding_receivable_amount"] == 165.25
    assert got["outstanding_receivable_amount_bcy"] == 165.25
    assert got["unused_credits_receivable_amount"] == 32.5
    assert got["unused_credits_receivable_amount_bcy"] == 32.5
    assert got["outstanding_payable_amount"] == 0
    assert got["last_modified_time"] == customer["last_modified_time"]  # not an edit
    paying = contacts.get_contact(ledger, vid)
    assert paying["outstanding_payable_amount"] == 105
    assert paying["outstanding_payable_amount_bcy"] == 105
    assert paying["unused_credits_payable_amount"] == 10.1
    assert paying["unused_credits_payable_amount_bcy"] == 10.1
    listed = body_of(call("GET", "/contacts", query={"contact_type": "customer"}))["contacts"]
    assert listed[0]["outstanding_receivable_amount"] == 165.25

    contacts.refresh_balances(ledger, "460000000099999")  # unknown contact: no error


def test_mark_has_transaction_blocks_delete(call: Call, ledger: Ledger) -> None:
    contact = new_contact(call)
    ledger.clock.advance(30)
    contacts.mark_has_transaction(ledger, contact["contact_id"])
    stored = contacts.get_contact(ledger, contact["contact_id"])
    assert stored["has_transaction"] is True
    assert stored["last_modified_time"] == contact["last_modified_time"]
    error = api_error(call, "DELETE", f"/contacts/{contact['contact_id']}")
    assert (error.status, error.code) == (400, 4)
    assert "cannot be deleted" in error.message
    assert contacts.get_contact(ledger, contact["contact_id"])["contact_name"] == "Bowman and Co"


def test_referenced_contact_cannot_be_deleted_even_without_flag(call: Call, ledger: Ledger) -> None:
    vendor = new_contact(call, "V", contact_type="vendor")
    _insert(ledger, "bills", vendor_id=vendor["contact_id"], status="draft", balance=1)
    error = api_error(call, "DELETE", f"/contacts/{vendor['contact_id']}")
    assert error.status == 400


def test_delete_removes_contact_and_persons(call: Call, ledger: Ledger) -> None:
    contact = new_contact(call, contact_persons=[{"first_name": "Will"}])
    response = call("DELETE", f"/contacts/{contact['contact_id']}")
    assert body_of(response)["message"] == "The contact has been deleted."
    assert ledger.store.count("contactpersons") == 0
    assert api_error(call, "GET", f"/contacts/{contact['contact_id']}").status == 404


def test_bulk_delete_is_all_or_nothing(call: Call, ledger: Ledger) -> None:
    a = new_contact(call, "A")["contact_id"]
    b = new_contact(call, "B")["contact_id"]
    contacts.mark_has_transaction(ledger, b)
    error = api_error(call, "DELETE", "/contacts", query={"contact_ids": f"{a},{b}"})
    assert error.status == 400
    assert ledger.store.count("contacts") == 2
    c = new_contact(call, "C")["contact_id"]
    response = call("DELETE", "/contacts", query={"contact_ids": f"{a},{c}"})
    assert body_of(response)["message"] == "The contacts have been deleted."
    assert ledger.store.ids("contacts") == [b]


# status, addresses ---------------------------------------------------------------------
def test_active_inactive_and_status_filters(call: Call) -> None:
    a = new_contact(call, "Alpha")["contact_id"]
    new_contact(call, "Beta")
    response = call("POST", f"/contacts/{a}/inactive")
    assert body_of(response)["message"] == "The contact has been marked as inactive."

    def names(query: dict[str, str]) -> list[str]:
        body = body_of(call("GET", "/contacts", query=query))
        return [c["contact_name"] for c in body["contacts"]]

    assert names({"filter_by": "Status.Inactive"}) == ["Alpha"]
    assert names({"filter_by": "Status.Active"}) == ["Beta"]
    assert sorted(names({"filter_by": "Status.All"})) == ["Alpha", "Beta"]
    assert names({"status": "inactive"}) == ["Alpha"]
    response = call("POST", f"/contacts/{a}/active")
    assert body_of(response)["message"] == "The contact has been marked as active."
    assert names({"filter_by": "Status.Inactive"}) == []
    error = api_error(call, "GET", "/contacts", query={"filter_by": "Status.Bogus"})
    assert error.message == "Invalid value passed for filter_by"


def test_addresses(call: Call) -> None:
    contact = new_contact(
        call, billing_address={"city": "Austin"}, shipping_address={"city": "Denver"}
    )
    cid = contact["contact_id"]
    listed = body_of(call("GET", f"/contacts/{cid}/address"))["addresses"]
    assert [a["city"] for a in listed] == ["Austin", "Denver"]
    assert listed[0]["address_id"] == contact["billing_address"]["address_id"]
    added = body_of(call("POST", f"/contacts/{cid}/address", body={"city": "Boston"}))
    assert added["message"] == "The address has been created."
    extra_id = added["address_info"]["address_id"]
    changed = body_of(call("PUT", f"/contacts/{cid}/address/{extra_id}", body={"zip": "02108"}))[
        "address_info"
    ]
    assert (changed["city"], changed["zip"]) == ("Boston", "02108")
    listed = body_of(call("GET", f"/contacts/{cid}/address"))["addresses"]
    assert [a["city"] for a in listed] == ["Austin", "Denver", "Boston"]
    assert body_of(call("DELETE", f"/contacts/{cid}/address/{extra_id}"))["message"] == (
        "The address has been deleted."
    )
    assert len(body_of(call("GET", f"/contacts/{cid}/address"))["addresses"]) == 2
    assert api_error(call, "DELETE", f"/contacts/{cid}/address/{extra_id}").status == 404


# list ----------------------------------------------------------------------------------
def test_list_search_type_sort_and_paging(call: Call, ledger: Ledger) -> None:
    new_contact(call, "Zeta Foods", contact_persons=[{"first_name": "Ann", "email": "a@zeta.io"}])
    new_contact(call, "Alpha Motors", contact_type="vendor", company_name="Alpha Holdings")
    new_contact(call, "Mid Media", notes="prefers email")

    def names(query: dict[str, str]) -> list[str]:
        body = body_of(call("GET", "/contacts", query=query))
        return [c["contact_name"] for c in body["contacts"]]

    assert names({"contact_type": "vendor"}) == ["Alpha Motors"]
    assert names({"search_text": "holdings"}) == ["Alpha Motors"]
    assert names({"search_text": "zeta.io"}) == ["Zeta Foods"]
    assert names({"contact_name_startswith": "mid"}) == ["Mid Media"]
    assert names({"email_contains": "@zeta"}) == ["Zeta Foods"]
    assert names({"first_name": "Ann"}) == ["Zeta Foods"]
    assert names({"sort_column": "contact_name", "sort_order": "A"}) == [
        "Alpha Motors",
        "Mid Media",
        "Zeta Foods",
    ]
    # Default: newest first.
    assert names({}) == ["Mid Media", "Alpha Motors", "Zeta Foods"]
    body = body_of(call("GET", "/contacts", query={"per_page": "2", "sort_column": "contact_name"}))
    assert [c["contact_name"] for c in body["contacts"]] == ["Zeta Foods", "Mid Media"]
    context = body["page_context"]
    assert (context["page"], context["per_page"], context["has_more_page"]) == (1, 2, True)
    assert context["report_name"] == "Contacts"
    assert context["sort_column"] == "contact_name"
    row = body["contacts"][0]
    assert row["email"] == "a@zeta.io"
    assert row["customer_name"] == "Zeta Foods"
    assert "contact_persons" not in row
    error = api_error(call, "GET", "/contacts", query={"sort_column": "website"})
    assert error.message == "Invalid value passed for sort_column"
    error = api_error(call, "GET", "/contacts", query={"search_text": "x" * 101})
    assert error.code == 15


def test_list_special_filters(call: Call, ledger: Ledger) -> None:
    a = new_contact(
        call, "A", credit_limit=100, contact_persons=[{"first_name": "x", "email": "same@x.com"}]
    )
    new_contact(call, "B", contact_persons=[{"first_name": "y", "email": "SAME@x.com"}])
    new_contact(
        call, "C", is_portal_enabled=True, contact_persons=[{"first_name": "z", "email": "z@x.com"}]
    )
    _insert(ledger, "invoices", customer_id=a["contact_id"], status="overdue", balance=150)
    contacts.refresh_balances(ledger, a["contact_id"])

    def names(filter_by: str) -> list[str]:
        body = body_of(call("GET", "/contacts", query={"filter_by": filter_by}))
        return sorted(c["contact_name"] for c in body["contacts"])

    assert names("Status.CreditLimitExceed") == ["A"]
    assert names("Status.Duplicate") == ["A", "B"]
    assert names("Status.PortalEnabled") == ["C"]
    assert names("Status.PortalDisabled") == ["A", "B"]
    assert names("Status.Crm") == []
    assert names("Invoice.OverDue") == ["A"]
    assert names("Invoice.Unpaid") == ["A"]


# upsert ----------------------------------------------------------------------------------
def _put_with_headers(
    ledger: Ledger, path: str, headers: dict[str, str], body: dict[str, Any]
) -> BooksResponse:
    registry = load_routes()
    route, params = registry.match("PUT", path)
    request = BooksRequest(
        method="PUT",
        path=path,
        path_params=params,
        query={},
        body=body,
        ledger=ledger,
        headers=headers,
    )
    return route.handler(request)


def test_upsert_creates_then_updates(ledger: Ledger) -> None:
    headers = {
        "x-unique-identifier-key": "contact_number",
        "X-Unique-Identifier-Value": "CNT-7",
        "X-Upsert": "true",
    }
    created = _put_with_headers(
        ledger, "/contacts", headers, {"contact_name": "Upserted", "contact_number": "CNT-7"}
    )
    assert created.status == 200  # the OAS documents 200 for an upsert, even a create
    first = body_of(created)["contact"]
    updated = _put_with_headers(ledger, "/contacts", headers, {"notes": "second"})
    assert body_of(updated)["message"] == "Contact has been updated successfully"
    assert body_of(updated)["contact"]["contact_id"] == first["contact_id"]
    assert body_of(updated)["contact"]["notes"] == "second"
    assert ledger.store.count("contacts") == 1
    with pytest.raises(ApiError) as caught:
        _put_with_headers(
            ledger,
            "/contacts",
            {"X-Unique-Identifier-Key": "contact_number", "X-Unique-Identifier-Value": "nope"},
            {"notes": "x"},
        )
    assert caught.value.status == 404


def test_upsert_matches_custom_field_api_name(ledger: Ledger) -> None:
    contact = contacts.create_contact(
        ledger,
        {
            "contact_name": "CF",
            "custom_fields": [{"api_name": "cf_external_id", "value": "EXT-1", "index": 1}],
        },
    )
    found, created = contacts.upsert_contact(
        ledger, "cf_external_id", "EXT-1", {"website": "cf.example"}, create=False
    )
    assert (found["contact_id"], created) == (contact["contact_id"], False)
    assert found["website"] == "cf.example"


# seeding -----------------------------------------------------------------------------------
def _fresh_ledger() -> Ledger:
    db = Database(":memory:")
    org = create_organization(db, name="Seed Org", owner_user_id="u9")
    return Ledger(db=db, clock=Clock(), org_id=org["organization_id"])


def test_seeder_scales_and_is_deterministic() -> None:
    ledger = _fresh_ledger()
    started = time.perf_counter()
    ids = SEEDERS["contacts"](ledger, 5000, random.Random(7))
    elapsed = time.perf_counter() - started
    assert len(ids) == len(set(ids)) == 5000
    assert elapsed < 5.0, f"seeding 5,000 contacts took {elapsed:.2f}s"
    names = [c["contact_name"] for c in ledger.store.find("contacts", [])]
    assert len({n.casefold() for n in names}) == 5000
    types = {c["contact_type"] for c in ledger.store.find("contacts", [])}
    assert types == {"customer", "vendor"}
    sample = contacts.get_contact(ledger, ids[0])
    assert sample["primary_contact_id"] == sample["contact_persons"][0]["contact_person_id"]
    assert ledger.store.count("contactpersons") >= 5000

    again = _fresh_ledger()
    SEEDERS["contacts"](again, 50, random.Random(7))
    first_50 = [c["contact_name"] for c in again.store.find("contacts", [])]
    assert first_50 == names[:50]
    # Seeding more into the same org never repeats a name.
    SEEDERS["contacts"](again, 50, random.Random(7))
    assert len({c["contact_name"] for c in again.store.find("contacts", [])}) == 100


# OAS conformance ---------------------------------------------------------------------------
@requires_oas
def test_every_contact_operation_matches_the_oas(call: Call, ledger: Ledger) -> None:
    """Each success response has the documented status and validates against the
    operation's response schema in Zoho's OAS (quirks per tests/sandbox/oas.py)."""
    index = load_oas()
    problems: list[str] = []

    def checked(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = call(method, path, **kwargs)
        op = index.find(method, path)
        assert op is not None, (method, path)
        assert response.status == op.status, (method, path, response.status)
        problems.extend(index.validate(method, path, response.body))
        return body_of(response)

    contact = checked(
        "POST",
        "/contacts",
        body={
            "contact_name": "Bowman and Co",
            "payment_terms": 15,
            "custom_fields": [{"index": 1, "value": "GBGD078", "label": "VAT ID"}],
            "contact_persons": [{"first_name": "Will", "email": "will@bowman.com"}],
        },
    )["contact"]
    cid = contact["contact_id"]
    checked("GET", f"/contacts/{cid}")
    checked("GET", "/contacts")
    checked("PUT", f"/contacts/{cid}", body={"notes": "n"})
    checked("POST", f"/contacts/{cid}/inactive")
    checked("POST", f"/contacts/{cid}/active")
    checked("GET", f"/contacts/{cid}/address")
    address = checked("POST", f"/contacts/{cid}/address", body={"city": "X"})["address_info"]
    checked("PUT", f"/contacts/{cid}/address/{address['address_id']}", body={"zip": "1"})
    checked("DELETE", f"/contacts/{cid}/address/{address['address_id']}")
    person = checked(
        "POST", "/contacts/contactpersons", body={"contact_id": cid, "first_name": "Ann"}
    )["contact_person"]
    pid = person["contact_person_id"]
    checked("PUT", f"/contacts/contactpersons/{pid}", body={"contact_id": cid, "first_name": "A"})
    checked("GET", f"/contacts/{cid}/contactpersons")
    checked("GET", f"/contacts/{cid}/contactpersons/{pid}")
    checked("POST", f"/contacts/contactpersons/{pid}/primary")
    checked("DELETE", f"/contacts/contactpersons/{pid}")
    other = checked("POST", "/contacts", body={"contact_name": "Other"})["contact"]
    checked("DELETE", "/contacts", query={"contact_ids": other["contact_id"]})
    checked("DELETE", f"/contacts/{cid}")
    assert problems == []
