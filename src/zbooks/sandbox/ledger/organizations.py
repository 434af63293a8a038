"""Organizations and their members: who may call the API for which organization_id."""

from __future__ import annotations

import json
from typing import Any

from zbooks.sandbox.db import Database
from zbooks.sandbox.ledger.store import ID_BASE, dumps

PLANS = ("free", "standard", "professional", "premium")


def create_organization(
    db: Database,
    *,
    name: str,
    owner_user_id: str,
    plan: str = "premium",
    currency_code: str = "USD",
    time_zone: str = "Etc/UTC",
    created_date: str = "2026-01-01",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create an organization whose first member is ``owner_user_id``."""
    if plan not in PLANS:
        raise ValueError(f"plan must be one of {PLANS}")
    org_id = str(ID_BASE // 100 + db.next_counter("global", "org_id", start=7_001))
    with db.read() as conn:
        has_default = conn.execute(
            "SELECT 1 FROM org_users WHERE user_id=? LIMIT 1", (owner_user_id,)
        ).fetchone()
    data: dict[str, Any] = {
        "organization_id": org_id,
        "name": name,
        "contact_name": "",
        "email": "",
        "is_default_org": has_default is None,
        "plan_type": PLANS.index(plan),
        "plan_name": plan.title(),
        "account_created_date": created_date,
        "time_zone": time_zone,
        "language_code": "en",
        "date_format": "yyyy-MM-dd",
        "field_separator": "-",
        "fiscal_year_start_month": 0,
        "currency_id": "",
        "currency_code": currency_code,
        "currency_symbol": "$" if currency_code == "USD" else currency_code,
        "currency_format": "###,##0.00",
        "price_precision": 2,
        "is_org_active": True,
        "version": "global",
        **(extra or {}),
    }
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO organizations(org_id, plan, data) VALUES (?, ?, ?)",
            (org_id, plan, dumps(data)),
        )
        conn.execute(
            "INSERT INTO org_users(org_id, user_id, role) VALUES (?, ?, 'admin')",
            (org_id, owner_user_id),
        )
    return data


def add_member(db: Database, org_id: str, user_id: str, role: str = "admin") -> None:
    with db.transaction() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO org_users(org_id, user_id, role) VALUES (?, ?, ?)",
            (org_id, user_id, role),
        )


def get_organization(db: Database, org_id: str) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute("SELECT data FROM organizations WHERE org_id=?", (org_id,)).fetchone()
    return None if row is None else dict(json.loads(row["data"]))


def save_organization(db: Database, data: dict[str, Any]) -> None:
    with db.transaction() as conn:
        conn.execute(
            "UPDATE organizations SET data=? WHERE org_id=?", (dumps(data), data["organization_id"])
        )


def organizations_for_user(db: Database, user_id: str) -> list[dict[str, Any]]:
    """The user's organizations, oldest first (the first one is the default)."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT o.data FROM organizations o JOIN org_users u ON u.org_id = o.org_id "
            "WHERE u.user_id=? ORDER BY o.rowid",
            (user_id,),
        ).fetchall()
    return [dict(json.loads(r["data"])) for r in rows]


def plan_of(db: Database, org_id: str) -> str:
    with db.read() as conn:
        row = conn.execute("SELECT plan FROM organizations WHERE org_id=?", (org_id,)).fetchone()
    return "premium" if row is None else str(row["plan"])
