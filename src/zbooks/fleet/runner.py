"""Sync one connection: the unit of work of both the Celery task and the local fan-out.

Idempotent by construction: ``zbooks.sync.run`` is incremental and resumes from its own
cursors, so running a connection twice (a redelivered Celery message after a worker was
killed) fetches only what changed and writes each record once.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from zbooks.errors import InvalidClientError, InvalidGrantError
from zbooks.fleet.connections import Connections, ConnectionUnavailable, State
from zbooks.fleet.orglock import LocalLocks, OrgLocks

log = logging.getLogger("zbooks.fleet")

_ENGINES: dict[tuple[str, int], Any] = {}
_ENGINES_LOCK = threading.Lock()


def sync_engine(database: str) -> Any:
    """One SQLAlchemy engine (one connection pool) per target URL and process.

    ``zbooks.sync.run`` given a URL builds an engine, connects and disposes it on every
    call; a worker syncing thousands of organizations one task at a time paid a new
    PostgreSQL connection per task. Given an engine it reuses the pool. A forked child (a
    Celery worker) builds its own: pooled connections never cross a fork.
    """
    from zbooks.sync.database import make_engine

    key = (database, os.getpid())
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = make_engine(database)
        return engine


@dataclass
class ConnectionResult:
    """What happened to one connection (plain data: it is a Celery task result)."""

    name: str
    status: str  # "ok", "failed", "busy" (another worker holds an org), "needs_reauth", …
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "organizations": self.organizations,
            "error": self.error,
        }


def run_sync(client: Any, database: str, **options: Any) -> Any:
    """Call ``zbooks.sync.run``, passing only the options this version accepts.

    A thin adapter so the fleet keeps working while the sync's signature grows (``details``
    is newer than this module); an option the sync does not know is dropped when it is
    None and refused otherwise, never silently ignored.
    """
    import sqlalchemy as sa

    import zbooks.sync as zsync

    accepted = inspect.signature(zsync.run).parameters
    kwargs: dict[str, Any] = {}
    for key, value in options.items():
        if key in accepted:
            kwargs[key] = value
        elif value is not None:
            raise TypeError(f"this zbooks.sync.run does not support {key}=")
    for attempt in range(4):
        try:
            return zsync.run(client, sync_engine(database), **kwargs)
        except sa.exc.DBAPIError as exc:
            # Workers starting on a fresh database race to CREATE TABLE; PostgreSQL
            # reports the loser as a duplicate. The sync is idempotent: run it again.
            if attempt == 3 or "already exists" not in str(exc.orig):
                raise
            time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


def sync_connection(
    registry: Connections,
    name: str,
    database: str,
    *,
    locks: OrgLocks,
    modules: str | Sequence[str] | None = None,
    details: Any = None,
    **options: Any,
) -> ConnectionResult:
    """Sync every organization of connection `name` that no other worker is syncing."""
    result = ConnectionResult(name, "ok")
    try:
        with registry.client(name) as client:
            orgs = list(registry.get(name).organizations)
            if not orgs:
                orgs = [str(o["organization_id"]) for o in client.organizations()]
                registry.set_organizations(name, orgs)
            for org in orgs:
                with locks.hold(org) as mine:
                    if not mine:
                        result.organizations[org] = {"status": "busy"}
                        result.status = "busy"
                        continue
                    summary = run_sync(
                        client,
                        database,
                        modules=modules,
                        details=details,
                        organization_id=org,
                        raise_on_error=False,
                        **options,
                    )
                    result.organizations[org] = {
                        "status": "ok" if summary.ok else "failed",
                        "inserted": summary.inserted,
                        "updated": summary.updated,
                        "requests": summary.requests,
                    }
                    if not summary.ok:
                        result.status = "failed"
                        result.error = "; ".join(f"{r.module}: {r.error}" for r in summary.failures)
    except ConnectionUnavailable as exc:
        result.status = registry.get(name).state.value
        result.error = str(exc)
    except (InvalidGrantError, InvalidClientError):
        # The client already marked the connection needs_reauth; the others carry on.
        result.status = State.NEEDS_REAUTH.value
        result.error = registry.get(name).reason
    log.info("connection %s: %s", name, result.status)
    return result


def sync_all_local(
    registry: Connections,
    database: str,
    *,
    workers: int = 4,
    modules: str | Sequence[str] | None = None,
    details: Any = None,
    locks: OrgLocks | None = None,
    on_result: Callable[[ConnectionResult], None] | None = None,
    **options: Any,
) -> list[ConnectionResult]:
    """``zbooks sync --all-connections --workers N``: the Celery fan-out on one machine."""
    names = [c.name for c in registry.list(state=State.ACTIVE)]
    guard = locks or LocalLocks()

    def one(name: str) -> ConnectionResult:
        outcome = sync_connection(
            registry, name, database, locks=guard, modules=modules, details=details, **options
        )
        if on_result is not None:
            on_result(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="zbooks-fleet") as pool:
        return list(pool.map(one, names))
