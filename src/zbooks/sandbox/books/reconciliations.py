"""Bank reconciliations under ``/bankaccounts/{account_id}/reconciliations`` (scope
banking). The OAS documents HTTP 200 for every operation, create included, and no body
key; ``reconciliation``/``reconciliations`` follow the other banking endpoints."""

from __future__ import annotations

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import reconciliations as recs
from zbooks.sandbox.ledger.banking import get_bank_account
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "banking"
BASE = "/bankaccounts/{account_id}/reconciliations"


def _ids(request: BooksRequest) -> tuple[str, str]:
    return request.path_params["account_id"], request.path_params["reconciliation_id"]


@REGISTRY.route("POST", BASE, scope=SCOPE)
def create_reconciliation(request: BooksRequest) -> BooksResponse:
    record = recs.create_reconciliation(
        request.ledger, request.path_params["account_id"], request.body
    )
    return ok("The reconciliation has been created.",
              reconciliation=recs.present_reconciliation(request.ledger, record))


@REGISTRY.route("GET", BASE, scope=SCOPE)
def list_reconciliations(request: BooksRequest) -> BooksResponse:
    account_id = request.path_params["account_id"]
    get_bank_account(request.ledger, account_id)
    spec = recs.list_spec(account_id)
    result = list_page(request.ledger, request.query, spec)
    return ok(reconciliations=result.records, page_context=result.page_context)


@REGISTRY.route("GET", BASE + "/{reconciliation_id}", scope=SCOPE)
def get_reconciliation(request: BooksRequest) -> BooksResponse:
    record = recs.get_reconciliation(request.ledger, *_ids(request))
    return ok(reconciliation=recs.present_reconciliation(request.ledger, record))


@REGISTRY.route("PUT", BASE + "/{reconciliation_id}", scope=SCOPE)
def update_reconciliation(request: BooksRequest) -> BooksResponse:
    record = recs.update_reconciliation(request.ledger, *_ids(request), request.body)
    return ok("The reconciliation has been updated.",
              reconciliation=recs.present_reconciliation(request.ledger, record))


@REGISTRY.route("DELETE", BASE + "/{reconciliation_id}", scope=SCOPE)
def delete_reconciliation(request: BooksRequest) -> BooksResponse:
    recs.delete_reconciliation(request.ledger, *_ids(request))
    return ok("The reconciliation has been deleted.")


@REGISTRY.route("PUT", BASE + "/{reconciliation_id}/draft", scope=SCOPE)
def save_draft(request: BooksRequest) -> BooksResponse:
    record = recs.update_reconciliation(
        request.ledger, *_ids(request), request.body, save_option="draft"
    )
    return ok("The reconciliation draft has been saved.",
              reconciliation=recs.present_reconciliation(request.ledger, record))
