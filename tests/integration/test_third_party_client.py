"""A new user's check: an existing third-party Zoho Books client (the `zohobooks-api`
package from PyPI, which speaks the legacy JSONString form interface and parses
responses field by field) works against the sandbox unchanged, only pointed at its URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import books.api.ContactsApi as contacts_module
import books.api.CustomerPaymentsApi as payments_module
import books.api.InvoicesApi as invoices_module
import pytest
from books.model.CustomerPayment import CustomerPayment
from books.model.Invoice import Invoice
from books.model.LineItem import LineItem
from books.service.ZohoBooks import ZohoBooks

from zbooks.auth.login import code_login

from .conftest import Sandbox


@pytest.fixture
def books_service(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[ZohoBooks]:
    client_id, secret, code = sandbox.self_client()
    token = code_login(
        code, accounts_url=sandbox.base_url, client_id=client_id, client_secret=secret
    ).token
    # The package hard-codes its base URL per module; pointing it at the sandbox is the
    # only change a user makes.
    for module, collection in (
        (invoices_module, "invoices"),
        (contacts_module, "contacts"),
        (payments_module, "customerpayments"),
    ):
        monkeypatch.setattr(module, "base_url", f"{sandbox.api_url}/{collection}/")
    monkeypatch.setattr("builtins.print", lambda *a, **k: None)  # the package prints URLs
    yield ZohoBooks(token.access_token, sandbox.server.app.demo.org_id)


def _first_customer(service: ZohoBooks) -> Any:
    contacts = service.get_contacts_api().get_contacts({"contact_type": "customer"})
    return contacts.get_contacts()[0]


def test_lists_creates_and_pays_invoices(books_service: ZohoBooks) -> None:
    invoices_api = books_service.get_invoices_api()
    before = invoices_api.get_invoices().get_invoices()
    assert before, "the demo organization has invoices"

    customer = _first_customer(books_service)
    line = LineItem()
    line.set_name("Consulting")
    line.set_rate(150.0)
    line.set_quantity(2)
    invoice = Invoice()
    invoice.set_customer_id(customer.get_contact_id())
    invoice.set_line_items(line)
    created = invoices_api.create(invoice)
    assert created.get_total() == 300.0 and created.get_status() == "draft"
    invoice_id = created.get_invoice_id()

    invoices_api.mark_an_invoice_as_sent(invoice_id)
    payment = CustomerPayment()
    payment.set_customer_id(customer.get_contact_id())
    payment.set_payment_mode("cash")
    payment.set_amount(300.0)
    payment.set_date(created.get_date())
    applied = Invoice()  # the package models an applied invoice as an Invoice
    applied.set_invoice_id(invoice_id)
    applied.set_amount_applied(300.0)
    payment.set_invoices([applied])
    books_service.get_customer_payments_api().create(payment)

    paid = invoices_api.get(invoice_id)
    assert paid.get_status() == "paid" and paid.get_balance() == 0
    listed = {i.get_invoice_id() for i in invoices_api.get_invoices().get_invoices()}
    assert invoice_id in listed
