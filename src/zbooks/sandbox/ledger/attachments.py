"""Files attached to records: an expense's receipt, a bill's or an invoice's attachment.

Zoho keeps one primary file per document on these endpoints and reflects it on the
record (``has_attachment``, ``attachment_name``); the file itself is served back as
bytes. Files live in their own table so record JSON stays small.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from zbooks.sandbox.errors import invalid_value, not_found
from zbooks.sandbox.ledger.base import Ledger

SCHEMA = """
CREATE TABLE IF NOT EXISTS attachments (
    org_id TEXT NOT NULL,
    module TEXT NOT NULL,
    record_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (org_id, module, record_id)
);
"""
MAX_BYTES = 10 * 1024 * 1024  # UNCONFIRMED: Zoho's per-file limit is commonly 5-10 MB


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    data: bytes


def attach(
    ledger: Ledger, module: str, record_id: str, resource: str, filename: str, data: bytes
) -> None:
    """Store (or replace) the record's file and mark the record as having one."""
    if not data:
        raise invalid_value("attachment")
    if len(data) > MAX_BYTES:
        raise invalid_value("attachment")
    record = _record(ledger, module, record_id, resource)
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    ledger.db.ensure_schema(SCHEMA)
    with ledger.db.transaction() as conn:
        conn.execute(
            "INSERT INTO attachments(org_id, module, record_id, filename, content_type, data) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(org_id, module, record_id) DO UPDATE SET "
            "filename=excluded.filename, content_type=excluded.content_type, data=excluded.data",
            (ledger.org_id, module, record_id, filename, content_type, data),
        )
        record["has_attachment"] = True
        record["attachment_name"] = filename
        ledger.store.update(module, record_id, record, ledger.now())


def fetch(ledger: Ledger, module: str, record_id: str, resource: str) -> StoredFile:
    _record(ledger, module, record_id, resource)
    ledger.db.ensure_schema(SCHEMA)
    with ledger.db.read() as conn:
        row = conn.execute(
            "SELECT filename, content_type, data FROM attachments "
            "WHERE org_id=? AND module=? AND record_id=?",
            (ledger.org_id, module, record_id),
        ).fetchone()
    if row is None:
        raise not_found("Attachment")
    return StoredFile(str(row["filename"]), str(row["content_type"]), bytes(row["data"]))


def detach(ledger: Ledger, module: str, record_id: str, resource: str) -> None:
    record = _record(ledger, module, record_id, resource)
    ledger.db.ensure_schema(SCHEMA)
    with ledger.db.transaction() as conn:
        deleted = conn.execute(
            "DELETE FROM attachments WHERE org_id=? AND module=? AND record_id=?",
            (ledger.org_id, module, record_id),
        ).rowcount
        if not deleted:
            raise not_found("Attachment")
        record["has_attachment"] = False
        record["attachment_name"] = ""
        ledger.store.update(module, record_id, record, ledger.now())


def _record(ledger: Ledger, module: str, record_id: str, resource: str) -> dict[str, object]:
    record = ledger.store.get(module, record_id)
    if record is None:
        raise not_found(resource)
    return record
