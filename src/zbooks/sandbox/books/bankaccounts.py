"""Bank accounts and statement imports (scope banking), api-facts §3.17."""

from __future__ import annotations

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger import banking
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "banking"


@REGISTRY.route("POST", "/bankaccounts", scope=SCOPE)
def create_bank_account(request: BooksRequest) -> BooksResponse:
    record = banking.create_bank_account(request.ledger, request.body)
    return ok("The account has been created.", status=201,
              bankaccount=banking.present_bank_account(request.ledger, record))


@REGISTRY.route("GET", "/bankaccounts", scope=SCOPE)
def list_bank_accounts(request: BooksRequest) -> BooksResponse:
    coa.ensure_default_accounts(request.ledger)
    query = dict(request.query)
    query.setdefault("sort_order", "A")
    result = list_page(request.ledger, query, banking.BANK_LIST)
    return ok(bankaccounts=result.records, page_context=result.page_context)


@REGISTRY.route("GET", "/bankaccounts/{account_id}", scope=SCOPE)
def get_bank_account(request: BooksRequest) -> BooksResponse:
    record = banking.get_bank_account(request.ledger, request.path_params["account_id"])
    return ok(bankaccount=banking.present_bank_account(request.ledger, record))


@REGISTRY.route("PUT", "/bankaccounts/{account_id}", scope=SCOPE)
def update_bank_account(request: BooksRequest) -> BooksResponse:
    record = banking.update_bank_account(
        request.ledger, request.path_params["account_id"], request.body
    )
    return ok("The details of the account has been updated.",
              bankaccount=banking.present_bank_account(request.ledger, record))


@REGISTRY.route("DELETE", "/bankaccounts/{account_id}", scope=SCOPE)
def delete_bank_account(request: BooksRequest) -> BooksResponse:
    banking.delete_bank_account(request.ledger, request.path_params["account_id"])
    return ok("The account has been deleted.")


@REGISTRY.route("POST", "/bankaccounts/{account_id}/active", scope=SCOPE)
def mark_active(request: BooksRequest) -> BooksResponse:
    banking.set_bank_account_active(request.ledger, request.path_params["account_id"], True)
    return ok("The account has been marked as active.", status=201)


@REGISTRY.route("POST", "/bankaccounts/{account_id}/inactive", scope=SCOPE)
def mark_inactive(request: BooksRequest) -> BooksResponse:
    banking.set_bank_account_active(request.ledger, request.path_params["account_id"], False)
    return ok("The account has been marked as inactive.", status=201)


@REGISTRY.route("POST", "/bankstatements", scope=SCOPE)
def import_statement(request: BooksRequest) -> BooksResponse:
    banking.import_statement(request.ledger, request.body)
    return ok("Your bank statement has been imported.", status=201)


@REGISTRY.route("GET", "/bankaccounts/{account_id}/statement/lastimported", scope=SCOPE)
def last_imported_statement(request: BooksRequest) -> BooksResponse:
    return ok(statement=banking.last_statement(request.ledger, request.path_params["account_id"]))


@REGISTRY.route("DELETE", "/bankaccounts/{account_id}/statement/{statement_id}", scope=SCOPE)
def delete_statement(request: BooksRequest) -> BooksResponse:
    banking.delete_statement(
        request.ledger, request.path_params["account_id"], request.path_params["statement_id"]
    )
    return ok("You have successfully deleted the last imported statement.")
