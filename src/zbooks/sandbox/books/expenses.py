"""Expenses (scope expenses), api-facts §3.14.

Create answers HTTP 200 "The expense has been recorded." (the OAS documents 200, not
201, for this one).
"""

from __future__ import annotations

from zbooks.sandbox.books.attachments import attach_upload
from zbooks.sandbox.books.invoices import upsert
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import expenses
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "expenses"


@REGISTRY.route("POST", "/expenses", scope=SCOPE)
def create_expense(request: BooksRequest) -> BooksResponse:
    record = expenses.create_expense(request.ledger, request.body)
    record = attach_upload(request, "expenses", record, "expense_id", "Expense", "receipt")
    return ok(
        "The expense has been recorded.", expense=expenses.present_expense(request.ledger, record)
    )


@REGISTRY.route("GET", "/expenses", scope=SCOPE)
def list_expenses(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, expenses.LIST_SPEC)
    return ok(expenses=result.records, page_context=result.page_context)


@REGISTRY.route("PUT", "/expenses", scope=SCOPE)
def upsert_expense(request: BooksRequest) -> BooksResponse:
    """``X-Unique-Identifier-Key/-Value`` (+ ``X-Upsert``): the same rules as POST/PUT."""
    ledger = request.ledger
    record, created = upsert(
        request,
        module=expenses.MODULE,
        resource="Expense",
        id_field="expense_id",
        create=lambda: expenses.create_expense(ledger, request.body),
        update=lambda expense_id: expenses.update_expense(ledger, expense_id, request.body),
    )
    shaped = expenses.present_expense(ledger, record)
    if created:
        # The OAS documents 200 for every upsert, also when it creates; the wording
        # of the create is UNCONFIRMED (we reuse the POST's).
        return ok("The expense has been recorded.", 200, expense=shaped)
    return ok("Expense information has been updated.", expense=shaped)


@REGISTRY.route("GET", "/expenses/{expense_id}", scope=SCOPE)
def get_expense(request: BooksRequest) -> BooksResponse:
    record = expenses.get_expense(request.ledger, request.path_params["expense_id"])
    return ok(expense=expenses.present_expense(request.ledger, record))


@REGISTRY.route("PUT", "/expenses/{expense_id}", scope=SCOPE)
def update_expense(request: BooksRequest) -> BooksResponse:
    record = expenses.update_expense(
        request.ledger, request.path_params["expense_id"], request.body
    )
    return ok(
        "Expense information has been updated.",
        expense=expenses.present_expense(request.ledger, record),
    )


@REGISTRY.route("DELETE", "/expenses/{expense_id}", scope=SCOPE)
def delete_expense(request: BooksRequest) -> BooksResponse:
    expenses.delete_expense(request.ledger, request.path_params["expense_id"])
    return ok("The expense has been deleted.")
