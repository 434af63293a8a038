"""The context budget of the tool listing, and the per-session call budget."""

from __future__ import annotations

import pytest

from zbooks.mcp.books import Books
from zbooks.mcp.budget import BudgetExhausted, CallBudget
from zbooks.mcp.policy import Policy
from zbooks.mcp.server import build_server, tool_listing_size

CURATED = {
    "zoho_books_search",
    "zoho_books_describe",
    "zoho_books_call",
    "list_invoices",
    "get_invoice",
    "list_contacts",
    "get_contact",
    "receivables_summary",
    "list_bills",
    "payables_summary",
}


def test_tool_listing_fits_an_agents_context() -> None:
    server = build_server(Books(None, CallBudget()), Policy())  # type: ignore[arg-type]
    size = tool_listing_size(server)
    # docs/mcp.md reports these numbers; the budget is < 20 tools and
    # < 8,000 characters of descriptions (tool + parameter descriptions).
    assert size["tools"] == len(CURATED) < 20
    assert size["description_chars"] < 8000
    assert size["listing_chars"] < 12000


def test_budget_is_per_session_and_refuses_past_the_limit() -> None:
    budget = CallBudget(2)
    budget.spend("a")
    budget.spend("a")
    with pytest.raises(BudgetExhausted, match="--max-calls 2"):
        budget.spend("a")
    budget.spend("b")  # another session has its own budget
    assert budget.used("a") == 2 and budget.remaining("b") == 1
