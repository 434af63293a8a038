"""Invoices through their routes: numbering, validation, PUT semantics, status actions,
lists, email and PDF."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import Call
from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, load_routes
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.contacts import create_contact
from zbooks.sandbox.ledger.items import create_item
from zbooks.sandbox.ledger.taxes import create_tax

DAY = 86400


@pytest.fixture
def customer(ledger: Ledger) -> str:
    contact = create_contact(
        ledger,
        {
            "contact_name": "Bowman & Co",
            "contact_type": "customer",
            "payment_terms": 30,
            "contact_persons": [
                {"first_name": "Will", "last_name": "Smith", "email": "will@bowman.example"}
            ],
        },
    )
    return str(contact["contact_id"])


@pytest.fixture
def other_customer(ledger: Ledger) -> str:
    return str(
        create_contact(ledger, {"contact_name": "Zylker", "contact_type": "customer"})["contact_id"]
    )


def _body(customer: str, **extra: Any) -> dict[str, Any]:
    return {"customer_id": customer, "line_items": [{"name": "Consulting", "rate": 100}], **extra}


def _create(call: Call, customer: str, query: dict[str, str] | None = None, **extra: Any) -> Any:
    response = call("POST", "/invoices", query=query, body=_body(customer, **extra))
    assert response.body is not None
    return response.body["invoice"]


def _error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


# --- create and numbering ---------------------------------------------------------------------
def test_create_answers_201_with_every_documented_field(
    ledger: Ledger, call: Call, customer: str
) -> None:
    response = call("POST", "/invoices", body=_body(customer))
    assert (response.status, response.body["message"]) == (  # type: ignore[index]
        201,
        "The invoice has been created.",
    )
    invoice = response.body["invoice"]  # type: ignore[index]
    today = ledger.today()
    assert invoice["invoice_number"] == "INV-000001"
    assert invoice["invoice_id"].isdigit()
    assert (invoice["status"], invoice["date"], invoice["customer_name"]) == (
        "draft",
        today,
        "Bowman & Co",
    )
    # Contact terms Net 30 give the due date.
    assert (invoice["payment_terms"], invoice["payment_terms_label"]) == (30, "Net 30")
    assert invoice["due_date"] > today
    for documented in (
        "payment_expected_date",
        "last_payment_date",
        "invoice_url",
        "contact_persons_associated",
        "billing_address",
        "custom_fields",
    ):
        assert documented in invoice
    assert invoice["payment_expected_date"] == ""
    assert invoice["line_items"][0]["line_item_id"].isdigit()
    assert _create(call, customer)["invoice_number"] == "INV-000002"


def test_due_date_from_explicit_terms_and_date(call: Call, customer: str) -> None:
    invoice = _create(call, customer, date="2026-02-20", payment_terms=15)
    assert (invoice["due_date"], invoice["payment_terms_label"]) == ("2026-03-07", "Net 15")
    explicit = _create(call, customer, date="2026-02-20", due_date="2026-04-01")
    assert explicit["due_date"] == "2026-04-01"
    assert _error(call, "POST", "/invoices", body=_body(customer, date="20-02-2026")).message == (
        "Invalid value passed for date"
    )


def test_send_flag_creates_a_sent_emailed_invoice(call: Call, customer: str) -> None:
    invoice = _create(call, customer, query={"send": "true"})
    assert (invoice["status"], invoice["is_emailed"]) == ("sent", True)


def test_own_numbers_need_the_flag_and_must_be_unique(call: Call, customer: str) -> None:
    flag = {"ignore_auto_number_generation": "true"}
    own = _create(call, customer, query=flag, invoice_number="CUSTOM-7")
    assert own["invoice_number"] == "CUSTOM-7"

    duplicate = _error(
        call, "POST", "/invoices", query=flag, body=_body(customer, invoice_number="CUSTOM-7")
    )
    assert (duplicate.status, duplicate.code) == (400, 1001)
    assert duplicate.message == "Invoice number CUSTOM-7 already exists"

    without_flag = _error(call, "POST", "/invoices", body=_body(customer, invoice_number="X-1"))
    assert (without_flag.status, without_flag.code) == (400, 4)
    missing = _error(call, "POST", "/invoices", query=flag, body=_body(customer))
    assert missing.message == "Invalid value passed for invoice_number"


def test_auto_numbering_skips_a_number_taken_by_hand(call: Call, customer: str) -> None:
    _create(
        call,
        customer,
        query={"ignore_auto_number_generation": "true"},
        invoice_number="INV-000001",
    )
    assert _create(call, customer)["invoice_number"] == "INV-000002"


def test_create_validation(call: Call, customer: str) -> None:
    no_customer = _error(call, "POST", "/invoices", body={"line_items": [{"name": "a", "rate": 1}]})
    assert (no_customer.status, no_customer.message) == (
        400,
        "Invalid value passed for customer_id",
    )
    unknown = _error(call, "POST", "/invoices", body=_body("460000000999999"))
    assert (unknown.status, unknown.code, unknown.message) == (
        404,
        1002,
        "Contact does not exist.",
    )
    no_lines = _error(call, "POST", "/invoices", body={"customer_id": customer, "line_items": []})
    assert no_lines.message == "Invalid value passed for line_items"
    nameless = _error(
        call, "POST", "/invoices", body={"customer_id": customer, "line_items": [{"rate": 5}]}
    )
    assert nameless.status == 400
    no_rate = _error(
        call, "POST", "/invoices", body={"customer_id": customer, "line_items": [{"name": "a"}]}
    )
    assert no_rate.message == "Invalid value passed for rate"
    bad_item = _error(
        call,
        "POST",
        "/invoices",
        body={"customer_id": customer, "line_items": [{"item_id": "460000000999998"}]},
    )
    assert (bad_item.status, bad_item.message) == (404, "Item does not exist.")
    bad_tax = _error(
        call,
        "POST",
        "/invoices",
        body={"customer_id": customer, "line_items": [{"name": "a", "rate": 1, "tax_id": "9"}]},
    )
    assert bad_tax.message == "Invalid value passed for tax_id"


def test_item_lines_take_name_rate_and_tax_from_the_item(
    ledger: Ledger, call: Call, customer: str
) -> None:
    tax = create_tax(ledger, {"tax_name": "Sales Tax", "tax_percentage": 8})
    item = create_item(
        ledger, {"name": "Hard Drive", "rate": 120, "tax_id": tax["tax_id"], "unit": "pcs"}
    )
    invoice = call(
        "POST",
        "/invoices",
        body={"customer_id": customer, "line_items": [{"item_id": item["item_id"], "quantity": 2}]},
    ).body["invoice"]  # type: ignore[index]
    line = invoice["line_items"][0]
    assert (line["name"], line["rate"], line["unit"], line["tax_name"]) == (
        "Hard Drive",
        120.0,
        "pcs",
        "Sales Tax",
    )
    assert (invoice["sub_total"], invoice["tax_total"], invoice["total"]) == (240.0, 19.2, 259.2)


# --- update ---------------------------------------------------------------------
def test_put_replaces_the_line_set_keeping_echoed_ids(call: Call, customer: str) -> None:
    invoice = call(
        "POST",
        "/invoices",
        body={
            "customer_id": customer,
            "line_items": [{"name": "Keep", "rate": 10}, {"name": "Drop", "rate": 20}],
        },
    ).body["invoice"]  # type: ignore[index]
    keep, drop = invoice["line_items"]
    response = call(
        "PUT",
        f"/invoices/{invoice['invoice_id']}",
        body={
            "line_items": [
                {"line_item_id": keep["line_item_id"], "quantity": 3},
                {"name": "New", "rate": 5},
            ]
        },
    )
    assert response.body["message"] == "Invoice information has been updated."  # type: ignore[index]
    lines = response.body["invoice"]["line_items"]  # type: ignore[index]
    assert [line["name"] for line in lines] == ["Keep", "New"]
    assert lines[0]["line_item_id"] == keep["line_item_id"]
    assert lines[0]["rate"] == 10.0  # kept from the stored line
    assert lines[1]["line_item_id"] not in (keep["line_item_id"], drop["line_item_id"])
    assert response.body["invoice"]["total"] == 35.0  # type: ignore[index]


def test_put_without_lines_changes_only_given_fields(
    ledger: Ledger, call: Call, customer: str
) -> None:
    invoice = _create(call, customer, notes="first")
    ledger.clock.advance(5)
    updated = call("PUT", f"/invoices/{invoice['invoice_id']}", body={"notes": "second"}).body[
        "invoice"
    ]  # type: ignore[index]
    assert updated["notes"] == "second"
    assert updated["line_items"][0]["line_item_id"] == invoice["line_items"][0]["line_item_id"]
    assert updated["last_modified_time"] > invoice["last_modified_time"]
    assert updated["created_time"] == invoice["created_time"]


def test_void_invoice_cannot_be_edited(call: Call, customer: str) -> None:
    invoice = _create(call, customer)
    call("POST", f"/invoices/{invoice['invoice_id']}/status/void")
    refused = _error(call, "PUT", f"/invoices/{invoice['invoice_id']}", body={"notes": "x"})
    assert (refused.status, refused.code) == (400, 4)


def test_total_cannot_drop_below_what_was_paid(call: Call, customer: str) -> None:
    invoice = _create(call, customer, query={"send": "true"})
    call(
        "POST",
        "/customerpayments",
        body={
            "customer_id": customer,
            "payment_mode": "cash",
            "amount": 80,
            "invoices": [{"invoice_id": invoice["invoice_id"], "amount_applied": 80}],
        },
    )
    refused = _error(
        call,
        "PUT",
        f"/invoices/{invoice['invoice_id']}",
        body={"line_items": [{"name": "Cheaper", "rate": 50}]},
    )
    assert refused.status == 400


# --- actions, history, email ---------------------------------------------------------------------
def test_status_sent_message_and_history(call: Call, customer: str) -> None:
    invoice = _create(call, customer)
    response = call("POST", f"/invoices/{invoice['invoice_id']}/status/sent")
    assert response.body == {"code": 0, "message": "Invoice status has been changed to Sent."}
    comments = call("GET", f"/invoices/{invoice['invoice_id']}/comments").body["comments"]  # type: ignore[index]
    assert [c["description"] for c in comments][-1] == "Invoice marked as sent"
    assert all(c["invoice_id"] == invoice["invoice_id"] for c in comments)


def test_email_is_recorded_not_sent(call: Call, customer: str) -> None:
    invoice = _create(call, customer)
    content = call("GET", f"/invoices/{invoice['invoice_id']}/email").body["data"]  # type: ignore[index]
    assert content["file_name"] == "INV-000001.pdf"
    assert content["subject"] == "Invoice - INV-000001 from Test Org"
    assert content["to_contacts"][0]["email"] == "will@bowman.example"
    response = call(
        "POST",
        f"/invoices/{invoice['invoice_id']}/email",
        body={"to_mail_ids": ["will@bowman.example"], "subject": "Your invoice"},
    )
    assert response.body == {"code": 0, "message": "Your invoice has been sent."}
    emailed = call("GET", f"/invoices/{invoice['invoice_id']}").body["invoice"]  # type: ignore[index]
    assert (emailed["status"], emailed["is_emailed"]) == ("sent", True)
    comments = call("GET", f"/invoices/{invoice['invoice_id']}/comments").body["comments"]  # type: ignore[index]
    assert "Invoice emailed to will@bowman.example" in [c["description"] for c in comments]


# --- lists ---------------------------------------------------------------------
def test_list_filters_search_and_sort(call: Call, customer: str, other_customer: str) -> None:
    a = _create(call, customer, date="2026-01-05", reference_number="PO-77")
    b = _create(call, other_customer, date="2026-02-10", line_items=[{"name": "Big", "rate": 900}])
    c = _create(call, customer, date="2026-03-15", query={"send": "true"})

    def ids(**query: str) -> list[str]:
        body = call("GET", "/invoices", query=query).body
        assert body is not None
        return [row["invoice_id"] for row in body["invoices"]]

    assert ids() == [c["invoice_id"], b["invoice_id"], a["invoice_id"]]  # newest first
    assert ids(filter_by="Status.Draft", sort_column="date", sort_order="A") == [
        a["invoice_id"],
        b["invoice_id"],
    ]
    assert ids(status="draft", customer_id=customer) == [a["invoice_id"]]
    assert ids(search_text="po-77") == [a["invoice_id"]]
    assert ids(search_text="zylk") == [b["invoice_id"]]
    assert ids(customer_name_startswith="Bow", sort_column="invoice_number", sort_order="A") == [
        a["invoice_id"],
        c["invoice_id"],
    ]
    assert ids(date_start="2026-02-01", date_end="2026-02-28") == [b["invoice_id"]]
    assert ids(total_greater_than="500") == [b["invoice_id"]]
    assert ids(balance_less_equals="100", sort_column="total") == [c["invoice_id"], a["invoice_id"]]
    assert ids(invoice_number="INV-000002") == [b["invoice_id"]]
    assert ids(per_page="2", page="2") == [a["invoice_id"]]
    page = call("GET", "/invoices", query={"per_page": "2"}).body["page_context"]  # type: ignore[index]
    assert (page["has_more_page"], page["report_name"]) == (True, "Invoices")
    assert _error(call, "GET", "/invoices", query={"filter_by": "Status.Nope"}).code == 4
    assert _error(call, "GET", "/invoices", query={"sort_column": "notes"}).code == 4


def test_list_last_modified_time_is_inclusive(ledger: Ledger, call: Call, customer: str) -> None:
    old = _create(call, customer)
    ledger.clock.advance(60)
    since = ledger.now()
    new = _create(call, customer)
    rows = call("GET", "/invoices", query={"last_modified_time": since}).body["invoices"]  # type: ignore[index]
    assert [r["invoice_id"] for r in rows] == [new["invoice_id"]]
    ledger.clock.advance(60)
    call("PUT", f"/invoices/{old['invoice_id']}", body={"notes": "touched"})
    rows = call("GET", "/invoices", query={"last_modified_time": since}).body["invoices"]  # type: ignore[index]
    assert {r["invoice_id"] for r in rows} == {old["invoice_id"], new["invoice_id"]}


# --- PDF ---------------------------------------------------------------------
def _with_headers(
    ledger: Ledger,
    path: str,
    headers: dict[str, str],
    method: str = "GET",
    body: dict[str, Any] | None = None,
) -> BooksResponse:
    route, params = load_routes().match(method, path)
    return route.handler(
        BooksRequest(method, path, params, {}, body or {}, ledger, headers=headers, user_id="u1")
    )


def test_pdf_by_query_and_by_accept_header(ledger: Ledger, call: Call, customer: str) -> None:
    invoice = _create(call, customer)
    path = f"/invoices/{invoice['invoice_id']}"
    response = call("GET", path, query={"accept": "pdf"})
    assert response.media_type == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="INV-000001.pdf"'
    content = response.content or b""
    assert content.startswith(b"%PDF-") and content.endswith(b"%%EOF")
    assert b"(Invoice #: INV-000001) Tj" in content
    by_header = _with_headers(ledger, path, {"Accept": "application/pdf"})
    assert (by_header.content or b"").startswith(b"%PDF-")
    as_json = _with_headers(ledger, path, {"accept": "application/json"})
    assert (
        as_json.body is not None and as_json.body["invoice"]["invoice_id"] == invoice["invoice_id"]
    )
    html = call("GET", path, query={"accept": "html"})
    assert b"INV-000001" in (html.content or b"") and html.media_type.startswith("text/html")


def test_pdf_xref_offsets_point_at_objects(call: Call, customer: str) -> None:
    invoice = _create(call, customer)
    content = call("GET", f"/invoices/{invoice['invoice_id']}", query={"accept": "pdf"}).content
    assert content is not None
    startxref = int(content.rsplit(b"startxref", 1)[1].split()[0])
    table = content[startxref:].split(b"trailer")[0].splitlines()[2:]
    for number, entry in enumerate(table[1:], start=1):
        offset = int(entry.split()[0])
        assert content[offset:].startswith(f"{number} 0 obj".encode())


def test_bulk_pdf_one_document_per_page_and_at_most_25(call: Call, customer: str) -> None:
    first = _create(call, customer)
    second = _create(call, customer)
    ids = f"{first['invoice_id']},{second['invoice_id']}"
    response = call("GET", "/invoices/pdf", query={"invoice_ids": ids})
    content = response.content or b""
    assert content.count(b"/Type /Page ") == 2
    assert b"INV-000001" in content and b"INV-000002" in content
    too_many = ",".join([first["invoice_id"]] * 26)
    assert _error(call, "GET", "/invoices/pdf", query={"invoice_ids": too_many}).code == 4
    unknown = _error(call, "GET", "/invoices/pdf", query={"invoice_ids": "460000000999999"})
    assert unknown.status == 404


def test_unknown_invoice_is_404_1002(call: Call) -> None:
    error = _error(call, "GET", "/invoices/460000000999999")
    assert (error.status, error.code, error.message) == (404, 1002, "Invoice does not exist.")


def test_bulk_status_and_delete(call: Call, customer: str) -> None:
    first = _create(call, customer)
    second = _create(call, customer)
    ids = f"{first['invoice_id']},{second['invoice_id']}"
    sent = call("POST", "/invoices/status/sent", query={"invoice_ids": ids})
    assert sent.body == {"code": 0, "message": "The invoices have been marked as sent."}
    rows = call("GET", "/invoices", query={"status": "sent"}).body["invoices"]  # type: ignore[index]
    assert len(rows) == 2
    deleted = call("DELETE", "/invoices", query={"invoice_ids": ids})
    assert deleted.body == {"code": 0, "message": "The invoices have been deleted."}
    assert call("GET", "/invoices").body["invoices"] == []  # type: ignore[index]


def test_upsert_by_unique_field(ledger: Ledger, call: Call, customer: str) -> None:
    key = {"X-Unique-Identifier-Key": "reference_number", "X-Unique-Identifier-Value": "EXT-9"}
    body = _body(customer, reference_number="EXT-9")
    with pytest.raises(ApiError) as no_match:
        _with_headers(ledger, "/invoices", key, "PUT", body)
    assert (no_match.value.status, no_match.value.message) == (404, "Invoice does not exist.")
    created = _with_headers(ledger, "/invoices", {**key, "X-Upsert": "true"}, "PUT", body)
    assert (created.status, created.body["message"]) == (  # type: ignore[index]
        200,  # the OAS documents 200 for an upsert, also when it creates
        "The invoice has been created.",
    )
    updated = _with_headers(ledger, "/invoices", key, "PUT", {"notes": "matched"})
    assert updated.body["message"] == "Invoice information has been updated."  # type: ignore[index]
    assert updated.body["invoice"]["invoice_id"] == created.body["invoice"]["invoice_id"]  # type: ignore[index]
    assert len(call("GET", "/invoices").body["invoices"]) == 1  # type: ignore[index]


def test_user_comments_share_the_history(call: Call, customer: str) -> None:
    invoice = _create(call, customer)
    path = f"/invoices/{invoice['invoice_id']}/comments"
    added = call("POST", path, body={"description": "Called the customer"})
    assert added.body["message"] == "Comments added."  # type: ignore[index]
    comment_id = added.body["comment"]["comment_id"]  # type: ignore[index]
    updated = call("PUT", f"{path}/{comment_id}", body={"description": "Called twice"})
    assert updated.body["comment"]["description"] == "Called twice"  # type: ignore[index]
    history = call("GET", path).body["comments"]  # type: ignore[index]
    assert [c["description"] for c in history] == [
        "Invoice created for USD100.00",
        "Called twice",
    ]
    system_id = history[0]["comment_id"]
    assert _error(call, "DELETE", f"{path}/{system_id}").status == 400
    deleted = call("DELETE", f"{path}/{comment_id}")
    assert deleted.body == {"code": 0, "message": "The comment has been deleted."}
    assert len(call("GET", path).body["comments"]) == 1  # type: ignore[index]
    assert _error(call, "DELETE", f"{path}/{comment_id}").status == 404
