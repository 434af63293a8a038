"""The curated tools agree with the sandbox's own numbers (in-process MCP client)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp.client import Client as MCPClient

from zbooks import AsyncClient, Client
from zbooks.mcp.books import Books
from zbooks.mcp.budget import CallBudget
from zbooks.mcp.policy import Policy
from zbooks.mcp.practice import Practice, practice_sandbox
from zbooks.mcp.server import build_server


@pytest.fixture(scope="module")
def practice() -> Iterator[Practice]:
    with practice_sandbox() as running:
        yield running


def _client_kwargs(practice: Practice) -> dict[str, Any]:
    return {
        "client_id": practice.client_id,
        "client_secret": practice.client_secret,
        "accounts_url": practice.base_url,
        "api_url": practice.api_url,
        "token_store": practice.store,
        "organization_id": practice.organization_id,
        "env": {},
    }


@asynccontextmanager
async def connect(practice: Practice) -> AsyncIterator[MCPClient]:
    """An in-process MCP session (opened and closed in the test's own task)."""
    books = Books(AsyncClient(**_client_kwargs(practice)), CallBudget(500))
    try:
        async with MCPClient(build_server(books, Policy())) as client:
            yield client
    finally:
        await books.aclose()


async def _json(client: MCPClient, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error, text
    data: dict[str, Any] = json.loads(text)
    return data


def _open(practice: Practice, path: str, key: str) -> list[dict[str, Any]]:
    with Client(**_client_kwargs(practice)) as sdk:
        return list(sdk.paginate(path, params={"status": "unpaid"}, key=key))


@pytest.mark.parametrize(
    ("tool", "path", "module", "party"),
    [
        ("receivables_summary", "/invoices", "invoices", "customer"),
        ("payables_summary", "/bills", "bills", "vendor"),
    ],
)
async def test_summary_matches_the_open_documents(
    practice: Practice, tool: str, path: str, module: str, party: str
) -> None:
    rows = _open(practice, path, module)
    assert rows, "the demo data has open documents"
    expected_open: dict[str, float] = defaultdict(float)
    expected_overdue: dict[str, float] = defaultdict(float)
    for row in rows:
        expected_open[row[f"{party}_id"]] += float(row["balance"])
        if row["status"] == "overdue":
            expected_overdue[row[f"{party}_id"]] += float(row["balance"])
    async with connect(practice) as mcp:
        summary = await _json(mcp, tool, limit=200)
        first = await _json(mcp, tool, limit=1)
    groups = summary[f"{party}s"]
    assert summary[f"{party}_count"] == len(expected_open) == len(groups)
    for group in groups:
        key = group[f"{party}_id"]
        assert group["open_balance"] == pytest.approx(expected_open[key], abs=0.01)
        assert group["overdue_balance"] == pytest.approx(expected_overdue[key], abs=0.01)
    balances = [g["open_balance"] for g in groups]
    assert balances == sorted(balances, reverse=True)
    total = sum(t["open"] for t in summary["totals"].values())
    assert total == pytest.approx(sum(expected_open.values()), abs=0.01)
    assert first[f"{party}s"] == groups[:1]


async def test_list_filters_limit_and_fields(practice: Practice) -> None:
    async with connect(practice) as mcp:
        await _lists(mcp)


async def _lists(mcp: MCPClient) -> None:
    bills = await _json(mcp, "list_bills", status="paid", limit=2, fields="bill_id,status")
    assert 0 < len(bills["bills"]) <= 2
    assert all(set(b) == {"bill_id", "status"} and b["status"] == "paid" for b in bills["bills"])
    invoices = await _json(mcp, "list_invoices", limit=1)
    (invoice,) = invoices["invoices"]
    full = await _json(mcp, "get_invoice", invoice_id=invoice["invoice_id"])
    assert full["invoice"]["line_items"]  # the record, not the list row
    some = await _json(
        mcp, "get_invoice", invoice_id=invoice["invoice_id"], fields="invoice_number,total"
    )
    assert some["invoice"] == {k: invoice[k] for k in ("invoice_number", "total")}
