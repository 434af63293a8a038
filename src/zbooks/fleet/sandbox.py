"""Provision tenants on a zbooks sandbox: each with its own user, organization, OAuth
client and refresh token, the way a SaaS product's customers each connect their own
Zoho Books. Drives only the sandbox's public control plane (``/_sandbox``) and its
answers, so it works against a sandbox in another process or machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zbooks.testing.control import ControlClient

if TYPE_CHECKING:
    from zbooks.fleet.connections import Connections


@dataclass(frozen=True)
class Tenant:
    name: str
    organization_id: str
    user_id: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    plan: str | None = None


class SandboxControl(ControlClient):
    """The sandbox's control plane (``zbooks.testing``'s client), plus typed tenants."""

    def __init__(self, base_url: str, control_token: str, *, timeout: float = 600.0) -> None:
        super().__init__(base_url, control_token, timeout=timeout)

    def seed_fleet(
        self,
        orgs: int,
        *,
        invoices: int = 0,
        plan: str | None = None,
        prefix: str = "tenant",
        seed: int | None = None,
    ) -> list[Tenant]:
        """``POST /_sandbox/fleet``: `orgs` tenants, each with its own user, organization,
        Self Client and refresh token, and `invoices` invoices. Use a new `prefix` for
        each call (names repeat otherwise)."""
        answer = self.fleet(orgs, invoices=invoices, plan=plan, prefix=prefix, rng_seed=seed)
        return [
            Tenant(
                t["name"],
                t["organization_id"],
                t["user_id"],
                t["client_id"],
                t["client_secret"],
                t["refresh_token"],
                t.get("plan"),
            )
            for t in answer
        ]


def register(connections: Connections, tenants: list[Tenant], base_url: str) -> None:
    """Add each tenant as a connection to a sandbox at `base_url`."""
    base = base_url.rstrip("/")
    for tenant in tenants:
        connections.add(
            tenant.name,
            client_id=tenant.client_id,
            client_secret=tenant.client_secret,
            refresh_token=tenant.refresh_token,
            organizations=[tenant.organization_id],
            accounts_url=base,
            api_url=base + "/books/v3",
            plan=tenant.plan,
            replace=True,
        )
