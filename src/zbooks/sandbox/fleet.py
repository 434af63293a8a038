"""A fleet of tenants in one control call (``POST /_sandbox/fleet``).

Each tenant is what one customer of a SaaS product has in real Zoho: its own user, its
own organization (with its plan's limits, enforced per organization like every other),
its own Self Client and a refresh token bound to that organization. The answer carries
the secrets once, as Zoho's console shows them once, so a test or benchmark can register
the tenants as connections.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from zbooks.sandbox.seed import seed_module

if TYPE_CHECKING:
    from zbooks.sandbox.app import SandboxApp

MAX_FLEET = 10_000
SCOPE = "ZohoBooks.fullaccess.all"


def create_fleet(
    app: SandboxApp,
    *,
    orgs: int,
    invoices: int = 0,
    plan: str | None = None,
    prefix: str = "tenant",
    seed: int | None = None,
) -> list[dict[str, Any]]:
    """Create `orgs` tenants with `invoices` invoices each; return their credentials."""
    rng = random.Random(seed)
    tenants: list[dict[str, Any]] = []
    for index in range(orgs):
        name = f"{prefix}-{index:05d}"
        user_id = app.accounts.ensure_user(f"{name}@fleet.example", name)
        org = app.create_organization(name=name, plan=plan, user_id=user_id)
        org_id = str(org["organization_id"])
        client = app.accounts.register_client(name=name, redirect_uris=[], client_type="self")
        code = app.accounts.issue_self_client_code(
            client["client_id"], SCOPE, user_id=user_id, org_id=org_id
        )
        body = app.accounts.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
            },
            base_url=app.config.base_url,
        )
        if invoices:
            seed_module(app.db, app.clock, org_id, "invoices", invoices, rng)
        tenants.append(
            {
                "name": name,
                "organization_id": org_id,
                "user_id": user_id,
                "plan": org.get("plan") or plan or app.config.plan,
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "refresh_token": body["refresh_token"],
            }
        )
    return tenants
