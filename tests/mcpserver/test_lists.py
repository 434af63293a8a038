"""Pages of key fields with an opaque cursor that carries the query."""

from __future__ import annotations

import pytest

from zbooks.mcp.lists import (
    BadCursor,
    check_limit,
    decode_cursor,
    encode_cursor,
    page_result,
    pick,
)


def test_cursor_round_trips_and_belongs_to_one_tool() -> None:
    cursor = encode_cursor("list_bills", 3, {"status": "open", "per_page": 2})
    assert decode_cursor("list_bills", cursor) == (3, {"status": "open", "per_page": 2})
    with pytest.raises(BadCursor, match="belongs to list_bills"):
        decode_cursor("list_invoices", cursor)
    with pytest.raises(BadCursor, match="not one this server returned"):
        decode_cursor("list_bills", "not-a-cursor")


def test_page_result_trims_fields_and_offers_the_next_page() -> None:
    envelope = {
        "code": 0,
        "bills": [{"bill_id": "1", "bill_number": "B-1", "line_items": [1, 2], "total": 5}],
        "page_context": {"page": 1, "has_more_page": True},
    }
    result = page_result(
        tool="list_bills",
        module="bills",
        envelope=envelope,
        page=1,
        query={"per_page": 1},
        fields=None,
    )
    assert result["bills"] == [{"bill_id": "1", "bill_number": "B-1", "total": 5}]
    assert decode_cursor("list_bills", result["next_cursor"]) == (2, {"per_page": 1})
    last = page_result(
        tool="list_bills",
        module="bills",
        envelope={"bills": []},
        page=2,
        query={},
        fields=["bill_id"],
    )
    assert last["has_more"] is False and "next_cursor" not in last
    assert pick(envelope["bills"][0], ["*"], "bills") == envelope["bills"][0]


@pytest.mark.parametrize("limit", [0, 201])
def test_limit_is_bounded_by_zohos_page_size(limit: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 200"):
        check_limit(limit)
