"""The server's one door to Zoho: every call is budgeted, then sent by the SDK.

``Books`` owns an ``AsyncClient`` (so every call goes through the SDK's pipeline: the
organization's rate limiter, the token store with its single-flight refresh, retries
and typed errors) and a ``CallBudget``. Tools never touch the client directly; they
hand ``Books`` a ``PreparedRequest`` (``zbooks.preview``) and get the envelope back, so
what a dry run shows is byte for byte what a real call sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zbooks.mcp.budget import CallBudget
from zbooks.preview import PreparedRequest
from zbooks.regions import books_url_from_api_domain

if TYPE_CHECKING:
    from zbooks.core.client import AsyncClient


class Books:
    """An ``AsyncClient`` behind a per-session call budget."""

    def __init__(self, client: AsyncClient, budget: CallBudget) -> None:
        self.client = client
        self.budget = budget

    @property
    def api_url(self) -> str:
        """The Books base URL requests go to: as the pipeline decides it, the token's
        ``api_domain`` wins over the region's default unless the URL was given."""
        endpoints = self.client.settings.endpoints
        if endpoints.region is not None:
            token = self.client.token_store.load()
            if token is not None and token.api_domain:
                return books_url_from_api_domain(token.api_domain)
        return endpoints.api_url

    async def organization_id(self, session: str) -> str | None:
        """The organization the calls go to, asking Zoho once when the profile names
        none and the user has exactly one (what the pipeline would do anyway)."""
        if self.client.organization_id is None:
            self.budget.spend(session)
            envelope = await self.client.get("/organizations")
            orgs = envelope.get("organizations", []) if isinstance(envelope, Mapping) else []
            if len(orgs) == 1:
                self.client.organization_id = str(orgs[0]["organization_id"])
        return self.client.organization_id

    async def send(self, session: str, request: PreparedRequest) -> Any:
        """Spend one call of the session's budget, then send ``request``."""
        await self.organization_id(session)
        self.budget.spend(session)
        return await self.client.request(**request.request_kwargs())

    async def get(self, session: str, path: str, params: Mapping[str, Any]) -> Any:
        """A budgeted GET for the curated tools."""
        return await self.send(
            session,
            PreparedRequest(operation="GET " + path, method="GET", path=path, params=dict(params)),
        )

    async def aclose(self) -> None:
        await self.client.aclose()
