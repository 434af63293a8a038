"""Organizations: ``client.organizations`` is both the typed resource
(``.list()``, ``.get(id)``, ``.update(...)``) and, called, the quick raw listing that
login, doctor and sync use to discover the organization id."""

from __future__ import annotations

from typing import Any

from zbooks.resources import organizations as generated


class Organizations(generated.Organizations):
    """Zoho Books organizations (``client.organizations``)."""

    def __call__(self) -> list[dict[str, Any]]:
        """The user's organizations as Zoho sends them (no organization id needed)."""
        body = self._client.request("GET", "/organizations")
        return list(body.get("organizations", []))


class AsyncOrganizations(generated.AsyncOrganizations):
    """Zoho Books organizations (``client.organizations``), async."""

    async def __call__(self) -> list[dict[str, Any]]:
        """The user's organizations as Zoho sends them (no organization id needed)."""
        body = await self._client.request("GET", "/organizations")
        return list(body.get("organizations", []))
