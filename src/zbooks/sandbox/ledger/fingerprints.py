"""Whether a database's stored projections match the running code, checked once.

Projections (list rows in ``ledger.rows``, detail answers in ``ledger.details``) are
derived from the records by code that may change between sandbox versions. Each module's
projections are stored with a fingerprint of that code (``meta``: ``<prefix><module>``);
the first use in a process compares it with the running code's and rebuilds the module's
projections when they differ, then remembers the answer for that database.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from zbooks.sandbox.db import Database


class Fingerprints:
    """One kind of projection's fingerprints, and the modules already checked per database."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._verified: weakref.WeakKeyDictionary[Database, set[str]] = weakref.WeakKeyDictionary()

    def ensure(
        self, db: Database, module: str, wanted: str, rebuild: Callable[[Database, str], object]
    ) -> None:
        """Rebuild ``module``'s projections unless they were made by the code whose
        fingerprint is ``wanted`` (once per database and module)."""
        done = self._verified.setdefault(db, set())
        if module in done:
            return
        key = self._prefix + module
        with db.transaction() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            if row is None or row["value"] != wanted:
                rebuild(db, module)
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (key, wanted),
                )
        done.add(module)

    def forget(self, db: Database) -> None:
        """Check every module again at next use (the database was replaced wholesale)."""
        self._verified.pop(db, None)
