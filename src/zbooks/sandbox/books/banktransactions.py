"""Bank transactions and the uncategorized feed (scope banking), api-facts §3.18."""

from __future__ import annotations

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import banking
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "banking"


@REGISTRY.route("POST", "/banktransactions", scope=SCOPE)
def create_transaction(request: BooksRequest) -> BooksResponse:
    record = banking.create_transaction(request.ledger, request.body)
    return ok("The bank transaction has been recorded.", status=201,
              banktransaction=banking.present_transaction(request.ledger, record))


@REGISTRY.route("GET", "/banktransactions", scope=SCOPE)
def list_transactions(request: BooksRequest) -> BooksResponse:
    spec, query = banking.transaction_list_spec(request.query)
    result = list_page(request.ledger, query, spec)
    return ok(banktransactions=result.records, page_context=result.page_context)


@REGISTRY.route("GET", "/banktransactions/{bank_transaction_id}", scope=SCOPE)
def get_transaction(request: BooksRequest) -> BooksResponse:
    record = banking.get_transaction(request.ledger, request.path_params["bank_transaction_id"])
    return ok(banktransaction=banking.present_transaction(request.ledger, record))


@REGISTRY.route("PUT", "/banktransactions/{bank_transaction_id}", scope=SCOPE)
def update_transaction(request: BooksRequest) -> BooksResponse:
    record = banking.update_transaction(
        request.ledger, request.path_params["bank_transaction_id"], request.body
    )
    return ok("The bank transaction has been updated.",
              banktransaction=banking.present_transaction(request.ledger, record))


@REGISTRY.route("DELETE", "/banktransactions/{bank_transaction_id}", scope=SCOPE)
def delete_transaction(request: BooksRequest) -> BooksResponse:
    banking.delete_transaction(request.ledger, request.path_params["bank_transaction_id"])
    return ok("The transaction has been deleted.")


@REGISTRY.route("POST", "/banktransactions/uncategorized/{transaction_id}/categorize",
                scope=SCOPE)
def categorize(request: BooksRequest) -> BooksResponse:
    banking.categorize(request.ledger, request.path_params["transaction_id"], request.body)
    return ok("The transaction(s) have been categorized.", status=201)


@REGISTRY.route("POST", "/banktransactions/uncategorized/{transaction_id}/exclude",
                scope=SCOPE)
def exclude(request: BooksRequest) -> BooksResponse:
    banking.exclude(request.ledger, request.path_params["transaction_id"])
    return ok("The transaction has been excluded.", status=201)


@REGISTRY.route("POST", "/banktransactions/uncategorized/{transaction_id}/restore",
                scope=SCOPE)
def restore(request: BooksRequest) -> BooksResponse:
    banking.restore(request.ledger, request.path_params["transaction_id"])
    return ok("The excluded transaction(s) have been restored.", status=201)


@REGISTRY.route("POST", "/banktransactions/{transaction_id}/uncategorize", scope=SCOPE)
def uncategorize(request: BooksRequest) -> BooksResponse:
    banking.uncategorize(request.ledger, request.path_params["transaction_id"])
    return ok("Transaction(s) have been uncategorized.", status=201)
