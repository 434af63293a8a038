"""SQLite storage for the sandbox: one connection, WAL, one transaction per write.

Why a single connection behind a lock: SQLite serialises writers anyway, and one
connection makes "each acknowledged write is committed" trivially true. WAL with
``synchronous=NORMAL`` survives a killed process (only an OS crash could lose the tail).

Components that need their own tables (accounts, webhooks, ...) call
``Database.ensure_schema(ddl)`` at start-up; the core tables live here.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger("zbooks.sandbox.db")


@dataclass(frozen=True)
class Change:
    """One committed change to a Books record (what webhooks and sync tests react to)."""

    org_id: str
    module: str
    record_id: str
    action: Literal["add", "edit", "delete"]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


ChangeListener = Callable[[list[Change]], None]

CORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (scope, name)
);
CREATE TABLE IF NOT EXISTS organizations (
    org_id TEXT PRIMARY KEY,
    plan TEXT NOT NULL DEFAULT 'premium',
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS org_users (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'admin',
    PRIMARY KEY (org_id, user_id)
);
CREATE TABLE IF NOT EXISTS records (
    org_id TEXT NOT NULL,
    module TEXT NOT NULL,
    record_id TEXT NOT NULL,
    data TEXT NOT NULL,
    created_time TEXT NOT NULL,
    last_modified_time TEXT NOT NULL,
    UNIQUE (org_id, module, record_id)
);
CREATE INDEX IF NOT EXISTS records_by_module ON records (org_id, module);
CREATE INDEX IF NOT EXISTS records_by_modified ON records (org_id, module, last_modified_time);
CREATE TABLE IF NOT EXISTS record_rows (
    org_id TEXT NOT NULL,
    module TEXT NOT NULL,
    record_id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (org_id, module, record_id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS record_rows_on_edit AFTER UPDATE OF data ON records
BEGIN
    DELETE FROM record_rows
    WHERE org_id=OLD.org_id AND module=OLD.module AND record_id=OLD.record_id;
END;
CREATE TRIGGER IF NOT EXISTS record_rows_on_delete AFTER DELETE ON records
BEGIN
    DELETE FROM record_rows
    WHERE org_id=OLD.org_id AND module=OLD.module AND record_id=OLD.record_id;
END;
CREATE TABLE IF NOT EXISTS record_details (
    org_id TEXT NOT NULL,
    module TEXT NOT NULL,
    record_id TEXT NOT NULL,
    body BLOB NOT NULL,
    inputs TEXT NOT NULL,
    UNIQUE (org_id, module, record_id)
);
CREATE TRIGGER IF NOT EXISTS record_details_on_edit AFTER UPDATE OF data ON records
BEGIN
    DELETE FROM record_details
    WHERE org_id=OLD.org_id AND module=OLD.module AND record_id=OLD.record_id;
END;
CREATE TRIGGER IF NOT EXISTS record_details_on_delete AFTER DELETE ON records
BEGIN
    DELETE FROM record_details
    WHERE org_id=OLD.org_id AND module=OLD.module AND record_id=OLD.record_id;
END;
"""
# ``record_details`` holds rendered detail answers (``ledger.details``), kept current or
# absent by its triggers in the same way (a rowid table: its rows are a few KB each).
# ``record_rows`` holds list-row projections (``ledger.rows``): the triggers drop a
# record's projection whenever anyone (an older sandbox version too) changes or deletes
# the record, so a projection is either current or absent. A database file from before
# it gains the table and triggers here, and its projections are built on open.


class _Reading:
    """``with db.read() as conn``: hold the database lock, hand out the connection.
    Stateless apart from the (re-entrant) lock, so one instance serves every thread."""

    __slots__ = ("_conn", "_lock")

    def __init__(self, lock: threading.RLock, conn: sqlite3.Connection) -> None:
        self._lock = lock
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        return self._conn

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class Database:
    """The sandbox's only door to SQLite."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        # Records are JSON documents of a few KB: a 64 MB page cache keeps hot ones in memory.
        # 32 MB was enough before detail projections (``ledger.details``) doubled the pages
        # a mixed load touches: random reads by id then evicted the index pages a list page
        # scans, and list pages got ~10% slower (measured with ``benchmarks/sandbox.py``).
        self._conn.execute("PRAGMA cache_size=-65536")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.RLock()
        self._reading = _Reading(self._lock, self._conn)
        self._depth = 0
        self._pending: list[Change] = []
        self._listeners: list[ChangeListener] = []
        self.ensure_schema(CORE_SCHEMA)

    def add_listener(self, listener: ChangeListener) -> None:
        """Call ``listener(changes)`` after each commit that changed records.

        Listeners run on the committing thread while the lock is held: they must be quick
        (enqueue work, do not call back into HTTP). Rolled-back changes are never seen.
        """
        self._listeners.append(listener)

    @property
    def generation(self) -> int:
        """A number that moves whenever any row changes (inside or outside a transaction).

        Memos of derived answers (``readcache``) key on it: an unchanged generation means
        nothing they were computed from can have changed. It is SQLite's own count of
        changed rows on the sandbox's only connection, so no write path can forget to
        bump it; a rolled-back write still moves it, which only costs a cache miss.
        """
        return self._conn.total_changes

    @property
    def has_listeners(self) -> bool:
        return bool(self._listeners)

    def record_change(self, change: Change) -> None:
        """Called by the record store inside a transaction."""
        if self._listeners:
            self._pending.append(change)

    def _publish(self) -> None:
        changes, self._pending = self._pending, []
        if not changes:
            return
        for listener in self._listeners:
            try:
                listener(changes)
            except Exception:  # a listener must never undo or break a committed write
                logger.exception("change listener failed")

    def ensure_schema(self, ddl: str) -> None:
        """Create tables/indexes if missing. Safe inside a transaction (``executescript``
        would commit it behind the caller's back, so statements run one by one there)."""
        with self._lock:
            if not self._depth:
                self._conn.executescript(ddl)
                return
            for statement in ddl.split(";"):
                if statement.strip():
                    self._conn.execute(statement)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested calls join the outer one (all or nothing)."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._pending = []
                raise
            else:
                self._conn.execute("COMMIT")
                self._publish()
            finally:
                self._depth = 0

    def read(self) -> _Reading:
        """Reads share the lock so they never see another thread's half-done transaction.

        A plain context manager, not a generator one: every request reads, and building
        a generator-based manager per read cost more than the lock itself."""
        return self._reading

    def next_counter(self, scope: str, name: str, start: int = 1) -> int:
        """Atomically take the next value of a named counter (ids, document numbers)."""
        return self.reserve_counter(scope, name, 1, start=start)

    def reserve_counter(self, scope: str, name: str, count: int, *, start: int = 1) -> int:
        """Take ``count`` consecutive values of a counter at once; returns the first.
        Bulk seeding uses this instead of hundreds of thousands of single updates."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT value FROM counters WHERE scope=? AND name=?", (scope, name)
            ).fetchone()
            first = start if row is None else int(row["value"]) + 1
            conn.execute(
                "INSERT INTO counters(scope, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT(scope, name) DO UPDATE SET value=excluded.value",
                (scope, name, first + count - 1),
            )
            return first

    def get_meta(self, key: str) -> str | None:
        with self.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
