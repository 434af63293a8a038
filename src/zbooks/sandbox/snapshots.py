"""Snapshots of the sandbox's Books state, and a fast restore: the test plugin's reset.

A snapshot is a copy of the SQLite file (``VACUUM INTO``) plus the clock offset. A
restore copies every table back in one transaction (``DELETE`` then ``INSERT ... SELECT``
from the attached copy), which for the demo organization takes milliseconds, where a
restart would rebuild routes, accounts and demo data.

What a restore keeps on purpose: Accounts state (users, clients, grant codes, tokens:
the ``accounts_*`` tables and the ``accounts`` counters), so a test suite's clients stay
logged in across resets, exactly as ``POST /_sandbox/reset`` promises. Everything else
(records, organizations, ``meta``, id and number counters) comes back as it was, so ids
and document numbers repeat from the snapshot on, and the clock goes back to the
snapshot's time. Rate-limit windows start over, and scheduled webhook attempts of the
abandoned state are dropped.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zbooks.sandbox.app import SandboxApp

_KEPT_PREFIX = "accounts_"
_KEPT_COUNTER_SCOPES = ("accounts",)
_WEBHOOK_SETTLE = 2.0  # seconds to let in-flight webhook attempts finish before a restore


_PROJECTIONS = ("record_rows", "record_details")  # tables the record triggers prune


class SnapshotError(LookupError):
    """No snapshot with that id (it was deleted, or belongs to another sandbox run)."""


@dataclass(frozen=True)
class Snapshot:
    id: str
    name: str
    path: Path
    clock_offset: float
    taken_at: float  # sandbox-clock seconds

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "clock_offset": self.clock_offset,
            "taken_at": self.taken_at,
        }


class SnapshotStore:
    """The snapshots of one running sandbox; files live in a private temp directory."""

    def __init__(self, app: SandboxApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._snapshots: dict[str, Snapshot] = {}
        self._dir: Path | None = None
        # (snapshot id, database generation) right after the last restore: restoring the
        # same snapshot again with nothing written since is a no-op for the database.
        self._clean: tuple[str, int] | None = None

    def _directory(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="zbooks-snapshots-"))
        return self._dir

    def take(self, name: str = "") -> Snapshot:
        app = self._app
        with self._lock:
            snap_id = f"snap_{next(self._ids)}"
            path = self._directory() / f"{snap_id}.db"
            with app.db.read() as conn:
                conn.execute("VACUUM INTO ?", (str(path),))
                generation = app.db.generation
            snapshot = Snapshot(
                id=snap_id,
                name=name or snap_id,
                path=path,
                clock_offset=app.clock.offset,
                taken_at=app.clock.time(),
            )
            self._snapshots[snap_id] = snapshot
            self._clean = (snap_id, generation)
            return snapshot

    def get(self, snap_id: str) -> Snapshot:
        found = self._snapshots.get(snap_id)
        if found is None:
            raise SnapshotError(snap_id)
        return found

    def list(self) -> list[Snapshot]:
        return list(self._snapshots.values())

    def delete(self, snap_id: str) -> None:
        with self._lock:
            snapshot = self._snapshots.pop(self.get(snap_id).id)
            snapshot.path.unlink(missing_ok=True)
            if self._clean and self._clean[0] == snap_id:
                self._clean = None

    def restore(self, snap_id: str, *, fresh: bool = False) -> bool:
        """Bring the Books state and the clock back to ``snap_id``.

        ``fresh`` also clears fault rules and the request log, so the result looks like
        a sandbox that has just started (what a per-test reset wants). Returns whether
        the database had to be copied (False: nothing was written since the last
        restore of this snapshot).
        """
        app = self._app
        snapshot = self.get(snap_id)
        with self._lock:
            engine = app.webhooks
            engine.drop_scheduled()
            engine.wait_idle(_WEBHOOK_SETTLE)
            copied = self._clean != (snap_id, app.db.generation)
            if copied:
                self._copy_back(snapshot)
            app.clock.advance(snapshot.clock_offset - app.clock.offset)
            app.limiter.reset()
            if fresh:
                app.faults.clear()
                app.requests.clear()
            engine.resume()
            self._clean = (snap_id, app.db.generation)
            return copied

    def _copy_back(self, snapshot: Snapshot) -> None:
        db = self._app.db
        with db.read() as conn:
            conn.execute("ATTACH DATABASE ? AS snap", (str(snapshot.path),))
            try:
                # Projections after their records: deleting records drops projections
                # (a trigger), so the restored ones must come in afterwards.
                live = sorted(_tables(conn, "main"), key=lambda name: name in _PROJECTIONS)
                saved = set(_tables(conn, "snap"))
                with db.transaction() as tx:
                    tx.execute("PRAGMA defer_foreign_keys=ON")
                    marks = ",".join("?" * len(_KEPT_COUNTER_SCOPES))
                    for table in live:
                        if table.startswith(_KEPT_PREFIX):
                            continue
                        if table == "counters":
                            keep = f"scope NOT IN ({marks})"
                            tx.execute(
                                f"DELETE FROM main.counters WHERE {keep}", _KEPT_COUNTER_SCOPES
                            )
                            tx.execute(
                                "INSERT INTO main.counters "
                                f"SELECT * FROM snap.counters WHERE {keep}",
                                _KEPT_COUNTER_SCOPES,
                            )
                            continue
                        tx.execute(f'DELETE FROM main."{table}"')
                        if table in saved:
                            columns = _columns(conn, "main", table)
                            if columns != _columns(conn, "snap", table):
                                raise RuntimeError(
                                    f"table {table} changed shape since the snapshot"
                                )
                            tx.execute(f'INSERT INTO main."{table}" SELECT * FROM snap."{table}"')
            finally:
                conn.execute("DETACH DATABASE snap")

    def close(self) -> None:
        with self._lock:
            self._snapshots.clear()
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None


def _tables(conn: Any, schema: str) -> list[str]:
    rows = conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    )
    return [str(r["name"]) for r in rows]


def _columns(conn: Any, schema: str, table: str) -> list[str]:
    return [str(r["name"]) for r in conn.execute(f'PRAGMA {schema}.table_info("{table}")')]
