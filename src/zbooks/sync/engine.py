"""The sync engine: list what changed, then fetch the full records that are missing,
newest first, committing as it goes.

A module is synced in two phases:
1. **List.** Read the list pages of what changed and commit each page's rows (list rows
   for modules with details, with ``detail_synced_at`` NULL) and the module's position in
   one transaction. One request per 200 records: with ``details="none"`` this is all.
2. **Details** (``details="changed"``, modules whose list rows are not the whole record).
   Fetch ``GET /<module>/{id}`` for exactly the rows lacking the full record, newest first,
   and commit every ``commit_every`` (20) records or ``commit_seconds`` (10 s), whichever
   comes first. Knowing the count before this phase starts is what lets the run say how
   many days of budget it takes.

Concurrency: several modules are read at once (``module_workers`` threads) and detail
GETs go through one shared pool; every request still passes the client's rate limiter,
which holds the per-minute window and the plan's concurrency cap for the organization,
so the run goes as fast as the limits allow and never faster. SQLite allows one writer,
so writes to it are serialised by a lock; PostgreSQL takes them in parallel.

Correctness rests on three rules:
1. A page's rows and the module's new position are one transaction; a batch of full
   records and their child rows is another. A crash loses at most the page or batch in
   flight: the page is read again and upserted again, and rows still lacking their full
   record are found again by their NULL ``detail_synced_at``.
2. The cursor only moves when a scan has finished, to the latest modification time
   seen, but never past the upper bound fixed when the run started; the next run reads
   from ``cursor - lookback`` (the filter is inclusive), and unchanged rows are skipped
   by comparing ``last_modified_time`` with the stored one, so re-reading costs list
   pages only, never detail GETs (a changed row gets its list row and a NULL
   ``detail_synced_at``, and phase 2 fetches it).
3. A record is written only when it is new or different (same hash: counted unchanged).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    delete,
    exists,
    false,
    func,
    inspect,
    or_,
    select,
    update,
)

from zbooks.core.client import Client
from zbooks.errors import APIError, ConfigurationError, DailyLimitExceededError, NotFoundError
from zbooks.sync import timeutil
from zbooks.sync.database import sync_settings, target_exists
from zbooks.sync.forecast import Forecast, ModuleForecast, count_records
from zbooks.sync.modules import DetailMode, ModuleSpec, Strategy
from zbooks.sync.results import ModuleResult, Phase, Progress, ProgressCallback, SyncSummary
from zbooks.sync.scan import PER_PAGE, ListScan, Position, ScanPage
from zbooks.sync.schema import (
    ModuleTables,
    SyncSchema,
    delete_children,
    module_row,
    record_hash,
    replace_records,
)
from zbooks.sync.state import ModuleState, load_state, save_state

logger = logging.getLogger("zbooks.sync")

DEFAULT_LOOKBACK = timedelta(minutes=2)
DeleteMode = Literal["remove", "mark"]
_EXHAUSTED = "the organization's daily API budget is used up; the next run resumes"
# Rows missing from the id listing are confirmed one by one (a 404) up to this many;
# beyond it the listing is repeated and only ids missing from both are deleted.
VERIFY_LIMIT = 200
COMMIT_EVERY = 20  # full records per commit, at most ...
COMMIT_SECONDS = 10.0  # ... and at least this often while records arrive
FILL_BATCH = 200  # rows lacking details selected (newest first) per round


@dataclass(frozen=True)
class Existing:
    source_modified: str | None
    row_hash: str
    deleted: bool
    detailed: bool = True  # holds the full record (detail_synced_at set)
    children: bool = True  # may have child rows (False only when a query said none)


def _existing_columns(table: Any) -> tuple[Any, ...]:
    return (table.c.id, table.c.source_modified, table.c.row_hash, table.c.deleted_at,
            table.c.detail_synced_at)


def _has_children(tables: ModuleTables) -> Any:
    """Whether a row has child rows, as a column of a query of its table: read with the
    rows' state, it spares a commit the deletes of child rows there are none of (a list
    row has none), a statement per child table and commit."""
    table = tables.table
    if not tables.children:
        return false().label("has_children")
    return or_(*(exists().where(child.table.c.organization_id == table.c.organization_id,
                                child.table.c[child.parent_column] == table.c.id)
                 for child in tables.children)).label("has_children")


def _existing_of(row: Any) -> Existing:
    children = getattr(row, "has_children", True)
    return Existing(row.source_modified, row.row_hash, row.deleted_at is not None,
                    row.detail_synced_at is not None, bool(children))


class _Aborted(Exception):
    """Another module hit a limit that stops the whole run (the daily budget)."""


class SyncEngine:
    def __init__(
        self,
        client: Client,
        engine: Engine,
        schema: SyncSchema,
        *,
        full_refresh: bool = False,
        reconcile_deletes: bool = False,
        delete_mode: DeleteMode = "remove",
        dry_run: bool = False,
        lookback: timedelta = DEFAULT_LOOKBACK,
        on_progress: ProgressCallback | None = None,
        module_workers: int = 4,
        detail_workers: int | None = None,
        now: Callable[[], datetime] = timeutil.utc_now,
        per_page: int = PER_PAGE,
        details: Mapping[str, DetailMode] | None = None,
        commit_every: int = COMMIT_EVERY,
        commit_seconds: float = COMMIT_SECONDS,
        forecast: bool = True,
        on_forecast: Callable[[Forecast], None] | None = None,
    ) -> None:
        if delete_mode not in ("remove", "mark"):
            raise ValueError("delete_mode must be 'remove' or 'mark'")
        self.client = client
        self.engine = engine
        self.schema = schema
        self.full_refresh = full_refresh
        self.reconcile_deletes = reconcile_deletes
        self.delete_mode = delete_mode
        self.dry_run = dry_run
        self.lookback = lookback
        self.on_progress = on_progress
        self.module_workers = max(1, module_workers)
        limiter = client.rate_limiter
        default_details = limiter.concurrency if limiter is not None else 4
        self.detail_workers = max(1, detail_workers or default_details)
        self._now = now
        self.per_page = per_page
        self.details: dict[str, DetailMode] = dict(details or {})
        self.commit_every = max(1, commit_every)
        self.commit_seconds = commit_seconds
        self.forecast = forecast
        self.on_forecast = on_forecast
        # SQLite and DuckDB take one writer at a time: serialise every access to them.
        self._db_lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name in ("sqlite", "duckdb")
            else contextlib.nullcontext()
        )
        # A dry run never creates the database file: with none there, nothing is read.
        self._no_target = dry_run and not target_exists(engine)
        self._abort = threading.Event()  # stop everything (Ctrl-C)
        self._abort_reason = ""
        self._exhausted: set[str] = set()  # organizations whose daily budget ran out
        self._count_lock = threading.Lock()
        self._exists: dict[str, bool] = {}
        self.upper = ""
        self.started_at = datetime.min

    # --- the run ----------------------------------------------------------------------
    def run(self, org_ids: Sequence[str]) -> SyncSummary:
        started = time.monotonic()
        # The upper bound: this run is responsible for changes up to now; anything later
        # belongs to the next run (see rule 2 above).
        self.started_at = self._stamp()
        self.upper = timeutil.format_zoho(self._now())
        if not self.dry_run:
            with self._db_lock:
                self.schema.create_all(self.engine)
        settings = (contextlib.nullcontext() if self._no_target
                    else sync_settings(self.engine))
        with settings:
            return self._run(org_ids, started)

    def _run(self, org_ids: Sequence[str], started: float) -> SyncSummary:
        summary = SyncSummary(dry_run=self.dry_run)
        if self.forecast and not self.dry_run:
            self._tell_forecasts(org_ids, summary)
        jobs = [(org, tables) for org in org_ids for tables in self.schema.modules.values()]
        results: dict[tuple[str, str], ModuleResult] = {}
        with (
            ThreadPoolExecutor(self.detail_workers, thread_name_prefix="zbooks-sync-get")
            as details,
            ThreadPoolExecutor(
                min(self.module_workers, max(1, len(jobs))), thread_name_prefix="zbooks-sync"
            ) as modules,
        ):
            futures = {
                (org, tables.spec.name): modules.submit(self._module_job, org, tables, details)
                for org, tables in jobs
            }
            try:
                for key, future in futures.items():
                    results[key] = future.result()
            except BaseException:  # Ctrl-C: let every module stop after its request
                self._abort_reason = "interrupted"
                self._abort.set()
                raise
        summary.results = [results[(org, t.spec.name)] for org, t in jobs]
        limiter = self.client.rate_limiter
        for org in org_ids:
            summary.daily_remaining[org] = limiter.daily_remaining(org) if limiter else None
            summary.daily_limit[org] = (limiter.snapshot(org)["daily_limit"] if limiter
                                        else None)
        summary.seconds = time.monotonic() - started
        return summary

    # --- before starting: what the run will cost ----------------------------------------
    def _tell_forecasts(self, org_ids: Sequence[str], summary: SyncSummary) -> None:
        for org in org_ids:
            forecast = self._forecast(org)
            if forecast is None:
                continue
            summary.forecasts[org] = forecast
            summary.counting_requests += forecast.counting_requests
            if self.on_forecast is not None:
                try:
                    self.on_forecast(forecast)
                except Exception:  # a broken callback must not break the sync
                    logger.exception("forecast callback failed")

    def _forecast(self, org: str) -> Forecast | None:
        """Count what the modules with details will fetch (cheaply: see ``forecast``).
        Only when a rate limiter keeps the daily budget, and only for modules that fetch
        details: list-only modules cost one request per 200 records."""
        limiter = self.client.rate_limiter
        costly = [t for t in self.schema.modules.values() if self._mode(t.spec) == "changed"]
        if limiter is None or not costly:
            return None
        counter = ModuleResult(org, "forecast")
        entries: list[ModuleForecast] = []
        try:
            for tables in costly:
                spec = tables.spec
                state = ModuleState(org, spec.name)
                if self._tables_exist(tables):
                    with self._read() as conn:
                        state = load_state(conn, self.schema, org, spec.name)
                start, full, _ = self._start(tables, state, ModuleResult(org, spec.name))
                fetch = self._list_fetcher(org, spec, counter, "list_requests")
                scan = ListScan(spec, spec.strategy, fetch, start, per_page=self.per_page)
                params = {k: v for k, v in scan.params(Position(start.since)).items()
                          if k not in ("page", "per_page")}
                records, _ = count_records(fetch, params, per_page=self.per_page,
                                           list_key=spec.list_key,
                                           count_params=spec.count_params)
                if start.page > 1:  # resuming: the pages before it are done
                    records = max(0, records - (start.page - 1) * self.per_page)
                lacking = self._lacking_details(org, tables, self.started_at if full else None)
                detail = max(records, lacking) if full else records + lacking
                entries.append(ModuleForecast(spec.name, records,
                                              math.ceil(records / self.per_page) or 1, detail))
        except (_Aborted, DailyLimitExceededError, APIError) as exc:
            logger.info("no forecast for %s: %s", org, exc)
            return None
        snap = limiter.snapshot(org)
        return Forecast(org, tuple(entries), snap["daily_remaining"], snap["daily_limit"],
                        counter.list_requests)

    def _stamp(self) -> datetime:
        """Now, UTC without tzinfo, to the microsecond (``synced_at`` and friends)."""
        value = self._now()
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def _emit(self, phase: Phase, result: ModuleResult, eta: float | None = None) -> None:
        if self.on_progress is None:
            return
        used = remaining = limit = None
        limiter = self.client.rate_limiter
        if limiter is not None:
            try:
                snap = limiter.snapshot(result.organization_id)
                used, remaining = snap["daily_used"], snap["daily_remaining"]
                limit = snap["daily_limit"]
            except Exception:  # a shared backend that cannot answer: no numbers
                logger.debug("rate limiter snapshot failed", exc_info=True)
        try:
            self.on_progress(Progress(phase, result.snapshot(), used, remaining, limit, eta))
        except Exception:  # a broken progress bar must not break the sync
            logger.exception("progress callback failed")

    def _module_job(
        self, org: str, tables: ModuleTables, details: ThreadPoolExecutor
    ) -> ModuleResult:
        result = ModuleResult(org, tables.spec.name, strategy=tables.spec.strategy,
                              details=self._mode(tables.spec))
        started = time.monotonic()
        if self._abort.is_set() or org in self._exhausted:
            reason = self._abort_reason if self._abort.is_set() else _EXHAUSTED
            result.error = f"not started: {reason}"
            self._emit("skipped", result)
            return result
        self._emit("start", result)
        try:
            complete_ids = self._sync_module(org, tables, details, result)
            if self.reconcile_deletes:
                self._emit("reconcile", result)
                self._reconcile(org, tables, result, complete_ids)
        except _Aborted:
            reason = self._abort_reason if self._abort.is_set() else _EXHAUSTED
            result.error = f"stopped: {reason}"
        except DailyLimitExceededError as exc:
            # The budget is per organization: the other organizations carry on.
            self._exhausted.add(org)
            result.error = str(exc)
        except Exception as exc:
            logger.warning("sync of %s for %s failed: %s", tables.spec.name, org, exc)
            result.error = f"{type(exc).__name__}: {exc}"
        result.seconds = time.monotonic() - started
        self._emit("done" if result.ok else "failed", result)
        return result

    # --- requests -----------------------------------------------------------------------
    def _get(self, org: str, path: str, params: Mapping[str, Any] | None = None, *,
             result: ModuleResult, counter: str) -> Any:
        """One GET, counted in ``result.<counter>`` once Zoho answered it (a call the
        daily budget stopped, here or at Zoho, used nothing)."""
        if self._abort.is_set() or org in self._exhausted:
            raise _Aborted()
        try:
            body = self.client.request("GET", path, params=params, organization_id=org)
        except DailyLimitExceededError:
            raise
        except APIError:
            self._count(result, counter)
            raise
        self._count(result, counter)
        return body

    def _count(self, result: ModuleResult, counter: str) -> None:
        with self._count_lock:  # detail GETs finish on several threads
            setattr(result, counter, getattr(result, counter) + 1)

    def _list_fetcher(self, org: str, spec: ModuleSpec, result: ModuleResult,
                      counter: str) -> Callable[[dict[str, Any]], Mapping[str, Any]]:
        def fetch(params: dict[str, Any]) -> Mapping[str, Any]:
            body: Mapping[str, Any] = self._get(org, spec.path, params, result=result,
                                                counter=counter)
            return body

        return fetch

    def _detail(self, org: str, spec: ModuleSpec, record_id: str,
                result: ModuleResult) -> dict[str, Any] | None:
        """The full record, or None when it was deleted since it was listed."""
        assert spec.detail_key is not None
        try:
            body = self._get(org, spec.detail_path(record_id), result=result,
                             counter="detail_requests")
        except NotFoundError:
            return None
        record = body.get(spec.detail_key)
        if not isinstance(record, dict):
            raise ConfigurationError(
                f"GET {spec.detail_path(record_id)} answered without a {spec.detail_key!r} "
                "object.",
                hint="This module's detail key may have changed; please report it.",
            )
        return record

    # --- one module -------------------------------------------------------------------
    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._db_lock, self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._db_lock, self.engine.connect() as conn:
            yield conn

    def _start(self, tables: ModuleTables, state: ModuleState,
               result: ModuleResult) -> tuple[Position, bool, str | None]:
        """Where the scan starts, whether it is a full refresh, and the latest
        modification an interrupted scan had already seen."""
        strategy = tables.spec.strategy
        if state.in_progress and not self.full_refresh and state.strategy == strategy:
            result.resumed = True
            assert state.resume_page is not None
            return Position(state.resume_since, state.resume_page), state.resume_full, \
                state.resume_max
        full = self.full_refresh
        if full or strategy == "full" or state.cursor is None:
            return Position(None, 1), full, None
        return Position(timeutil.minus(state.cursor, self.lookback), 1), False, None

    def _mode(self, spec: ModuleSpec) -> DetailMode:
        """``none`` for modules whose list rows are the record (nothing to fetch)."""
        if spec.detail_key is None:
            return "none"
        return self.details.get(spec.name, "changed")

    def _sync_module(
        self, org: str, tables: ModuleTables, pool: ThreadPoolExecutor, result: ModuleResult
    ) -> set[str] | None:
        """Run the module's scan, then its detail phase; returns every id listed when the
        scan covered the whole module in this run (reconciling can then skip its own
        listing)."""
        spec = tables.spec
        state = ModuleState(org, spec.name)
        if self._tables_exist(tables):
            with self._read() as conn:
                state = load_state(conn, self.schema, org, spec.name)
        start, full, seen_max = self._start(tables, state, result)
        strategy: Strategy = spec.strategy
        state.strategy = strategy
        state.run_upper = self.upper
        state.resume_full = full
        scan = ListScan(spec, strategy, self._list_fetcher(org, spec, result, "list_requests"),
                        start, per_page=self.per_page)
        fetch_details = self._mode(spec) == "changed"
        # A scan from the very beginning lists every id: reconciling can reuse them
        # (kept only when asked, so memory stays flat however large the module).
        whole = start == Position(None, 1) and self.reconcile_deletes
        listed_ids: set[str] | None = set() if whole else None
        planned_details = 0
        planned_ids: set[str] = set()  # dry run: ids already counted
        for page in _prefetched(iter(scan)):
            if self._abort.is_set() or org in self._exhausted:
                raise _Aborted()
            result.listed += len(page.rows)
            result.strategy = page.strategy
            state.strategy = page.strategy
            seen_max = timeutil.later(seen_max, page.max_modified)
            rows = _dedupe(spec, page.rows)
            if listed_ids is not None:
                listed_ids.update(rows)
            existing = self._existing(org, tables, list(rows)) if rows else {}
            changed = [rid for rid, row in rows.items()
                       if _is_changed(spec, row, existing.get(rid))]
            state = self._advanced(state, page, seen_max)
            # Under a full refresh of a module with details the detail phase re-fetches
            # and counts every row; the list phase only stores what visibly changed.
            quiet = full and fetch_details
            if self.dry_run:
                # Nothing is written, so a row the keyset scan reads again at a page
                # boundary is not in ``existing``: count each id once.
                changed = [rid for rid in changed if rid not in planned_ids]
                planned_ids.update(changed)
                if fetch_details:  # rows already lacking details are counted below
                    planned_details += sum(1 for rid in changed if rid not in existing
                                           or existing[rid].detailed)
                result.unchanged += 0 if quiet else len(rows) - len(changed)
                result.inserted += sum(1 for rid in changed if rid not in existing)
                result.updated += sum(1 for rid in changed if rid in existing)
                self._emit("page", result)
                continue
            result.unchanged += 0 if quiet else len(rows) - len(changed)
            self._commit_page(org, tables, state, {rid: rows[rid] for rid in changed},
                              existing, result, detailed=spec.detail_key is None)
            self._emit("page", result)
        if fetch_details:
            refetch = self.started_at if full else None
            if self.dry_run:
                planned_details += self._lacking_details(org, tables, refetch)
            else:
                self._fill_details(org, tables, pool, result, refetch)
        if self.dry_run:
            result.planned_requests = result.list_requests + planned_details
        return listed_ids

    def _advanced(self, state: ModuleState, page: ScanPage, seen_max: str | None
                  ) -> ModuleState:
        """The state to commit with this page's rows (a copy: the caller commits it)."""
        state = replace(state)
        if page.next is not None:
            state.resume_since = page.next.since
            state.resume_page = page.next.page
            state.resume_max = seen_max
            return state
        if seen_max is not None:
            reached = timeutil.earlier(seen_max, self.upper)
            # Never backwards (the newest record may have been deleted since), except
            # that a full refresh recomputes the cursor from scratch.
            state.cursor = reached if state.resume_full else timeutil.later(state.cursor,
                                                                           reached)
        state.resume_since = None
        state.resume_page = None
        state.resume_max = None
        state.resume_full = False
        state.last_success_at = timeutil.to_utc_naive(self.upper)
        return state

    def _tables_exist(self, tables: ModuleTables) -> bool:
        """A dry run creates nothing, so it must not query tables that are not there."""
        if not self.dry_run:
            return True
        if self._no_target:
            return False
        name = tables.table.name
        if name not in self._exists:
            with self._db_lock:
                inspector = inspect(self.engine)
                self._exists[name] = bool(
                    inspector.has_table(self.schema.state.name) and inspector.has_table(name)
                )
        return self._exists[name]

    def _existing(self, org: str, tables: ModuleTables, ids: list[str]) -> dict[str, Existing]:
        if not self._tables_exist(tables):
            return {}
        table = tables.table
        query = select(*_existing_columns(table)).where(
            table.c.organization_id == org, table.c.id.in_(ids))
        with self._read() as conn:
            return {str(r.id): _existing_of(r) for r in conn.execute(query)}

    def _commit_page(
        self,
        org: str,
        tables: ModuleTables,
        state: ModuleState | None,
        fetched: Mapping[str, dict[str, Any] | None],
        existing: Mapping[str, Existing],
        result: ModuleResult,
        *,
        detailed: bool,
    ) -> None:
        """Write ``fetched`` (list rows, or full records when ``detailed``), their child
        rows, and ``state`` if given, in one transaction. A None record was deleted
        upstream. Counts: inserted/updated/unchanged; a full record replacing a list row
        counts as ``filled``."""
        now = self._stamp()
        rows: list[dict[str, Any]] = []
        gone: list[str] = []
        stamp: list[str] = []  # unchanged full records re-fetched: only the stamp moves
        inserted = updated = unchanged = filled = 0
        for rid, record in fetched.items():
            before = existing.get(rid)
            if record is None:  # deleted upstream between the list and the GET
                if before is not None and not before.deleted:
                    gone.append(rid)
                continue
            row = module_row(tables, org, record, now, detailed=detailed)
            live = before is not None and not before.deleted
            if live and before is not None and before.row_hash == row["row_hash"] and (
                before.detailed or not detailed
            ):
                unchanged += 1
                if detailed:
                    stamp.append(rid)
                continue
            rows.append(row)
            if before is None or before.deleted:
                inserted += 1
            elif detailed and not before.detailed:
                filled += 1
            else:
                updated += 1
        # What the rows' state says exists: a row never written has nothing to delete
        # first, and a row without child rows no child rows to delete.
        present = {r["id"] for r in rows if r["id"] in existing}
        with_children = {rid for rid in present if existing[rid].children}
        table = tables.table
        with self._write() as conn:
            replace_records(conn, tables, org, rows, present=present,
                            with_children=with_children)
            if stamp:
                conn.execute(update(table).where(
                    table.c.organization_id == org, table.c.id.in_(stamp)
                ).values(detail_synced_at=now))
            self._remove(conn, org, tables, gone, now)
            if state is not None:
                save_state(conn, self.schema, state, now)
        with self._count_lock:
            result.inserted += inserted
            result.updated += updated
            result.unchanged += unchanged
            result.filled += filled
            result.deleted += len(gone)

    # --- phase 2: full records, newest first ---------------------------------------------
    def _lacking(self, org: str, tables: ModuleTables, refetch: datetime | None) -> Any:
        table = tables.table
        lacking: Any = table.c.detail_synced_at.is_(None)
        if refetch is not None:  # full refresh: every row not fetched during this run
            lacking = or_(lacking, table.c.detail_synced_at < refetch)
        return and_(table.c.organization_id == org, table.c.deleted_at.is_(None), lacking)

    def _lacking_details(self, org: str, tables: ModuleTables, refetch: datetime | None
                         ) -> int:
        if not self._tables_exist(tables):
            return 0
        table = tables.table
        with self._read() as conn:
            value = conn.execute(select(func.count()).select_from(table).where(
                self._lacking(org, tables, refetch))).scalar()
        return int(value or 0)

    def _fill_details(self, org: str, tables: ModuleTables, pool: ThreadPoolExecutor,
                      result: ModuleResult, refetch: datetime | None) -> None:
        """Fetch the full record of every row that lacks it, newest first, committing
        as records arrive; a run cut short (budget, Ctrl-C, kill) keeps what it fetched
        and the next run continues with the rest."""
        table = tables.table
        order = (table.c.last_modified_time if "last_modified_time" in table.c
                 else table.c.synced_at)
        result.details_pending = self._lacking_details(org, tables, refetch)
        result.details_done = 0
        if not result.details_pending:
            return
        started = time.monotonic()
        self._emit("plan", result)
        tried: set[str] = set()
        while True:
            if self._abort.is_set() or org in self._exhausted:
                raise _Aborted()
            # What each row holds now comes with its id: only this module's thread
            # writes these rows, so the commits need not read it again (a query per
            # commit was a tenth of a DuckDB sync's CPU).
            query = (select(*_existing_columns(table), _has_children(tables))
                     .where(self._lacking(org, tables, refetch))
                     .order_by(order.desc().nulls_last(), table.c.id.desc())
                     .limit(FILL_BATCH))
            with self._read() as conn:
                batch = {str(r.id): _existing_of(r) for r in conn.execute(query)}
            # Every fetched row leaves the selection (stamped, rewritten or removed); one
            # that would not must not be fetched again and again.
            ids = [rid for rid in batch if rid not in tried]
            if not ids:
                return
            tried.update(ids)
            self._fetch_and_commit(org, tables, ids, pool, result, started, batch)

    def _fetch_and_commit(self, org: str, tables: ModuleTables, ids: list[str],
                          pool: ThreadPoolExecutor, result: ModuleResult,
                          started: float, existing: Mapping[str, Existing]) -> None:
        """GET each id on the shared pool; commit every ``commit_every`` records or
        ``commit_seconds``, whichever comes first. On a failure, requests not yet sent
        are cancelled, the records already fetched are committed, then it raises."""
        spec = tables.spec
        # Each GET reports to a queue as it ends: waiting on the queue costs the same
        # however many GETs are in flight (``wait(FIRST_COMPLETED)`` locked and unlocked
        # every pending future on each call, an eighth of a SQLite sync's module thread).
        arrived: queue.SimpleQueue[Future[dict[str, Any] | None]] = queue.SimpleQueue()
        futures: dict[Future[dict[str, Any] | None], str] = {}
        for rid in ids:
            future = pool.submit(self._detail, org, spec, rid, result)
            futures[future] = rid
            future.add_done_callback(arrived.put)
        outstanding = len(futures)
        buffer: dict[str, dict[str, Any] | None] = {}
        error: BaseException | None = None
        oldest = 0.0  # when the oldest record not yet committed arrived
        while outstanding:
            # With nothing to commit, sleep until a record arrives (a timeout here made
            # the loop spin while slow or rate-limited GETs were in flight); otherwise
            # until the oldest uncommitted record has waited ``commit_seconds``.
            timeout = (max(0.0, self.commit_seconds - (time.monotonic() - oldest))
                       if buffer else None)
            done = _arrivals(arrived, timeout)
            outstanding -= len(done)
            if done and not buffer:
                oldest = time.monotonic()
            for future in done:
                try:
                    buffer[futures[future]] = future.result()
                except BaseException as exc:
                    error = error or exc
            if error is not None and outstanding:
                for future in futures:
                    future.cancel()  # those not started; a cancelled one reports too
                while outstanding:
                    future = arrived.get()
                    outstanding -= 1
                    if not future.cancelled() and future.exception() is None:
                        buffer[futures[future]] = future.result()
            # Records that arrived while the last commit ran come in together: commit
            # them ``commit_every`` at a time, so no commit holds more (a single commit
            # of everything done held 36 records when GETs outran the writes).
            while len(buffer) >= self.commit_every:
                chunk = dict(itertools.islice(buffer.items(), self.commit_every))
                for rid in chunk:
                    del buffer[rid]
                self._commit_details(org, tables, chunk, result, started, existing)
            due = not outstanding or time.monotonic() - oldest >= self.commit_seconds
            if buffer and due:
                self._commit_details(org, tables, buffer, result, started, existing)
                buffer = {}
        if error is not None:
            raise error

    def _commit_details(self, org: str, tables: ModuleTables,
                        fetched: dict[str, dict[str, Any] | None], result: ModuleResult,
                        started: float, existing: Mapping[str, Existing]) -> None:
        self._commit_page(org, tables, None, fetched, existing, result, detailed=True)
        result.details_done += len(fetched)
        elapsed = time.monotonic() - started
        left = max(0, (result.details_pending or 0) - result.details_done)
        eta = left * elapsed / result.details_done if result.details_done else None
        self._emit("details", result, eta)

    def _remove(
        self, conn: Connection, org: str, tables: ModuleTables, ids: list[str], now: datetime
    ) -> None:
        if not ids:
            return
        table = tables.table
        where = and_(table.c.organization_id == org, table.c.id.in_(ids))
        if self.delete_mode == "mark":
            conn.execute(update(table).where(where).values(deleted_at=now))
            return
        for child in tables.children:
            delete_children(conn, child, org, ids)
        conn.execute(delete(table).where(where))

    # --- deletions ----------------------------------------------------------------------
    def _upstream_ids(self, org: str, spec: ModuleSpec, result: ModuleResult) -> set[str]:
        scan = ListScan(spec, "full", self._list_fetcher(org, spec, result,
                                                         "reconcile_requests"),
                        Position(None, 1), per_page=self.per_page)
        ids: set[str] = set()
        for page in scan:
            ids.update(str(r[spec.id_field]) for r in page.rows if spec.id_field in r)
        return ids

    def _reconcile(self, org: str, tables: ModuleTables, result: ModuleResult,
                   listed: set[str] | None) -> None:
        """Delete (or mark) local rows whose ids Zoho no longer lists.

        A page boundary can shift while we list (a record deleted meanwhile moves every
        later record up by one), so a row missing from the listing is only *suspected*
        gone: each suspect is confirmed by a 404 on its own GET before it is removed.
        """
        spec = tables.spec
        if self.dry_run and not self._tables_exist(tables):
            return
        table = tables.table
        with self._read() as conn:
            local = {
                str(r.id)
                for r in conn.execute(
                    select(table.c.id).where(table.c.organization_id == org,
                                             table.c.deleted_at.is_(None))
                )
            }
        if self.dry_run:
            if listed is None:
                pages = max(1, math.ceil(len(local) / self.per_page))
                result.planned_requests = (result.planned_requests or 0) + pages
            return
        upstream = listed if listed is not None else self._upstream_ids(org, spec, result)
        suspects = sorted(local - upstream)
        if not suspects:
            return
        if len(suspects) > VERIFY_LIMIT:
            again = self._upstream_ids(org, spec, result)
            gone = [rid for rid in suspects if rid not in again]
        else:
            gone = []
            for rid in suspects:
                try:
                    self._get(org, spec.detail_path(rid), result=result,
                              counter="reconcile_requests")
                except NotFoundError:
                    gone.append(rid)
        now = timeutil.to_utc_naive(timeutil.format_zoho(self._now()))
        assert now is not None
        with self._write() as conn:
            self._remove(conn, org, tables, gone, now)
        result.deleted += len(gone)


_END = object()


def _prefetched(pages: Iterator[ScanPage]) -> Iterator[ScanPage]:
    """The scan one page ahead: page N+1 is requested (its position is known as soon as
    page N is parsed) while page N is written, so writing never idles the rate limit.
    Positions are still committed in order, with the rows they follow."""
    with ThreadPoolExecutor(1, thread_name_prefix="zbooks-sync-list") as ahead:
        pending = ahead.submit(next, pages, _END)
        while True:
            page = pending.result()
            if page is _END:
                return
            pending = ahead.submit(next, pages, _END)
            assert isinstance(page, ScanPage)
            yield page


def _arrivals(arrived: queue.SimpleQueue[Future[Any]], timeout: float | None
              ) -> list[Future[Any]]:
    """The futures that have ended: blocks up to ``timeout`` (None: until one ends) for
    the first, then takes every other one already there."""
    try:
        done = [arrived.get(timeout=timeout)]
    except queue.Empty:
        return []
    while True:
        try:
            done.append(arrived.get_nowait())
        except queue.Empty:
            return done


def _dedupe(spec: ModuleSpec, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rows by id (a page can repeat a record that moved while we paged)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        value = row.get(spec.id_field)
        if value is None or value == "":
            continue
        out[str(value)] = row
    return out


def _is_changed(spec: ModuleSpec, row: Mapping[str, Any], before: Existing | None) -> bool:
    if before is None or before.deleted:
        return True
    if spec.detail_key is None:
        # The list row is the record: compare content (balances change without edits).
        return record_hash(row) != before.row_hash
    modified = row.get("last_modified_time")
    if not isinstance(modified, str) or not modified:
        return True
    return before.source_modified != modified


def count_rows(engine: Engine, schema: SyncSchema, module: str, org: str) -> int:
    table = schema.modules[module].table
    with engine.connect() as conn:
        value = conn.execute(
            select(func.count()).select_from(table).where(table.c.organization_id == org)
        ).scalar()
    return int(value or 0)
