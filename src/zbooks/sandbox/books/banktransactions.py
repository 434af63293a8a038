"""Bank transactions and the uncategorized feed (scope banking), api-facts §3.18."""

from __future__ import annotations

from collections.abc import Callable

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


@REGISTRY.route("GET", "/banktransactions/uncategorized/{transaction_id}/match", scope=SCOPE)
def matching_transactions(request: BooksRequest) -> BooksResponse:
    rows, page_context = banking.matching_candidates(
        request.ledger,
        request.path_params["transaction_id"],
        request.query,
        show_all=request.flag("show_all_transactions"),
    )
    return ok(matching_transactions=rows, page_context=page_context)


@REGISTRY.route("POST", "/banktransactions/uncategorized/{transaction_id}/match", scope=SCOPE)
def match(request: BooksRequest) -> BooksResponse:
    banking.match(
        request.ledger,
        request.path_params["transaction_id"],
        request.body,
        account_id=request.query.get("account_id", ""),
    )
    return ok("The transaction has been matched.", status=201)


@REGISTRY.route("POST", "/banktransactions/{transaction_id}/unmatch", scope=SCOPE)
def unmatch(request: BooksRequest) -> BooksResponse:
    banking.unmatch(
        request.ledger,
        request.path_params["transaction_id"],
        account_id=request.query.get("account_id", ""),
    )
    return ok("The transaction has been unmatched.", status=201)


def _categorize_as(module: str) -> Callable[[BooksRequest], BooksResponse]:
    def handler(request: BooksRequest) -> BooksResponse:
        banking.categorize_as(
            request.ledger, request.path_params["transaction_id"], module, request.body
        )
        return ok("The transaction(s) have been categorized.", status=201)

    handler.__name__ = f"categorize_as_{module}"
    return handler


for _module in ("customerpayments", "vendorpayments", "expenses"):
    REGISTRY.route(
        "POST",
        f"/banktransactions/uncategorized/{{transaction_id}}/categorize/{_module}",
        scope=SCOPE,
    )(_categorize_as(_module))
