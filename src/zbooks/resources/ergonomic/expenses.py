"""Expenses, with typed list filters (``status``, ``filter_by``, ``date_start``/
``date_end`` as dates, ``modified_since`` (answered by Zoho though the OAS omits it),
``sort_order``) and the incremental-sync listing. ``create(body, receipt=...)``
(generated) sends the multipart ``JSONString`` form Zoho needs beside the file."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from zbooks.models.lazy import models_module
from zbooks.resources import expenses as generated
from zbooks.resources.base import AsyncPaginator, Paginator
from zbooks.resources.ergonomic._support import SINCE_ORDER, list_options
from zbooks.resources.ergonomic.filters import ExpenseFilter, SortOrder

if TYPE_CHECKING:
    from zbooks.models import expenses as m
else:
    m = models_module("expenses")  # loads with the first model


class Expenses(generated.Expenses):
    """Zoho Books expenses (``client.expenses``), with helpers."""

    def list(
        self,
        *,
        status: m.ExpenseStatus | str | None = None,
        filter_by: ExpenseFilter | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> Paginator[m.Expense]:
        """Expenses matching the filters, lazily paginated; other documented filters
        (``customer_id``, ``vendor_id`` ...), ``page``, ``per_page``, ``params`` and
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

    def modified_since(self, since: _dt.datetime | str, **filters: Any) -> Paginator[m.Expense]:
        """Expenses changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})


class AsyncExpenses(generated.AsyncExpenses):
    """Async Zoho Books expenses (``client.expenses``), with helpers."""

    def list(
        self,
        *,
        status: m.ExpenseStatus | str | None = None,
        filter_by: ExpenseFilter | str | None = None,
        date_start: _dt.date | str | None = None,
        date_end: _dt.date | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> AsyncPaginator[m.Expense]:
        """Expenses matching the filters, lazily paginated (``async for``)."""
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
    ) -> AsyncPaginator[m.Expense]:
        """Expenses changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})


__all__ = ["AsyncExpenses", "Expenses"]
