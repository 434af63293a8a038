"""Distributed sync on Celery with a Redis broker (``zbooks[fleet]``).

    celery -A zbooks.fleet.celery worker --concurrency 4     # on every machine
    celery -A zbooks.fleet.celery beat                       # once: the schedule below

Environment: ``ZBOOKS_CELERY_BROKER`` (default ``redis://127.0.0.1:6379/0``; also the
result backend and the per-organization locks), ``ZBOOKS_CONNECTIONS_URL`` (the registry),
``ZBOOKS_SYNC_DATABASE_URL`` (where data lands), ``ZBOOKS_ENCRYPTION_KEY``, and
``ZBOOKS_TOKEN_STORE`` / ``ZBOOKS_RATE_LIMIT_STORE`` (default: the registry's database; set
them to the Redis URL for a large fleet). Tuning: ``ZBOOKS_CELERY_VISIBILITY_TIMEOUT``
(3600 s), ``ZBOOKS_SYNC_LOCK_LEASE`` (60 s), ``ZBOOKS_CELERY_BUSY_RETRY`` (30 s),
``ZBOOKS_CELERY_FAILED_RETRY`` (5 s, doubling, 5 times: a sync that failed, e.g. while
Redis restarted under it, runs again).

Tasks are ``acks_late`` with ``reject_on_worker_lost``: a worker killed mid-task leaves
its message unacknowledged, Redis redelivers it (after ``visibility_timeout``), and the
sync's own cursors make the rerun exact. ``worker_prefetch_multiplier = 1`` so a worker
never sits on tasks another could run. One organization is synced by at most one worker
at a time (`zbooks.fleet.orglock`); a task that finds its organization busy retries later.
"""

from __future__ import annotations

import os
from typing import Any

import redis
from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init

from zbooks.fleet.orglock import RedisLocks

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        from zbooks.errors import ConfigurationError

        raise ConfigurationError(f"{name} must be a number of seconds, not {raw!r}.") from None


# Seconds before a task whose organization was busy tries again.
BUSY_RETRY = _seconds("ZBOOKS_CELERY_BUSY_RETRY", 30.0)
# How long the broker waits for an acknowledgement before redelivering a task whose
# worker died: longer than the longest sync of one connection.
VISIBILITY_TIMEOUT = _seconds("ZBOOKS_CELERY_VISIBILITY_TIMEOUT", 3600.0)
# The per-organization lock's lease (renewed while the sync runs; ends for a dead worker).
LOCK_LEASE = _seconds("ZBOOKS_SYNC_LOCK_LEASE", 60.0)
# A sync that failed (Redis restarting under it, a network blip, Zoho's 5xx) is tried
# again this many times, FAILED_RETRY seconds apart and doubling, before its task ends
# "failed" (the next scheduled round tries again anyway).
FAILED_RETRIES = 5
FAILED_RETRY = _seconds("ZBOOKS_CELERY_FAILED_RETRY", 5.0)


def broker_url() -> str:
    return os.environ.get("ZBOOKS_CELERY_BROKER", "").strip() or DEFAULT_BROKER


def _settings() -> tuple[str, str]:
    from zbooks.fleet.connections import default_url

    database = os.environ.get("ZBOOKS_SYNC_DATABASE_URL", "").strip()
    if not database:
        from zbooks.errors import ConfigurationError

        raise ConfigurationError(
            "ZBOOKS_SYNC_DATABASE_URL is not set: the workers do not know where to sync to.",
            hint="Set it to postgresql://… (or sqlite:///… on one machine).",
        )
    return default_url(), database


app = Celery("zbooks", broker=broker_url(), backend=broker_url())
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=24 * 3600,
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    broker_connection_retry_on_startup=True,
    # An example schedule: every connection every 15 minutes. Replace or extend it in
    # your own Celery config (app.conf.beat_schedule).
    beat_schedule={
        "zbooks-sync-all": {"task": "zbooks.sync_all", "schedule": crontab(minute="*/15")},
    },
)


@worker_init.connect
def _preload(**_: Any) -> None:
    """Import the sync stack in the worker's main process, before the pool forks: every
    pool process then starts warm instead of paying the imports (about a CPU second) on
    its first task."""
    import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401

    import zbooks.fleet.connections
    import zbooks.fleet.redis_limits
    import zbooks.fleet.redis_tokens
    import zbooks.fleet.runner
    import zbooks.sync
    import zbooks.sync.engine  # noqa: F401


@app.task(name="zbooks.sync_connection", bind=True, acks_late=True, max_retries=None)
def sync_connection(
    self: Any,
    name: str,
    modules: list[str] | str | None = None,
    details: Any = None,
    failures: int = 0,
) -> dict[str, Any]:
    """Sync one connection's organizations; retry later if another worker has one, or if
    the sync failed (`failures` counts the failed attempts so far)."""
    from zbooks.fleet.connections import Connections
    from zbooks.fleet.runner import sync_connection as run_one

    registry_url, database = _settings()
    try:
        result = run_one(
            Connections(registry_url),
            name,
            database,
            locks=RedisLocks(broker_url(), lease=LOCK_LEASE),
            modules=modules,
            details=details,
        )
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        # Redis (locks, tokens, limiter) went away mid-task, e.g. restarted: the sync's
        # cursors kept what was written; run the task again once Redis is back.
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    if result.status == "busy":
        raise self.retry(countdown=BUSY_RETRY)
    if result.status == "failed" and failures < FAILED_RETRIES:
        retry_kwargs = {**(self.request.kwargs or {}), "failures": failures + 1}
        raise self.retry(kwargs=retry_kwargs, countdown=_backoff(failures))
    return result.as_dict()


def _backoff(attempt: int) -> float:
    return float(FAILED_RETRY * 2 ** min(attempt, 5))


@app.task(name="zbooks.sync_all", acks_late=True)
def sync_all(modules: list[str] | str | None = None, details: Any = None) -> list[str]:
    """Fan out: one `zbooks.sync_connection` task per active connection."""
    from zbooks.fleet.connections import Connections

    registry_url, _ = _settings()
    names = [c.name for c in Connections(registry_url).list(state="active")]
    for name in names:
        sync_connection.delay(name, modules=modules, details=details)
    return names
