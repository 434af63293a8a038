"""Estimates, with helpers on top of the generated methods.

- ``list``: typed filters as on invoices (``date_start``/``date_end`` are answered by
  Zoho though the OAS lists only ``date``).
- ``create``/``update``: an own ``estimate_number`` turns on
  ``ignore_auto_number_generation``.
- ``convert_to_invoice``: the estimate becomes a draft invoice, returned as a model.
- ``modified_since``: the incremental-sync listing, oldest change first.
- ``pdf`` (generated): the estimate as PDF bytes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zbooks.errors import UnexpectedResponseError
from zbooks.models.lazy import models_module
from zbooks.resources import estimates as generated
from zbooks.resources.base import AsyncPaginator, Paginator, _path, extract, one
from zbooks.resources.ergonomic._support import SINCE_ORDER, list_options, own_number
from zbooks.resources.ergonomic.filters import SortOrder

if TYPE_CHECKING:
    from zbooks.models import estimates as m
else:
    m = models_module("estimates")  # loads with the first model

if TYPE_CHECKING:  # imported on first conversion: the invoice models take ~35 ms to load
    from zbooks.models import invoices as invoice_models

NUMBER = "estimate_number"
CONVERT = "/invoices/fromestimates"


def _converted(envelope: Mapping[str, Any]) -> dict[str, Any] | None:
    """The invoice in the conversion's answer. Zoho documents only code and message
    there (UNCONFIRMED whether live answers carry ``invoice``/``invoices``)."""
    found = extract(envelope, ("invoice", "invoices"))
    record = one(found) if isinstance(found, list) else found
    return record if isinstance(record, dict) and record.get("invoice_id") else None


def _invoice_of(estimate: m.Estimate) -> str:
    """The newest invoice made from an estimate: ``invoice_ids`` or ``invoice_id``
    (UNCONFIRMED field names; read from the record, kept as unknown fields)."""
    extra = estimate.model_extra or {}
    ids = [str(i) for i in extra.get("invoice_ids") or [] if i]
    found = ids[-1] if ids else str(extra.get("invoice_id") or "")
    if not found:
        raise UnexpectedResponseError(
            "the estimate was converted but Zoho named no invoice",
            status=200,
            method="POST",
            path=CONVERT,
            hint="List the customer's invoices to find the new one.",
        )
    return found


def _query(estimate_id: str) -> dict[str, Any]:
    return {"estimate_ids": estimate_id}


class Estimates(generated.Estimates):
    """Zoho Books estimates (``client.estimates``), with helpers."""

    def list(
        self,
        *,
        status: m.EstimateStatus | str | None = None,
        filter_by: m.EstimateFilterBy | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> Paginator[m.Estimate]:
        """Estimates matching the filters, lazily paginated; other documented filters,
        ``page``, ``per_page``, ``params`` and ``organization_id`` pass through."""
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

    def modified_since(self, since: _dt.datetime | str, **filters: Any) -> Paginator[m.Estimate]:
        """Estimates changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})

    def create(
        self,
        *,
        ignore_auto_number_generation: bool | None = None,
        send: bool | None = None,
        body: m.CreateEstimateRequest | m.CreateEstimateRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Estimate:
        """Create an estimate; a body with ``estimate_number`` keeps that number."""
        return super().create(
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            send=send,
            body=body,
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    def update(
        self,
        estimate_id: str,
        /,
        *,
        ignore_auto_number_generation: bool | None = None,
        body: m.UpdateEstimateRequest | m.UpdateEstimateRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Estimate:
        """Update an estimate; a body with ``estimate_number`` sets that number."""
        return super().update(
            estimate_id,
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            body=body,
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    def convert_to_invoice(
        self, estimate_id: str, /, *, organization_id: str | None = None
    ) -> invoice_models.Invoice:
        """Turn the estimate into a draft invoice (``POST /invoices/fromestimates``) and
        return that invoice; the estimate then reads ``invoiced``."""
        from zbooks.models import invoices as invoice_models

        envelope = self._envelope(
            "POST", CONVERT, query=_query(estimate_id), params=None, organization_id=organization_id
        )
        record = _converted(envelope)
        if record is not None:
            return invoice_models.Invoice.model_validate(record)
        invoice_id = _invoice_of(self.get(estimate_id, organization_id=organization_id))
        return self._model(
            "GET",
            _path("/invoices/{}", invoice_id),
            ("invoice",),
            invoice_models.Invoice,
            query={},
            params=None,
            organization_id=organization_id,
        )


class AsyncEstimates(generated.AsyncEstimates):
    """Async Zoho Books estimates (``client.estimates``), with helpers."""

    def list(
        self,
        *,
        status: m.EstimateStatus | str | None = None,
        filter_by: m.EstimateFilterBy | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> AsyncPaginator[m.Estimate]:
        """Estimates matching the filters, lazily paginated (``async for``)."""
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
    ) -> AsyncPaginator[m.Estimate]:
        """Estimates changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})

    async def create(
        self,
        *,
        ignore_auto_number_generation: bool | None = None,
        send: bool | None = None,
        body: m.CreateEstimateRequest | m.CreateEstimateRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Estimate:
        """Create an estimate; a body with ``estimate_number`` keeps that number."""
        return await super().create(
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            send=send,
            body=body,
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    async def update(
        self,
        estimate_id: str,
        /,
        *,
        ignore_auto_number_generation: bool | None = None,
        body: m.UpdateEstimateRequest | m.UpdateEstimateRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Estimate:
        """Update an estimate; a body with ``estimate_number`` sets that number."""
        return await super().update(
            estimate_id,
            ignore_auto_number_generation=own_number(body, NUMBER, ignore_auto_number_generation),
            body=body,
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    async def convert_to_invoice(
        self, estimate_id: str, /, *, organization_id: str | None = None
    ) -> invoice_models.Invoice:
        """Turn the estimate into a draft invoice and return that invoice."""
        from zbooks.models import invoices as invoice_models

        envelope = await self._envelope(
            "POST", CONVERT, query=_query(estimate_id), params=None, organization_id=organization_id
        )
        record = _converted(envelope)
        if record is not None:
            return invoice_models.Invoice.model_validate(record)
        estimate = await self.get(estimate_id, organization_id=organization_id)
        return await self._model(
            "GET",
            _path("/invoices/{}", _invoice_of(estimate)),
            ("invoice",),
            invoice_models.Invoice,
            query={},
            params=None,
            organization_id=organization_id,
        )


__all__ = ["AsyncEstimates", "Estimates"]
