"""The hand-made helpers of the top modules, on the wire (``httpx2.MockTransport``): typed
filters become the query Zoho reads, own numbers switch auto-numbering off, conversions
and payments send the bodies Zoho documents; sync and async alike."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx2
import pytest

from zbooks import AsyncClient, Client
from zbooks.errors import UnexpectedResponseError
from zbooks.models.bills import BillStatus
from zbooks.models.estimates import EstimateStatus
from zbooks.models.invoices import Invoice
from zbooks.models.vendor_payments import VendorPayment
from zbooks.resources import resource_class
from zbooks.resources.ergonomic.filters import (
    ContactFilter,
    ContactType,
    ExpenseFilter,
    InvoiceFilter,
    ItemFilter,
    PaymentModeFilter,
    SortOrder,
)

from .fakes import API, FakeZoho, body, envelope

TOP = {
    "invoices": "/invoices",
    "contacts": "/contacts",
    "items": "/items",
    "customer_payments": "/customerpayments",
    "credit_notes": "/creditnotes",
    "estimates": "/estimates",
    "bills": "/bills",
    "vendor_payments": "/vendorpayments",
    "expenses": "/expenses",
}
PACIFIC = timezone(timedelta(hours=-8))


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


def empty_list(key: str) -> httpx2.Response:
    return envelope(**{key: [], "page_context": {"has_more_page": False}})


def params_of(fake: FakeZoho, index: int = 0) -> dict[str, str]:
    return dict(fake.requests[index].url.params)


# --- wiring -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TOP))
def test_top_modules_resolve_to_the_helpers_sync_and_async(name: str) -> None:
    sync, asynchronous = resource_class(name), resource_class(name, asynchronous=True)
    assert sync.__module__ == asynchronous.__module__ == f"zbooks.resources.ergonomic.{name}"
    # Subclasses of the generated classes: every generated method stays available.
    assert sync.__mro__[1].__module__ == f"zbooks.resources.{name}"
    assert asynchronous.__mro__[1].__module__ == f"zbooks.resources.{name}"
    with make_client(FakeZoho()) as client:
        assert type(getattr(client, name)) is sync


def test_import_zbooks_loads_no_helper_module() -> None:
    code = (
        "import sys, zbooks\n"
        "zbooks.Client\n"
        "bad = [m for m in sys.modules if m.startswith('zbooks.resources')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_helper_module_loads_only_its_own_models() -> None:
    """Helpers that return another module's model import it on first use (the invoice
    models alone take ~35 ms), so ``client.estimates`` stays as cheap as before."""
    code = (
        "import sys, zbooks\n"
        "client = zbooks.Client(access_token='t', organization_id='1', env={})\n"
        "client.estimates, client.bills, client.invoices\n"
        "loaded = {m for m in sys.modules if m.startswith('zbooks.models.')}\n"
        "assert 'zbooks.models.customer_payments' not in loaded, loaded\n"
        "assert 'zbooks.models.vendor_payments' not in loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    lean = (
        "import sys, zbooks\n"
        "zbooks.Client(access_token='t', organization_id='1', env={}).estimates\n"
        "assert 'zbooks.models.invoices' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", lean], check=True)


# --- typed list filters ---------------------------------------------------------------------


def test_invoice_filters_become_zoho_query_values() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices", empty_list("invoices"))
    with make_client(fake) as client:
        found = client.invoices.list(
            status="unpaid",
            filter_by=InvoiceFilter.OVERDUE,
            date_start=date(2026, 1, 1),
            date_end=date(2026, 3, 31),
            modified_since=datetime(2026, 1, 2, 3, 4, 5, tzinfo=PACIFIC),
            sort_order=SortOrder.ASCENDING,
            customer_id="42",  # a documented filter of the generated list
            per_page=50,
            params={"invoice_number_startswith": "INV-"},
        )
        assert list(found) == []
    assert params_of(fake) == {
        "status": "unpaid",
        "filter_by": "Status.OverDue",
        "date_start": "2026-01-01",
        "date_end": "2026-03-31",
        "last_modified_time": "2026-01-02T03:04:05-0800",
        "sort_order": "A",
        "customer_id": "42",
        "invoice_number_startswith": "INV-",
        "organization_id": "777",
        "page": "1",
        "per_page": "50",
    }


LISTS: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    (
        "contacts",
        {"filter_by": ContactFilter.INACTIVE, "contact_type": ContactType.VENDOR},
        {"filter_by": "Status.Inactive", "contact_type": "vendor"},
    ),
    ("items", {"filter_by": ItemFilter.ACTIVE}, {"filter_by": "Status.Active"}),
    (
        "customer_payments",
        {"filter_by": PaymentModeFilter.BANK_TRANSFER, "date_start": date(2026, 2, 1)},
        {"filter_by": "PaymentMode.BankTransfer", "date_start": "2026-02-01"},
    ),
    (
        "vendor_payments",
        {"filter_by": PaymentModeFilter.CHECK, "date_end": date(2026, 2, 28)},
        {"filter_by": "PaymentMode.Check", "date_end": "2026-02-28"},
    ),
    (
        "credit_notes",
        {"status": "open", "date_start": "2026-02-01"},
        {"status": "open", "date_start": "2026-02-01"},
    ),
    (
        "estimates",
        {"status": EstimateStatus.ACCEPTED, "date_end": date(2026, 4, 30)},
        {"status": "accepted", "date_end": "2026-04-30"},
    ),
    (
        "bills",
        {"status": BillStatus.OVERDUE, "sort_order": SortOrder.DESCENDING},
        {"status": "overdue", "sort_order": "D"},
    ),
    (
        "expenses",
        {"filter_by": ExpenseFilter.BILLABLE, "date_start": date(2026, 5, 1)},
        {"filter_by": "Status.Billable", "date_start": "2026-05-01"},
    ),
]


@pytest.mark.parametrize(("name", "typed", "wire"), LISTS, ids=[row[0] for row in LISTS])
def test_typed_filters_of_every_top_module(
    name: str, typed: dict[str, Any], wire: dict[str, str]
) -> None:
    path = TOP[name]
    fake = FakeZoho()
    fake.on("GET", path, empty_list(path.strip("/")))
    with make_client(fake) as client:
        assert list(getattr(client, name).list(**typed)) == []
    sent = params_of(fake)
    assert {key: sent.get(key) for key in wire} == wire


def test_naive_modified_since_is_local_time_with_an_offset() -> None:
    fake = FakeZoho()
    fake.on("GET", "/items", empty_list("items"))
    naive = datetime(2026, 6, 1, 12, 0, 0)
    with make_client(fake) as client:
        list(client.items.list(modified_since=naive))
    expected = naive.astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")
    assert params_of(fake)["last_modified_time"] == expected


def test_documented_filters_still_pass_and_typos_fail_loudly() -> None:
    fake = FakeZoho()
    fake.on("GET", "/contacts", empty_list("contacts"))
    with make_client(fake) as client:
        list(client.contacts.list(contact_name="Acme", modified_since="2026-01-01T00:00:00+0000"))
        with pytest.raises(TypeError):
            client.contacts.list(contact_nmae="Acme")
    sent = params_of(fake)
    assert sent["contact_name"] == "Acme"
    assert sent["last_modified_time"] == "2026-01-01T00:00:00+0000"
    assert "filter_by" not in sent  # unset typed filters send nothing


@pytest.mark.parametrize("name", sorted(TOP))
def test_modified_since_sorts_oldest_change_first(name: str) -> None:
    path = TOP[name]
    fake = FakeZoho()
    fake.on("GET", path, empty_list(path.strip("/")))
    with make_client(fake) as client:
        list(getattr(client, name).modified_since(datetime(2026, 7, 1, tzinfo=UTC)))
    sent = params_of(fake)
    assert sent["last_modified_time"] == "2026-07-01T00:00:00+0000"
    assert (sent["sort_column"], sent["sort_order"]) == ("last_modified_time", "A")


# --- own numbers ------------------------------------------------------------------------------


NUMBERED = [
    ("invoices", "/invoices", "invoice", "invoice_number"),
    ("estimates", "/estimates", "estimate", "estimate_number"),
    ("credit_notes", "/creditnotes", "creditnote", "creditnote_number"),
]


@pytest.mark.parametrize(("name", "path", "key", "number"), NUMBERED)
def test_own_numbers_turn_auto_numbering_off_on_create_and_update(
    name: str, path: str, key: str, number: str
) -> None:
    fake = FakeZoho()
    fake.on("POST", path, envelope(201, **{key: {f"{key}_id": "1"}}))
    fake.on("PUT", f"{path}/1", envelope(**{key: {f"{key}_id": "1"}}))
    with make_client(fake) as client:
        resource = getattr(client, name)
        resource.create(body={"customer_id": "4", number: "OWN-1"})
        resource.create(body={"customer_id": "4"})
        resource.create(body={number: "OWN-2"}, ignore_auto_number_generation=False)
        resource.update("1", body={number: "OWN-3"})
        resource.update("1", body={"reference_number": "R"})
    flags = [r.url.params.get("ignore_auto_number_generation") for r in fake.requests]
    assert flags == ["true", None, "false", "true", None]


def test_contact_number_sets_the_body_flag() -> None:
    fake = FakeZoho()
    fake.on("POST", "/contacts", envelope(201, contact={"contact_id": "1"}))
    with make_client(fake) as client:
        client.contacts.create(body={"contact_name": "Acme", "contact_number": "CUS-9"})
        client.contacts.create(body={"contact_name": "Beta"})
        client.contacts.create(
            body={
                "contact_name": "Gamma",
                "contact_number": "C",
                "ignore_auto_number_generation": False,
            }
        )
    sent = [body(r) for r in fake.requests]
    assert sent[0]["ignore_auto_number_generation"] is True
    assert "ignore_auto_number_generation" not in sent[1]
    assert sent[2]["ignore_auto_number_generation"] is False


# --- estimates.convert_to_invoice ---------------------------------------------------------------


def test_convert_to_invoice_returns_the_invoice_in_the_answer() -> None:
    fake = FakeZoho()
    fake.on(
        "POST",
        "/invoices/fromestimates",
        envelope(
            message="The invoices have been created.",
            invoice={"invoice_id": "90", "total": 12.1, "date": "2026-03-01"},
        ),
    )
    with make_client(fake) as client:
        invoice = client.estimates.convert_to_invoice("5")
    assert isinstance(invoice, Invoice)
    assert (invoice.invoice_id, invoice.total, invoice.date) == (
        "90",
        Decimal("12.1"),
        date(2026, 3, 1),
    )
    assert params_of(fake)["estimate_ids"] == "5"
    assert len(fake.requests) == 1


def test_convert_to_invoice_reads_the_estimate_when_zoho_answers_a_message_only() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices/fromestimates", envelope(message="The invoices have been created."))
    fake.on(
        "GET", "/estimates/5", envelope(estimate={"estimate_id": "5", "invoice_ids": ["8", "9"]})
    )
    fake.on("GET", "/invoices/9", envelope(invoice={"invoice_id": "9", "status": "draft"}))
    with make_client(fake) as client:
        invoice = client.estimates.convert_to_invoice("5")
    assert (invoice.invoice_id, invoice.status) == ("9", "draft")


def test_convert_to_invoice_without_any_invoice_named_raises() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices/fromestimates", envelope(message="The invoices have been created."))
    fake.on("GET", "/estimates/5", envelope(estimate={"estimate_id": "5"}))
    with make_client(fake) as client, pytest.raises(UnexpectedResponseError) as info:
        client.estimates.convert_to_invoice("5")
    assert info.value.hint and "invoices" in info.value.hint


# --- payments and credits ---------------------------------------------------------------------


def test_bill_record_payment_applies_the_amount_to_the_bill() -> None:
    fake = FakeZoho()
    fake.on("GET", "/bills/3", envelope(bill={"bill_id": "3", "vendor_id": "60"}))
    fake.on(
        "POST",
        "/vendorpayments",
        envelope(201, vendorpayment={"payment_id": "v1", "amount": 99.9, "vendor_id": "60"}),
    )
    with make_client(fake) as client:
        payment = client.bills.record_payment(
            "3",
            Decimal("99.90"),
            payment_mode="banktransfer",
            date=date(2026, 4, 2),
            paid_through_account_id="700",
        )
        client.bills.record_payment("3", 1, vendor_id="61", reference_number="CHK-1")
    assert isinstance(payment, VendorPayment)
    assert (payment.payment_id, payment.amount) == ("v1", Decimal("99.9"))
    assert len(fake.calls("GET", "/bills/3")) == 1  # the second call knew its vendor
    first, second = (body(r) for r in fake.calls("POST", "/vendorpayments"))
    assert first == {
        "vendor_id": "60",
        "payment_mode": "banktransfer",
        "amount": 99.9,
        "date": "2026-04-02",
        "bills": [{"bill_id": "3", "amount_applied": 99.9}],
        "paid_through_account_id": "700",
    }
    assert (second["vendor_id"], second["reference_number"], second["amount"]) == ("61", "CHK-1", 1)
    assert second["date"] == date.today().isoformat()


def test_credit_note_applies_amounts_per_invoice() -> None:
    fake = FakeZoho()
    fake.on("POST", "/creditnotes/7/invoices", envelope(message="Credits have been applied."))
    with make_client(fake) as client:
        answer = client.credit_notes.apply_to_invoices("7", {"11": Decimal("10.50"), "12": "2"})
    assert answer["code"] == 0
    assert body(fake.requests[0]) == {
        "invoices": [
            {"invoice_id": "11", "amount_applied": 10.5},
            {"invoice_id": "12", "amount_applied": 2},
        ]
    }


# --- async ---------------------------------------------------------------------------------------


async def test_async_helpers_send_what_the_sync_ones_send() -> None:
    fake = FakeZoho()
    routes = {
        ("GET", "/expenses"): empty_list("expenses"),
        ("POST", "/estimates"): envelope(201, estimate={"estimate_id": "1"}),
        ("POST", "/invoices/fromestimates"): envelope(invoice={"invoice_id": "2"}),
        ("GET", "/bills/3"): envelope(bill={"bill_id": "3", "vendor_id": "4"}),
        ("POST", "/vendorpayments"): envelope(201, vendorpayment={"payment_id": "5"}),
        ("POST", "/creditnotes/6/invoices"): envelope(),
        ("POST", "/contacts"): envelope(201, contact={"contact_id": "7"}),
        ("GET", "/contacts"): empty_list("contacts"),
    }
    for (method, path), response in routes.items():
        fake.on(method, path, response)
    client = make_async_client(fake)
    try:
        listed = [
            e async for e in client.expenses.list(status="billable", date_end=date(2026, 1, 31))
        ]
        await client.estimates.create(body={"estimate_number": "E-1"})
        invoice = await client.estimates.convert_to_invoice("1")
        payment = await client.bills.record_payment("3", "7.5", date=date(2026, 1, 2))
        await client.credit_notes.apply_to_invoices("6", {"2": 1})
        await client.contacts.create(body={"contact_name": "A", "contact_number": "C-1"})
        changed = [c async for c in client.contacts.modified_since("2026-01-01T00:00:00+0000")]
    finally:
        await client.aclose()
    assert listed == [] and changed == []
    assert invoice.invoice_id == "2" and payment.payment_id == "5"
    assert params_of(fake, 0)["date_end"] == "2026-01-31"
    assert fake.calls("POST", "/estimates")[0].url.params["ignore_auto_number_generation"] == "true"
    assert body(fake.calls("POST", "/vendorpayments")[0])["vendor_id"] == "4"
    assert (
        body(fake.calls("POST", "/creditnotes/6/invoices")[0])["invoices"][0]["invoice_id"] == "2"
    )
    assert body(fake.calls("POST", "/contacts")[0])["ignore_auto_number_generation"] is True
    assert fake.calls("GET", "/contacts")[0].url.params["sort_column"] == "last_modified_time"


async def test_async_convert_falls_back_to_the_estimate() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices/fromestimates", envelope(message="done"))
    fake.on("GET", "/estimates/5", envelope(estimate={"estimate_id": "5", "invoice_id": "9"}))
    fake.on("GET", "/invoices/9", envelope(invoice={"invoice_id": "9"}))
    client = make_async_client(fake)
    try:
        invoice = await client.estimates.convert_to_invoice("5")
    finally:
        await client.aclose()
    assert invoice.invoice_id == "9"
