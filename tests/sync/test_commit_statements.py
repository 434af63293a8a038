"""What a commit sends to the database (issue 15, point 5): a row never written has
nothing to delete first, a row without child rows no child rows; rows that had them get
them replaced. And a sync runs DuckDB on one thread, putting the setting back after."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from zbooks.sync.database import SYNC_DUCKDB_THREADS, make_engine
from zbooks.sync.engine import SyncEngine
from zbooks.sync.modules import MODULES
from zbooks.sync.schema import SyncSchema

RECORDS = 45  # three detail commits: 20, 20, 5
ORG = "1"


class Books:
    """Just enough of ``zbooks.Client`` for the engine: one list page, fast details with
    line items; ``edit`` changes records the way Zoho would (a new modification time)."""

    rate_limiter = None

    def __init__(self, records: int = RECORDS) -> None:
        self.stamps = {str(i): "2026-01-02T10:00:00+0000" for i in range(1, records + 1)}
        self.lines = {rid: 2 for rid in self.stamps}
        self.during: list[int] = []  # DuckDB's threads seen while the sync ran
        self.probe: sa.Engine | None = None
        self.lock = threading.Lock()

    def edit(self, rid: str, lines: int) -> None:
        self.stamps[rid] = "2026-01-02T11:00:00+0000"
        self.lines[rid] = lines

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        organization_id: str | None = None,
    ) -> Any:
        if self.probe is not None:
            with self.lock, self.probe.connect() as conn:
                self.during.append(
                    int(conn.exec_driver_sql("SELECT current_setting('threads')").scalar_one())
                )
        if path == "/invoices":
            rows = [
                {
                    "invoice_id": rid,
                    "invoice_number": f"INV-{rid}",
                    "total": "10.10",
                    "last_modified_time": stamp,
                }
                for rid, stamp in self.stamps.items()
            ]
            return {"invoices": rows, "page_context": {"has_more_page": False}}
        rid = path.rsplit("/", 1)[1]
        lines = [
            {
                "line_item_id": f"{rid}-{n}",
                "name": f"Line {n}",
                "rate": "5.05",
                "quantity": 1,
                "item_total": "5.05",
            }
            for n in range(self.lines[rid])
        ]
        return {
            "invoice": {
                "invoice_id": rid,
                "invoice_number": f"INV-{rid}",
                "total": "10.10",
                "last_modified_time": self.stamps[rid],
                "line_items": lines,
            }
        }


def _sync(
    books: Books, db: sa.Engine, schema: SyncSchema, full_refresh: bool = False, day: int = 3
) -> None:
    sync = SyncEngine(
        books,  # type: ignore[arg-type]
        db,
        schema,
        detail_workers=4,
        now=lambda: datetime(2026, 1, day, tzinfo=UTC),
        lookback=timedelta(0),
        full_refresh=full_refresh,
    )
    summary = sync.run([ORG])
    assert summary.ok, summary.results


def _lines(db: sa.Engine, schema: SyncSchema) -> dict[str, int]:
    child = schema.modules["invoices"].children[0].table
    with db.connect() as conn:
        return {
            str(rid): int(n)
            for rid, n in conn.execute(
                sa.select(child.c.invoice_id, sa.func.count()).group_by(child.c.invoice_id)
            )
        }


def _totals(db: sa.Engine, schema: SyncSchema) -> tuple[Any, Any]:
    table = schema.modules["invoices"].table
    child = schema.modules["invoices"].children[0].table
    with db.connect() as conn:
        return (
            conn.execute(sa.select(sa.func.sum(table.c.total))).scalar(),
            conn.execute(sa.select(sa.func.sum(child.c.item_total))).scalar(),
        )


def _deletes(statements: list[str]) -> dict[str, int]:
    """DELETE statements by table."""
    counts = {"invoices": 0, "invoices_line_items": 0}
    for sql in statements:
        words = sql.split()
        if words[:2] == ["DELETE", "FROM"]:
            counts[words[2].strip('"')] += 1
    return counts


def test_duckdb_commits_delete_only_rows_and_children_that_exist(tmp_path: Path) -> None:
    """A first sync writes list rows, then full records 20 at a time: no commit deletes
    a child row (there are none yet) and the list phase deletes nothing; each detail
    commit deletes the list rows it replaces, once. A second sync of edited records
    replaces their child rows (fewer, then none, then more)."""
    db = make_engine(f"duckdb:///{tmp_path}/s.duckdb")
    schema = SyncSchema([MODULES["invoices"]])
    schema.create_all(db)
    with db.connect() as conn:
        conn.exec_driver_sql("CALL enable_logging('QueryLog')")

    def statements() -> list[str]:
        with db.connect() as conn:
            return [
                str(m)
                for (m,) in conn.exec_driver_sql(
                    "SELECT message FROM duckdb_logs WHERE type = 'QueryLog'"
                )
            ]

    books = Books()
    _sync(books, db, schema)
    first = statements()
    assert _deletes(first) == {"invoices": 3, "invoices_line_items": 0}
    assert not any("CREATE" in s and "VIEW" in s for s in first)
    assert _lines(db, schema) == {rid: 2 for rid in books.stamps}
    assert _totals(db, schema) == (Decimal("454.50"), Decimal("454.50"))

    books.edit("3", 1)
    books.edit("4", 0)
    books.edit("5", 3)
    _sync(books, db, schema)
    second = statements()[len(first) :]
    # The list commit turns the three into list rows (their line items go with the full
    # record they came from), the detail commit writes their full records back.
    assert _deletes(second) == {"invoices": 2, "invoices_line_items": 1}
    lines = _lines(db, schema)
    assert lines["3"] == 1 and "4" not in lines and lines["5"] == 3 and lines["6"] == 2
    assert _totals(db, schema) == (Decimal("454.50"), Decimal("5.05") * 88)

    # A full refresh fetches every record again; one whose line items changed without a
    # new modification time keeps its list row, so its detail commit replaces the line
    # items it has (the query said it has some).
    books.lines["6"] = 4
    count = len(statements())
    _sync(books, db, schema, full_refresh=True, day=4)
    assert _deletes(statements()[count:]) == {"invoices": 1, "invoices_line_items": 1}
    lines = _lines(db, schema)
    assert lines["6"] == 4 and lines["5"] == 3 and lines["7"] == 2
    assert _totals(db, schema) == (Decimal("454.50"), Decimal("5.05") * 90)


def test_sqlite_commits_delete_no_child_rows_there_are_none_of(tmp_path: Path) -> None:
    """The upsert path (SQLite, PostgreSQL) has no row deletes; its child-row deletes go
    only to records that had child rows."""
    db = make_engine(f"sqlite:///{tmp_path}/s.sqlite")
    schema = SyncSchema([MODULES["invoices"]])
    seen: list[str] = []

    @sa.event.listens_for(db, "before_cursor_execute")
    def _log(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    books = Books()
    _sync(books, db, schema)
    assert _deletes(seen) == {"invoices": 0, "invoices_line_items": 0}
    assert _lines(db, schema) == {rid: 2 for rid in books.stamps}
    count = len(seen)
    books.edit("3", 1)
    books.edit("4", 0)
    _sync(books, db, schema)
    assert _deletes(seen[count:]) == {"invoices": 0, "invoices_line_items": 1}
    lines = _lines(db, schema)
    assert lines["3"] == 1 and "4" not in lines and lines["5"] == 2
    assert _totals(db, schema) == (Decimal("454.50"), Decimal("5.05") * 87)


@pytest.mark.parametrize("before", [3, 2])
def test_a_sync_runs_duckdb_on_one_thread_and_puts_it_back(tmp_path: Path, before: int) -> None:
    db = make_engine(f"duckdb:///{tmp_path}/t.duckdb")
    with db.connect() as conn:
        conn.exec_driver_sql(f"SET threads = {before}")
    books = Books(records=5)
    books.probe = db
    _sync(books, db, SyncSchema([MODULES["invoices"]]))
    assert books.during and set(books.during) == {SYNC_DUCKDB_THREADS}
    with db.connect() as conn:
        assert conn.exec_driver_sql("SELECT current_setting('threads')").scalar_one() == before
