"""Vendor payments with typed list filters (``filter_by`` payment modes, ``date_start``/
``date_end`` as dates (answered by Zoho though the OAS lists only ``date``),
``modified_since``, ``sort_order``) and the incremental-sync listing."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from zbooks.models.lazy import models_module
from zbooks.resources import vendor_payments as generated
from zbooks.resources.base import AsyncPaginator, Paginator
from zbooks.resources.ergonomic._support import SINCE_ORDER, list_options
from zbooks.resources.ergonomic.filters import PaymentModeFilter, SortOrder

if TYPE_CHECKING:
    from zbooks.models import vendor_payments as m
else:
    m = models_module("vendor_payments")  # loads with the first model


class VendorPayments(generated.VendorPayments):
    """Zoho Books vendor payments (``client.vendor_payments``), with helpers."""

    def list(
        self,
        *,
        filter_by: PaymentModeFilter | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> Paginator[m.VendorPayment]:
        """Payments matching the filters, lazily paginated; other documented filters,
        ``page``, ``per_page``, ``params`` and ``organization_id`` pass through."""
        return super().list(
            **list_options(
                filters,
                filter_by=filter_by,
                date_start=date_start,
                date_end=date_end,
                modified_since=modified_since,
                sort_order=sort_order,
            )
        )

    def modified_since(
        self, since: _dt.datetime | str, **filters: Any
    ) -> Paginator[m.VendorPayment]:
        """Payments changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})


class AsyncVendorPayments(generated.AsyncVendorPayments):
    """Async Zoho Books vendor payments (``client.vendor_payments``), with helpers."""

    def list(
        self,
        *,
        filter_by: PaymentModeFilter | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> AsyncPaginator[m.VendorPayment]:
        """Payments matching the filters, lazily paginated (``async for``)."""
        return super().list(
            **list_options(
                filters,
                filter_by=filter_by,
                date_start=date_start,
                date_end=date_end,
                modified_since=modified_since,
                sort_order=sort_order,
            )
        )

    def modified_since(
        self, since: _dt.datetime | str, **filters: Any
    ) -> AsyncPaginator[m.VendorPayment]:
        """Payments changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})


__all__ = ["AsyncVendorPayments", "VendorPayments"]
