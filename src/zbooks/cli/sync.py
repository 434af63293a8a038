"""``zbooks sync``: copy Zoho Books data into SQLite or PostgreSQL, incrementally.

Thin by design: parse the flags, build the client the CLI way (profile or ``ZBOOKS_*``
environment), call ``zbooks.sync.run`` and print. Progress bars (one per module) go to
stderr when it is a terminal; the summary goes to stdout as a table for people or JSON
when stdout is a pipe or a file.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from zbooks.core.client import Client
    from zbooks.sync.results import Progress, SyncSummary

DEFAULT_DB = "sqlite:///zbooks.sqlite"

sync_app = typer.Typer(rich_markup_mode=None)


def open_sync_client(organization_id: str | None) -> Client:
    """The client the command uses (tests replace this to inject a sandbox client)."""
    try:
        from zbooks.cli.session import open_client
    except ImportError:  # pragma: no cover - the SDK-only CLI without session helpers
        from zbooks.core.client import Client

        return Client(organization_id=organization_id)
    return open_client(None, organization_id=organization_id)


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

    def __call__(self, event: Progress) -> None:
        r = event.result
        key = (r.organization_id, r.module)
        label = f"{r.module} ({r.organization_id})" if self.several_orgs else r.module
        counts = (
            f"listed {r.listed:,}  +{r.inserted:,} ~{r.updated:,} -{r.deleted:,}  "
            f"{r.requests:,} requests"
        )
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


def _summary_table(summary: SyncSummary, several_orgs: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    title = "zbooks sync (dry run: nothing written)" if summary.dry_run else "zbooks sync"
    table = Table(title=title)
    if several_orgs:
        table.add_column("organization")
    table.add_column("module")
    table.add_column("mode")
    for name in ("listed", "inserted", "updated", "deleted", "requests"):
        table.add_column(name, justify="right")
    if summary.dry_run:
        table.add_column("planned", justify="right")
    table.add_column("status")
    for r in summary.results:
        cells = [r.organization_id] if several_orgs else []
        cells += [
            r.module,
            r.strategy,
            f"{r.listed:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.deleted:,}",
            f"{r.requests:,}",
        ]
        if summary.dry_run:
            cells.append(f"{r.planned_requests or 0:,}")
        cells.append("ok" if r.ok else f"failed: {r.error}")
        table.add_row(*cells)
    console = Console()
    console.print(table)
    verb = "would insert" if summary.dry_run else "inserted"
    console.print(
        f"{summary.inserted:,} {verb}, {summary.updated:,} updated, {summary.deleted:,} "
        f"deleted, {summary.requests:,} requests in {summary.seconds:.1f} s."
    )
    if summary.dry_run:
        console.print(summary.budget_note())


def sync(
    db: Annotated[
        str,
        typer.Option(
            "--db", metavar="URL", help="Target database URL: sqlite:///FILE or postgresql://..."
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
    """Copy Zoho Books data into SQLite or PostgreSQL, incrementally and resumably."""
    import zbooks.sync as zsync
    from zbooks.sync.modules import resolve_modules

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
        resolve_modules(modules)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--modules") from None
    client = open_sync_client(org)
    try:
        bars = _Bars(all_orgs) if sys.stderr.isatty() else None
        kwargs: dict[str, Any] = {
            "modules": modules,
            "organization_id": org,
            "all_orgs": all_orgs,
            "full_refresh": full_refresh,
            "reconcile_deletes": reconcile_deletes,
            "dry_run": dry_run,
            "raise_on_error": False,
            "on_progress": bars,
        }
        if bars is not None:
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
