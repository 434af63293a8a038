"""Users of an organization (api-facts §3.21).

Two kinds of people appear here: members who can sign in (rows of ``org_users``, whose
identity lives in the accounts service) and people invited through ``POST /users``
(status ``invited`` until they accept, which the sandbox never simulates). Members get
their Books user record lazily, the first time anything reads the users of the
organization, so organizations created by any path show their owner as an admin.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from zbooks.sandbox.clock import Clock
from zbooks.sandbox.db import Database
from zbooks.sandbox.errors import (
    ApiError,
    invalid_value,
    not_authorized,
    not_found,
    rule_violation,
)
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import ListSpec
from zbooks.sandbox.ledger.organizations import (
    create_organization,
    get_organization,
    organizations_for_user,
    save_organization,
)
from zbooks.sandbox.ledger.store import Filter

MODULE = "users"
ROLES = ("admin", "staff", "timesheetstaff", "staffassigned")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

FIELDS: dict[str, Any] = {
    "user_id": "",
    "role_id": "",
    "name": "",
    "email": "",
    "email_ids": [],
    "user_role": "staff",
    "user_type": "zoho",
    "status": "active",
    "is_current_user": False,
    "photo_url": "",
    "is_customer_segmented": False,
    "is_vendor_segmented": False,
    "is_employee": False,
    "cost_rate": 0.0,
    "custom_fields": "",
    "created_time": "",
    "last_modified_time": "",
}


def role_id(ledger: Ledger, role: str) -> str:
    """A stable id per (organization, role), made on first use."""
    key = f"org:{ledger.org_id}:role:{role}"
    existing = ledger.db.get_meta(key)
    if existing is not None:
        return existing
    new = ledger.store.new_id()
    ledger.db.set_meta(key, new)
    return new


def _identity(ledger: Ledger, user_id: str) -> tuple[str, str]:
    """(name, email) of a signed-in user from the accounts service's table.

    The Books ledger must not depend on the accounts service being present (tests run
    it alone), so a missing table yields a placeholder identity.
    """
    try:
        with ledger.db.read() as conn:
            row = conn.execute(
                "SELECT name, email FROM accounts_users WHERE user_id=?", (user_id,)
            ).fetchone()
    except sqlite3.OperationalError:
        row = None
    if row is None:
        return f"User {user_id}", f"user{user_id}@zbooks.sandbox"
    return str(row["name"]), str(row["email"])


def _members(ledger: Ledger) -> list[tuple[str, str]]:
    with ledger.db.read() as conn:
        rows = conn.execute(
            "SELECT user_id, role FROM org_users WHERE org_id=? ORDER BY rowid",
            (ledger.org_id,),
        ).fetchall()
    return [(str(r["user_id"]), str(r["role"])) for r in rows]


def _record(
    ledger: Ledger, user_id: str, name: str, email: str, role: str, status: str
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "role_id": role_id(ledger, role),
        "name": name,
        "email": email,
        "email_ids": [{"email": email, "is_selected": True}],
        "user_role": role,
        "user_type": "zoho",
        "status": status,
        "photo_url": "",
        "is_customer_segmented": False,
        "is_vendor_segmented": False,
        "is_employee": False,
        "cost_rate": 0.0,
        "custom_fields": "",
    }


def ensure_members(ledger: Ledger) -> None:
    """Give every member of the organization (the owner first) a user record."""
    store = ledger.store
    with ledger.db.transaction():
        for user_id, role in _members(ledger):
            if store.get(MODULE, user_id) is None:
                name, email = _identity(ledger, user_id)
                role = role if role in ROLES else "admin"
                store.insert(
                    MODULE,
                    user_id,
                    _record(ledger, user_id, name, email, role, "active"),
                    ledger.now(),
                )


def get_user(ledger: Ledger, user_id: str) -> dict[str, Any]:
    ensure_members(ledger)
    record = ledger.store.get(MODULE, str(user_id))
    if record is None:
        raise not_found("User")
    return record


def present_user(
    ledger: Ledger, record: Mapping[str, Any], current_user_id: str = ""
) -> dict[str, Any]:
    shaped = {**FIELDS, **record}
    shaped["is_current_user"] = bool(current_user_id) and record["user_id"] == current_user_id
    return shaped


def _role(ledger: Ledger, body: Mapping[str, Any], default: str) -> str:
    if body.get("user_role"):
        role = str(body["user_role"]).lower()
        if role not in ROLES:
            raise invalid_value("user_role")
        return role
    if body.get("role_id"):
        for role in ROLES:
            if role_id(ledger, role) == str(body["role_id"]):
                return role
        raise invalid_value("role_id")
    return default


def _email(body: Mapping[str, Any]) -> str:
    email = str(body.get("email") or "").strip()
    if not _EMAIL.match(email):
        raise invalid_value("email")
    return email


def _email_taken(ledger: Ledger, email: str, except_id: str = "") -> bool:
    return any(
        str(r["user_id"]) != except_id
        for r in ledger.store.find(MODULE, [Filter("email", "eq", email)])
    )


def _cost_rate(value: Any) -> float:
    try:
        rate = float(value or 0)
    except (TypeError, ValueError):
        raise invalid_value("cost_rate") from None
    if rate < 0:
        raise invalid_value("cost_rate")
    return rate


def invite_user(ledger: Ledger, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /users``: the person is invited (no sign-in until they accept)."""
    ensure_members(ledger)
    name = str(body.get("name") or "").strip()
    if not name:
        raise invalid_value("name")
    if len(name) > 100:
        raise invalid_value("name")
    email = _email(body)
    if _email_taken(ledger, email):
        # UNCONFIRMED code and wording.
        raise rule_violation(f"A user with the email address {email} already exists.", 1001)
    record = _record(
        ledger, ledger.store.new_id(), name, email, _role(ledger, body, "staff"), "invited"
    )
    record["cost_rate"] = _cost_rate(body.get("cost_rate"))
    ledger.store.insert(MODULE, record["user_id"], record, ledger.now())
    return record


def update_user(ledger: Ledger, user_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    record = get_user(ledger, user_id)
    if "name" in body:
        name = str(body.get("name") or "").strip()
        if not name:
            raise invalid_value("name")
        record["name"] = name
    if "email" in body:
        email = _email(body)
        if _email_taken(ledger, email, user_id):
            raise rule_violation(f"A user with the email address {email} already exists.", 1001)
        record["email"] = email
        record["email_ids"] = [{"email": email, "is_selected": True}]
    new_role = _role(ledger, body, record["user_role"])
    if new_role != record["user_role"] and record["user_role"] == "admin":
        _keep_an_admin(ledger, user_id)
    record["user_role"] = new_role
    record["role_id"] = role_id(ledger, new_role)
    if "cost_rate" in body:
        record["cost_rate"] = _cost_rate(body.get("cost_rate"))
    ledger.store.update(MODULE, user_id, record, ledger.now())
    return record


def _keep_an_admin(ledger: Ledger, leaving_id: str) -> None:
    """An organization must keep at least one active admin (UNCONFIRMED wording)."""
    admins = ledger.store.find(
        MODULE, [Filter("user_role", "eq", "admin"), Filter("status", "eq", "active")]
    )
    if not [a for a in admins if str(a["user_id"]) != leaving_id]:
        raise rule_violation("The organization must have at least one active admin.")


def delete_user(ledger: Ledger, user_id: str, current_user_id: str) -> None:
    """Remove the user from the organization (and end their membership)."""
    record = get_user(ledger, user_id)
    if user_id == current_user_id:
        raise rule_violation("You cannot remove yourself from the organization.")
    if record["user_role"] == "admin" and record["status"] == "active":
        _keep_an_admin(ledger, user_id)
    with ledger.db.transaction() as conn:
        ledger.store.delete(MODULE, user_id)
        conn.execute("DELETE FROM org_users WHERE org_id=? AND user_id=?", (ledger.org_id, user_id))


def set_active(ledger: Ledger, user_id: str, active: bool, current_user_id: str) -> dict[str, Any]:
    record = get_user(ledger, user_id)
    if not active:
        if user_id == current_user_id:
            raise rule_violation("You cannot mark yourself as inactive.")
        if record["user_role"] == "admin" and record["status"] == "active":
            _keep_an_admin(ledger, user_id)
    elif record["status"] == "invited":
        raise rule_violation("The user has not accepted the invitation yet.")
    record["status"] = "active" if active else "inactive"
    ledger.store.update(MODULE, user_id, record, ledger.now())
    return record


def reinvite(ledger: Ledger, user_id: str) -> dict[str, Any]:
    """``POST /users/{id}/invite``: only someone still invited can be invited again."""
    record = get_user(ledger, user_id)
    if record["status"] != "invited":
        raise rule_violation("The user has already accepted the invitation.")
    return record


# --- listing -----------------------------------------------------------------------------
def _status(value: str) -> Any:
    return lambda ledger: [Filter("status", "eq", value)]


LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="users",
    report_name="Users",
    sort_columns=frozenset({"name", "email", "user_role", "status", "created_time"}),
    default_sort="name",
    filter_by={
        "Status.All": lambda ledger: [],
        "Status.Active": _status("active"),
        "Status.Inactive": _status("inactive"),
        "Status.Invited": _status("invited"),
        "Status.Deleted": _status("deleted"),
    },
    search_fields=("name", "email"),
    text_fields=("name", "email"),
    date_fields=(),
)


def list_spec_for(current_user_id: str) -> ListSpec:
    return replace(
        LIST_SPEC,
        present=lambda ledger, record: present_user(ledger, record, current_user_id),
    )


# --- organizations of a user ---------------------------------------------------------------
# Membership decides which organizations a user sees, so the organization endpoints
# live next to the users: ``GET /organizations`` is "the organizations I am a user of".

_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

ORG_FIELDS: dict[str, Any] = {
    "organization_id": "",
    "name": "",
    "contact_name": "",
    "email": "",
    "is_default_org": False,
    "is_logo_uploaded": "",
    "user_role": "admin",
    "user_status": "active",
    "plan_type": 0,
    "plan_name": "",
    "plan_period": "",
    "tax_group_enabled": True,
    "zi_migration_status": 0,
    "account_created_date": "",
    "account_created_date_formatted": "",
    "time_zone": "",
    "language_code": "en",
    "date_format": "yyyy-MM-dd",
    "field_separator": "-",
    "fiscal_year_start_month": 0,
    "industry_type": "",
    "industry_size": "",
    "portal_name": "",
    "company_id_label": "",
    "company_id_value": "",
    "tax_id_label": "",
    "tax_id_value": "",
    "currency_id": "",
    "currency_code": "",
    "currency_symbol": "",
    "currency_format": "",
    "price_precision": 2,
    "org_address": "",
    "remit_to_address": "",
    "phone": "",
    "fax": "",
    "website": "",
    "is_org_active": True,
    "version": "global",
    "mode": "",
    "address": {
        "street_address1": "",
        "street_address2": "",
        "city": "",
        "state": "",
        "country": "",
        "zip": "",
    },
    "custom_fields": [],
}

_ORG_TEXT = (
    "name",
    "time_zone",
    "date_format",
    "field_separator",
    "language_code",
    "org_address",
    "remit_to_address",
    "contact_name",
    "phone",
    "fax",
    "website",
    "email",
    "industry_type",
    "industry_size",
    "portal_name",
)
# Request names -> stored names (the OAS request spells these without the underscore).
_ORG_RENAMES = {
    "companyid_label": "company_id_label",
    "companyid_value": "company_id_value",
    "taxid_label": "tax_id_label",
    "taxid_value": "tax_id_value",
}


def not_associated(org_id: str) -> ApiError:
    return ApiError(
        400, 6041, f"This user is not associated with the CompanyID/CompanyName:{org_id}."
    )


def _membership(db: Database, org_id: str, user_id: str) -> str | None:
    with db.read() as conn:
        row = conn.execute(
            "SELECT role FROM org_users WHERE org_id=? AND user_id=?", (org_id, user_id)
        ).fetchone()
    return None if row is None else str(row["role"])


def present_org(org: Mapping[str, Any], user_id: str, db: Database) -> dict[str, Any]:
    """The organization as ``user_id`` sees it (default org and role are per user)."""
    shaped = {**ORG_FIELDS, **org}
    shaped["address"] = {**ORG_FIELDS["address"], **(org.get("address") or {})}
    mine = organizations_for_user(db, user_id) if user_id else []
    shaped["is_default_org"] = bool(mine) and mine[0]["organization_id"] == org["organization_id"]
    shaped["user_role"] = _membership(db, str(org["organization_id"]), user_id) or "admin"
    shaped["account_created_date_formatted"] = shaped["account_created_date"]
    shaped["is_logo_uploaded"] = ""  # OAS types this flag as a string
    return shaped


def organizations_of(db: Database, user_id: str) -> list[dict[str, Any]]:
    return [present_org(org, user_id, db) for org in organizations_for_user(db, user_id)]


def org_for_user(db: Database, org_id: str, user_id: str) -> dict[str, Any]:
    """The organization, if the caller belongs to it (else 400 code 6041, like Zoho)."""
    org = get_organization(db, org_id)
    if org is None or (user_id and _membership(db, org_id, user_id) is None):
        raise not_associated(org_id)
    return org


def _fiscal_month(value: Any) -> int:
    """0-11 (UNCONFIRMED numbering); month names are accepted too."""
    text = str(value).strip().lower()
    if text in _MONTHS:
        return _MONTHS.index(text)
    try:
        month = int(text)
    except ValueError:
        raise invalid_value("fiscal_year_start_month") from None
    if not 0 <= month <= 11:
        raise invalid_value("fiscal_year_start_month")
    return month


def _org_fields(org: dict[str, Any], body: Mapping[str, Any]) -> None:
    for key in _ORG_TEXT:
        if key in body:
            org[key] = "" if body[key] is None else str(body[key]).strip()
    for source, target in _ORG_RENAMES.items():
        for key in (source, target):
            if key in body:
                org[target] = str(body[key] or "")
    if "fiscal_year_start_month" in body:
        org["fiscal_year_start_month"] = _fiscal_month(body["fiscal_year_start_month"])
    if "address" in body:
        if not isinstance(body["address"], Mapping):
            raise invalid_value("address")
        org["address"] = {
            **ORG_FIELDS["address"],
            **(org.get("address") or {}),
            **{k: str(v or "") for k, v in body["address"].items()},
        }
    if "custom_fields" in body:
        if not isinstance(body["custom_fields"], list):
            raise invalid_value("custom_fields")
        org["custom_fields"] = body["custom_fields"]
    if not org.get("name"):
        raise invalid_value("name")
    if len(str(org["name"])) > 100:
        raise ApiError(400, 15, "Please ensure that the name has less than 100 characters.")


def create_org(db: Database, clock: Clock, user_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /organizations``: the caller becomes its admin.

    The OAS requires name, currency_code, time_zone and portal_name; a missing
    portal_name is derived from the name (lenient, UNCONFIRMED).
    """
    for key in ("name", "currency_code", "time_zone"):
        if not str(body.get(key) or "").strip():
            raise invalid_value(key)
    code = str(body["currency_code"]).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise invalid_value("currency_code")
    draft: dict[str, Any] = {"name": str(body["name"]).strip()}
    _org_fields(draft, body)
    if not draft.get("portal_name"):
        draft["portal_name"] = re.sub(r"[^a-z0-9]", "", draft["name"].lower())[:30] or "org"
    org = create_organization(
        db,
        name=draft["name"],
        owner_user_id=user_id or "0",
        currency_code=code,
        time_zone=str(body["time_zone"]).strip(),
        created_date=clock.today().isoformat(),
        extra={k: v for k, v in draft.items() if k != "name"},
    )
    return org


def update_org(db: Database, org_id: str, user_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    org = org_for_user(db, org_id, user_id)
    if user_id and _membership(db, org_id, user_id) != "admin":
        raise not_authorized()
    if body.get("currency_id") and str(body["currency_id"]) != str(org.get("currency_id")):
        # The base currency of an organization with books cannot be swapped (UNCONFIRMED).
        raise invalid_value("currency_id")
    _org_fields(org, body)
    save_organization(db, org)
    return org


def set_org_active(db: Database, org_id: str, user_id: str, active: bool) -> dict[str, Any]:
    org = org_for_user(db, org_id, user_id)
    org["is_org_active"] = active
    save_organization(db, org)
    return org
