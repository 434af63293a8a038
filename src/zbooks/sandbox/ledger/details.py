"""Detail projections: a record's rendered ``GET /<module>/{id}`` answer, stored with it.

A fresh GET by id used to parse the whole stored record, merge the documented defaults
into it (``documents.present``) and render the envelope: about two thirds of the
server time of such a request. A module whose detail answer depends only on the record
and on one date-dependent field (a document's status, which reads ``overdue`` once the
due date has passed) declares a ``DetailSpec``; the record store then keeps, next to each
record, the rendered envelope with that status left as a marker, plus the few record
fields the status is derived from (``record_details``), written in the same transaction
as the record. A read splices the status derived at read time (from the sandbox clock,
exactly as the presenter would) into the stored bytes.

The bytes are those of the whole path: they are made by the same presenter from the
record as parsed back from its stored text, rendered by the same encoder. Staleness is
ruled out as for list rows (``ledger.rows``):

- SQLite triggers drop a record's projection whenever its ``data`` changes or the record
  is deleted, whoever writes (older sandbox versions included); the store writes the new
  one after its update. A record without one is read whole, as before.
- Each module's projections carry a fingerprint (``meta``: ``details:<module>``) of the
  code and defaults that render them; when the running code's differs, the module's
  projections are rebuilt before they are used (``ensure_all`` at open).
- Anything the marker trick cannot reproduce exactly (the marker text inside the record,
  a status that is not plain ASCII, a record only the slower encoders can render) gets no
  projection, so it is read whole.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from zbooks.sandbox import jsonfast
from zbooks.sandbox.db import Database
from zbooks.sandbox.ledger.fingerprints import Fingerprints

# Bumped when the stored format changes.
FORMAT = "1"
# The status placeholder: control characters keep it out of any real status, and a
# record holding this exact text anyway gets no projection (it would appear twice).
MARK = "\x00zbooks:status\x00"
MARK_JSON = orjson.dumps(MARK)
_PLAIN = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}

PUT = (
    "INSERT OR REPLACE INTO record_details(org_id, module, record_id, body, inputs) "
    "VALUES (?, ?, ?, ?, ?)"
)
_GET = "SELECT body, inputs FROM record_details WHERE org_id=? AND module=? AND record_id=?"


@dataclass(frozen=True)
class DetailSpec:
    """How one module's detail answer is made from a record.

    ``shape(record, status)`` is the module's presenter with the status given;
    ``status_of(fields, today)`` derives the status a client sees today from the record's
    ``status_keys`` (the same function the presenter's caller uses); ``statuses`` are the
    values ``status_of`` may return besides the stored status (e.g. ``overdue``).
    ``sources`` are the modules whose code decides the rendered bytes (fingerprinted)."""

    module: str
    envelope_key: str
    shape: Callable[[Mapping[str, Any], str], Mapping[str, Any]]
    status_of: Callable[[Mapping[str, Any], str], str]
    status_keys: frozenset[str]
    statuses: frozenset[str]
    sources: tuple[str, ...]
    defaults: tuple[Mapping[str, Any], ...] = ()


SPECS: dict[str, DetailSpec] = {}
_FINGERPRINTS = Fingerprints("details:")


def register(spec: DetailSpec) -> None:
    """Declare ``spec.module``'s detail projection (one per module)."""
    known = SPECS.get(spec.module)
    if known is not None and known != spec:
        raise ValueError(f"conflicting detail projections declared for {spec.module}")
    SPECS[spec.module] = spec


def fingerprint(spec: DetailSpec) -> str:
    """Changes whenever the code, defaults or encoder that render the bytes may have."""
    digest = hashlib.sha256()
    for name in (*spec.sources, __name__, jsonfast.__name__):
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        digest.update(name.encode())
        if path:
            digest.update(Path(path).read_bytes())
    for defaults in spec.defaults:
        digest.update(repr(defaults).encode())
    digest.update(orjson.__version__.encode())
    return f"{FORMAT}:{spec.envelope_key}:{digest.hexdigest()[:32]}"


def _plain(text: str) -> bool:
    return all(ch in _PLAIN for ch in text)


def project(spec: DetailSpec, stored_text: str) -> tuple[bytes, str] | None:
    """(rendered envelope with the status marker, status inputs as JSON text) for a record
    stored as ``stored_text``; None when the record must be read whole."""
    record = jsonfast.loads(stored_text)
    if not isinstance(record, dict):
        return None
    stored_status = str(record.get("status", ""))
    if not all(_plain(s) for s in (stored_status, *spec.statuses)):
        return None
    envelope = {"code": 0, "message": "success", spec.envelope_key: spec.shape(record, MARK)}
    try:
        # What the whole path's ``http_books.render_json`` does. Every encoder it may fall
        # back to writes the marker and a plain ASCII status alike.
        body = jsonfast.dumps(envelope, default=jsonfast.decimal_as_float)
    except (TypeError, ValueError, RecursionError):
        return None
    if body.count(MARK_JSON) != 1:
        return None
    inputs = {k: v for k, v in record.items() if k in spec.status_keys}
    return body, jsonfast.dumps(inputs).decode()


def write(conn: Any, org_id: str, module: str, record_id: str, stored_text: str) -> None:
    """Store the projection of a record just written (inside the store's transaction)."""
    spec = SPECS.get(module)
    if spec is None:
        return
    made = project(spec, stored_text)
    if made is not None:
        conn.execute(PUT, (org_id, module, record_id, made[0], made[1]))


def read(db: Database, org_id: str, module: str, record_id: str, today: str) -> bytes | None:
    """The rendered detail answer of one record as of ``today``, or None (no projection:
    read it whole)."""
    spec = SPECS.get(module)
    if spec is None or not ensure(db, module):
        return None
    with db.read() as conn:
        row = conn.execute(_GET, (org_id, module, record_id)).fetchone()
    if row is None:
        return None
    status = spec.status_of(jsonfast.loads(row[1]), today)
    return bytes(row[0]).replace(MARK_JSON, orjson.dumps(status), 1)


def ensure(db: Database, module: str) -> bool:
    """Make ``module``'s stored projections match the running code (rebuilding them once
    if needed). False when the module declares none."""
    spec = SPECS.get(module)
    if spec is None:
        return False
    _FINGERPRINTS.ensure(db, module, fingerprint(spec), rebuild)
    return True


def ensure_all(db: Database) -> None:
    """``ensure`` every registered module (the sandbox calls this when it opens)."""
    for module in sorted(SPECS):
        ensure(db, module)


def rebuild(db: Database, module: str, batch: int = 2000) -> int:
    """Recompute every projection of ``module`` from its records; returns how many."""
    spec = SPECS[module]
    made = 0
    with db.transaction() as conn:
        conn.execute("DELETE FROM record_details WHERE module=?", (module,))
        cursor = conn.execute(
            "SELECT org_id, record_id, data FROM records WHERE module=? ORDER BY rowid", (module,)
        )
        while chunk := cursor.fetchmany(batch):
            params = []
            for r in chunk:
                projected = project(spec, r["data"])
                if projected is not None:
                    params.append((r["org_id"], module, r["record_id"], *projected))
            conn.executemany(PUT, params)
            made += len(params)
    return made


def forget(db: Database) -> None:
    """Check every module again at next use (after the database was replaced wholesale)."""
    _FINGERPRINTS.forget(db)
