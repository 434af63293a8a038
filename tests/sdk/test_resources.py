"""Generated resources through the real pipeline on ``httpx2.MockTransport``: path and
query parameters, body encoding, pagination, downloads, multipart quirks; sync and async."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx2
import pytest

from zbooks import AsyncClient, Client
from zbooks.models.bills import BillStatus
from zbooks.models.customer_payments import CustomerPayment
from zbooks.models.invoices import CreateInvoiceRequest, CreateInvoiceRequestLineItem, Invoice
from zbooks.models.vendor_payments import VendorPayment
from zbooks.resources.base import ModelPage, Paginator
from zbooks.resources.invoices import AsyncInvoices, Invoices

from .fakes import API, FakeZoho, body, envelope

PDF = b"%PDF-1.4 fake invoice"


def make_client(fake: FakeZoho) -> Client:
    return Client(
        access_token="1000.token",
        organization_id="777",
        api_url=API,
        rate_limiter=False,
        transport=fake.transport(),
        env={},
    )


def make_async_client(fake: FakeZoho) -> AsyncClient:
    return AsyncClient(
        access_token="1000.token",
        organization_id="777",
        api_url=API,
        rate_limiter=False,
        transport=httpx2.MockTransport(fake.handle),
        env={},
    )


def pages_of(*pages: list[dict[str, Any]]) -> Any:
    """A responder serving ``pages`` by the ``page`` query parameter."""

    def respond(request: httpx2.Request) -> httpx2.Response:
        number = int(request.url.params["page"])
        return envelope(
            invoices=pages[number - 1],
            page_context={"page": number, "has_more_page": number < len(pages)},
        )

    return respond


# --- attribute access -------------------------------------------------------------------------


def test_client_attribute_is_the_typed_resource_and_is_cached() -> None:
    with make_client(FakeZoho()) as client:
        assert isinstance(client.invoices, Invoices)
        assert client.invoices is client.invoices
        with pytest.raises(AttributeError):
            _ = client.no_such_module  # type: ignore[attr-defined]
        # client.organizations is the typed resource, and calling it lists raw orgs.
        assert type(client.organizations).__name__ == "Organizations"
        assert callable(client.organizations) and hasattr(client.organizations, "get")


def test_async_client_gets_async_resources() -> None:
    client = make_async_client(FakeZoho())
    assert isinstance(client.invoices, AsyncInvoices)


def test_import_zbooks_loads_no_resource_or_model_module() -> None:
    code = (
        "import sys, zbooks, zbooks.core.client\n"
        "bad = [m for m in sys.modules if m.startswith(('zbooks.resources', 'zbooks.models',"
        " 'pydantic'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- requests ------------------------------------------------------------------------------------


def test_path_parameters_are_positional_and_escaped() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices/982000000567114/status/sent", envelope(message="sent"))
    fake.on("DELETE", "/invoices/1/comments/a/b", envelope())
    with make_client(fake) as client:
        result = client.invoices.mark_sent("982000000567114")
        client.invoices.delete_comment("1", "a/b")
    assert result == {"code": 0, "message": "sent"}
    assert fake.calls("POST", "/invoices/982000000567114/status/sent")[0].content == b""
    # "a/b" stays one path segment: the slash is escaped on the wire.
    assert fake.requests[1].url.raw_path.startswith(b"/books/v3/invoices/1/comments/a%2Fb")


def test_query_parameters_are_converted_to_what_zoho_reads() -> None:
    fake = FakeZoho()
    fake.on("GET", "/bills", envelope(bills=[], page_context={"has_more_page": False}))
    since = datetime(2023, 11, 18, 2, 2, 51, tzinfo=timezone(timedelta(hours=-8)))
    with make_client(fake) as client:
        found = list(
            client.bills.list(
                status=BillStatus.OVERDUE,
                date=date(2024, 1, 1),
                location_ids=["4", "5"],
                last_modified_time=since,
                search_text="acme",
                params={"custom_thing": "x", "status": "ignored"},
            )
        )
    assert found == []
    params = fake.calls("GET", "/bills")[0].url.params
    assert params["status"] == "overdue"
    assert params["date"] == "2024-01-01"
    assert params["location_ids"] == "4,5"
    assert params["last_modified_time"] == "2023-11-18T02:02:51-0800"
    assert params["custom_thing"] == "x"
    assert params["organization_id"] == "777"


def test_id_lists_and_organization_override() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices/status/sent", envelope())
    with make_client(fake) as client:
        client.invoices.bulk_mark_sent(invoice_ids=["1", "2", "3"], organization_id="999")
    params = fake.calls("POST", "/invoices/status/sent")[0].url.params
    assert params["invoice_ids"] == "1,2,3"
    assert params["organization_id"] == "999"


def test_model_body_sends_only_set_fields_with_exact_numbers_and_dates() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices", envelope(201, invoice={"invoice_id": "9", "total": 30.3}))
    request_body = CreateInvoiceRequest(
        customer_id="460000000026049",
        date=date(2024, 3, 1),
        line_items=[
            CreateInvoiceRequestLineItem(item_id="1", rate=Decimal("10.10"), quantity=Decimal("3"))
        ],
    )
    with make_client(fake) as client:
        created = client.invoices.create(body=request_body, ignore_auto_number_generation=True)
    assert isinstance(created, Invoice)
    assert created.invoice_id == "9" and created.total == Decimal("30.3")
    sent = fake.calls("POST", "/invoices")[0]
    assert sent.headers["content-type"] == "application/json"
    assert sent.url.params["ignore_auto_number_generation"] == "true"
    assert body(sent) == {
        "customer_id": "460000000026049",
        "date": "2024-03-01",
        "line_items": [{"item_id": "1", "rate": 10.1, "quantity": 3}],
    }


def test_mapping_body_may_hold_models_and_decimals() -> None:
    fake = FakeZoho()
    fake.on("PUT", "/invoices/5", envelope(invoice={"invoice_id": "5"}))
    line = Invoice.model_validate({"invoice_id": "x"}).model_copy()
    with make_client(fake) as client:
        client.invoices.update(
            "5", body={"adjustment": Decimal("-0.01"), "nested": line, "due_date": date(2024, 4, 1)}
        )
    assert body(fake.calls("PUT", "/invoices/5")[0]) == {
        "adjustment": -0.01,
        "nested": {"invoice_id": "x"},
        "due_date": "2024-04-01",
    }


def test_upsert_sends_the_unique_identifier_headers() -> None:
    fake = FakeZoho()
    fake.on("PUT", "/contacts", envelope(contact={"contact_id": "3"}))
    with make_client(fake) as client:
        contact = client.contacts.upsert(
            body={"contact_name": "Acme"},
            x_unique_identifier_key="cf_external_id",
            x_unique_identifier_value="A-1",
            x_upsert=True,
        )
    assert contact.contact_id == "3"
    headers = fake.calls("PUT", "/contacts")[0].headers
    assert headers["x-unique-identifier-key"] == "cf_external_id"
    assert headers["x-unique-identifier-value"] == "A-1"
    assert headers["x-upsert"] == "true"


def test_files_with_a_body_travel_as_multipart_with_jsonstring() -> None:
    fake = FakeZoho()
    fake.on("POST", "/bills", envelope(201, bill={"bill_id": "4"}))
    with make_client(fake) as client:
        bill = client.bills.create(
            body={"vendor_id": "7", "total": Decimal("5.50")},
            attachment=("receipt.pdf", PDF, "application/pdf"),
        )
    assert bill.bill_id == "4"
    sent = fake.calls("POST", "/bills")[0]
    assert sent.headers["content-type"].startswith("multipart/form-data")
    raw = sent.content
    assert b'name="JSONString"' in raw and b'"total": 5.5' in raw
    assert b'name="attachment"; filename="receipt.pdf"' in raw and PDF in raw


def test_file_only_upload() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices/1/attachment", envelope(message="attached"))
    with make_client(fake) as client:
        client.invoices.add_attachment("1", attachment=b"bytes", can_send_in_mail=False)
    sent = fake.calls("POST", "/invoices/1/attachment")[0]
    assert b"JSONString" not in sent.content and b"bytes" in sent.content
    assert sent.url.params["can_send_in_mail"] == "false"


# --- results ------------------------------------------------------------------------------------


def test_envelope_keys_the_api_spells_differently() -> None:
    fake = FakeZoho()
    fake.on(
        "GET",
        "/customerpayments",
        envelope(customerpayments=[{"payment_id": "1", "amount": 10}], page_context={}),
    )
    fake.on("POST", "/vendorpayments", envelope(201, vendorpayment={"payment_id": "8"}))
    with make_client(fake) as client:
        payments = list(client.customer_payments.list())
        vendor = client.vendor_payments.create(body={"vendor_id": "2"})
    assert [type(p) for p in payments] == [CustomerPayment]
    assert payments[0].amount == Decimal("10")
    assert isinstance(vendor, VendorPayment) and vendor.payment_id == "8"


def test_flattened_response_still_parses() -> None:
    fake = FakeZoho()
    fake.on("POST", "/vendorpayments", envelope(201, payment_id="8", amount=3.3))
    with make_client(fake) as client:
        vendor = client.vendor_payments.create(body={})
    assert vendor.payment_id == "8" and vendor.amount == Decimal("3.3")


def test_unpaged_list_returns_models() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices/3/payments", envelope(payments=[{"payment_id": "p1"}, {}]))
    with make_client(fake) as client:
        payments = client.invoices.list_payments("3")
    assert [p.payment_id for p in payments] == ["p1", None]


# --- pagination --------------------------------------------------------------------------------


def test_list_is_lazy_and_follows_has_more_page() -> None:
    fake = FakeZoho()
    fake.on(
        "GET",
        "/invoices",
        pages_of([{"invoice_id": "1"}, {"invoice_id": "2"}], [{"invoice_id": "3"}]),
    )
    with make_client(fake) as client:
        listing = client.invoices.list(status="unpaid", per_page=2)
        assert isinstance(listing, Paginator)
        assert fake.requests == []  # nothing fetched before iterating
        ids = [invoice.invoice_id for invoice in listing]
    assert ids == ["1", "2", "3"]
    calls = fake.calls("GET", "/invoices")
    assert [c.url.params["page"] for c in calls] == ["1", "2"]
    assert {c.url.params["per_page"] for c in calls} == {"2"}
    assert {c.url.params["status"] for c in calls} == {"unpaid"}


def test_breaking_early_fetches_one_page_and_pages_expose_context() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices", pages_of([{"invoice_id": "1"}], [{"invoice_id": "2"}]))
    with make_client(fake) as client:
        first = client.invoices.list().first()
        assert first is not None and first.invoice_id == "1"
        assert len(fake.requests) == 1
        pages = list(client.invoices.list(page=2).pages())
    assert len(pages) == 1 and isinstance(pages[0], ModelPage)
    assert pages[0].number == 2 and not pages[0].has_more
    assert pages[0].page_context["page"] == 2
    assert pages[0].items[0].invoice_id == "2"


# --- downloads --------------------------------------------------------------------------------


def test_pdf_variant_and_bulk_pdf_return_bytes() -> None:
    fake = FakeZoho()
    pdf = httpx2.Response(200, content=PDF, headers={"content-type": "application/pdf"})
    fake.on("GET", "/invoices/5", pdf)
    fake.on("GET", "/invoices/pdf", pdf)
    with make_client(fake) as client:
        single = client.invoices.pdf("5")
        bulk = client.invoices.bulk_pdf(invoice_ids=["5", "6"])
    assert single == PDF and bulk == PDF
    one = fake.calls("GET", "/invoices/5")[0]
    assert one.url.params["accept"] == "pdf"
    assert one.headers["accept"] == "application/pdf"
    assert fake.calls("GET", "/invoices/pdf")[0].url.params["invoice_ids"] == "5,6"


def test_actions_accept_an_undocumented_body() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices/1/status/sent", envelope())
    with make_client(fake) as client:
        client.invoices.mark_sent("1", body={"reason": "by hand", "amount": Decimal("2.50")})
    assert body(fake.calls("POST", "/invoices/1/status/sent")[0]) == {
        "reason": "by hand",
        "amount": 2.5,
    }


def test_get_parses_json_even_though_a_pdf_variant_exists() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices/5", envelope(invoice={"invoice_id": "5", "date": "2024-01-31"}))
    with make_client(fake) as client:
        invoice = client.invoices.get("5")
    assert invoice.date == date(2024, 1, 31)
    assert "accept" not in fake.calls("GET", "/invoices/5")[0].url.params


# --- async ---------------------------------------------------------------------------------------


async def test_async_list_create_and_pdf() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices", pages_of([{"invoice_id": "1"}], [{"invoice_id": "2"}]))
    fake.on("POST", "/invoices", envelope(201, invoice={"invoice_id": "9"}))
    fake.on(
        "GET",
        "/invoices/9",
        httpx2.Response(200, content=PDF, headers={"content-type": "application/pdf"}),
    )
    client = make_async_client(fake)
    try:
        ids = [invoice.invoice_id async for invoice in client.invoices.list()]
        pages = [page.number async for page in client.invoices.list().pages()]
        first = await client.invoices.list().first()
        created = await client.invoices.create(body={"total": Decimal("1.10")})
        pdf = await client.invoices.pdf("9")
    finally:
        await client.aclose()
    assert ids == ["1", "2"] and pages == [1, 2]
    assert first is not None and first.invoice_id == "1"
    assert created.invoice_id == "9"
    assert json.loads(fake.calls("POST", "/invoices")[0].content) == {"total": 1.1}
    assert pdf == PDF


async def test_async_actions_and_files() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices/1/status/void", envelope(message="voided"))
    fake.on("POST", "/expenses/2/receipt", envelope(message="ok"))
    client = make_async_client(fake)
    try:
        voided = await client.invoices.void("1")
        await client.expenses.create_receipt("2", receipt=("r.png", b"png-bytes", "image/png"))
    finally:
        await client.aclose()
    assert voided["message"] == "voided"
    sent = fake.calls("POST", "/expenses/2/receipt")[0]
    assert b'filename="r.png"' in sent.content
    assert parse_qs(sent.url.query.decode())["organization_id"] == ["777"]


def test_positive_offsets_are_escaped_in_the_query() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices", envelope(invoices=[], page_context={"has_more_page": False}))
    india = timezone(timedelta(hours=5, minutes=30))
    with make_client(fake) as client:
        list(client.invoices.list(last_modified_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=india)))
    raw_query = fake.requests[0].url.query
    assert b"last_modified_time=2024-01-02T03%3A04%3A05%2B0530" in raw_query


# --- hand-made invoices helpers -----------------------------------------------------------------


def test_create_with_own_number_turns_off_auto_numbering() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices", envelope(201, invoice={"invoice_id": "1"}))
    with make_client(fake) as client:
        client.invoices.create(body={"customer_id": "4", "invoice_number": "INV-9"})
        client.invoices.create(body={"customer_id": "4"})
        client.invoices.create(
            body={"customer_id": "4", "invoice_number": "X"}, ignore_auto_number_generation=False
        )
    flags = [r.url.params.get("ignore_auto_number_generation") for r in fake.requests]
    assert flags == ["true", None, "false"]


def test_record_payment_applies_the_amount_to_the_invoice() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices/11", envelope(invoice={"invoice_id": "11", "customer_id": "77"}))
    fake.on(
        "POST",
        "/customerpayments",
        envelope(201, payment={"payment_id": "p9", "amount": 40.6, "customer_id": "77"}),
    )
    with make_client(fake) as client:
        payment = client.invoices.record_payment(
            "11", Decimal("40.60"), date=date(2024, 5, 1), reference_number="R-1"
        )
        client.invoices.record_payment("11", "1.10", customer_id="5", payment_mode="banktransfer")
    assert payment.payment_id == "p9" and payment.amount == Decimal("40.6")
    assert len(fake.calls("GET", "/invoices/11")) == 1  # the second call knew its customer
    first, second = (body(r) for r in fake.calls("POST", "/customerpayments"))
    assert first == {
        "customer_id": "77",
        "payment_mode": "cash",
        "amount": 40.6,
        "date": "2024-05-01",
        "invoices": [{"invoice_id": "11", "amount_applied": 40.6}],
        "reference_number": "R-1",
    }
    assert second["customer_id"] == "5" and second["amount"] == 1.1
    assert second["payment_mode"] == "banktransfer"


def test_modified_since_lists_oldest_change_first() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices", pages_of([{"invoice_id": "1"}]))
    since = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-8)))
    with make_client(fake) as client:
        ids = [invoice.invoice_id for invoice in client.invoices.modified_since(since)]
    assert ids == ["1"]
    params = fake.requests[0].url.params
    assert params["last_modified_time"] == "2024-01-01T00:00:00-0800"
    assert (params["sort_column"], params["sort_order"]) == ("last_modified_time", "A")


async def test_async_invoices_helpers() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices/3", envelope(invoice={"invoice_id": "3", "customer_id": "8"}))
    fake.on("POST", "/customerpayments", envelope(201, payment={"payment_id": "p"}))
    fake.on("POST", "/invoices", envelope(201, invoice={"invoice_id": "4"}))
    fake.on("GET", "/invoices", pages_of([{"invoice_id": "5"}]))
    client = make_async_client(fake)
    try:
        payment = await client.invoices.record_payment("3", 2)
        await client.invoices.create(body={"invoice_number": "INV-1"})
        changed = [i.invoice_id async for i in client.invoices.modified_since("2024-01-01")]
    finally:
        await client.aclose()
    assert payment.payment_id == "p" and changed == ["5"]
    assert body(fake.calls("POST", "/customerpayments")[0])["customer_id"] == "8"
    flag = fake.calls("POST", "/invoices")[0].url.params["ignore_auto_number_generation"]
    assert flag == "true"
