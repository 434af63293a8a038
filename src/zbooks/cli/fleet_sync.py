"""``zbooks sync --all-connections --workers N``: the Celery fan-out on one machine.

Every active connection of the registry is synced by a pool of N threads sharing the
registry's token store and limiter, one organization at a time per organization. Prints
one line per connection (JSON when stdout is not a terminal) and exits 1 if any failed.
"""

from __future__ import annotations

import json
import sys

import typer


def sync_all_connections(
    database: str, *, modules: str | None, workers: int, full_refresh: bool
) -> None:
    from zbooks.fleet.connections import Connections
    from zbooks.fleet.runner import ConnectionResult, sync_all_local

    registry = Connections()
    tty = sys.stdout.isatty()

    def show(result: ConnectionResult) -> None:
        if tty:
            counts = ", ".join(
                f"{org}: {info.get('inserted', 0)} new, {info.get('updated', 0)} updated"
                for org, info in result.organizations.items()
            )
            extra = f" ({result.error})" if result.error else ""
            typer.echo(f"{result.name:<24} {result.status:<12} {counts}{extra}")

    results = sync_all_local(
        registry,
        database,
        workers=workers,
        modules=modules,
        on_result=show,
        full_refresh=full_refresh,
    )
    if not tty:
        sys.stdout.write(json.dumps([r.as_dict() for r in results], indent=2) + "\n")
    if any(r.status != "ok" for r in results):
        raise typer.Exit(1)
