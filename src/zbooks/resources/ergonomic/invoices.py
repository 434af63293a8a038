"""Invoices, with helpers on top of the generated methods.

- ``create``: a body that carries its own ``invoice_number`` turns on
  ``ignore_auto_number_generation`` (otherwise Zoho rejects the number while
  auto-numbering is on, api-facts §2.2).
- ``record_payment``: pay an invoice in one call; the customer comes from the invoice
  when not given.
- ``modified_since``: the incremental-sync listing (``last_modified_time`` filter, oldest
  change first; Zoho's filter is inclusive, so expect the boundary record again).
- ``pdf`` (generated): the invoice as PDF bytes; ``bulk_pdf`` for up to 25 invoices.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zbooks.models import customer_payments as payments_models
from zbooks.models import invoices as m
from zbooks.resources import invoices as generated
from zbooks.resources.base import AsyncPaginator, Paginator, plain


def _numbering(
    body: m.CreateInvoiceRequest | Mapping[str, Any] | None, explicit: bool | None
) -> bool | None:
    if explicit is not None or body is None:
        return explicit
    fields = plain(body)
    return True if fields.get("invoice_number") else None


def _payment_body(
    invoice_id: str,
    amount: Decimal | float | str,
    customer_id: str,
    *,
    payment_mode: str,
    date: _dt.date | None,
    reference_number: str | None,
    account_id: str | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    body: dict[str, Any] = {
        **dict(extra or {}),
        "customer_id": customer_id,
        "payment_mode": payment_mode,
        "amount": value,
        "date": date or _dt.date.today(),
        "invoices": [{"invoice_id": invoice_id, "amount_applied": value}],
    }
    if reference_number is not None:
        body["reference_number"] = reference_number
    if account_id is not None:
        body["account_id"] = account_id
    return body


def _since_query(since: _dt.datetime | str) -> dict[str, Any]:
    return {"sort_column": "last_modified_time", "sort_order": "A", "last_modified_time": since}


class Invoices(generated.Invoices):
    """Zoho Books invoices (``client.invoices``), with helpers."""

    def create(
        self,
        *,
        batch_payments: bool | None = None,
        ignore_auto_number_generation: bool | None = None,
        is_quick_create: bool | None = None,
        send: bool | None = None,
        body: m.CreateInvoiceRequest | Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Invoice:
        """Create an invoice; a body with ``invoice_number`` keeps that number."""
        return super().create(
            batch_payments=batch_payments,
            ignore_auto_number_generation=_numbering(body, ignore_auto_number_generation),
            is_quick_create=is_quick_create,
            send=send,
            body=body,
            params=params,
            organization_id=organization_id,
        )

    def record_payment(
        self,
        invoice_id: str,
        amount: Decimal | float | str,
        *,
        payment_mode: str = "cash",
        date: _dt.date | None = None,
        customer_id: str | None = None,
        reference_number: str | None = None,
        account_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> payments_models.CustomerPayment:
        """Record a customer payment applied in full to this invoice (``POST
        /customerpayments``); ``date`` defaults to today, ``extra`` adds other fields."""
        if customer_id is None:
            invoice = self.get(invoice_id, organization_id=organization_id)
            customer_id = invoice.customer_id or ""
        body = _payment_body(
            invoice_id,
            amount,
            customer_id,
            payment_mode=payment_mode,
            date=date,
            reference_number=reference_number,
            account_id=account_id,
            extra=extra,
        )
        return self._model(
            "POST",
            "/customerpayments",
            ("payment",),
            payments_models.CustomerPayment,
            query={},
            body=body,
            params=None,
            organization_id=organization_id,
        )

    def modified_since(
        self,
        since: _dt.datetime | str,
        *,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> Paginator[m.Invoice]:
        """Invoices changed at or after ``since``, oldest change first."""
        return self._paginate(
            "/invoices",
            ("invoices",),
            m.Invoice,
            _since_query(since),
            params=params,
            organization_id=organization_id,
        )


class AsyncInvoices(generated.AsyncInvoices):
    """Async Zoho Books invoices (``client.invoices``), with helpers."""

    async def create(
        self,
        *,
        batch_payments: bool | None = None,
        ignore_auto_number_generation: bool | None = None,
        is_quick_create: bool | None = None,
        send: bool | None = None,
        body: m.CreateInvoiceRequest | Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Invoice:
        """Create an invoice; a body with ``invoice_number`` keeps that number."""
        return await super().create(
            batch_payments=batch_payments,
            ignore_auto_number_generation=_numbering(body, ignore_auto_number_generation),
            is_quick_create=is_quick_create,
            send=send,
            body=body,
            params=params,
            organization_id=organization_id,
        )

    async def record_payment(
        self,
        invoice_id: str,
        amount: Decimal | float | str,
        *,
        payment_mode: str = "cash",
        date: _dt.date | None = None,
        customer_id: str | None = None,
        reference_number: str | None = None,
        account_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> payments_models.CustomerPayment:
        """Record a customer payment applied in full to this invoice."""
        if customer_id is None:
            invoice = await self.get(invoice_id, organization_id=organization_id)
            customer_id = invoice.customer_id or ""
        body = _payment_body(
            invoice_id,
            amount,
            customer_id,
            payment_mode=payment_mode,
            date=date,
            reference_number=reference_number,
            account_id=account_id,
            extra=extra,
        )
        return await self._model(
            "POST",
            "/customerpayments",
            ("payment",),
            payments_models.CustomerPayment,
            query={},
            body=body,
            params=None,
            organization_id=organization_id,
        )

    def modified_since(
        self,
        since: _dt.datetime | str,
        *,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> AsyncPaginator[m.Invoice]:
        """Invoices changed at or after ``since``, oldest change first."""
        return self._paginate(
            "/invoices",
            ("invoices",),
            m.Invoice,
            _since_query(since),
            params=params,
            organization_id=organization_id,
        )


__all__ = ["AsyncInvoices", "Invoices"]
