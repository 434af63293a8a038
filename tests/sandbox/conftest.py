"""Sandbox fixtures: a ledger over an in-memory database, and a direct route caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, load_routes
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.db import Database
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.organizations import create_organization


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    db = Database(":memory:")
    org = create_organization(db, name="Test Org", owner_user_id="u1")
    yield Ledger(db=db, clock=Clock(), org_id=org["organization_id"])
    db.close()


Call = Callable[..., BooksResponse]


@pytest.fixture
def call(ledger: Ledger) -> Call:
    """Invoke a Books route without HTTP: ``call("POST", "/invoices", body={...})``."""
    registry = load_routes()

    def invoke(
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> BooksResponse:
        route, params = registry.match(method, path)
        request = BooksRequest(
            method=method,
            path=path,
            path_params=params,
            query=query or {},
            body=body or {},
            ledger=ledger,
            user_id="u1",
        )
        return route.handler(request)

    return invoke
