"""The record store's post-commit change feed."""

from __future__ import annotations

import pytest

from zbooks.sandbox.db import Change, Database
from zbooks.sandbox.ledger.store import RecordStore


def test_changes_are_published_after_commit_only() -> None:
    db = Database(":memory:")
    seen: list[list[Change]] = []
    db.add_listener(seen.append)
    store = RecordStore(db, "1")
    store.insert("invoices", "10", {"status": "draft"}, "2026-01-01T00:00:00+0000")
    store.update("invoices", "10", {"status": "sent"}, "2026-01-01T00:00:01+0000")
    store.update("invoices", "10", {"status": "sent", "x": 1}, "t", touch=False)
    with pytest.raises(RuntimeError), db.transaction():
        store.insert("invoices", "11", {}, "t")
        raise RuntimeError("rolled back")
    store.delete("invoices", "10")
    flat = [c for batch in seen for c in batch]
    assert [(c.action, c.record_id) for c in flat] == [
        ("add", "10"),
        ("edit", "10"),
        ("delete", "10"),
    ]
    assert flat[1].before is not None and flat[1].before["status"] == "draft"
    assert flat[1].after is not None and flat[1].after["status"] == "sent"
    assert flat[2].before is not None and flat[2].after is None


def test_one_transaction_publishes_one_batch() -> None:
    db = Database(":memory:")
    seen: list[list[Change]] = []
    db.add_listener(seen.append)
    store = RecordStore(db, "1")
    with db.transaction():
        store.insert("contacts", "1", {}, "t")
        store.insert("contacts", "2", {}, "t")
    assert len(seen) == 1 and [c.record_id for c in seen[0]] == ["1", "2"]
