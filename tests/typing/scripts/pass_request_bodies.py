"""What a user writes: request bodies as models and as dicts (must pass mypy --strict)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import zbooks
from zbooks.models import invoices as m
from zbooks.models.customer_payments import CreateCustomerPaymentRequestDict


def models(client: zbooks.Client, customer_id: str, item_id: str) -> Decimal | None:
    # Amounts, rates and quantities: int, float, str or Decimal; dates: date or str.
    line = m.CreateInvoiceRequestLineItem(item_id=item_id, quantity=2)
    priced = m.CreateInvoiceRequestLineItem(name="Setup", rate="80.00", quantity=1.5)
    exact = m.CreateInvoiceRequestLineItem(name="Fee", rate=Decimal("0.10"), discount="10%")
    request = m.CreateInvoiceRequest(
        customer_id=customer_id,
        line_items=[line, priced, exact],
        date="2026-01-31",
        due_date=date(2026, 2, 28),
        adjustment=-1,
    )
    invoice = client.invoices.create(body=request, send=False)
    return invoice.total


def dicts(client: zbooks.Client, customer_id: str, item_id: str) -> str:
    invoice = client.invoices.create(
        body={
            "customer_id": customer_id,
            "date": date.today() - timedelta(days=1),
            "line_items": [
                {"item_id": item_id, "quantity": 3},
                m.CreateInvoiceRequestLineItem(name="Travel", rate=45),
            ],
        },
        # Fields Zoho takes before its OpenAPI files list them: explicit, merged last.
        extra_body={"is_reverse_charge_applied": False},
    )
    # Updates are partial: no field is required.
    client.invoices.update(invoice.invoice_id, body={"reference_number": "PO-7"})
    body: CreateCustomerPaymentRequestDict = {
        "customer_id": customer_id,
        "payment_mode": "cash",
        "amount": "120.50",
        "date": "2026-01-31",
        "invoices": [{"invoice_id": invoice.invoice_id, "amount_applied": 120.5}],
    }
    payment = client.customer_payments.create(body=body)
    return payment.payment_id


def untyped_fields(client: zbooks.Client, customer_id: str, extra: dict[str, Any]) -> None:
    # A dict from elsewhere (JSON, a form) goes through extra_body, not body.
    client.contacts.update(customer_id, body={"notes": "VIP"}, extra_body=extra)


async def asynchronous(client: zbooks.AsyncClient, customer_id: str) -> str:
    estimate = await client.estimates.create(
        body={"customer_id": customer_id, "line_items": [{"name": "Audit", "rate": 900}]}
    )
    return estimate.estimate_id
