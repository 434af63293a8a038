"""Invoices, with helpers on top of the generated methods.

- ``list``: typed filters (``status``, ``filter_by``, ``date_start``/``date_end`` as
  dates, ``modified_since`` as a datetime, ``sort_order``); every other documented filter
  still works as a keyword.
- ``create``/``update``: a body that carries its own ``invoice_number`` turns on
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
from typing import TYPE_CHECKING, Any

from zbooks.models.lazy import models_module
from zbooks.resources import invoices as generated
from zbooks.resources.base import AsyncPaginator, Paginator
from zbooks.resources.ergonomic._support import SINCE_ORDER, list_options, own_number, payment_body
from zbooks.resources.ergonomic.filters import InvoiceFilter, SortOrder

if TYPE_CHECKING:
    from zbooks.models import invoices as m
else:
    m = models_module("invoices")  # loads with the first model

if TYPE_CHECKING:  # imported on the first payment, not with ``client.invoices``
    from zbooks.models import customer_payments as payments_models

NUMBER = "invoice_number"


def _payment(
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
    return payment_body(
        party=("customer_id", customer_id),
        applied_to=("invoices", "invoice_id", invoice_id),
        amount=amount,
        payment_mode=payment_mode,
        date=date,
        optional={"reference_number": reference_number, "account_id": account_id},
        extra=extra,
    )


class Invoices(generated.Invoices):
    """Zoho Books invoices (``client.invoices``), with helpers."""

    def list(
        self,
        *,
        status: m.InvoiceStatus | str | None = None,
        filter_by: InvoiceFilter | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> Paginator[m.Invoice]:
        """Invoices matching the filters (all of them without any), lazily paginated.
        Other documented filters (``customer_id``, ``due_date_before`` ...), ``page``,
        ``per_page``, ``params`` and ``organization_id`` pass through as keywords."""
        return super().list(
            **list_options(
                filters,
                status=status,
                filter_by=filter_by,
                date_start=date_start,
                date_end=date_end,
                modified_since=modified_since,
                sort_order=sort_order,
            )
        )

    def modified_since(self, since: _dt.datetime | str, **filters: Any) -> Paginator[m.Invoice]:
        """Invoices changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})

    def create(
        self,
        *,
        batch_payments: bool | None = None,
        ignore_auto_number_generation: bool | None = None,
        is_quick_create: bool | None = None,
        send: bool | None = None,
        body: m.CreateInvoiceRequest | m.CreateInvoiceRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Invoice:
        """Create an invoice; a body with ``invoice_number`` keeps that number."""
        return super().create(
            batch_payments=batch_payments,
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            is_quick_create=is_quick_create,
            send=send,
            body=body,
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    def update(
        self,
        invoice_id: str,
        /,
        *,
        ignore_auto_number_generation: bool | None = None,
        body: m.UpdateInvoiceRequest | m.UpdateInvoiceRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Invoice:
        """Update an invoice; a body with ``invoice_number`` sets that number."""
        return super().update(
            invoice_id,
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            body=body,
            extra_body=extra_body,
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
        from zbooks.models import customer_payments as payments_models

        if customer_id is None:
            invoice = self.get(invoice_id, organization_id=organization_id)
            customer_id = invoice.customer_id or ""
        body = _payment(
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


class AsyncInvoices(generated.AsyncInvoices):
    """Async Zoho Books invoices (``client.invoices``), with helpers."""

    def list(
        self,
        *,
        status: m.InvoiceStatus | str | None = None,
        filter_by: InvoiceFilter | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> AsyncPaginator[m.Invoice]:
        """Invoices matching the filters, lazily paginated (``async for``)."""
        return super().list(
            **list_options(
                filters,
                status=status,
                filter_by=filter_by,
                date_start=date_start,
                date_end=date_end,
                modified_since=modified_since,
                sort_order=sort_order,
            )
        )

    def modified_since(
        self, since: _dt.datetime | str, **filters: Any
    ) -> AsyncPaginator[m.Invoice]:
        """Invoices changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})

    async def create(
        self,
        *,
        batch_payments: bool | None = None,
        ignore_auto_number_generation: bool | None = None,
        is_quick_create: bool | None = None,
        send: bool | None = None,
        body: m.CreateInvoiceRequest | m.CreateInvoiceRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Invoice:
        """Create an invoice; a body with ``invoice_number`` keeps that number."""
        return await super().create(
            batch_payments=batch_payments,
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            is_quick_create=is_quick_create,
            send=send,
            body=body,
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    async def update(
        self,
        invoice_id: str,
        /,
        *,
        ignore_auto_number_generation: bool | None = None,
        body: m.UpdateInvoiceRequest | m.UpdateInvoiceRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Invoice:
        """Update an invoice; a body with ``invoice_number`` sets that number."""
        return await super().update(
            invoice_id,
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            body=body,
            extra_body=extra_body,
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
        from zbooks.models import customer_payments as payments_models

        if customer_id is None:
            invoice = await self.get(invoice_id, organization_id=organization_id)
            customer_id = invoice.customer_id or ""
        body = _payment(
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


__all__ = ["AsyncInvoices", "Invoices"]
