"""Credit notes, with helpers on top of the generated methods.

- ``list``: typed filters (``status``, ``filter_by``, ``date_start``/``date_end``,
  ``modified_since``, ``sort_order``).
- ``create``/``update``: an own ``creditnote_number`` turns on
  ``ignore_auto_number_generation``.
- ``apply_to_invoices``: spend the credit on invoices, ``{invoice_id: amount}``.
- ``modified_since``: the incremental-sync listing, oldest change first.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from zbooks.models.lazy import models_module
from zbooks.resources import credit_notes as generated
from zbooks.resources.base import AsyncPaginator, Paginator
from zbooks.resources.ergonomic._support import SINCE_ORDER, list_options, own_number
from zbooks.resources.ergonomic.filters import SortOrder

if TYPE_CHECKING:
    from zbooks.models import credit_notes as m
else:
    m = models_module("credit_notes")  # loads with the first model

NUMBER = "creditnote_number"
Amounts = Mapping[str, Decimal | float | str]


def _applications(amounts: Amounts) -> m.ApplyCreditNoteToInvoiceRequestDict:
    return {
        "invoices": [
            {"invoice_id": invoice_id, "amount_applied": Decimal(str(amount))}
            for invoice_id, amount in amounts.items()
        ]
    }


class CreditNotes(generated.CreditNotes):
    """Zoho Books credit notes (``client.credit_notes``), with helpers."""

    def list(
        self,
        *,
        status: m.CreditNoteStatus | str | None = None,
        filter_by: m.CreditNoteFilterBy | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> Paginator[m.CreditNote]:
        """Credit notes matching the filters, lazily paginated; other documented
        filters, ``page``, ``per_page``, ``params`` and ``organization_id`` pass through."""
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

    def modified_since(self, since: _dt.datetime | str, **filters: Any) -> Paginator[m.CreditNote]:
        """Credit notes changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})

    def create(
        self,
        *,
        ignore_auto_number_generation: bool | None = None,
        invoice_id: str | None = None,
        body: m.CreateCreditNoteRequest | m.CreateCreditNoteRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.CreditNote:
        """Create a credit note; a body with ``creditnote_number`` keeps that number."""
        return super().create(
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            invoice_id=invoice_id,
            body=body,
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    def update(
        self,
        creditnote_id: str,
        /,
        *,
        ignore_auto_number_generation: bool | None = None,
        body: m.UpdateCreditNoteRequest | m.UpdateCreditNoteRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.CreditNote:
        """Update a credit note; a body with ``creditnote_number`` sets that number."""
        return super().update(
            creditnote_id,
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            body=body,
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    def apply_to_invoices(
        self, creditnote_id: str, amounts: Amounts, /, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """Apply the credit to invoices: ``{invoice_id: amount}`` (each at most the
        invoice's balance, all together at most the note's balance)."""
        return self.apply_to_invoice(
            creditnote_id, body=_applications(amounts), organization_id=organization_id
        )


class AsyncCreditNotes(generated.AsyncCreditNotes):
    """Async Zoho Books credit notes (``client.credit_notes``), with helpers."""

    def list(
        self,
        *,
        status: m.CreditNoteStatus | str | None = None,
        filter_by: m.CreditNoteFilterBy | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> AsyncPaginator[m.CreditNote]:
        """Credit notes matching the filters, lazily paginated (``async for``)."""
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
    ) -> AsyncPaginator[m.CreditNote]:
        """Credit notes changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})

    async def create(
        self,
        *,
        ignore_auto_number_generation: bool | None = None,
        invoice_id: str | None = None,
        body: m.CreateCreditNoteRequest | m.CreateCreditNoteRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.CreditNote:
        """Create a credit note; a body with ``creditnote_number`` keeps that number."""
        return await super().create(
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            invoice_id=invoice_id,
            body=body,
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    async def update(
        self,
        creditnote_id: str,
        /,
        *,
        ignore_auto_number_generation: bool | None = None,
        body: m.UpdateCreditNoteRequest | m.UpdateCreditNoteRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.CreditNote:
        """Update a credit note; a body with ``creditnote_number`` sets that number."""
        return await super().update(
            creditnote_id,
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            body=body,
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    async def apply_to_invoices(
        self, creditnote_id: str, amounts: Amounts, /, *, organization_id: str | None = None
    ) -> dict[str, Any]:
        """Apply the credit to invoices: ``{invoice_id: amount}``."""
        return await self.apply_to_invoice(
            creditnote_id, body=_applications(amounts), organization_id=organization_id
        )


__all__ = ["AsyncCreditNotes", "CreditNotes"]
