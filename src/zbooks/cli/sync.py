"""``zbooks sync``: copy Zoho Books data into DuckDB, SQLite or PostgreSQL, incrementally.

Thin by design: parse the flags, build the client the CLI way (profile or ``ZBOOKS_*``
environment), call ``zbooks.sync.run`` and print. Progress bars (one per module) go to
stderr when it is a terminal; the summary goes to stdout as a table for people or JSON
when stdout is a pipe or a file.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from zbooks.core.client import Client
    from zbooks.sync.forecast import Forecast
    from zbooks.sync.results import Progress, SyncSummary

DEFAULT_DB = "duckdb:///zbooks.duckdb"

sync_app = typer.Typer(rich_markup_mode=None)


def open_sync_client(organization_id: str | None) -> Client:
    """The client the command uses (tests replace this to inject a sandbox client)."""
    try:
        from zbooks.cli.session import open_client
    except ImportError:  # pragma: no cover - the SDK-only CLI without session helpers
        from zbooks.core.client import Client

        return Client(organization_id=organization_id)
    return open_client(None, organization_id=organization_id)


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def budget_text(event: Progress) -> str:
    """``312 used, 9,688 left today  ETA 4:10`` from a progress event."""
    parts = []
    if event.daily_used is not None and event.daily_remaining is not None:
        parts.append(f"{event.daily_used:,} used, {event.daily_remaining:,} left today")
    if event.eta_seconds is not None:
        parts.append(f"ETA {_duration(event.eta_seconds)}")
    return "  ".join(parts)


def plan_warning(event: Progress) -> str | None:
    """Before the detail requests start: the warning when today's budget runs out first
    (the same arithmetic as ``--dry-run``)."""
    from zbooks.sync.results import days_of_budget

    r = event.result
    needed = r.details_pending or 0
    days = days_of_budget(needed, event.daily_remaining, event.daily_limit)
    if days is None or days <= 1:
        return None
    per_day = f"{event.daily_limit:,}" if event.daily_limit else "?"
    return (f"Warning: {r.module}: {needed:,} detail requests needed, "
            f"{event.daily_remaining:,} left today: the daily budget runs out first; this "
            f"first sync takes about {days} days of budget at {per_day} a day (it stops at "
            "the limit; run it again the next day and it continues, newest records first). "
            f"Use --details {r.module}=none to copy list rows only.")


class BudgetWarnings:
    """Says once per organization when today's budget runs out before the sync ends:
    before starting (from the forecast), or else before the detail requests of a module
    (when its list held more than the forecast counted, or no forecast was possible)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.warned: set[str] = set()

    def forecast(self, forecast: Forecast) -> None:
        if (warning := forecast.warning()) is not None:
            self.warned.add(forecast.organization_id)
            self.write(warning)

    def plan(self, event: Progress) -> None:
        if event.phase != "plan" or event.organization_id in self.warned:
            return
        if (warning := plan_warning(event)) is not None:
            self.warned.add(event.organization_id)
            self.write(warning)


class _Bars:
    """One rich progress bar per (organization, module), fed from worker threads."""

    def __init__(self, several_orgs: bool) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.several_orgs = several_orgs
        self.progress: RichProgress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<22}"),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.tasks: dict[tuple[str, str], TaskID] = {}
        self.lock = threading.Lock()
        self.warnings = BudgetWarnings(self.progress.console.print)

    def __call__(self, event: Progress) -> None:
        r = event.result
        key = (r.organization_id, r.module)
        label = f"{r.module} ({r.organization_id})" if self.several_orgs else r.module
        counts = (
            f"listed {r.listed:,}  +{r.inserted:,} ~{r.updated:,} -{r.deleted:,}  "
            f"{r.requests:,} requests"
        )
        if r.details_pending:
            counts += f"  details {r.details_done:,}/{r.details_pending:,}"
        budget = budget_text(event)
        if budget:
            counts += f"  {budget}"
        self.warnings.plan(event)
        if event.phase == "failed":
            counts += f"  FAILED: {r.error}"
        elif event.phase == "reconcile":
            counts += "  checking deletions"
        with self.lock:
            if key not in self.tasks:
                self.tasks[key] = self.progress.add_task(label, total=None, counts=counts)
            done = event.phase in ("done", "failed", "skipped")
            self.progress.update(
                self.tasks[key],
                counts=counts,
                total=1 if done else None,
                completed=1 if done else 0,
            )


class _WarnOnly:
    """Without a terminal there are no bars, but the budget warnings still go to stderr."""

    def __init__(self) -> None:
        self.warnings = BudgetWarnings(self._write)

    @staticmethod
    def _write(text: str) -> None:
        sys.stderr.write(text + "\n")

    def __call__(self, event: Progress) -> None:
        self.warnings.plan(event)


def _summary_table(summary: SyncSummary, several_orgs: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    dry = summary.dry_run
    title = "zbooks sync (dry run: nothing written)" if dry else "zbooks sync"
    table = Table(title=title)
    if several_orgs:
        table.add_column("organization")
    table.add_column("module")
    table.add_column("mode")
    show_details = any(r.details == "none" and r.module for r in summary.results)
    show_filled = not dry and any(r.filled for r in summary.results)
    if show_details:
        table.add_column("details")
    names = ["listed", "would insert" if dry else "inserted",
             "would update" if dry else "updated"]
    names += ["filled"] if show_filled else []
    names += ["deleted", "requests"]
    for name in names:
        table.add_column(name, justify="right")
    if summary.dry_run:
        table.add_column("planned", justify="right")
    table.add_column("status")
    for r in summary.results:
        cells = [r.organization_id] if several_orgs else []
        cells += [
            r.module,
            r.strategy,
            *([r.details] if show_details else []),
            f"{r.listed:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
        ]
        if show_filled:
            cells.append(f"{r.filled:,}")
        cells += [f"{r.deleted:,}", f"{r.requests:,}"]
        if summary.dry_run:
            cells.append(f"{r.planned_requests or 0:,}")
        cells.append("ok" if r.ok else f"failed: {r.error}")
        table.add_row(*cells)
    console = Console()
    console.print(table)
    if dry:
        console.print(
            f"Would insert {summary.inserted:,} and update {summary.updated:,} rows; "
            f"{summary.requests:,} requests to plan, {summary.planned_requests:,} for the "
            f"real run ({summary.seconds:.1f} s)."
        )
    else:
        console.print(
            f"{summary.inserted:,} inserted, {summary.updated:,} updated, "
            f"{summary.deleted:,} deleted, {summary.requests:,} requests in "
            f"{summary.seconds:.1f} s."
        )
    if summary.dry_run:
        console.print(summary.budget_note())


def sync(
    db: Annotated[
        str,
        typer.Option(
            "--db",
            metavar="URL",
            help="Target database URL: duckdb:///FILE (default), sqlite:///FILE or "
            "postgresql://...",
        ),
    ] = DEFAULT_DB,
    modules: Annotated[
        str | None,
        typer.Option(
            "--modules",
            metavar="LIST",
            help="Comma-separated modules (default: all), e.g. invoices,contacts.",
        ),
    ] = None,
    details: Annotated[
        str | None,
        typer.Option(
            "--details",
            metavar="MODE",
            help="changed (default: the full record of each new or changed row, one request "
            "each) or none (list rows only, one request per 200 rows); per module: "
            "invoices=none,contacts=changed.",
        ),
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", metavar="ID", help="Organization to sync.")
    ] = None,
    all_orgs: Annotated[
        bool, typer.Option("--all-orgs", help="Sync every organization of the user.")
    ] = False,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Ignore cursors and re-read everything.")
    ] = False,
    reconcile_deletes: Annotated[
        bool,
        typer.Option(
            "--reconcile-deletes", help="Remove rows whose records no longer exist in Zoho."
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Read the lists, write nothing, print the planned request count "
            "against today's remaining budget.",
        ),
    ] = False,
    all_connections: Annotated[
        bool,
        typer.Option(
            "--all-connections",
            help="Sync every active connection of the registry ($ZBOOKS_CONNECTIONS_URL).",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, max=256, help="Connections synced at once."),
    ] = 4,
) -> None:
    """Copy Zoho Books data into DuckDB, SQLite or PostgreSQL, incrementally and
    resumably."""
    import zbooks.sync as zsync
    from zbooks.sync.database import UnsupportedDatabaseURL, normalise_url
    from zbooks.sync.modules import resolve_details, resolve_modules

    if all_connections:
        from zbooks.cli.fleet_sync import sync_all_connections

        if org or all_orgs or dry_run:
            raise typer.BadParameter(
                "--all-connections syncs each connection's own organizations; "
                "drop --org/--all-orgs/--dry-run",
                param_hint="--all-connections",
            )
        sync_all_connections(db, modules=modules, workers=workers, full_refresh=full_refresh)
        return

    if org and all_orgs:
        raise typer.BadParameter("use either --org or --all-orgs", param_hint="--org")
    modules = sync_module_names(modules)
    try:
        specs = resolve_modules(modules)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--modules") from None
    try:
        resolve_details(details, specs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--details") from None
    try:
        normalise_url(db)
    except UnsupportedDatabaseURL as exc:
        raise typer.BadParameter(exc.message, param_hint="--db") from None
    client = open_sync_client(org)
    try:
        bars: _Bars | _WarnOnly = _Bars(all_orgs) if sys.stderr.isatty() else _WarnOnly()
        kwargs: dict[str, Any] = {
            "modules": modules,
            "details": details,
            "organization_id": org,
            "all_orgs": all_orgs,
            "full_refresh": full_refresh,
            "reconcile_deletes": reconcile_deletes,
            "dry_run": dry_run,
            "raise_on_error": False,
            "on_progress": bars,
            "on_forecast": bars.warnings.forecast,
        }
        if isinstance(bars, _Bars):
            with bars.progress:
                summary = zsync.run(client, db, **kwargs)
        else:
            summary = zsync.run(client, db, **kwargs)
    finally:
        client.close()
    several = len({r.organization_id for r in summary.results}) > 1
    if sys.stdout.isatty():
        _summary_table(summary, several)
    else:
        sys.stdout.write(json.dumps(summary.as_dict(), indent=2, default=str) + "\n")
        if summary.dry_run:
            sys.stderr.write(summary.budget_note() + "\n")
    if not summary.ok:
        raise zsync.SyncFailed(summary)


sync_app.command(name="sync")(sync)


def sync_module_names(modules: str | None) -> str | None:
    """Accept the command names (``sales-orders``) as well as Zoho's (``salesorders``)."""
    if modules is None:
        return None
    from zbooks.cli.resources import normalize
    from zbooks.sync.modules import MODULES

    by_key = {normalize(name): name for name in MODULES}
    parts = [part.strip() for part in modules.split(",") if part.strip()]
    return ",".join(by_key.get(normalize(part), part) for part in parts)


def register(app: typer.Typer) -> None:
    """Add ``zbooks sync`` to the root command."""
    app.command(name="sync")(sync)
