"""List-row projections: the few fields a list row shows, stored next to each record.

A list page of 200 invoices used to parse 200 whole documents (line items, history,
applied payments and all) to show about 40 fields of each: most of the page's server
time. A module whose list presenter reads only a known set of top-level keys declares
them (``ListSpec.row_keys``); the record store then keeps, for every record of that
module, the record restricted to those keys (``record_rows``), written in the same
transaction as the record itself. A list page parses those small projections and runs
the module's unchanged presenter on them, so rows come out exactly as before.

Staleness is ruled out three ways:

- SQLite triggers drop a record's projection whenever its ``data`` changes or the record
  is deleted, whoever writes (older sandbox versions opening the same file included), and
  the store writes the new projection after its update. A record without one is read
  whole, as before.
- The declared keys are stored per module (``meta``: ``rows:<module>``); when they differ
  from the running code's (an older file, or a module that shows a new field), the
  module's projections are rebuilt from the records before they are used.
- ``ensure_all`` rebuilds every registered module when the sandbox opens its database,
  so the first list page of an old file is not the one that pays for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from zbooks.sandbox import jsonfast
from zbooks.sandbox.db import Database
from zbooks.sandbox.ledger.fingerprints import Fingerprints

# Bumped when the projection's format changes (not its keys: those are compared as is).
FORMAT = "1"

ROW_KEYS: dict[str, frozenset[str]] = {}
_FINGERPRINTS = Fingerprints("rows:")


def register(module: str, keys: Iterable[str]) -> None:
    """Declare the top-level record keys ``module``'s list presenter reads.

    Two declarations for one module must agree: a projection serves every list of it.
    """
    wanted = frozenset(keys)
    known = ROW_KEYS.get(module)
    if known is not None and known != wanted:
        raise ValueError(f"conflicting list-row keys declared for {module}")
    ROW_KEYS[module] = wanted


def fingerprint(module: str) -> str:
    return FORMAT + ":" + ",".join(sorted(ROW_KEYS[module]))


def project(keys: frozenset[str], record: Mapping[str, Any]) -> str:
    """The record restricted to ``keys``, in the record's own key order, as JSON text.

    Written exactly as the record store writes the whole record (the standard library,
    Decimals as floats, NaN kept), so parsing it gives what parsing the record gives.
    """
    subset = {k: v for k, v in record.items() if k in keys}
    return json.dumps(subset, default=jsonfast.decimal_as_float, separators=(",", ":"))


def projection_of(module: str, record: Mapping[str, Any]) -> str | None:
    """The stored projection text for a record of ``module`` (None: module has none)."""
    keys = ROW_KEYS.get(module)
    return None if keys is None else project(keys, record)


def ensure(db: Database, module: str) -> bool:
    """Make ``module``'s stored projections match the running code's keys (rebuilding
    them once if needed). False when the module declares no projection."""
    if module not in ROW_KEYS:
        return False
    _FINGERPRINTS.ensure(db, module, fingerprint(module), rebuild)
    return True


def ensure_all(db: Database) -> None:
    """``ensure`` every registered module (the sandbox calls this when it opens)."""
    for module in sorted(ROW_KEYS):
        ensure(db, module)


def rebuild(db: Database, module: str, batch: int = 2000) -> int:
    """Recompute every projection of ``module`` from its records; returns how many."""
    keys = ROW_KEYS[module]
    made = 0
    with db.transaction() as conn:
        conn.execute("DELETE FROM record_rows WHERE module=?", (module,))
        cursor = conn.execute(
            "SELECT org_id, record_id, data FROM records WHERE module=? ORDER BY rowid", (module,)
        )
        while chunk := cursor.fetchmany(batch):
            conn.executemany(
                "INSERT INTO record_rows(org_id, module, record_id, data) VALUES (?, ?, ?, ?)",
                [
                    (r["org_id"], module, r["record_id"], project(keys, jsonfast.loads(r["data"])))
                    for r in chunk
                ],
            )
            made += len(chunk)
    return made


def forget(db: Database) -> None:
    """Check every module again at next use (after the database was replaced wholesale)."""
    _FINGERPRINTS.forget(db)
