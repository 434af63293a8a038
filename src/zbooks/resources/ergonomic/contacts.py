"""Contacts, with helpers on top of the generated methods.

- ``list``: typed filters (``filter_by``, ``contact_type``, ``modified_since`` (Zoho
  answers it on contacts though the OAS omits it), ``sort_order``).
- ``create``/``update``: an own ``contact_number`` sets the body's
  ``ignore_auto_number_generation`` (contacts read that flag from the body).
- ``modified_since``: the incremental-sync listing, oldest change first.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zbooks.models.lazy import models_module
from zbooks.resources import contacts as generated
from zbooks.resources.base import AsyncPaginator, Paginator
from zbooks.resources.ergonomic._support import SINCE_ORDER, list_options, own_number_in_body
from zbooks.resources.ergonomic.filters import ContactFilter, ContactType, SortOrder

if TYPE_CHECKING:
    from zbooks.models import contacts as m
else:
    m = models_module("contacts")  # loads with the first model

NUMBER = "contact_number"


class Contacts(generated.Contacts):
    """Zoho Books contacts (``client.contacts``), with helpers."""

    def list(
        self,
        *,
        filter_by: ContactFilter | str | None = None,
        contact_type: ContactType | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> Paginator[m.Contact]:
        """Contacts matching the filters, lazily paginated; other documented filters
        (``contact_name``, ``email`` ...), ``page``, ``per_page``, ``params`` and
        ``organization_id`` pass through."""
        return super().list(
            **list_options(
                filters,
                filter_by=filter_by,
                contact_type=contact_type,
                modified_since=modified_since,
                sort_order=sort_order,
            )
        )

    def modified_since(self, since: _dt.datetime | str, **filters: Any) -> Paginator[m.Contact]:
        """Contacts changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})

    def create(
        self,
        *,
        body: m.CreateContactRequest | m.CreateContactRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Contact:
        """Create a contact; a body with ``contact_number`` keeps that number."""
        return super().create(
            body=own_number_in_body(body, NUMBER),
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    def update(
        self,
        contact_id: str,
        /,
        *,
        body: m.UpdateContactRequest | m.UpdateContactRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Contact:
        """Update a contact; a body with ``contact_number`` sets that number."""
        return super().update(
            contact_id,
            body=own_number_in_body(body, NUMBER),
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )


class AsyncContacts(generated.AsyncContacts):
    """Async Zoho Books contacts (``client.contacts``), with helpers."""

    def list(
        self,
        *,
        filter_by: ContactFilter | str | None = None,
        contact_type: ContactType | str | None = None,
        modified_since: _dt.datetime | str | None = None,
        sort_order: SortOrder | str | None = None,
        **filters: Any,
    ) -> AsyncPaginator[m.Contact]:
        """Contacts matching the filters, lazily paginated (``async for``)."""
        return super().list(
            **list_options(
                filters,
                filter_by=filter_by,
                contact_type=contact_type,
                modified_since=modified_since,
                sort_order=sort_order,
            )
        )

    def modified_since(
        self, since: _dt.datetime | str, **filters: Any
    ) -> AsyncPaginator[m.Contact]:
        """Contacts changed at or after ``since``, oldest change first."""
        return self.list(**{**filters, "modified_since": since, **SINCE_ORDER})

    async def create(
        self,
        *,
        body: m.CreateContactRequest | m.CreateContactRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Contact:
        """Create a contact; a body with ``contact_number`` keeps that number."""
        return await super().create(
            body=own_number_in_body(body, NUMBER),
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )

    async def update(
        self,
        contact_id: str,
        /,
        *,
        body: m.UpdateContactRequest | m.UpdateContactRequestDict | None = None,
        extra_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> m.Contact:
        """Update a contact; a body with ``contact_number`` sets that number."""
        return await super().update(
            contact_id,
            body=own_number_in_body(body, NUMBER),
            extra_body=extra_body,
            params=params,
            organization_id=organization_id,
        )


__all__ = ["AsyncContacts", "Contacts"]
