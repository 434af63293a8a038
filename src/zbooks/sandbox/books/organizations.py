"""Organizations (scope settings): the caller's organizations, create, read, update.

``GET/POST /organizations`` and ``GET /organizations/user`` need no organization_id
(endpoints.md marks them ``[no org]``); the others name the organization in the path.
"""

from __future__ import annotations

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import users as people

SCOPE = "settings"


@REGISTRY.route("GET", "/organizations", scope=SCOPE, needs_org=False)
def list_organizations(request: BooksRequest) -> BooksResponse:
    return ok(organizations=people.organizations_of(request.ledger.db, request.user_id))


@REGISTRY.route("GET", "/organizations/user", scope=SCOPE, needs_org=False)
def list_organizations_for_user(request: BooksRequest) -> BooksResponse:
    return ok(organizations=people.organizations_of(request.ledger.db, request.user_id))


@REGISTRY.route("POST", "/organizations", scope=SCOPE, needs_org=False)
def create_organization(request: BooksRequest) -> BooksResponse:
    db = request.ledger.db
    org = people.create_org(db, request.ledger.clock, request.user_id, request.body)
    return ok(status=201, organization=people.present_org(org, request.user_id, db))


@REGISTRY.route("GET", "/organizations/{organization_id}", scope=SCOPE)
def get_organization(request: BooksRequest) -> BooksResponse:
    db = request.ledger.db
    org = people.org_for_user(db, request.path_params["organization_id"], request.user_id)
    return ok(organization=people.present_org(org, request.user_id, db))


@REGISTRY.route("PUT", "/organizations/{organization_id}", scope=SCOPE)
def update_organization(request: BooksRequest) -> BooksResponse:
    db = request.ledger.db
    org = people.update_org(
        db, request.path_params["organization_id"], request.user_id, request.body
    )
    return ok(organization=people.present_org(org, request.user_id, db))


@REGISTRY.route("POST", "/organizations/{organization_id}/inactive", scope=SCOPE)
def mark_organization_inactive(request: BooksRequest) -> BooksResponse:
    people.set_org_active(
        request.ledger.db, request.path_params["organization_id"], request.user_id, False
    )
    return ok("The organization has been marked as inactive.")
