"""The detail phase waits for records without spinning: when records arrive slower than
the commit interval (a rate limit, a slow Zoho), the loop sleeps until the next one."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from zbooks.sync import engine as engine_module
from zbooks.sync.database import make_engine
from zbooks.sync.engine import SyncEngine
from zbooks.sync.modules import MODULES
from zbooks.sync.schema import SyncSchema

RECORDS = 6
DELAY = 0.25  # seconds per detail GET, far above the commit interval below


class SlowBooks:
    """Just enough of ``zbooks.Client`` for the engine: one list page, slow details."""

    rate_limiter = None

    def __init__(self, records: int = RECORDS, delay: float = DELAY) -> None:
        self.records = records
        self.delay = delay
        self.detail_calls = 0
        self.lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> Any:
        stamp = "2026-01-02T10:00:00+0000"
        if path == "/invoices":
            rows = [
                {
                    "invoice_id": str(i),
                    "invoice_number": f"INV-{i}",
                    "total": 10.5,
                    "last_modified_time": stamp,
                }
                for i in range(1, self.records + 1)
            ]
            return {"invoices": rows, "page_context": {"has_more_page": False}}
        with self.lock:
            self.detail_calls += 1
        time.sleep(self.delay)
        record_id = path.rsplit("/", 1)[1]
        return {
            "invoice": {
                "invoice_id": record_id,
                "invoice_number": f"INV-{record_id}",
                "total": 10.5,
                "last_modified_time": stamp,
                "line_items": [],
            }
        }


def test_waiting_for_slow_records_does_not_spin(monkeypatch: pytest.MonkeyPatch) -> None:
    waits = 0
    real_wait = engine_module._arrivals  # where the detail loop waits for records

    def counted_wait(*args: Any, **kwargs: Any) -> Any:
        nonlocal waits
        waits += 1
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(engine_module, "_arrivals", counted_wait)
    books = SlowBooks()
    sync = SyncEngine(
        books,  # type: ignore[arg-type]
        make_engine("sqlite:///:memory:"),
        SyncSchema([MODULES["invoices"]]),
        detail_workers=1,
        commit_every=20,
        commit_seconds=0.01,  # every record waits longer than this
        now=lambda: datetime(2026, 1, 3, tzinfo=UTC),
    )
    started = time.process_time()
    summary = sync.run(["1"])
    cpu = time.process_time() - started
    result = summary.result("invoices")
    assert summary.ok and books.detail_calls == RECORDS and result.filled == RECORDS
    # One wait per record that arrives, and one per commit that falls due; a loop that
    # spins calls it thousands of times and burns a core while the GETs are in flight.
    assert waits <= 3 * RECORDS + 2, waits
    assert cpu < RECORDS * DELAY / 2, cpu


@pytest.mark.parametrize("target", ["sqlite", "duckdb"])
def test_fast_details_still_commit_every_20_records(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, target: str
) -> None:
    """Issue 16's guarantee holds however fast records arrive: each detail commit holds at
    most ``commit_every`` records, and each is visible to another connection once
    committed (what a kill -9 keeps)."""
    records = 65
    url = (
        f"sqlite:///{tmp_path}/c.sqlite" if target == "sqlite" else f"duckdb:///{tmp_path}/c.duckdb"
    )
    db = make_engine(url)
    schema = SyncSchema([MODULES["invoices"]])
    table = schema.modules["invoices"].table
    batches: list[int] = []
    visible: list[int] = []
    real_commit = SyncEngine._commit_details

    def counted(
        self: SyncEngine, org: str, tables: Any, fetched: dict[str, Any], *args: Any
    ) -> None:
        batches.append(len(fetched))
        real_commit(self, org, tables, fetched, *args)
        with db.connect() as conn:
            visible.append(
                int(
                    conn.execute(
                        sa.select(sa.func.count())
                        .select_from(table)
                        .where(table.c.detail_synced_at.is_not(None))
                    ).scalar()
                    or 0
                )
            )

    monkeypatch.setattr(SyncEngine, "_commit_details", counted)
    sync = SyncEngine(
        SlowBooks(records, delay=0.0),  # type: ignore[arg-type]
        db,
        schema,
        detail_workers=4,
        now=lambda: datetime(2026, 1, 3, tzinfo=UTC),
    )
    summary = sync.run(["1"])
    assert summary.ok and summary.result("invoices").filled == records
    assert sum(batches) == records
    assert max(batches) <= 20 and len(batches) >= 4, batches
    assert visible == [sum(batches[: n + 1]) for n in range(len(batches))]
