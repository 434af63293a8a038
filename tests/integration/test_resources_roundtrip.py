"""Every stateful module through ``client.<module>.<method>`` against the sandbox over
loopback: create, get, list (finds it), update, delete; with ``Client`` and
``AsyncClient`` alike.

One table row per module says what to send and what must come back; one scenario runs
every row twice. With the sync client each call returns its value, with the async
client an awaitable (``settle`` unifies the two), so a difference between the generated
sync and async classes shows up as one failing parameter.

Records a module's rules would pin (a customer with a payment, an account with a
transaction) are made fresh for every run by ``World``, through a separate sync client.
The hand-made helpers (typed filters, own numbers, conversions, payments, files beside
a body) are checked against the same sandbox at the end.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from zbooks import AsyncClient, Client
from zbooks.auth.login import code_login
from zbooks.auth.tokens import MemoryStore, Token
from zbooks.errors import NotFoundError
from zbooks.models.base import ZohoModel
from zbooks.models.customer_payments import CustomerPayment
from zbooks.models.invoices import Invoice, InvoiceStatus
from zbooks.models.vendor_payments import VendorPayment
from zbooks.resources.ergonomic.filters import ContactFilter, ContactType, InvoiceFilter, ItemFilter
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.server import SandboxServer

from .conftest import Sandbox
from .docblocks import doc_blocks, point_environment_at, run_blocks

# The sandbox's date (its clock has no offset here): due dates are relative to it.
SANDBOX_TODAY = Clock().today()

Body = dict[str, Any]
_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix} {next(_serial):04d}"


# --- clients ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    client_id: str
    client_secret: str
    token: Token

    def options(self, sandbox: Sandbox) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "token_store": MemoryStore(self.token),
            "accounts_url": sandbox.base_url,
            "api_url": sandbox.api_url,
            "env": {},
            # Two hundred calls in a minute: the SDK's limiter would wait for the window.
            "rate_limiter": False,
        }


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """This module's own sandbox: Zoho's 100 calls a minute would stall the loop."""
    config = SandboxConfig(port=0, auto_approve=True, seed="demo", rate_limit=100_000)
    with SandboxServer(config) as server:
        yield Sandbox(server, config)


@pytest.fixture(scope="module")
def login(sandbox: Sandbox) -> Login:
    client_id, secret, code = sandbox.self_client()
    token = code_login(
        code, accounts_url=sandbox.base_url, client_id=client_id, client_secret=secret
    ).token
    return Login(client_id, secret, token)


@pytest.fixture(scope="module")
def admin(sandbox: Sandbox, login: Login) -> Iterator[Client]:
    """A sync client that makes the records a scenario needs around it."""
    with Client(**login.options(sandbox)) as client:
        yield client


@pytest.fixture(params=["sync", "async"])
async def client(
    request: pytest.FixtureRequest, sandbox: Sandbox, login: Login
) -> AsyncIterator[Client | AsyncClient]:
    if request.param == "sync":
        with Client(**login.options(sandbox)) as sync_client:
            yield sync_client
    else:
        async_client = AsyncClient(**login.options(sandbox))
        try:
            yield async_client
        finally:
            await async_client.aclose()


async def settle(value: Any) -> Any:
    """A sync call's result as is; an async call's result awaited."""
    return await value if inspect.isawaitable(value) else value


async def collect(listing: Any) -> list[Any]:
    """Every record of a ``Paginator`` or an ``AsyncPaginator``."""
    if hasattr(listing, "__aiter__"):
        return [record async for record in listing]
    return list(listing)


# --- the records around a scenario -----------------------------------------------------------


@dataclass
class World:
    """Supporting records, made or looked up through the admin client."""

    api: Client
    cache: dict[str, str] = field(default_factory=dict)

    def customer(self) -> str:
        contact = self.api.contacts.create(
            body={"contact_name": unique("Roundtrip Customer"), "contact_type": "customer"}
        )
        assert contact.contact_id
        return contact.contact_id

    def vendor(self) -> str:
        contact = self.api.contacts.create(
            body={"contact_name": unique("Roundtrip Vendor"), "contact_type": "vendor"}
        )
        assert contact.contact_id
        return contact.contact_id

    def item(self) -> str:
        if "item" not in self.cache:
            first = self.api.items.list(filter_by="Status.Active").first()
            assert first is not None and first.item_id
            self.cache["item"] = first.item_id
        return self.cache["item"]

    def bank_account(self) -> str:
        if "bank" not in self.cache:
            first = self.api.bank_accounts.list().first()
            assert first is not None and first.account_id
            self.cache["bank"] = first.account_id
        return self.cache["bank"]

    def account(self, account_type: str) -> str:
        key = f"account:{account_type}"
        if key not in self.cache:
            self.cache[key] = next(
                str(a.account_id)
                for a in self.api.chart_of_accounts.list()
                if a.account_type == account_type and a.account_id
            )
        return self.cache[key]

    def sent_invoice(self, customer_id: str, amount: str) -> str:
        invoice = self.api.invoices.create(
            body={
                "customer_id": customer_id,
                # Due in a month, whatever today is: a partial payment reads
                # partially_paid, not overdue.
                "date": (SANDBOX_TODAY - timedelta(days=30)).isoformat(),
                "due_date": (SANDBOX_TODAY + timedelta(days=30)).isoformat(),
                "line_items": [_line(amount)],
            }
        )
        assert invoice.invoice_id
        self.api.invoices.mark_sent(invoice.invoice_id)
        return invoice.invoice_id

    def open_bill(self, vendor_id: str, amount: str) -> str:
        bill = self.api.bills.create(
            body={
                "vendor_id": vendor_id,
                "bill_number": unique("VB"),
                "date": "2026-11-03",
                "line_items": [_line(amount, account_id=self.account("expense"))],
            }
        )
        assert bill.bill_id
        self.api.bills.mark_open(bill.bill_id)
        return bill.bill_id


@pytest.fixture
def world(admin: Client) -> World:
    return World(admin)


def _line(rate: str, quantity: int = 1, **extra: Any) -> Body:
    return {"name": "Widget", "rate": rate, "quantity": quantity, **extra}


# --- one row per module ---------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """How one module goes around the loop.

    ``create`` builds the body from the world; ``expect`` is what the created record
    (and its ``get``) must hold; ``update`` builds the change from the created record and
    ``expect_updated`` is what must hold afterwards. ``find`` gives list filters that
    must still return the record; ``scope`` gives leading path arguments some modules
    need beside the record id (a contact person's contact). ``locate`` names a body field
    when the API answers create/update with a message only (users): the record is then
    found by listing, and re-read after the update."""

    module: str
    id_field: str
    create: Callable[[World], Body]
    expect: dict[str, Any]
    update: Callable[[Any], Body]
    expect_updated: dict[str, Any]
    find: Callable[[Any], dict[str, Any]] = lambda record: {}
    scope: Callable[[Any], tuple[str, ...]] = lambda record: ()
    locate: str = ""

    def __str__(self) -> str:
        return self.module


def _payment(world: World) -> Body:
    customer = world.customer()
    return {
        "customer_id": customer,
        "payment_mode": "banktransfer",
        "amount": "40.10",
        "date": "2026-11-05",
        "invoices": [
            {"invoice_id": world.sent_invoice(customer, "100.00"), "amount_applied": "40.10"}
        ],
    }


def _vendor_payment(world: World) -> Body:
    vendor = world.vendor()
    return {
        "vendor_id": vendor,
        "payment_mode": "Check",
        "amount": "75.25",
        "date": "2026-11-06",
        "paid_through_account_id": world.bank_account(),
        "bills": [{"bill_id": world.open_bill(vendor, "200.00"), "amount_applied": "75.25"}],
    }


CASES: list[Case] = [
    Case(
        "contacts",
        "contact_id",
        create=lambda w: {
            "contact_name": unique("Acme Roundtrip"),
            "contact_type": "customer",
            "payment_terms": 15,
        },
        expect={"contact_type": "customer", "payment_terms": 15, "status": "active"},
        update=lambda r: {"contact_name": r.contact_name, "notes": "Prefers email"},
        expect_updated={"notes": "Prefers email"},
        find=lambda r: {"contact_name": r.contact_name},
    ),
    Case(
        "contact_persons",
        "contact_person_id",
        create=lambda w: {
            "contact_id": w.customer(),
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
        },
        expect={"first_name": "Ada", "email": "ada@example.com"},
        update=lambda r: {"contact_id": r.contact_id, "first_name": "Ada", "last_name": "King"},
        expect_updated={"last_name": "King"},
        scope=lambda r: (r.contact_id,),
    ),
    Case(
        "items",
        "item_id",
        create=lambda w: {"name": unique("Roundtrip Item"), "rate": "19.99", "unit": "pcs"},
        expect={"rate": Decimal("19.99"), "status": "active", "unit": "pcs"},
        update=lambda r: {"name": r.name, "rate": "24.50"},
        expect_updated={"rate": Decimal("24.5")},
        find=lambda r: {"name": r.name},
    ),
    Case(
        "taxes",
        "tax_id",
        create=lambda w: {"tax_name": unique("Roundtrip Tax"), "tax_percentage": "7.25"},
        expect={"tax_percentage": Decimal("7.25")},
        update=lambda r: {"tax_name": r.tax_name, "tax_percentage": "8.5"},
        expect_updated={"tax_percentage": Decimal("8.5")},
    ),
    Case(
        "currencies",
        "currency_id",
        create=lambda w: {"currency_code": "JPY", "currency_format": "1,234,567.89"},
        expect={"currency_code": "JPY", "is_base_currency": False},
        update=lambda r: {"currency_code": "JPY", "currency_format": "1.234.567,89"},
        expect_updated={"currency_format": "1.234.567,89"},
    ),
    Case(
        "invoices",
        "invoice_id",
        create=lambda w: {
            "customer_id": w.customer(),
            "invoice_number": unique("RT-INV"),  # own number: the helper sets the flag
            "date": "2026-11-10",
            "line_items": [_line("12.50", 3)],
        },
        expect={"status": "draft", "total": Decimal("37.5"), "date": date(2026, 11, 10)},
        update=lambda r: {
            "customer_id": r.customer_id,
            "line_items": [_line("12.50", 4)],
            "due_date": "2026-12-10",
        },
        expect_updated={"total": Decimal("50"), "due_date": date(2026, 12, 10)},
        find=lambda r: {"invoice_number": r.invoice_number, "date_start": date(2026, 11, 10)},
    ),
    Case(
        "estimates",
        "estimate_id",
        create=lambda w: {
            "customer_id": w.customer(),
            "estimate_number": unique("RT-EST"),
            "date": "2026-11-11",
            "line_items": [_line("99.99", 2)],
        },
        expect={"status": "draft", "total": Decimal("199.98"), "date": date(2026, 11, 11)},
        update=lambda r: {"customer_id": r.customer_id, "expiry_date": "2026-12-31"},
        expect_updated={"expiry_date": date(2026, 12, 31), "total": Decimal("199.98")},
        find=lambda r: {"estimate_number": r.estimate_number},
    ),
    Case(
        "sales_orders",
        "salesorder_id",
        create=lambda w: {
            "customer_id": w.customer(),
            "date": "2026-11-12",
            "line_items": [_line("0.10", 3)],
        },
        expect={"status": "draft", "total": Decimal("0.3"), "date": date(2026, 11, 12)},
        update=lambda r: {"customer_id": r.customer_id, "reference_number": "PO-77"},
        expect_updated={"reference_number": "PO-77", "total": Decimal("0.3")},
        find=lambda r: {"salesorder_number": r.salesorder_number},
    ),
    Case(
        "customer_payments",
        "payment_id",
        create=_payment,
        expect={"amount": Decimal("40.1"), "date": date(2026, 11, 5)},
        update=lambda r: {
            "customer_id": r.customer_id,
            "payment_mode": "banktransfer",
            "amount": "40.10",
            "date": "2026-11-07",
            "reference_number": "WIRE-1",
            "invoices": [{"invoice_id": r.invoices[0].invoice_id, "amount_applied": "40.10"}],
        },
        expect_updated={"date": date(2026, 11, 7), "reference_number": "WIRE-1"},
        find=lambda r: {"customer_id": r.customer_id},
    ),
    Case(
        "credit_notes",
        "creditnote_id",
        create=lambda w: {
            "customer_id": w.customer(),
            "creditnote_number": unique("RT-CN"),
            "date": "2026-11-13",
            "line_items": [_line("15.55", 2)],
        },
        expect={"total": Decimal("31.1"), "date": date(2026, 11, 13)},
        update=lambda r: {"customer_id": r.customer_id, "reference_number": "RMA-9"},
        expect_updated={"reference_number": "RMA-9"},
        find=lambda r: {"creditnote_number": r.creditnote_number},
    ),
    Case(
        "bills",
        "bill_id",
        create=lambda w: {
            "vendor_id": w.vendor(),
            "bill_number": unique("RT-BILL"),
            "date": "2026-11-14",
            "line_items": [_line("250.00", 1, account_id=w.account("expense"))],
        },
        expect={"total": Decimal("250"), "date": date(2026, 11, 14)},
        update=lambda r: {
            "vendor_id": r.vendor_id,
            "bill_number": r.bill_number,
            "due_date": "2026-12-14",
        },
        expect_updated={"due_date": date(2026, 12, 14)},
        find=lambda r: {"bill_number": r.bill_number},
    ),
    Case(
        "vendor_payments",
        "payment_id",
        create=_vendor_payment,
        expect={"amount": Decimal("75.25"), "date": date(2026, 11, 6)},
        update=lambda r: {
            "vendor_id": r.vendor_id,
            "amount": "75.25",
            "reference_number": "CHK-12",
        },
        expect_updated={"reference_number": "CHK-12", "amount": Decimal("75.25")},
        find=lambda r: {"vendor_id": r.vendor_id},
    ),
    Case(
        "purchase_orders",
        "purchaseorder_id",
        create=lambda w: {
            "vendor_id": w.vendor(),
            "date": "2026-11-15",
            "line_items": [_line("8.75", 4, account_id=w.account("expense"))],
        },
        expect={"total": Decimal("35"), "date": date(2026, 11, 15), "status": "draft"},
        update=lambda r: {"vendor_id": r.vendor_id, "reference_number": "REQ-5"},
        expect_updated={"reference_number": "REQ-5"},
        find=lambda r: {"purchaseorder_number": r.purchaseorder_number},
    ),
    Case(
        "expenses",
        "expense_id",
        create=lambda w: {
            "account_id": w.account("expense"),
            "paid_through_account_id": w.bank_account(),
            "amount": "42.42",
            "date": "2026-11-16",
            "description": "Taxi",
        },
        expect={"amount": Decimal("42.42"), "date": date(2026, 11, 16)},
        update=lambda r: {
            "account_id": r.account_id,
            "paid_through_account_id": r.paid_through_account_id,
            "amount": "43.00",
            "date": "2026-11-16",
        },
        expect_updated={"amount": Decimal("43")},
        find=lambda r: {"date": r.date},
    ),
    Case(
        "journals",
        "journal_id",
        create=lambda w: {
            "journal_date": "2026-11-17",
            "notes": "Accrual",
            "line_items": [
                {
                    "account_id": w.account("expense"),
                    "debit_or_credit": "debit",
                    "amount": "120.30",
                },
                {
                    "account_id": w.account("other_current_liability"),
                    "debit_or_credit": "credit",
                    "amount": "120.30",
                },
            ],
        },
        expect={"total": Decimal("120.3"), "journal_date": date(2026, 11, 17)},
        update=lambda r: {"journal_date": "2026-11-18", "notes": "Accrual, corrected"},
        expect_updated={"journal_date": date(2026, 11, 18), "notes": "Accrual, corrected"},
    ),
    Case(
        "chart_of_accounts",
        "account_id",
        create=lambda w: {"account_name": unique("Roundtrip Account"), "account_type": "expense"},
        expect={"account_type": "expense", "is_active": True},
        update=lambda r: {"account_name": r.account_name, "description": "Team lunches"},
        expect_updated={"description": "Team lunches"},
        find=lambda r: {"account_name": r.account_name},
    ),
    Case(
        "bank_accounts",
        "account_id",
        create=lambda w: {"account_name": unique("Roundtrip Bank"), "account_type": "bank"},
        expect={"account_type": "bank", "balance": Decimal("0")},
        update=lambda r: {"account_name": r.account_name, "description": "Payroll"},
        expect_updated={"description": "Payroll"},
    ),
    Case(
        "bank_transactions",
        "transaction_id",
        create=lambda w: {
            "transaction_type": "deposit",
            "to_account_id": w.bank_account(),
            "amount": "310.05",
            "date": "2026-11-19",
            "reference_number": unique("DEP"),
        },
        expect={"amount": Decimal("310.05"), "date": date(2026, 11, 19)},
        update=lambda r: {"amount": "311.00", "description": "Cash deposit"},
        expect_updated={"amount": Decimal("311"), "description": "Cash deposit"},
        find=lambda r: {"account_id": r.account_id, "date": r.date},
    ),
    Case(
        "users",
        "user_id",
        create=lambda w: {
            "name": "Grace Hopper",
            "email": f"grace{next(_serial)}@example.com",
            "user_role": "staff",
        },
        expect={"name": "Grace Hopper", "user_role": "staff"},
        update=lambda r: {"name": "Grace B. Hopper", "email": r.email},
        expect_updated={"name": "Grace B. Hopper"},
        locate="email",
    ),
]


def check(record: Any, expected: dict[str, Any], case: Case) -> None:
    assert isinstance(record, ZohoModel)
    actual = {name: getattr(record, name, None) for name in expected}
    assert actual == expected, f"{case.module}: {actual} != {expected}"


async def located(resource: Any, case: Case, value: Any) -> Any:
    matches = [r for r in await collect(resource.list()) if getattr(r, case.locate) == value]
    assert len(matches) == 1, f"{case.module}: {case.locate}={value!r} listed {len(matches)}x"
    return matches[0]


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_roundtrip(case: Case, client: Client | AsyncClient, world: World) -> None:
    resource = getattr(client, case.module)
    body = case.create(world)

    created = await settle(resource.create(body=body))
    if case.locate:  # the API answers with a message only
        assert isinstance(created, dict) and created["code"] == 0
        created = await located(resource, case, body[case.locate])
    record_id = getattr(created, case.id_field)
    assert isinstance(record_id, str) and record_id.isdigit()
    check(created, case.expect, case)
    scope = case.scope(created)

    fetched = await settle(resource.get(*scope, record_id))
    assert type(fetched) is type(created)
    assert getattr(fetched, case.id_field) == record_id
    check(fetched, case.expect, case)

    listed = await collect(resource.list(*scope, **case.find(created)))
    assert record_id in [getattr(r, case.id_field) for r in listed]

    updated = await settle(resource.update(record_id, body=case.update(created)))
    if case.locate:
        assert isinstance(updated, dict) and updated["code"] == 0
        updated = await settle(resource.get(*scope, record_id))
    assert getattr(updated, case.id_field) == record_id
    check(updated, case.expect_updated, case)
    check(await settle(resource.get(*scope, record_id)), case.expect_updated, case)

    deleted = await settle(resource.delete(record_id))
    assert deleted["code"] == 0
    with pytest.raises(NotFoundError):
        await settle(resource.get(*scope, record_id))


# --- the hand-made helpers, against the sandbox ----------------------------------------------

CASE = {case.module: case for case in CASES}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def test_estimate_converts_to_an_invoice(client: Client | AsyncClient, world: World) -> None:
    customer = world.customer()
    estimate = await settle(
        client.estimates.create(
            body={"customer_id": customer, "date": "2026-11-20", "line_items": [_line("45.50", 2)]}
        )
    )
    invoice = await settle(client.estimates.convert_to_invoice(estimate.estimate_id))
    assert isinstance(invoice, Invoice)
    assert (invoice.customer_id, invoice.total, invoice.status) == (
        customer,
        Decimal("91"),
        "draft",
    )
    assert (await settle(client.invoices.get(invoice.invoice_id))).total == Decimal("91")
    assert (await settle(client.estimates.get(estimate.estimate_id))).status == "invoiced"


async def test_paying_an_invoice_and_a_bill(client: Client | AsyncClient, world: World) -> None:
    customer = world.customer()
    invoice_id = world.sent_invoice(customer, "100.00")
    payment = await settle(
        client.invoices.record_payment(
            invoice_id, Decimal("40.25"), date=date(2026, 11, 21), reference_number="R-1"
        )
    )
    assert isinstance(payment, CustomerPayment)
    assert (payment.customer_id, payment.amount, payment.date) == (
        customer,
        Decimal("40.25"),
        date(2026, 11, 21),
    )
    invoice = await settle(client.invoices.get(invoice_id))
    assert (invoice.balance, invoice.status) == (Decimal("59.75"), "partially_paid")

    vendor = world.vendor()
    bill_id = world.open_bill(vendor, "80.00")
    paid = await settle(
        client.bills.record_payment(
            bill_id, "80", paid_through_account_id=world.bank_account(), date=date(2026, 11, 22)
        )
    )
    assert isinstance(paid, VendorPayment)
    assert (paid.vendor_id, paid.amount) == (vendor, Decimal("80"))
    bill = await settle(client.bills.get(bill_id))
    assert (bill.balance, bill.status) == (Decimal("0"), "paid")


async def test_credit_note_applies_to_invoices(client: Client | AsyncClient, world: World) -> None:
    customer = world.customer()
    invoice_id = world.sent_invoice(customer, "100.00")
    note = await settle(
        client.credit_notes.create(
            body={"customer_id": customer, "date": "2026-11-23", "line_items": [_line("30.00")]}
        )
    )
    await settle(client.credit_notes.mark_open(note.creditnote_id))
    answer = await settle(
        client.credit_notes.apply_to_invoices(note.creditnote_id, {invoice_id: 30})
    )
    assert answer["code"] == 0
    invoice = await settle(client.invoices.get(invoice_id))
    assert (invoice.balance, invoice.credits_applied) == (Decimal("70"), Decimal("30"))
    note = await settle(client.credit_notes.get(note.creditnote_id))
    assert (note.balance, note.status) == (Decimal("0"), "closed")


DATED = [
    "invoices",
    "estimates",
    "credit_notes",
    "bills",
    "expenses",
    "customer_payments",
    "vendor_payments",
]


@pytest.mark.parametrize("module", DATED)
async def test_date_range_filters(module: str, client: Client | AsyncClient, world: World) -> None:
    """``date_start``/``date_end`` as dates, also where the OAS lists only ``date``."""
    case = CASE[module]
    made = getattr(world.api, module)
    inside, outside = (
        getattr(made.create(body={**case.create(world), "date": day}), case.id_field)
        for day in ("2026-12-05", "2026-11-20")
    )
    listing = getattr(client, module).list(
        date_start=date(2026, 12, 1), date_end=date(2026, 12, 31)
    )
    found = {getattr(record, case.id_field) for record in await collect(listing)}
    assert inside in found and outside not in found


async def test_modified_since_lists_later_changes_oldest_first(
    client: Client | AsyncClient, world: World, sandbox: Sandbox
) -> None:
    def contact(prefix: str) -> Any:
        return world.api.contacts.create(body={"contact_name": unique(prefix)})

    old = contact("Unchanged")
    sandbox.control("POST", "/clock/advance", seconds=120)
    first = contact("First")
    sandbox.control("POST", "/clock/advance", seconds=60)
    second = contact("Second")
    sandbox.control("POST", "/clock/advance", seconds=60)
    world.api.contacts.update(old.contact_id, body={"contact_name": old.contact_name, "notes": "x"})

    since = old.last_modified_time + timedelta(seconds=60)  # an aware datetime from the model
    mine = {old.contact_id, first.contact_id, second.contact_id}
    changed = await collect(client.contacts.modified_since(since))
    order = [c.contact_id for c in changed if c.contact_id in mine]
    assert order == [first.contact_id, second.contact_id, old.contact_id]


async def test_typed_status_filters(client: Client | AsyncClient, world: World) -> None:
    contact_id = world.customer()
    world.api.contacts.mark_inactive(contact_id)
    inactive = client.contacts.list(
        filter_by=ContactFilter.INACTIVE, contact_type=ContactType.CUSTOMER
    )
    active = client.contacts.list(filter_by=ContactFilter.ACTIVE)
    assert contact_id in {c.contact_id for c in await collect(inactive)}
    assert contact_id not in {c.contact_id for c in await collect(active)}

    item = world.api.items.create(body={"name": unique("Retired Item"), "rate": 5})
    assert item.item_id
    world.api.items.mark_inactive(item.item_id)
    retired = await collect(client.items.list(filter_by=ItemFilter.INACTIVE))
    assert item.item_id in {i.item_id for i in retired}

    customer = world.customer()
    sent = world.sent_invoice(customer, "10.00")
    drafts = client.invoices.list(status=InvoiceStatus.DRAFT, customer_id=customer)
    unpaid = client.invoices.list(filter_by=InvoiceFilter.UNPAID, customer_id=customer)
    assert [i.invoice_id for i in await collect(drafts)] == []
    assert [i.invoice_id for i in await collect(unpaid)] == [sent]


async def test_files_travel_beside_the_body(client: Client | AsyncClient, world: World) -> None:
    """No ``JSONString`` by hand: with a file the body goes as that form field."""
    expense = await settle(
        client.expenses.create(
            body={
                "account_id": world.account("expense"),
                "paid_through_account_id": world.bank_account(),
                "amount": "18.40",
                "date": "2026-11-24",
            },
            receipt=("taxi.png", PNG, "image/png"),
        )
    )
    assert (expense.amount, expense.date) == (Decimal("18.4"), date(2026, 11, 24))
    bill = await settle(
        client.bills.create(
            body={
                "vendor_id": world.vendor(),
                "bill_number": unique("SCAN"),
                "date": "2026-11-24",
                "line_items": [_line("9.99", account_id=world.account("expense"))],
            },
            attachment=("bill.pdf", b"%PDF-1.4 scan", "application/pdf"),
        )
    )
    assert bill.total == Decimal("9.99")


# --- docs/sdk.md ------------------------------------------------------------------------------


def test_docs_sdk_examples_run(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every runnable block of docs/sdk.md, in one namespace, against the sandbox; the
    doc's ``zbooks.Client()`` finds its settings in the environment, as it says."""
    point_environment_at(sandbox, monkeypatch, tmp_path)
    blocks = doc_blocks("sdk.md")
    assert len(blocks) >= 15  # the parser still finds the examples
    run_blocks("sdk.md", blocks)
