"""Users of the organization (scope settings), api-facts §3.21.

``POST /users`` only invites: it answers 200 "Your invitation has been sent." with no
``user`` key (Appendix C); ``PUT`` answers without the object too.
"""

from __future__ import annotations

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import users as people
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "settings"


@REGISTRY.route("GET", "/users", scope=SCOPE)
def list_users(request: BooksRequest) -> BooksResponse:
    people.ensure_members(request.ledger)
    spec = people.list_spec_for(request.user_id)
    query = dict(request.query)
    query.setdefault("sort_order", "A")
    result = list_page(request.ledger, query, spec)
    return ok(users=result.records, page_context=result.page_context)


@REGISTRY.route("POST", "/users", scope=SCOPE)
def create_user(request: BooksRequest) -> BooksResponse:
    people.invite_user(request.ledger, request.body)
    return ok("Your invitation has been sent.")


@REGISTRY.route("GET", "/users/me", scope=SCOPE)
def get_current_user(request: BooksRequest) -> BooksResponse:
    record = people.get_user(request.ledger, request.user_id)
    return ok(user=people.present_user(request.ledger, record, request.user_id))


@REGISTRY.route("GET", "/users/{user_id}", scope=SCOPE)
def get_user(request: BooksRequest) -> BooksResponse:
    record = people.get_user(request.ledger, request.path_params["user_id"])
    return ok(user=people.present_user(request.ledger, record, request.user_id))


@REGISTRY.route("PUT", "/users/{user_id}", scope=SCOPE)
def update_user(request: BooksRequest) -> BooksResponse:
    people.update_user(request.ledger, request.path_params["user_id"], request.body)
    return ok("The user information has been updated.")


@REGISTRY.route("DELETE", "/users/{user_id}", scope=SCOPE)
def delete_user(request: BooksRequest) -> BooksResponse:
    people.delete_user(request.ledger, request.path_params["user_id"], request.user_id)
    return ok("The user has been removed from your organization.")


@REGISTRY.route("POST", "/users/{user_id}/invite", scope=SCOPE)
def invite_user(request: BooksRequest) -> BooksResponse:
    people.reinvite(request.ledger, request.path_params["user_id"])
    return ok("Your invitation has been sent.")


@REGISTRY.route("POST", "/users/{user_id}/active", scope=SCOPE)
def mark_user_active(request: BooksRequest) -> BooksResponse:
    people.set_active(request.ledger, request.path_params["user_id"], True, request.user_id)
    return ok("The user has been marked as active.")


@REGISTRY.route("POST", "/users/{user_id}/inactive", scope=SCOPE)
def mark_user_inactive(request: BooksRequest) -> BooksResponse:
    people.set_active(request.ledger, request.path_params["user_id"], False, request.user_id)
    return ok("The user has been marked as inactive.")
