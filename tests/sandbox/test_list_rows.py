"""List-row projections (``ledger.rows``): list pages built from the stored projections
must be exactly the rows built from whole documents, for every module that declares one,
after edits, status changes and payments, on files written before projections existed,
and after a snapshot restore."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from zbooks.sandbox.app import SandboxApp, create_app
from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, load_routes
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.ledger import rows
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import ListSpec, list_page
from zbooks.sandbox.seed import seed_module

DAY = 86_400


def _specs() -> dict[str, ListSpec]:
    """Every module's main list spec that declares list-row keys."""
    import importlib

    load_routes()
    found: dict[str, ListSpec] = {}
    for module in sorted(rows.ROW_KEYS):
        ledger_module = importlib.import_module(f"zbooks.sandbox.ledger.{module}")
        spec = ledger_module.LIST_SPEC
        assert spec.row_keys is not None
        found[module] = spec
    return found


def _full_rows(ledger: Ledger, spec: ListSpec) -> list[dict[str, Any]]:
    """Rows presented from whole documents (the list path without projections)."""
    return _listed_rows(ledger, replace(spec, row_keys=None))


def _listed_rows(ledger: Ledger, spec: ListSpec) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        result = list_page(ledger, {"page": str(page), "per_page": "200"}, spec)
        out += result.records
        if not result.page_context["has_more_page"]:
            return out
        page += 1


def _assert_same_rows(app: SandboxApp) -> int:
    """Every declared module: projected list == whole-document rows. Returns rows seen."""
    ledger = Ledger(db=app.db, clock=app.clock, org_id=app.demo.org_id)
    seen = 0
    for module, spec in _specs().items():
        full = _full_rows(ledger, spec)
        listed = _listed_rows(ledger, spec)
        assert listed == full, module
        # Same key order too: clients that print rows see the same JSON.
        assert [list(r) for r in listed] == [list(r) for r in full], module
        seen += len(full)
    return seen


def _call(app: SandboxApp, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    registry = load_routes()
    route, params = registry.match(method, path)
    ledger = Ledger(db=app.db, clock=app.clock, org_id=app.demo.org_id)
    request = BooksRequest(
        method=method,
        path=path,
        path_params=params,
        query={},
        body=body or {},
        ledger=ledger,
        user_id=app.demo.user_id,
    )
    if method == "GET":
        response = route.handler(request)
    else:
        with app.db.transaction():
            response = route.handler(request)
    assert isinstance(response, BooksResponse)
    assert response.status in (200, 201), response.body
    return response.body


@pytest.fixture
def app(tmp_path: Path) -> Iterator[SandboxApp]:
    sandbox = create_app(SandboxConfig(db_path=str(tmp_path / "sandbox.db"), seed="demo"))
    yield sandbox
    sandbox.close()


def _projection_count(app: SandboxApp, module: str) -> int:
    with app.db.read() as conn:
        return int(
            conn.execute("SELECT count(*) FROM record_rows WHERE module=?", (module,)).fetchone()[0]
        )


def test_every_declared_module_has_rows_and_lists_match(app: SandboxApp) -> None:
    assert {"invoices", "bills", "contacts", "items", "estimates"} <= set(rows.ROW_KEYS)
    seen = _assert_same_rows(app)
    assert seen > 50
    # The demo data wrote projections as it went (no list page needed to build them).
    assert (
        _projection_count(app, "invoices")
        == app.db._conn.execute("SELECT count(*) FROM records WHERE module='invoices'").fetchone()[
            0
        ]
    )


def test_rows_match_after_edits_status_changes_payments_and_time(app: SandboxApp) -> None:
    invoices = _call(app, "GET", "/invoices")["invoices"]
    draft = next(i for i in invoices if i["status"] == "draft")
    # An edit of a row field, then the status machine, then money against it.
    _call(
        app,
        "PUT",
        f"/invoices/{draft['invoice_id']}",
        {"reference_number": "REF-rows-1", "due_date": app.clock.today().isoformat()},
    )
    _call(app, "POST", f"/invoices/{draft['invoice_id']}/status/sent")
    shown = _call(app, "GET", f"/invoices/{draft['invoice_id']}")["invoice"]
    _call(
        app,
        "POST",
        "/customerpayments",
        {
            "customer_id": shown["customer_id"],
            "payment_mode": "cash",
            "amount": round(shown["total"] / 2, 2),
            "date": app.clock.today().isoformat(),
            "invoices": [
                {"invoice_id": shown["invoice_id"], "amount_applied": round(shown["total"] / 2, 2)}
            ],
        },
    )
    void = next(i for i in invoices if i["status"] in ("sent", "overdue", "draft"))
    if void["invoice_id"] != draft["invoice_id"]:
        _call(app, "POST", f"/invoices/{void['invoice_id']}/status/void")
    contact = _call(app, "GET", "/contacts")["contacts"][0]
    _call(app, "PUT", f"/contacts/{contact['contact_id']}", {"contact_name": "Renamed Rows Ltd"})
    item = _call(app, "GET", "/items")["items"][0]
    _call(app, "PUT", f"/items/{item['item_id']}", {"rate": 12.5, "name": "Renamed item"})
    _assert_same_rows(app)

    listed = {i["invoice_id"]: i for i in _call(app, "GET", "/invoices")["invoices"]}
    row = listed[draft["invoice_id"]]
    assert row["reference_number"] == "REF-rows-1"
    assert row["status"] == "partially_paid"
    assert row["balance"] == pytest.approx(shown["total"] - round(shown["total"] / 2, 2))

    # Statuses derived from the clock (overdue, expired) move on list rows as on documents.
    app.clock.advance(40 * DAY)
    _assert_same_rows(app)
    assert _call(app, "GET", "/invoices")["invoices"]
    listed = {i["invoice_id"]: i for i in _call(app, "GET", "/invoices")["invoices"]}
    assert listed[draft["invoice_id"]]["status"] == "overdue"

    _call(app, "DELETE", f"/contacts/{_new_contact(app)}")
    _assert_same_rows(app)


def _new_contact(app: SandboxApp) -> str:
    made = _call(app, "POST", "/contacts", {"contact_name": "Short-lived Rows"})
    return str(made["contact"]["contact_id"])


def test_every_record_presents_the_same_from_its_projection(app: SandboxApp) -> None:
    """A presenter reading a key its module did not declare would show a default on
    list pages: for every record (not only those a list page happens to show), the row
    presented from the projection is the row presented from the whole document."""
    ledger = Ledger(db=app.db, clock=app.clock, org_id=app.demo.org_id)
    checked = 0
    for module, spec in _specs().items():
        assert spec.present is not None and spec.row_keys is not None
        for record in ledger.store.find(module, []):
            projected = json.loads(rows.project(spec.row_keys, record))
            whole = json.loads(json.dumps(record))
            assert spec.present(ledger, projected) == spec.present(ledger, whole), module
            checked += 1
    assert checked > 50


def _legacy_file(path: Path) -> None:
    """Turn a sandbox file into one written before projections: no table, no triggers,
    no key markers."""
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER record_rows_on_edit")
        conn.execute("DROP TRIGGER record_rows_on_delete")
        conn.execute("DROP TABLE record_rows")
        conn.execute("DELETE FROM meta WHERE key LIKE 'rows:%'")


def test_a_file_from_before_projections_opens_and_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first = create_app(SandboxConfig(db_path=str(path), seed="demo"))
    seed_module(first.db, first.clock, first.demo.org_id, "invoices", 30, random.Random(3))
    first.close()
    _legacy_file(path)

    reopened = create_app(SandboxConfig(db_path=str(path), seed="demo"))
    try:
        with reopened.db.read() as conn:
            records = conn.execute("SELECT count(*) FROM records WHERE module='invoices'")
            expected = records.fetchone()[0]
            marker = conn.execute("SELECT value FROM meta WHERE key='rows:invoices'").fetchone()
        assert expected > 30
        assert _projection_count(reopened, "invoices") == expected
        assert marker is not None and marker[0] == rows.fingerprint("invoices")
        _assert_same_rows(reopened)
    finally:
        reopened.close()


def test_changed_keys_rebuild_and_outside_edits_drop_projections(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    app = create_app(SandboxConfig(db_path=str(path), seed="demo"))
    org = app.demo.org_id
    invoice_id = _call(app, "GET", "/invoices")["invoices"][0]["invoice_id"]
    app.close()

    with sqlite3.connect(path) as conn:
        # An older sandbox (which knows nothing of projections) edits the record...
        conn.execute(
            "UPDATE records SET data=json_set(data, '$.reference_number', 'EDITED-ELSEWHERE') "
            "WHERE org_id=? AND module='invoices' AND record_id=?",
            (org, invoice_id),
        )
        gone = conn.execute(
            "SELECT count(*) FROM record_rows WHERE module='invoices' AND record_id=?",
            (invoice_id,),
        ).fetchone()[0]
        assert gone == 0  # ...and the trigger dropped that record's projection
        # A marker from another version of the row keys: everything must be rebuilt.
        conn.execute("UPDATE meta SET value='0:stale' WHERE key='rows:bills'")
        conn.execute("UPDATE record_rows SET data='{}' WHERE module='bills'")

    app = create_app(SandboxConfig(db_path=str(path), seed="demo"))
    try:
        listed = {i["invoice_id"]: i for i in _call(app, "GET", "/invoices")["invoices"]}
        assert listed[invoice_id]["reference_number"] == "EDITED-ELSEWHERE"
        bills = _call(app, "GET", "/bills")["bills"]
        assert bills and all(b["bill_id"] for b in bills)
        _assert_same_rows(app)
    finally:
        app.close()


def test_rows_follow_a_snapshot_restore(app: SandboxApp) -> None:
    snapshot = app.snapshots.take("before")
    invoice = _call(app, "GET", "/invoices")["invoices"][0]
    _call(app, "PUT", f"/invoices/{invoice['invoice_id']}", {"reference_number": "AFTER-SNAP"})
    _call(app, "POST", "/contacts", {"contact_name": "After Snapshot"})
    app.snapshots.restore(snapshot.id)
    listed = {i["invoice_id"]: i for i in _call(app, "GET", "/invoices")["invoices"]}
    assert listed[invoice["invoice_id"]]["reference_number"] == invoice["reference_number"]
    names = [c["contact_name"] for c in _call(app, "GET", "/contacts")["contacts"]]
    assert "After Snapshot" not in names
    _assert_same_rows(app)


def test_reset_keeps_projections_and_markers(app: SandboxApp) -> None:
    app.reset()
    with app.db.read() as conn:
        marker = conn.execute("SELECT value FROM meta WHERE key='rows:invoices'").fetchone()
    assert marker is not None
    assert _projection_count(app, "invoices") > 0
    _assert_same_rows(app)
