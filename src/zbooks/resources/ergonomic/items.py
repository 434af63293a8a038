"""Items, with typed list filters (``filter_by``, ``modified_since`` (Zoho answers it on
items though the OAS omits it), ``sort_order``) and the incremental-sync listing."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from zbooks.models.lazy import models_module
from zbooks.resources import items as generated
from zbooks.resources.base import AsyncPaginator, Paginator
from zbooks.resources.ergonomic._support import SINCE_ORDER, list_options
from zbooks.resources.ergonomic.filters import ItemFilter, SortOrder

if TYPE_CHECKING:
    from zbooks.models import items as m
else:
    m = models_module("items")  # loads with the first model


class Items(generated.Items):
    """Zoho Books items (``client.items``), with helpers."""

    def list(
        self,
        *,
        filter_by: ItemFilter | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> Paginator[m.Item]:
        """Items matching the filters, lazily paginated; other documented filters
        (``name_startswith``, ``rate_less_than`` ...), ``page``, ``per_page``, ``params``
        and ``organization_id`` pass through."""
        return super().list(
            **list_options(
                filters, filter_by=filter_by, modified_since=modified_since, sort_order=sort_order
            )
        )

    def modified_since(self, since: _dt.datetime | str, **filters: Any) -> Paginator[m.Item]:
        """Items changed at or after ``since``, oldest change first (UNCONFIRMED that
        Zoho sorts items by ``last_modified_time``; the sandbox does)."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})


class AsyncItems(generated.AsyncItems):
    """Async Zoho Books items (``client.items``), with helpers."""

    def list(
        self,
        *,
        filter_by: ItemFilter | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> AsyncPaginator[m.Item]:
        """Items matching the filters, lazily paginated (``async for``)."""
        return super().list(
            **list_options(
                filters, filter_by=filter_by, modified_since=modified_since, sort_order=sort_order
            )
        )

    def modified_since(self, since: _dt.datetime | str, **filters: Any) -> AsyncPaginator[m.Item]:
        """Items changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})


__all__ = ["AsyncItems", "Items"]
