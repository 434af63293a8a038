"""Search and describe: every operation reachable through two small tools."""

from __future__ import annotations

import pytest

from zbooks.mcp.catalog import UnknownOperation, describe, find, search
from zbooks.resources import operations


def test_search_finds_operations_by_words() -> None:
    assert search("void invoice")[0]["operation"] == "invoices.void"
    found = [row["operation"] for row in search("update contact")]
    assert "contacts.update" in found[:3]
    assert search("void invoice")[0]["kind"] == "destructive"
    assert search("   ") == []


def test_every_operation_can_be_found_and_described() -> None:
    for op in operations():
        described = describe(find(f"{op.module}.{op.method}"))
        assert described["http"] == f"{op.http_method} {op.path}"


def test_describe_trims_the_body_schema_from_the_generated_model() -> None:
    described = describe(find("invoices.update"))
    assert {"name": "invoice_id", "in": "path", "type": "str", "required": True} in described[
        "parameters"
    ]
    body = described["body"]
    assert body["customer_id"] == "string" and body["date"] == "string(date)"
    line = body["line_items"][0]
    assert isinstance(line, dict) and line["item_id"] == "string"
    # Updates are partial (api-facts: omitted fields are left unchanged): the reviewed
    # requirements (tools/gen_requests.py) keep the OAS's create list off updates.
    assert described["body_required"] == []
    assert len(str(described)) < 8000
    created = describe(find("invoices.create"))
    assert set(created["body_required"]) == {"customer_id", "line_items"}


def test_unknown_operation_suggests_close_ids() -> None:
    with pytest.raises(UnknownOperation, match=r"Did you mean invoices\.list"):
        find("invoice.list")
