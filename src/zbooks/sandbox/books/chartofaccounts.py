"""Chart of accounts (scope accountants), api-facts §3.15."""

from __future__ import annotations

from dataclasses import replace

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.errors import invalid_value
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "accountants"


def _ids(request: BooksRequest) -> list[str]:
    raw = request.query.get("account_ids") or str(request.body.get("account_ids") or "")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise invalid_value("account_ids")
    return ids


@REGISTRY.route("POST", "/chartofaccounts", scope=SCOPE)
def create_account(request: BooksRequest) -> BooksResponse:
    record = coa.create_account(request.ledger, request.body)
    return ok(
        "The account has been created.",
        status=201,
        chart_of_account=coa.present_account(request.ledger, record),
    )


@REGISTRY.route("GET", "/chartofaccounts", scope=SCOPE)
def list_accounts(request: BooksRequest) -> BooksResponse:
    coa.ensure_default_accounts(request.ledger)
    spec = coa.COA_LIST
    if request.flag("showbalance"):
        spec = replace(spec, present=coa.present_account_with_balance)
    query = dict(request.query)
    query.setdefault("sort_order", "A")
    result = list_page(request.ledger, query, spec)
    return ok(chartofaccounts=result.records, page_context=result.page_context)


@REGISTRY.route("GET", "/chartofaccounts/accounttransactions", scope=SCOPE)
def list_account_transactions(request: BooksRequest) -> BooksResponse:
    rows, context = coa.account_transactions(request.ledger, request.query)
    return ok(transactions=rows, page_context=context)


@REGISTRY.route("GET", "/chartofaccounts/{account_id}", scope=SCOPE)
def get_account(request: BooksRequest) -> BooksResponse:
    record = coa.get_account(request.ledger, request.path_params["account_id"])
    shaped = coa.present_account_detail(request.ledger, record)
    # OAS quirk (Appendix C): the object is documented at the top level; live Zoho is
    # expected to use the singular key. Both are sent so either reading works.
    return ok(chart_of_account=shaped, **shaped)


@REGISTRY.route("PUT", "/chartofaccounts/{account_id}", scope=SCOPE)
def update_account(request: BooksRequest) -> BooksResponse:
    record = coa.update_account(request.ledger, request.path_params["account_id"], request.body)
    return ok(
        "The details of the account have been updated.",
        chart_of_account=coa.present_account(request.ledger, record),
    )


@REGISTRY.route("DELETE", "/chartofaccounts/{account_id}", scope=SCOPE)
def delete_account(request: BooksRequest) -> BooksResponse:
    coa.delete_account(request.ledger, request.path_params["account_id"])
    return ok("The account has been deleted.")


@REGISTRY.route("POST", "/chartofaccounts/{account_id}/active", scope=SCOPE)
def mark_active(request: BooksRequest) -> BooksResponse:
    coa.set_account_active(request.ledger, request.path_params["account_id"], True)
    return ok("The account has been marked as active.", status=201)


@REGISTRY.route("POST", "/chartofaccounts/{account_id}/inactive", scope=SCOPE)
def mark_inactive(request: BooksRequest) -> BooksResponse:
    coa.set_account_active(request.ledger, request.path_params["account_id"], False)
    return ok("The account has been marked as inactive.", status=201)


def _bulk_active(request: BooksRequest, active: bool) -> None:
    ids = _ids(request)
    with request.ledger.db.transaction():
        for account_id in ids:
            coa.get_account(request.ledger, account_id)
        for account_id in ids:
            coa.set_account_active(request.ledger, account_id, active)


@REGISTRY.route("POST", "/chartofaccounts/active", scope=SCOPE)
def bulk_mark_active(request: BooksRequest) -> BooksResponse:
    _bulk_active(request, True)
    return ok("The account has been marked as active.")


@REGISTRY.route("POST", "/chartofaccounts/inactive", scope=SCOPE)
def bulk_mark_inactive(request: BooksRequest) -> BooksResponse:
    _bulk_active(request, False)
    return ok("The account has been marked as inactive.")


@REGISTRY.route("DELETE", "/chartofaccounts/bulkdelete", scope=SCOPE)
def bulk_delete(request: BooksRequest) -> BooksResponse:
    ids = _ids(request)
    with request.ledger.db.transaction():
        for account_id in ids:
            coa.delete_account(request.ledger, account_id)
    return ok("The account has been deleted.")
