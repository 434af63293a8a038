"""Issue 16 points 1-3 over loopback, against a sandbox with its rate limit on (Zoho's
100 requests a minute compressed tenfold: 100 per 6 s): how much detail to pay for,
never losing finished work, and saying what the budget allows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import zbooks.sync as zsync
from zbooks.core.ratelimit import RateLimiter
from zbooks.sync.modules import MODULES
from zbooks.sync.schema import SyncSchema

from .support import (
    HERE,
    HUGE,
    Credentials,
    SandboxProc,
    Truth,
    sandbox_now,
    sandbox_process,
)

LIMIT, WINDOW = 100, 6.0  # the sandbox's limit: Zoho's 100/min, ten times faster
INVOICES = 300


def limiter(daily: int = HUGE, plan: str = "premium") -> RateLimiter:
    # The client's limiter knows the same limit, with a margin for the server's queueing.
    return RateLimiter(
        requests_per_window=LIMIT, window=WINDOW + 0.15, plan=plan, daily_limit=daily
    )


@pytest.fixture(scope="module")
def limited() -> Iterator[SandboxProc]:
    with sandbox_process(seed="demo", rate_limit=LIMIT, rate_window=WINDOW) as sandbox:
        sandbox.seed("contacts", 60)
        sandbox.seed("invoices", INVOICES)
        yield sandbox


@pytest.fixture(scope="module")
def creds(limited: SandboxProc) -> Credentials:
    return limited.credentials()


@contextmanager
def daily_budget(sandbox: SandboxProc, daily: int) -> Iterator[None]:
    """A new day (the sandbox restarts: today's counts start afresh) whose budget is
    ``daily`` requests; the next day afterwards has no budget to speak of."""
    plans = ("free", "standard", "professional", "premium")
    sandbox.config = {**sandbox.config, "daily_limits": dict.fromkeys(plans, daily)}
    sandbox.restart()
    try:
        yield
    finally:
        sandbox.config = {**sandbox.config, "daily_limits": dict.fromkeys(plans, HUGE)}
        sandbox.restart()


def _rows(engine: sa.Engine, module: str, org: str) -> list[sa.Row[tuple[object, ...]]]:
    table = SyncSchema([MODULES[module]]).modules[module].table
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(
                    table.c.id,
                    table.c.detail_synced_at,
                    table.c.last_modified_time,
                    table.c.row_hash,
                ).where(table.c.organization_id == org)
            )
        )


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def test_details_none_lists_only_then_changed_fills_exactly_the_rest_newest_first(
    limited: SandboxProc, creds: Credentials, tmp_path: Path
) -> None:
    url = f"duckdb:///{tmp_path / 'books.duckdb'}"
    events: list[zsync.Progress] = []
    with limited.client(creds, limiter=limiter()) as client:
        marker = limited.mark()
        cheap = zsync.run(client, url, modules="contacts,invoices", details="none", now=sandbox_now)
        log = limited.requests_since(marker)
    assert cheap.ok and not [e for e in log if e["status"] == 429]
    invoices = cheap.result("invoices")
    total = invoices.inserted
    assert total >= INVOICES and invoices.detail_requests == 0
    # One request per 200 records (the keyset scan may re-read a boundary page).
    assert invoices.list_requests <= -(-total // 200) + 2
    assert len(log) == cheap.requests
    engine = zsync.make_engine(url)
    rows = _rows(engine, "invoices", limited.org_id)
    assert len(rows) == total and all(r.detail_synced_at is None for r in rows)
    assert _count(engine, "invoices_line_items") == 0  # child tables are not filled

    # A later run with details fetches exactly the rows lacking them, newest first.
    with limited.client(creds, limiter=limiter()) as client:
        marker = limited.mark()
        full = zsync.run(
            client,
            engine,
            modules="invoices",
            details="changed",
            on_progress=events.append,
            now=sandbox_now,
            module_workers=1,
            detail_workers=1,
        )
        log = limited.requests_since(marker)
    result = full.result("invoices")
    assert full.ok and result.filled == total and result.detail_requests == total
    assert result.inserted == result.updated == 0
    fetched = [
        e["path"].rsplit("/", 1)[1] for e in log if e["path"].count("/") > 3 and e["status"] == 200
    ]
    assert len(fetched) == len(set(fetched)) == total
    modified = {str(r.id): r.last_modified_time for r in rows}
    order = [modified[rid] for rid in fetched]
    assert order == sorted(order, reverse=True)  # newest first (one worker: in order)
    rows = _rows(engine, "invoices", limited.org_id)
    assert all(r.detail_synced_at is not None for r in rows)
    truth = Truth(limited)
    try:
        expected = truth.records(MODULES["invoices"])
    finally:
        truth.close()
    from zbooks.sync.schema import record_hash

    assert {str(r.id): r.row_hash for r in rows} == {
        rid: record_hash(rec) for rid, rec in expected.items()
    }
    lines = sum(len(rec.get("line_items") or []) for rec in expected.values())
    assert _count(engine, "invoices_line_items") == lines

    # Progress: budget used/left today, the plan before the details, an ETA on the way.
    plan = [e for e in events if e.phase == "plan"]
    assert len(plan) == 1 and plan[0].result.details_pending == total
    details = [e for e in events if e.phase == "details"]
    assert details and all(
        e.daily_used is not None and e.daily_remaining is not None for e in details
    )
    assert details[-1].daily_used is not None and details[-1].daily_used >= total
    assert any(e.eta_seconds is not None and e.eta_seconds > 0 for e in details[:-1])
    assert details[-1].eta_seconds == 0

    # Nothing lacks details any more: a third run fetches nothing.
    with limited.client(creds, limiter=limiter()) as client:
        again = zsync.run(client, engine, modules="invoices", now=sandbox_now)
    assert again.result("invoices").detail_requests == 0


def test_per_module_details_and_the_daily_budget_bounds_the_fill(
    limited: SandboxProc, creds: Credentials, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'books.sqlite'}"
    with limited.client(creds, limiter=limiter()) as client:
        first = zsync.run(
            client,
            url,
            modules="contacts,invoices",
            details="invoices=none,contacts=changed",
            now=sandbox_now,
        )
    assert first.result("contacts").detail_requests == first.result("contacts").inserted
    assert first.result("invoices").detail_requests == 0
    engine = zsync.make_engine(url)
    newest = sorted(
        _rows(engine, "invoices", limited.org_id),
        key=lambda r: (r.last_modified_time, str(r.id)),
        reverse=True,
    )
    # Today's budget is 150 requests: the fill stops there, newest rows first, keeping
    # every record it fetched; the next day's run finishes the rest.
    with daily_budget(limited, 150), limited.client(creds, limiter=limiter()) as client:
        partial = zsync.run(
            client,
            engine,
            modules="invoices",
            raise_on_error=False,
            now=sandbox_now,
            module_workers=1,
            detail_workers=1,
        )
    result = partial.result("invoices")
    assert not partial.ok and "daily" in str(result.error).lower()
    assert result.requests <= 150
    filled = {
        str(r.id)
        for r in _rows(engine, "invoices", limited.org_id)
        if r.detail_synced_at is not None
    }
    assert result.filled == len(filled) >= 140 - result.list_requests
    assert filled == {str(r.id) for r in newest[: len(filled)]}
    with limited.client(creds, limiter=limiter()) as client:
        rest = zsync.run(client, engine, modules="invoices", now=sandbox_now)
    assert rest.result("invoices").filled == len(newest) - len(filled)
    assert rest.result("invoices").detail_requests == len(newest) - len(filled)


KILL_AFTER = 6.0  # one compressed minute (60 s under 100/min)


def test_killed_after_a_minute_keeps_what_it_fetched(
    limited: SandboxProc, creds: Credentials, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'killed.sqlite'}"
    env = {**os.environ, **creds.env(limited), "ZB_RATE_LIMIT": f"{LIMIT}/{WINDOW + 0.15}"}
    time.sleep(WINDOW + 0.5)  # the server's window empties (earlier tests filled it)
    marker = limited.mark()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "sync_worker.py"), url, "contacts,invoices"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(KILL_AFTER)
    assert proc.poll() is None, "the sync finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    log = limited.requests_since(marker)
    engine = zsync.make_engine(url)
    fetched = kept = 0
    for module in ("contacts", "invoices"):
        base = "/books/v3" + MODULES[module].path + "/"
        fetched += sum(1 for e in log if e["path"].startswith(base) and e["status"] == 200)
        kept += sum(
            1 for r in _rows(engine, module, limited.org_id) if r.detail_synced_at is not None
        )
    assert fetched >= 50, fetched
    assert kept >= 0.8 * fetched, (kept, fetched)


def test_dry_run_creates_no_file_and_states_days_of_budget(
    limited: SandboxProc, creds: Credentials, tmp_path: Path
) -> None:
    for url in (f"duckdb:///{tmp_path / 'plan.duckdb'}", f"sqlite:///{tmp_path / 'p.sqlite'}"):
        # 300 requests a day (the server's X-Rate-Limit-* headers tell the client).
        with daily_budget(limited, 300), limited.client(creds, limiter=limiter()) as client:
            plan = zsync.run(client, url, modules="invoices", dry_run=True, now=sandbox_now)
        assert not list(tmp_path.iterdir()), "a dry run must not create the database"
        result = plan.result("invoices")
        assert result.planned_requests == result.list_requests + result.inserted
        org = limited.org_id
        remaining, per_day = plan.daily_remaining[org], plan.daily_limit[org]
        assert remaining is not None and per_day is not None
        days = plan.days_of_budget(org)
        assert days is not None and days == zsync.results.days_of_budget(
            result.planned_requests, remaining, per_day
        )
        data = plan.as_dict()
        assert data["modules"][0]["would_insert"] == result.inserted > 0
        assert "inserted" not in data and data["days_of_budget"][org] == days
        assert per_day == 300 and days >= 2  # 300+ detail requests, list pages, at 300 a day
        assert f"{days} days of budget at 300 a day" in plan.budget_note()


def test_the_forecast_comes_before_any_work_and_agrees_with_the_dry_run(
    limited: SandboxProc, creds: Credentials, tmp_path: Path
) -> None:
    url = f"duckdb:///{tmp_path / 'f.duckdb'}"
    events: list[object] = []
    with daily_budget(limited, 200), limited.client(creds, limiter=limiter()) as client:
        plan = zsync.run(client, url, modules="contacts,invoices", dry_run=True,
                         now=sandbox_now)
        marker = limited.mark()
        summary = zsync.run(client, url, modules="contacts,invoices", raise_on_error=False,
                            on_progress=events.append, on_forecast=events.append,
                            now=sandbox_now)
        log = limited.requests_since(marker)
    org = limited.org_id
    forecast = events[0]
    # Told first, before any module started or any list page was read.
    assert isinstance(forecast, zsync.Forecast) and forecast.organization_id == org
    assert sum(isinstance(e, zsync.Forecast) for e in events) == 1
    assert summary.forecasts[org] is forecast
    by_module = {m.module: m for m in forecast.modules}
    assert by_module["invoices"].records == plan.result("invoices").inserted >= INVOICES
    assert by_module["contacts"].records == plan.result("contacts").inserted
    # Counting is cheap: one request answers for invoices (response_option=2), a few
    # page probes for contacts, and the run's total includes them.
    assert forecast.counting_requests <= 1 + 6
    assert summary.counting_requests == forecast.counting_requests
    # Every request is counted and none was refused: the limiter keeps the requests in
    # flight counted when it adopts the server's count (RateLimiter.update_from_headers),
    # so the last ones of the day never draw a 429.
    assert [e for e in log if e["status"] == 429] == []
    assert len(log) == summary.requests
    assert [e["path"] for e in log[: forecast.counting_requests]].count(
        "/books/v3/invoices") >= 1
    # The same arithmetic as --dry-run: its planned requests, within a boundary page
    # or two per module, and so the same days of budget.
    assert abs(forecast.requests - plan.planned_requests) <= 4
    assert forecast.daily_limit == 200 and forecast.days is not None and forecast.days >= 2
    assert forecast.days == zsync.results.days_of_budget(
        plan.planned_requests, forecast.daily_remaining, forecast.daily_limit)
    assert not summary.ok  # it then stopped at the limit, resumable


def test_money_sums_exactly_in_duckdb_and_sqlite(
    limited: SandboxProc, creds: Credentials, tmp_path: Path
) -> None:
    truth = Truth(limited)
    try:
        expected_records = truth.records(MODULES["invoices"])
    finally:
        truth.close()
    total = sum((Decimal(str(r["total"])) for r in expected_records.values()), Decimal(0))
    lines = sum(
        (
            Decimal(str(li["item_total"]))
            for r in expected_records.values()
            for li in r.get("line_items") or []
        ),
        Decimal(0),
    )
    for url in (f"duckdb:///{tmp_path / 'm.duckdb'}", f"sqlite:///{tmp_path / 'm.sqlite'}"):
        with limited.client(creds, limiter=limiter()) as client:
            zsync.run(client, url, modules="invoices", now=sandbox_now)
        engine = zsync.make_engine(url)
        with engine.connect() as conn:
            got = conn.execute(sa.text("SELECT sum(total) FROM invoices")).scalar()
            got_lines = conn.execute(
                sa.text("SELECT sum(item_total) FROM invoices_line_items")
            ).scalar()
        if engine.dialect.name == "sqlite":  # integer millionths: exact integers
            assert isinstance(got, int)
            got, got_lines = Decimal(got).scaleb(-6), Decimal(got_lines).scaleb(-6)
        assert Decimal(got) == total and Decimal(got_lines) == lines, url
        engine.dispose()


def test_the_cli_warns_before_the_details_when_the_budget_runs_out(
    limited: SandboxProc,
    creds: Credentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from zbooks.cli import sync as cli_sync
    from zbooks.cli.main import app

    monkeypatch.setattr(
        cli_sync, "open_sync_client", lambda org: limited.client(creds, limiter=limiter())
    )
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    with daily_budget(limited, 100):
        result = CliRunner().invoke(app, ["sync", "--db", url, "--modules", "invoices"])
    assert result.exit_code != 0  # stopped at the daily limit, resumable
    assert "the daily budget runs out first" in result.stderr
    assert "days of budget" in result.stderr
    # Said once, before starting (from the forecast), not again before the details.
    assert result.stderr.lstrip().startswith(f"Warning: organization {limited.org_id}")
    assert result.stderr.count("the daily budget runs out first") == 1
    summary = json.loads(result.stdout)
    assert summary["modules"][0]["filled"] > 0  # it still filled what the budget allowed
