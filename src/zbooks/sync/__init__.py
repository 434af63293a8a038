"""Incremental, resumable sync of Zoho Books data into SQL databases.

    import zbooks, zbooks.sync

    with zbooks.Client() as client:
        summary = zbooks.sync.run(client, "duckdb:///books.duckdb", modules="invoices,contacts",
                                  details="invoices=none")
        print(summary.inserted, summary.updated, summary.requests)

Needs the ``sync`` extra (SQLAlchemy 2, DuckDB and duckdb-engine; psycopg 3 for
PostgreSQL). The guide with the table layout and example queries is ``docs/sync.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from zbooks.core.client import Client
from zbooks.errors import ConfigurationError
from zbooks.sync import timeutil
from zbooks.sync.database import DEFAULT_URL, SUPPORTED_URLS, make_engine
from zbooks.sync.engine import DEFAULT_LOOKBACK, DeleteMode, SyncEngine
from zbooks.sync.forecast import Forecast, ModuleForecast
from zbooks.sync.modules import (
    MODULES,
    ChildSpec,
    Col,
    DetailMode,
    Details,
    ModuleSpec,
    resolve_details,
    resolve_modules,
)
from zbooks.sync.results import ModuleResult, Progress, ProgressCallback, SyncFailed, SyncSummary
from zbooks.sync.schema import SyncSchema, record_hash

__all__ = [
    "DEFAULT_LOOKBACK",
    "DEFAULT_URL",
    "MODULES",
    "SUPPORTED_URLS",
    "ChildSpec",
    "Col",
    "DetailMode",
    "Details",
    "Forecast",
    "ModuleForecast",
    "ModuleResult",
    "ModuleSpec",
    "Progress",
    "SyncFailed",
    "SyncSchema",
    "SyncSummary",
    "make_engine",
    "organizations_to_sync",
    "record_hash",
    "run",
]


def organizations_to_sync(
    client: Client, organization_id: str | None = None, all_orgs: bool = False
) -> list[str]:
    """``--org ID``, ``--all-orgs``, the client's organization, or the only one there is."""
    if organization_id and all_orgs:
        raise ConfigurationError("Pass either an organization id or all_orgs, not both.")
    if organization_id:
        return [str(organization_id)]
    if all_orgs:
        orgs = [str(o["organization_id"]) for o in client.organizations()]
        if not orgs:
            raise ConfigurationError("This user has no Zoho Books organization.")
        return orgs
    if client.organization_id:
        return [str(client.organization_id)]
    orgs = [str(o["organization_id"]) for o in client.organizations()]
    if len(orgs) == 1:
        return orgs
    if not orgs:
        raise ConfigurationError("This user has no Zoho Books organization.")
    raise ConfigurationError(
        f"This user belongs to {len(orgs)} organizations ({', '.join(orgs)}).",
        hint="Pick one with --org ID (or ZBOOKS_ORGANIZATION_ID), or sync them all "
        "with --all-orgs.",
    )


def run(
    client: Client,
    engine_or_url: str | URL | Engine = DEFAULT_URL,
    modules: str | Sequence[str] | None = None,
    *,
    details: Details | None = None,
    on_progress: ProgressCallback | None = None,
    on_forecast: Callable[[Forecast], None] | None = None,
    forecast: bool = True,
    organization_id: str | None = None,
    all_orgs: bool = False,
    full_refresh: bool = False,
    reconcile_deletes: bool = False,
    delete_mode: DeleteMode = "remove",
    dry_run: bool = False,
    lookback: timedelta = DEFAULT_LOOKBACK,
    table_prefix: str = "",
    module_workers: int = 4,
    detail_workers: int | None = None,
    raise_on_error: bool = True,
    now: Callable[[], datetime] | None = None,
) -> SyncSummary:
    """Copy ``modules`` (all by default) of the organization(s) into the database.

    ``details`` chooses how much detail to pay for: ``"changed"`` (the default: the full
    record of every new or changed row, one GET each) or ``"none"`` (list rows only: one
    request per 200 records; child tables stay empty), for all modules or per module
    (``"invoices=none,contacts=changed"`` or ``{"invoices": "none"}``). Rows say which
    they hold: ``detail_synced_at`` is NULL for a list row. A later run with details fills
    exactly the rows lacking them, newest first, until the daily budget runs out.

    Incremental after the first run: only records modified since the stored cursor
    (minus ``lookback``) are listed, and only those whose ``last_modified_time``
    changed are fetched. An interrupted run resumes where it stopped.

    ``reconcile_deletes`` removes rows Zoho no longer has (``delete_mode="mark"`` sets
    ``deleted_at`` instead). ``dry_run`` reads the lists (that costs list requests) but
    writes nothing and reports ``planned_requests`` against ``daily_remaining``.
    Before starting, unless ``forecast=False``, the modules with details count what they
    will fetch (one request for invoices, a few page probes for others) and
    ``on_forecast`` gets a ``Forecast`` per organization: requests needed, what is left
    today, and ``days`` of budget (``Forecast.warning()`` is the sentence to show).
    ``now`` supplies the clock for the run's upper bound (the server's clock if known).
    Raises ``SyncFailed`` (with the summary) if a module failed and ``raise_on_error``.
    """
    specs = resolve_modules(modules if modules is None or isinstance(modules, str)
                            else list(modules))
    modes = resolve_details(details, specs)
    engine = make_engine(engine_or_url)
    orgs = organizations_to_sync(client, organization_id, all_orgs)
    sync = SyncEngine(
        client,
        engine,
        SyncSchema(specs, prefix=table_prefix),
        full_refresh=full_refresh,
        reconcile_deletes=reconcile_deletes,
        delete_mode=delete_mode,
        dry_run=dry_run,
        lookback=lookback,
        on_progress=on_progress,
        forecast=forecast,
        on_forecast=on_forecast,
        module_workers=module_workers,
        detail_workers=detail_workers,
        now=now or timeutil.utc_now,
        details=modes,
    )
    try:
        summary = sync.run(orgs)
    finally:
        if not isinstance(engine_or_url, Engine):
            engine.dispose()
    if raise_on_error and not summary.ok:
        raise SyncFailed(summary)
    return summary
