"""Bills, with helpers on top of the generated methods.

- ``list``: typed filters (``status``, ``filter_by``, ``date_start``/``date_end``,
  ``modified_since``, ``sort_order``).
- ``record_payment``: pay a bill in one call (a vendor payment applied in full to it);
  the vendor comes from the bill when not given.
- ``modified_since``: the incremental-sync listing, oldest change first.
- ``create(body, attachment=...)`` (generated) sends the multipart ``JSONString`` form
  Zoho needs beside a file; vendor bill numbers are always the vendor's, never automatic.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from zbooks.models.lazy import models_module
from zbooks.resources import bills as generated
from zbooks.resources.base import AsyncPaginator, Paginator
from zbooks.resources.ergonomic._support import SINCE_ORDER, list_options, payment_body
from zbooks.resources.ergonomic.filters import SortOrder

if TYPE_CHECKING:
    from zbooks.models import bills as m
else:
    m = models_module("bills")  # loads with the first model

if TYPE_CHECKING:  # imported on the first payment, not with ``client.bills``
    from zbooks.models import vendor_payments as payment_models

#: Keys of the created payment: the API says ``vendorpayment``, the OAS ``payment``.
PAYMENT_KEYS = ("vendorpayment", "vendor_payment", "payment")


def _payment(
    bill_id: str,
    amount: Decimal | float | str,
    vendor_id: str,
    *,
    payment_mode: str,
    date: _dt.date | None,
    paid_through_account_id: str | None,
    reference_number: str | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return payment_body(
        party=("vendor_id", vendor_id),
        applied_to=("bills", "bill_id", bill_id),
        amount=amount,
        payment_mode=payment_mode,
        date=date,
        optional={
            "paid_through_account_id": paid_through_account_id,
            "reference_number": reference_number,
        },
        extra=extra,
    )


class Bills(generated.Bills):
    """Zoho Books bills (``client.bills``), with helpers."""

    def list(
        self,
        *,
        status: m.BillStatus | str | None = None,
        filter_by: m.BillFilterBy | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> Paginator[m.Bill]:
        """Bills matching the filters, lazily paginated; other documented filters
        (``vendor_id``, ``bill_number`` ...), ``page``, ``per_page``, ``params`` and
        ``organization_id`` pass through."""
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

    def modified_since(self, since: _dt.datetime | str, **filters: Any) -> Paginator[m.Bill]:
        """Bills changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})

    def record_payment(
        self,
        bill_id: str,
        amount: Decimal | float | str,
        *,
        payment_mode: str = "cash",
        date: _dt.date | None = None,
        vendor_id: str | None = None,
        paid_through_account_id: str | None = None,
        reference_number: str | None = None,
        extra: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> payment_models.VendorPayment:
        """Record a vendor payment applied in full to this bill (``POST
        /vendorpayments``); ``date`` defaults to today, ``extra`` adds other fields."""
        from zbooks.models import vendor_payments as payment_models

        if vendor_id is None:
            vendor_id = self.get(bill_id, organization_id=organization_id).vendor_id or ""
        body = _payment(
            bill_id,
            amount,
            vendor_id,
            payment_mode=payment_mode,
            date=date,
            paid_through_account_id=paid_through_account_id,
            reference_number=reference_number,
            extra=extra,
        )
        return self._model(
            "POST",
            "/vendorpayments",
            PAYMENT_KEYS,
            payment_models.VendorPayment,
            query={},
            body=body,
            params=None,
            organization_id=organization_id,
        )


class AsyncBills(generated.AsyncBills):
    """Async Zoho Books bills (``client.bills``), with helpers."""

    def list(
        self,
        *,
        status: m.BillStatus | str | None = None,
        filter_by: m.BillFilterBy | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> AsyncPaginator[m.Bill]:
        """Bills matching the filters, lazily paginated (``async for``)."""
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

    def modified_since(self, since: _dt.datetime | str, **filters: Any) -> AsyncPaginator[m.Bill]:
        """Bills changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})

    async def record_payment(
        self,
        bill_id: str,
        amount: Decimal | float | str,
        *,
        payment_mode: str = "cash",
        date: _dt.date | None = None,
        vendor_id: str | None = None,
        paid_through_account_id: str | None = None,
        reference_number: str | None = None,
        extra: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> payment_models.VendorPayment:
        """Record a vendor payment applied in full to this bill."""
        from zbooks.models import vendor_payments as payment_models

        if vendor_id is None:
            bill = await self.get(bill_id, organization_id=organization_id)
            vendor_id = bill.vendor_id or ""
        body = _payment(
            bill_id,
            amount,
            vendor_id,
            payment_mode=payment_mode,
            date=date,
            paid_through_account_id=paid_through_account_id,
            reference_number=reference_number,
            extra=extra,
        )
        return await self._model(
            "POST",
            "/vendorpayments",
            PAYMENT_KEYS,
            payment_models.VendorPayment,
            query={},
            body=body,
            params=None,
            organization_id=organization_id,
        )


__all__ = ["AsyncBills", "Bills"]
