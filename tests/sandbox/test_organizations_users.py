"""Organizations and users through the route handlers: the caller's organizations,
create/read/update, membership errors, the owner as an admin user, invitations."""

from __future__ import annotations

from typing import Any

import pytest

from zbooks.sandbox.accounts.service import AccountsService
from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, load_routes
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.organizations import add_member, create_organization

from .conftest import Call


def body_of(response: BooksResponse) -> dict[str, Any]:
    assert response.body is not None
    return response.body


def api_error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


def call_as(ledger: Ledger, user_id: str, method: str, path: str,
            body: dict[str, Any] | None = None) -> BooksResponse:
    """Like the ``call`` fixture, for another signed-in user."""
    route, params = load_routes().match(method, path)
    request = BooksRequest(method=method, path=path, path_params=params, query={},
                           body=body or {}, ledger=ledger, user_id=user_id)
    return route.handler(request)


NEW_ORG = {"name": "Second Books", "currency_code": "EUR", "time_zone": "Europe/Berlin",
           "portal_name": "secondbooks"}


# --- organizations ------------------------------------------------------------------------------
def test_user_with_two_organizations_lists_both(call: Call, ledger: Ledger) -> None:
    response = call("POST", "/organizations", body=NEW_ORG)
    assert (response.status, body_of(response)["message"]) == (201, "success")
    created = body_of(response)["organization"]
    assert (created["currency_code"], created["time_zone"]) == ("EUR", "Europe/Berlin")
    assert created["is_default_org"] is False and created["user_role"] == "admin"

    listed = body_of(call("GET", "/organizations"))["organizations"]
    assert [(o["organization_id"], o["is_default_org"]) for o in listed] == [
        (ledger.org_id, True), (created["organization_id"], False)]
    assert listed[1]["name"] == "Second Books" and listed[1]["plan_name"] == "Premium"
    assert body_of(call("GET", "/organizations/user"))["organizations"] == listed
    # Someone else sees only their own organization.
    other = create_organization(ledger.db, name="Elsewhere", owner_user_id="u2")
    theirs = body_of(call_as(ledger, "u2", "GET", "/organizations"))["organizations"]
    assert [(o["organization_id"], o["is_default_org"]) for o in theirs] == [
        (other["organization_id"], True)]


def test_create_organization_validation(call: Call) -> None:
    for missing in ("name", "currency_code", "time_zone"):
        body = {k: v for k, v in NEW_ORG.items() if k != missing}
        err = api_error(call, "POST", "/organizations", body=body)
        assert (err.status, err.code, err.message) == (
            400, 4, f"Invalid value passed for {missing}")
    err = api_error(call, "POST", "/organizations", body={**NEW_ORG, "currency_code": "EURO"})
    assert err.message == "Invalid value passed for currency_code"


def test_get_and_update_organization(call: Call, ledger: Ledger) -> None:
    fetched = body_of(call("GET", f"/organizations/{ledger.org_id}"))["organization"]
    assert fetched["name"] == "Test Org" and fetched["address"]["city"] == ""
    response = call("PUT", f"/organizations/{ledger.org_id}", body={
        "name": "Renamed Org", "fiscal_year_start_month": "april", "phone": "+1 555 0100",
        "address": {"city": "Austin", "state": "TX"}, "taxid_label": "EIN",
        "taxid_value": "12-3456789"})
    assert body_of(response)["message"] == "success"
    updated = body_of(response)["organization"]
    assert (updated["name"], updated["fiscal_year_start_month"], updated["phone"]) == (
        "Renamed Org", 3, "+1 555 0100")
    assert updated["address"]["city"] == "Austin" and updated["address"]["zip"] == ""
    assert (updated["tax_id_label"], updated["tax_id_value"]) == ("EIN", "12-3456789")
    again = body_of(call("GET", f"/organizations/{ledger.org_id}"))["organization"]
    assert again == updated
    err = api_error(call, "PUT", f"/organizations/{ledger.org_id}", body={"name": ""})
    assert err.message == "Invalid value passed for name"


def test_organization_of_someone_else_is_refused_with_6041(call: Call, ledger: Ledger) -> None:
    other = create_organization(ledger.db, name="Not Mine", owner_user_id="u2")
    err = api_error(call, "GET", f"/organizations/{other['organization_id']}")
    assert (err.status, err.code) == (400, 6041)
    assert err.message == (
        f"This user is not associated with the CompanyID/CompanyName:{other['organization_id']}."
    )
    assert api_error(call, "GET", "/organizations/9999999").code == 6041


def test_mark_organization_inactive(call: Call, ledger: Ledger) -> None:
    response = call("POST", f"/organizations/{ledger.org_id}/inactive")
    assert body_of(response)["message"] == "The organization has been marked as inactive."
    fetched = body_of(call("GET", f"/organizations/{ledger.org_id}"))["organization"]
    assert fetched["is_org_active"] is False


# --- users ---------------------------------------------------------------------------------------
def test_users_me_is_the_owner_as_an_admin(call: Call, ledger: Ledger) -> None:
    response = call("GET", "/users/me")
    me = body_of(response)["user"]
    assert (me["user_id"], me["user_role"], me["status"], me["is_current_user"]) == (
        "u1", "admin", "active", True)
    assert me["email_ids"] == [{"email": me["email"], "is_selected": True}]
    assert me["role_id"].isdigit()
    listed = body_of(call("GET", "/users"))["users"]
    assert [u["user_id"] for u in listed] == ["u1"]


def test_member_identity_comes_from_the_accounts_service(ledger: Ledger) -> None:
    accounts = AccountsService(ledger.db, ledger.clock, SandboxConfig())
    user_id = accounts.ensure_user("ada@example.com", "Ada Lovelace")
    add_member(ledger.db, ledger.org_id, user_id, role="staff")
    me = body_of(call_as(ledger, user_id, "GET", "/users/me"))["user"]
    assert (me["name"], me["email"], me["user_role"]) == ("Ada Lovelace", "ada@example.com",
                                                          "staff")
    owner = body_of(call_as(ledger, user_id, "GET", "/users/u1"))["user"]
    assert owner["is_current_user"] is False and owner["user_role"] == "admin"


def test_invite_update_and_remove_a_user(call: Call) -> None:
    response = call("POST", "/users", body={"name": "Grace Hopper",
                                            "email": "grace@example.com", "cost_rate": 40})
    body = body_of(response)
    assert (response.status, body) == (200, {"code": 0,
                                              "message": "Your invitation has been sent."})
    invited = body_of(call("GET", "/users", query={"filter_by": "Status.Invited"}))["users"]
    assert [(u["name"], u["status"], u["user_role"]) for u in invited] == [
        ("Grace Hopper", "invited", "staff")]
    user_id = invited[0]["user_id"]
    dup = api_error(call, "POST", "/users", body={"name": "Again", "email": "grace@example.com"})
    assert dup.status == 400
    bad = api_error(call, "POST", "/users", body={"name": "No Mail", "email": "nope"})
    assert bad.message == "Invalid value passed for email"

    assert body_of(call("POST", f"/users/{user_id}/invite"))["message"] == (
        "Your invitation has been sent.")
    assert api_error(call, "POST", f"/users/{user_id}/active").status == 400  # not accepted
    response = call("PUT", f"/users/{user_id}", body={"name": "Rear Admiral Hopper",
                                                      "user_role": "admin"})
    assert body_of(response) == {"code": 0, "message": "The user information has been updated."}
    fetched = body_of(call("GET", f"/users/{user_id}"))["user"]
    assert (fetched["name"], fetched["user_role"], fetched["cost_rate"]) == (
        "Rear Admiral Hopper", "admin", 40.0)
    response = call("DELETE", f"/users/{user_id}")
    assert body_of(response)["message"] == "The user has been removed from your organization."
    assert api_error(call, "GET", f"/users/{user_id}").status == 404


def test_active_inactive_and_self_protection(call: Call, ledger: Ledger) -> None:
    add_member(ledger.db, ledger.org_id, "u3", role="staff")
    response = call("POST", "/users/u3/inactive")
    assert body_of(response)["message"] == "The user has been marked as inactive."
    inactive = body_of(call("GET", "/users", query={"filter_by": "Status.Inactive"}))["users"]
    assert [u["user_id"] for u in inactive] == ["u3"]
    assert body_of(call("POST", "/users/u3/active"))["message"] == (
        "The user has been marked as active.")
    assert api_error(call, "POST", "/users/u1/inactive").status == 400
    assert api_error(call, "DELETE", "/users/u1").status == 400
    call("DELETE", "/users/u3")
    # Removing a member also ends their access to the organization.
    with ledger.db.read() as conn:
        row = conn.execute("SELECT 1 FROM org_users WHERE org_id=? AND user_id='u3'",
                           (ledger.org_id,)).fetchone()
    assert row is None
