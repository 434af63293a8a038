"""The engine against the sandbox's demo organization: dry runs, full refreshes, marked
deletions, resuming after a failure, the cursor's upper bound, progress, several
organizations and staying under the rate limit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

import zbooks.sync as zsync
from zbooks.core.ratelimit import RateLimiter
from zbooks.core.retry import RetryPolicy
from zbooks.errors import ConfigurationError
from zbooks.sync import timeutil
from zbooks.sync.engine import SyncEngine
from zbooks.sync.modules import MODULES
from zbooks.sync.schema import SyncSchema
from zbooks.sync.state import ModuleState, load_state

from .support import (
    HUGE,
    Credentials,
    SandboxProc,
    Truth,
    assert_matches,
    doc_queries,
    sandbox_process,
    synced_hashes,
)


def _url(tmp_path: Path, name: str = "books.sqlite") -> str:
    return f"sqlite:///{tmp_path / name}"


def _state(url: str, org: str, module: str) -> ModuleState:
    engine = zsync.make_engine(url)
    with engine.connect() as conn:
        return load_state(conn, SyncSchema(MODULES.values()), org, module)


def test_dry_run_writes_nothing_and_plans_against_the_daily_budget(
    demo: SandboxProc, demo_creds: Credentials, tmp_path: Path
) -> None:
    url = _url(tmp_path)
    limiter = RateLimiter(requests_per_window=10**6, window=60, plan="free")  # 1,000 a day
    with demo.client(demo_creds, limiter=limiter) as client:
        plan = zsync.run(client, url, modules="invoices,contacts,taxes", dry_run=True)
        assert not sa.inspect(zsync.make_engine(url)).has_table("invoices")
        real = zsync.run(client, url, modules="invoices,contacts,taxes")
    assert plan.dry_run and real.inserted == plan.inserted
    for name in ("invoices", "contacts", "taxes"):
        assert plan.result(name).planned_requests == real.result(name).requests
        assert plan.result(name).detail_requests == 0  # planning fetches no detail
    # The budget is the server's (X-Rate-Limit-* headers replace the plan's 1,000).
    remaining = plan.daily_remaining[demo.org_id]
    assert remaining is not None and 1000 < remaining < HUGE
    assert f"{remaining:,} left today: fits" in plan.budget_note()

    # Planning an up-to-date database: the lookback re-read only, nothing to fetch.
    with demo.client(demo_creds) as client:
        again = zsync.run(client, url, modules="invoices,contacts,taxes", dry_run=True)
    assert again.inserted == again.updated == 0
    assert again.planned_requests == again.requests  # list pages only


def test_full_refresh_refetches_everything_but_writes_only_differences(
    demo: SandboxProc, demo_creds: Credentials, tmp_path: Path
) -> None:
    url = _url(tmp_path)
    with demo.client(demo_creds) as client:
        first = zsync.run(client, url, modules="invoices,items")
        refresh = zsync.run(client, url, modules="invoices,items", full_refresh=True)
    rows = first.result("invoices").inserted + first.result("items").inserted
    assert refresh.unchanged == rows and refresh.inserted == refresh.updated == 0
    assert sum(r.detail_requests for r in refresh.results) == rows


def test_mark_mode_keeps_deleted_rows_with_a_timestamp(
    demo: SandboxProc, demo_creds: Credentials, tmp_path: Path
) -> None:
    url = _url(tmp_path)
    with demo.client(demo_creds) as client:
        zsync.run(client, url, modules="items")
        created = client.post("/items", json={"name": "Sync mark test", "rate": 5})["item"]
        zsync.run(client, url, modules="items")
        client.delete(f"/items/{created['item_id']}")
        summary = zsync.run(client, url, modules="items", reconcile_deletes=True,
                            delete_mode="mark")
    assert summary.deleted == 1
    table = SyncSchema([MODULES["items"]]).modules["items"].table
    with zsync.make_engine(url).connect() as conn:
        row = conn.execute(sa.select(table.c.deleted_at, table.c.name)
                           .where(table.c.id == created["item_id"])).one()
    assert row.deleted_at is not None and row.name == "Sync mark test"
    assert created["item_id"] not in synced_hashes(zsync.make_engine(url), MODULES["items"],
                                                   demo.org_id)


def test_a_failed_module_resumes_from_its_last_committed_page(
    demo: SandboxProc, demo_creds: Credentials, tmp_path: Path
) -> None:
    url = _url(tmp_path)
    engine = zsync.make_engine(url)
    schema = SyncSchema([MODULES["invoices"]])
    no_retry = RetryPolicy(max_attempts=1)
    # Pages of 5: the 4th list request fails for good (one attempt, no retry).
    with demo.client(demo_creds, retry=no_retry) as client:
        calls = 0
        original = client.request

        def flaky(method: str, path: str, **kwargs: object) -> object:
            nonlocal calls
            if path == "/invoices":
                calls += 1
                if calls == 4:
                    raise ConfigurationError("simulated failure")
            return original(method, path, **kwargs)  # type: ignore[arg-type]

        client.request = flaky  # type: ignore[method-assign]
        first = SyncEngine(client, engine, schema, per_page=5).run([demo.org_id])
        assert not first.ok and "simulated failure" in str(first.results[0].error)
        state = _state(url, demo.org_id, "invoices")
        assert state.in_progress and state.cursor is None
        kept = len(synced_hashes(engine, MODULES["invoices"], demo.org_id))
        assert kept == first.results[0].inserted > 0

        second = SyncEngine(client, engine, schema, per_page=5).run([demo.org_id])
    result = second.results[0]
    assert second.ok and result.resumed
    assert result.inserted + kept == len(synced_hashes(engine, MODULES["invoices"],
                                                       demo.org_id))
    assert not _state(url, demo.org_id, "invoices").in_progress
    truth = Truth(demo)
    try:
        assert_matches(engine, truth.snapshot(["invoices"]), demo.org_id)
    finally:
        truth.close()


def test_the_cursor_never_passes_the_runs_upper_bound(
    demo: SandboxProc, demo_creds: Credentials, tmp_path: Path
) -> None:
    url = _url(tmp_path)
    early = datetime(2020, 1, 1, tzinfo=UTC)  # a run that "started" before every record
    with demo.client(demo_creds) as client:
        zsync.run(client, url, modules="contacts", now=lambda: early)
        assert _state(url, demo.org_id, "contacts").cursor == timeutil.format_zoho(early)
        zsync.run(client, url, modules="contacts")
    state = _state(url, demo.org_id, "contacts")
    assert state.cursor is not None and timeutil.parse(state.cursor) > early
    newest = max(timeutil.parse(c["last_modified_time"])
                 for c in demo_contacts(demo, demo_creds))
    assert timeutil.parse(state.cursor) == newest  # the latest change seen, not "now"


def demo_contacts(demo: SandboxProc, creds: Credentials) -> list[dict[str, object]]:
    with demo.client(creds) as client:
        return list(client.paginate("/contacts", key="contacts"))


def test_progress_reports_every_module_from_start_to_done(
    demo: SandboxProc, demo_creds: Credentials, tmp_path: Path
) -> None:
    events: list[zsync.Progress] = []
    with demo.client(demo_creds) as client:
        summary = zsync.run(client, _url(tmp_path), on_progress=events.append)
    for result in summary.results:
        phases = [e.phase for e in events if e.module == result.module]
        assert phases[0] == "start" and phases[-1] == "done" and "page" in phases
        pages = [e.result.listed for e in events if e.module == result.module]
        assert pages == sorted(pages) and pages[-1] == result.listed
    assert summary.ok and summary.as_dict()["requests"] == summary.requests


def test_unknown_modules_and_conflicting_org_options_are_rejected(
    demo: SandboxProc, demo_creds: Credentials, tmp_path: Path
) -> None:
    with demo.client(demo_creds) as client:
        with pytest.raises(ValueError, match="unknown module"):
            zsync.run(client, _url(tmp_path), modules="invoices,nope")
        with pytest.raises(ConfigurationError):
            zsync.run(client, _url(tmp_path), organization_id="1", all_orgs=True)


def test_every_organization_syncs_into_the_same_tables(tmp_path: Path) -> None:
    with sandbox_process(seed="demo") as sandbox:
        second = sandbox.control("POST", "/organizations", name="Second Org")["organization"]
        other = str(second["organization_id"])
        sandbox.control("POST", "/seed", module="contacts", count=7, org_id=other)
        creds = sandbox.credentials()
        with sandbox.client(creds) as client:
            client.organization_id = None
            with pytest.raises(ConfigurationError, match="--all-orgs"):
                zsync.run(client, _url(tmp_path), modules="contacts")
            summary = zsync.run(client, _url(tmp_path), modules="contacts", all_orgs=True)
            only = zsync.run(client, _url(tmp_path, "one.sqlite"), modules="contacts",
                             organization_id=other)
    engine = zsync.make_engine(_url(tmp_path))
    assert {r.organization_id for r in summary.results} == {sandbox.org_id, other}
    assert len(synced_hashes(engine, MODULES["contacts"], other)) == 7
    assert len(synced_hashes(engine, MODULES["contacts"], sandbox.org_id)) == \
        summary.result("contacts", sandbox.org_id).inserted
    assert only.inserted == 7 and [r.organization_id for r in only.results] == [other]


def test_several_modules_in_flight_stay_under_the_rate_limit(tmp_path: Path) -> None:
    # The sandbox allows 40 requests per second; the client's limiter is told the same
    # with a margin. The sandbox counts a request when it handles it, not when it was sent,
    # so the margin must cover a busy server's queueing: 50 ms once proved too thin on a
    # loaded 2-core CI machine (one 429 in a run), and so did 312 ms with two suites on
    # it. A correct limiter means no 429 at all.
    with sandbox_process(seed="demo", rate_limit=40, rate_window=1.0) as sandbox:
        creds = sandbox.credentials()
        limiter = RateLimiter(requests_per_window=40, window=2.0, plan="premium",
                              daily_limit=10**6)
        marker = sandbox.mark()
        with sandbox.client(creds, limiter=limiter, retry=RetryPolicy(max_attempts=1)) as c:
            summary = zsync.run(c, _url(tmp_path), module_workers=6)
        log = sandbox.requests_since(marker)
    assert summary.ok and summary.requests > 80
    assert len(log) == summary.requests
    assert not [e for e in log if e["status"] == 429]
    span = timeutil.parse(log[-1]["time"]) - timeutil.parse(log[0]["time"])
    assert span.total_seconds() >= summary.requests / 40 - 2  # the limiter paced the run



def test_the_budget_note_says_when_a_plan_does_not_fit_today() -> None:
    summary = zsync.SyncSummary(dry_run=True, daily_remaining={"1": 400, "2": None},
                                daily_limit={"1": 500, "2": None})
    summary.results = [
        zsync.ModuleResult("1", "invoices", planned_requests=1000),
        zsync.ModuleResult("2", "invoices", planned_requests=10),
    ]
    note = summary.budget_note()
    # 400 today, then 500 a day: 400 + 500 + 100 -> three days.
    assert "1,000 requests planned, only 400 left today: 3 days of budget at 500 a day" in note
    assert summary.days_of_budget("1") == 3 and summary.as_dict()["days_of_budget"]["1"] == 3
    assert "organization 2: 10 requests planned; remaining daily budget unknown" in note


def test_the_guides_example_queries_run_on_a_synced_database(
    demo: SandboxProc, demo_creds: Credentials, tmp_path: Path
) -> None:
    for url, dialect in ((_url(tmp_path), "sqlite"),
                         (f"duckdb:///{tmp_path / 'books.duckdb'}", "duckdb")):
        with demo.client(demo_creds) as client:
            zsync.run(client, url)
        statements = doc_queries(dialect)
        assert len(statements) >= (4 if dialect == "sqlite" else 6)  # duckdb: all of them
        engine = zsync.make_engine(url)
        with engine.connect() as conn:
            results = [conn.execute(sa.text(sql)).all() for sql in statements]
        engine.dispose()
        assert all(results[:3]), "receivables, top items and payments should find demo data"


def test_a_used_up_daily_budget_stops_the_run_and_the_next_day_resumes(
    tmp_path: Path,
) -> None:
    url = _url(tmp_path)
    budget = {"free": 100, "standard": 1, "professional": 1, "premium": 1}
    with sandbox_process(seed="demo", plan="free", daily_limits=budget) as sandbox:
        creds = sandbox.credentials()
        with sandbox.client(creds) as client:
            first = zsync.run(client, url, module_workers=1, raise_on_error=False)
        assert not first.ok
        errors = " ".join(str(r.error) for r in first.failures)
        assert "daily" in errors
        # What was committed before the limit stays; nothing ran past it.
        assert first.inserted > 0 and first.requests <= 100

        sandbox.restart()  # the sandbox keeps its daily counts in memory: a new day
        with sandbox.client(creds) as client:  # a new client: a fresh local budget too
            second = zsync.run(client, url, module_workers=1)
        assert second.ok
        for before in first.results:  # finished modules are not fetched again
            if before.ok:
                assert second.result(before.module).detail_requests == 0
                assert second.result(before.module).inserted == 0
        assert any(second.result(r.module).inserted for r in first.failures)
        truth = Truth(sandbox)
        try:
            counts = assert_matches(zsync.make_engine(url), truth.snapshot(), sandbox.org_id)
        finally:
            truth.close()
    assert first.inserted + second.inserted == sum(counts.values())
