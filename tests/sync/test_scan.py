"""The page-by-page list scan over a fake list endpoint (no HTTP)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from zbooks.errors import ValidationError
from zbooks.sync import timeutil
from zbooks.sync.modules import MODULES, ModuleSpec
from zbooks.sync.scan import ListScan, Position

SPEC = MODULES["invoices"]  # keyset: filter and sort by last_modified_time


def ts(second: int) -> str:
    return f"2026-11-24T10:{second // 60:02d}:{second % 60:02d}+0530"


class FakeList:
    """A list endpoint: ``last_modified_time`` filter (>=), sort, pages."""

    def __init__(self, records: list[dict[str, Any]], *, sortable: bool = True) -> None:
        self.records = records
        self.sortable = sortable
        self.calls: list[dict[str, Any]] = []
        self.on_call: Any = None

    def __call__(self, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(dict(params))
        if self.on_call is not None:
            self.on_call(len(self.calls))
        if params.get("sort_column") == "last_modified_time" and not self.sortable:
            raise ValidationError("Invalid value passed for sort_column", status=400, code=4)
        rows = list(self.records)
        if "last_modified_time" in params:
            since = timeutil.parse(params["last_modified_time"])
            rows = [r for r in rows if timeutil.parse(r["last_modified_time"]) >= since]
        if params.get("sort_column") == "last_modified_time":
            rows.sort(key=lambda r: (timeutil.parse(r["last_modified_time"]), r["n"]))
        page, per_page = params["page"], params["per_page"]
        chunk = rows[(page - 1) * per_page: page * per_page]
        return {
            "code": 0,
            "invoices": [dict(r) for r in chunk],
            "page_context": {"page": page, "has_more_page": len(rows) > page * per_page},
        }


def make(n: int, stamp: Any) -> list[dict[str, Any]]:
    return [{"invoice_id": str(1000 + i), "n": i, "last_modified_time": stamp(i)}
            for i in range(n)]


def scan_ids(spec: ModuleSpec, fake: FakeList, start: Position, per_page: int = 5,
             strategy: Any = None) -> list[str]:
    scan = ListScan(spec, strategy or spec.strategy, fake, start, per_page=per_page)
    return [r["invoice_id"] for page in scan for r in page.rows]


def test_keyset_moves_since_forward_and_restarts_at_page_one() -> None:
    fake = FakeList(make(12, lambda i: ts(i)))  # distinct timestamps
    pages = list(ListScan(SPEC, "keyset", fake, Position(None), per_page=5))
    assert [p.position for p in pages] == [Position(None, 1), Position(ts(4), 1),
                                           Position(ts(8), 1)]
    assert pages[-1].next is None and pages[0].max_modified == ts(4)
    assert fake.calls[1]["last_modified_time"] == ts(4)
    assert fake.calls[1]["sort_column"] == "last_modified_time"
    assert fake.calls[1]["sort_order"] == "A"
    seen = [r["invoice_id"] for p in pages for r in p.rows]
    assert set(seen) == {str(1000 + i) for i in range(12)}  # boundary rows come twice


def test_keyset_steps_through_pages_when_a_page_shares_one_timestamp() -> None:
    # 12 records in the same second (a bulk edit), then 3 later ones.
    fake = FakeList(make(12, lambda i: ts(0)) + make(15, lambda i: ts(5))[12:])
    pages = list(ListScan(SPEC, "keyset", fake, Position(None), per_page=5))
    positions = [p.position for p in pages]
    assert positions[:3] == [Position(None, 1), Position(ts(0), 1), Position(ts(0), 2)]
    seen = {r["invoice_id"] for p in pages for r in p.rows}
    assert seen == {str(1000 + i) for i in range(15)}


def test_keyset_sees_a_record_modified_while_the_scan_runs() -> None:
    records = make(20, lambda i: ts(i))
    fake = FakeList(records)

    def edit(call: int) -> None:
        if call == 2:  # after the first page: an already-read record and an unread one move
            records[1]["last_modified_time"] = ts(59)
            records[10]["last_modified_time"] = ts(58)

    fake.on_call = edit
    seen = scan_ids(SPEC, fake, Position(None))
    assert set(seen) == {str(1000 + i) for i in range(20)}


def test_resuming_from_a_saved_position_reads_only_the_rest() -> None:
    fake = FakeList(make(12, lambda i: ts(i)))
    seen = scan_ids(SPEC, fake, Position(ts(8), 1))
    assert seen == ["1008", "1009", "1010", "1011"]


def test_refused_sort_falls_back_to_the_filtered_scan() -> None:
    fake = FakeList(make(7, lambda i: ts(i)), sortable=False)
    scan = ListScan(SPEC, "keyset", fake, Position(ts(2)), per_page=5)
    pages = list(scan)
    assert scan.strategy == "filtered" and pages[0].strategy == "filtered"
    assert [p.position for p in pages] == [Position(ts(2), 1)]
    assert fake.calls[-1]["sort_column"] == "created_time"
    assert fake.calls[-1]["last_modified_time"] == ts(2)


def test_other_validation_errors_are_not_swallowed() -> None:
    def fetch(params: dict[str, Any]) -> dict[str, Any]:
        raise ValidationError("Invalid value passed for last_modified_time", status=400, code=4)

    with pytest.raises(ValidationError):
        list(ListScan(SPEC, "keyset", fetch, Position(ts(1))))


def test_filtered_and_full_scans_page_in_a_stable_documented_order() -> None:
    bills = MODULES["bills"]
    items = MODULES["items"]
    params = ListScan(bills, "filtered", dict, Position(ts(3), 4)).params(Position(ts(3), 4))
    assert params == {"last_modified_time": ts(3), "sort_column": "created_time",
                      "sort_order": "A", "page": 4, "per_page": 200}
    params = ListScan(items, "full", dict, Position(None)).params(Position(None, 2))
    assert params == {"sort_column": "name", "sort_order": "A", "page": 2, "per_page": 200}
    taxes = MODULES["taxes"]
    assert ListScan(taxes, "full", dict, Position(None)).params(Position(None)) == {
        "page": 1, "per_page": 200}


def test_a_page_without_page_context_ends_the_scan() -> None:
    scan = ListScan(SPEC, "full", lambda p: {"invoices": [{"invoice_id": "1"}]}, Position(None))
    pages = list(scan)
    assert len(pages) == 1 and pages[0].next is None and pages[0].max_modified is None


def test_timestamps_compare_as_instants_across_offsets() -> None:
    assert timeutil.later("2026-11-24T10:00:00+0530", "2026-11-24T05:00:00+0000") == \
        "2026-11-24T05:00:00+0000"
    assert timeutil.minus("2026-11-24T10:00:00+0530", timedelta(minutes=2)) == \
        "2026-11-24T09:58:00+0530"
    assert timeutil.to_utc_naive("2026-11-24T10:00:00+0530") == \
        datetime(2026, 11, 24, 4, 30)
    assert timeutil.parse_or_none("yesterday") is None
