"""Provision tenants on a zbooks sandbox: each with its own user, organization, OAuth
client and refresh token, the way a SaaS product's customers each connect their own
Zoho Books. Drives only the sandbox's public control plane (``/_sandbox``) and its
answers, so it works against a sandbox in another process or machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx2

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


class SandboxControl:
    def __init__(self, base_url: str, control_token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {control_token}"} if control_token else {}
        self._http = httpx2.Client(base_url=self.base_url, headers=headers, timeout=600)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, f"/_sandbox{path}", json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"sandbox {method} {path}: {response.status_code} {response.text}")
        return response.json()

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
        body: dict[str, Any] = {"orgs": orgs, "invoices": invoices, "prefix": prefix}
        if plan:
            body["plan"] = plan
        if seed is not None:
            body["seed"] = seed
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
            for t in self.call("POST", "/fleet", body)["tenants"]
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
