"""Detail projections (``ledger.details``): a GET by id answered from the stored rendered
answer must be byte for byte the answer rendered from the whole document, for every
module that declares one, for every record, as the clock moves (statuses that turn
overdue), after edits, status changes and payments, on files written before projections
existed, after outside edits, a snapshot restore and a reset."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.helpers import make_config, running
from zbooks.sandbox.app import SandboxApp, create_app
from zbooks.sandbox.books import fastread
from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, load_routes
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.http_books import _fast_read, _rendered
from zbooks.sandbox.ledger import details
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.seed import seed_module

DAY = 86_400
# module -> the GET-by-id path of one of its records
PATHS = {"invoices": "/invoices/{id}"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[SandboxApp]:
    sandbox = create_app(SandboxConfig(db_path=str(tmp_path / "sandbox.db"), seed="demo"))
    yield sandbox
    sandbox.close()


def _request(app: SandboxApp, path: str, query: dict[str, str] | None = None) -> Any:
    route, params = load_routes().match("GET", path)
    ledger = Ledger(db=app.db, clock=app.clock, org_id=app.demo.org_id)
    request = BooksRequest(
        method="GET",
        path=path,
        path_params=params,
        query=query or {},
        body={},
        ledger=ledger,
        user_id=app.demo.user_id,
    )
    return route, request


def _call(app: SandboxApp, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    route, params = load_routes().match(method, path)
    request = BooksRequest(
        method=method,
        path=path,
        path_params=params,
        query={},
        body=body or {},
        ledger=Ledger(db=app.db, clock=app.clock, org_id=app.demo.org_id),
        user_id=app.demo.user_id,
    )
    with app.db.transaction():
        response = route.handler(request)
    assert isinstance(response, BooksResponse)
    assert response.status in (200, 201), response.body
    return response.body


def _ids(app: SandboxApp, module: str) -> list[str]:
    with app.db.read() as conn:
        return [
            str(r[0])
            for r in conn.execute(
                "SELECT record_id FROM records WHERE org_id=? AND module=?",
                (app.demo.org_id, module),
            )
        ]


def _assert_same_answers(app: SandboxApp) -> int:
    """Every record of every declared module: fast answer == whole-path answer. Returns
    how many came from a projection."""
    fast_count = 0
    for module in sorted(details.SPECS):
        for record_id in _ids(app, module):
            route, request = _request(app, PATHS[module].format(id=record_id))
            whole = _rendered(route.handler(request)).content
            fast = _fast_read(route, request)
            if fast is None:
                continue
            assert fast.content == whole, (module, record_id)
            assert fast.status == 200 and fast.media_type == "application/json;charset=UTF-8"
            fast_count += 1
    return fast_count


def _count(app: SandboxApp, module: str) -> int:
    with app.db.read() as conn:
        row = conn.execute("SELECT count(*) FROM record_details WHERE module=?", (module,))
        return int(row.fetchone()[0])


def test_every_declared_module_reads_the_same_from_projections(app: SandboxApp) -> None:
    assert set(details.SPECS) == set(PATHS)
    for module in details.SPECS:
        # The route's handler has its twin, and every record got a projection as written.
        route, _ = _request(app, PATHS[module].format(id="1"))
        assert fastread.lookup(route.handler) is not None
        assert _count(app, module) == len(_ids(app, module)) > 10
    assert _assert_same_answers(app) > 10


def test_statuses_follow_the_clock(app: SandboxApp) -> None:
    invoices = _call(app, "GET", "/invoices")["invoices"]
    sent = next(i for i in invoices if i["status"] == "draft")
    _call(app, "PUT", f"/invoices/{sent['invoice_id']}", {"due_date": app.clock.today_iso()})
    _call(app, "POST", f"/invoices/{sent['invoice_id']}/status/sent")
    before = _assert_same_answers(app)
    for days in (1, 40, 400):
        app.clock.advance(days * DAY)
        assert _assert_same_answers(app) == before
    route, request = _request(app, f"/invoices/{sent['invoice_id']}")
    fast = _fast_read(route, request)
    assert fast is not None and b'"status":"overdue"' in (fast.content or b"")


def test_answers_match_after_edits_status_changes_and_payments(app: SandboxApp) -> None:
    invoices = _call(app, "GET", "/invoices")["invoices"]
    draft = next(i for i in invoices if i["status"] == "draft")
    invoice_id = draft["invoice_id"]
    _call(
        app,
        "PUT",
        f"/invoices/{invoice_id}",
        {"reference_number": 'Réf-ünïcode-✓ "quoted" \\ back', "notes": "Zeilen\nzwei"},
    )
    _call(app, "POST", f"/invoices/{invoice_id}/status/sent")
    shown = _call(app, "GET", f"/invoices/{invoice_id}")["invoice"]
    half = round(shown["total"] / 2, 2)
    _call(
        app,
        "POST",
        "/customerpayments",
        {
            "customer_id": shown["customer_id"],
            "payment_mode": "cash",
            "amount": half,
            "date": app.clock.today_iso(),
            "invoices": [{"invoice_id": invoice_id, "amount_applied": half}],
        },
    )
    other = next(i for i in invoices if i["invoice_id"] != invoice_id and i["status"] != "void")
    _call(app, "POST", f"/invoices/{other['invoice_id']}/status/void")
    made = _call(
        app,
        "POST",
        "/invoices",
        {
            "customer_id": shown["customer_id"],
            "line_items": [{"name": "Fresh line", "rate": 10, "quantity": 3}],
        },
    )["invoice"]
    _call(app, "DELETE", f"/invoices/{made['invoice_id']}")
    assert _assert_same_answers(app) == len(_ids(app, "invoices"))

    route, request = _request(app, f"/invoices/{invoice_id}")
    fast = _fast_read(route, request)
    assert fast is not None
    assert "Réf-ünïcode-✓".encode() in (fast.content or b"")
    assert b'"status":"partially_paid"' in (fast.content or b"")


def test_the_marker_text_in_a_record_gets_no_projection(app: SandboxApp) -> None:
    invoice_id = _ids(app, "invoices")[0]
    _call(app, "PUT", f"/invoices/{invoice_id}", {"notes": details.MARK})
    route, request = _request(app, f"/invoices/{invoice_id}")
    assert _fast_read(route, request) is None  # read whole: the marker would be ambiguous
    whole = _rendered(route.handler(request)).content or b""
    assert details.MARK_JSON in whole  # the client sees its own text back, untouched
    _assert_same_answers(app)


def test_other_forms_and_missing_records_take_the_whole_path(app: SandboxApp) -> None:
    invoice_id = _ids(app, "invoices")[0]
    for query in ({"accept": "pdf"}, {"accept": "html"}, {"accept": "bogus"}):
        route, request = _request(app, f"/invoices/{invoice_id}", query)
        assert _fast_read(route, request) is None
    route, request = _request(app, f"/invoices/{invoice_id}", {"accept": "json"})
    assert _fast_read(route, request) is not None
    route, request = _request(app, "/invoices/999999999999")
    assert _fast_read(route, request) is None


async def test_over_http_the_answer_and_log_are_unchanged(tmp_path: Path) -> None:
    config = make_config(tmp_path, seed="demo")
    async with running(config, registry=load_routes()) as sandbox:
        app = sandbox.app
        invoice_id = _ids(app, "invoices")[0]
        route, request = _request(app, f"/invoices/{invoice_id}")
        whole = _rendered(route.handler(request)).content
        for _ in range(2):  # fresh, then from the read memo
            got = await sandbox.books("GET", f"/invoices/{invoice_id}")
            assert got.status_code == 200
            assert got.content == whole
            assert got.headers["content-type"] == "application/json;charset=UTF-8"
            assert "x-rate-limit-remaining" in got.headers
        missing = await sandbox.books("GET", "/invoices/999999999999")
        assert missing.status_code == 404 and missing.json()["code"] == 1002
        bad = await sandbox.books("GET", f"/invoices/{invoice_id}", params={"accept": "x"})
        assert bad.status_code == 400
        pdf = await sandbox.books("GET", f"/invoices/{invoice_id}", params={"accept": "pdf"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        logged = [e for e in app.requests.recent() if e["path"].endswith(invoice_id)]
        assert [(e["status"], e["code"]) for e in logged[:2]] == [(200, 0), (200, 0)]


def _legacy_file(path: Path) -> None:
    """A sandbox file written before detail projections: no table, triggers or markers."""
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER record_details_on_edit")
        conn.execute("DROP TRIGGER record_details_on_delete")
        conn.execute("DROP TABLE record_details")
        conn.execute("DELETE FROM meta WHERE key LIKE 'details:%'")


def test_a_file_from_before_projections_opens_and_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first = create_app(SandboxConfig(db_path=str(path), seed="demo"))
    seed_module(first.db, first.clock, first.demo.org_id, "invoices", 30, random.Random(3))
    first.close()
    _legacy_file(path)

    reopened = create_app(SandboxConfig(db_path=str(path), seed="demo"))
    try:
        expected = len(_ids(reopened, "invoices"))
        assert expected > 30
        assert _count(reopened, "invoices") == expected
        with reopened.db.read() as conn:
            marker = conn.execute("SELECT value FROM meta WHERE key='details:invoices'").fetchone()
        assert marker is not None
        assert marker[0] == details.fingerprint(details.SPECS["invoices"])
        assert _assert_same_answers(reopened) == expected
    finally:
        reopened.close()


def test_stale_fingerprints_rebuild_and_outside_edits_drop_projections(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    app = create_app(SandboxConfig(db_path=str(path), seed="demo"))
    org = app.demo.org_id
    invoice_id, other_id = _ids(app, "invoices")[:2]
    app.close()

    with sqlite3.connect(path) as conn:
        # An older sandbox (which knows nothing of projections) edits the record...
        conn.execute(
            "UPDATE records SET data=json_set(data, '$.reference_number', 'EDITED-ELSEWHERE') "
            "WHERE org_id=? AND module='invoices' AND record_id=?",
            (org, invoice_id),
        )
        gone = conn.execute(
            "SELECT count(*) FROM record_details WHERE module='invoices' AND record_id=?",
            (invoice_id,),
        ).fetchone()[0]
        assert gone == 0  # ...and the trigger dropped that record's projection
        conn.execute(
            "DELETE FROM records WHERE org_id=? AND module='invoices' AND record_id=?",
            (org, other_id),
        )
        left = conn.execute(
            "SELECT count(*) FROM record_details WHERE record_id=?", (other_id,)
        ).fetchone()[0]
        assert left == 0

    app = create_app(SandboxConfig(db_path=str(path), seed="demo"))
    try:
        route, request = _request(app, f"/invoices/{invoice_id}")
        assert _fast_read(route, request) is None  # no projection: read whole
        assert b"EDITED-ELSEWHERE" in (_rendered(route.handler(request)).content or b"")
        assert _assert_same_answers(app) == len(_ids(app, "invoices")) - 1
    finally:
        app.close()

    # Projections rendered by other code (another version's fingerprint) are rebuilt.
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value='0:stale' WHERE key='details:invoices'")
        conn.execute("UPDATE record_details SET body=CAST('{}' AS BLOB)")
    app = create_app(SandboxConfig(db_path=str(path), seed="demo"))
    try:
        assert _assert_same_answers(app) == len(_ids(app, "invoices"))
    finally:
        app.close()


def test_projections_follow_a_snapshot_restore_and_a_reset(app: SandboxApp) -> None:
    snapshot = app.snapshots.take("before")
    invoice_id = _ids(app, "invoices")[0]
    _call(app, "PUT", f"/invoices/{invoice_id}", {"reference_number": "AFTER-SNAP"})
    app.snapshots.restore(snapshot.id)
    route, request = _request(app, f"/invoices/{invoice_id}")
    fast = _fast_read(route, request)
    assert fast is not None and b"AFTER-SNAP" not in (fast.content or b"")
    assert _assert_same_answers(app) == len(_ids(app, "invoices"))

    app.reset()
    assert _count(app, "invoices") == len(_ids(app, "invoices")) > 0
    assert _assert_same_answers(app) == len(_ids(app, "invoices"))
