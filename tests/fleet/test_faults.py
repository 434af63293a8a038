"""A worker machine SIGKILLed and Redis restarted in the middle of a fleet sync: the final
data in PostgreSQL equals a clean run's, with no 429 and one token refresh per connection.

Redis runs with an append-only file, as a deployment does: the broker queue (the tasks
not yet run), the tokens and the limiter windows live there, and a Redis that forgot
them on restart would drop the queued syncs (nothing would redeliver them) and make every
connection refresh again.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import zbooks.sync
from tests.sync.support import SandboxProc
from zbooks.fleet import Connections
from zbooks.fleet.crypto import Cipher
from zbooks.fleet.sandbox import SandboxControl, register

from .conftest import free_port, start_redis
from .test_shared_stores import ROOT

ORGS, INVOICES = 50, 20
VISIBILITY = 4.0


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    """One worker machine: a Celery worker of 1 process, in its own process group."""
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "zbooks.fleet.celery", "worker",
            "--concurrency", "1", "--pool", "prefork", "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"fleet-fault-{uuid.uuid4().hex[:6]}@%h",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("a"),
        text=True,
        start_new_session=True,  # SIGKILL of the group takes the machine's pool with it
    )  # fmt: skip


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _state(url: str) -> tuple[set[tuple[str, str, str]], Counter[str], Decimal, Decimal]:
    """Rows (organization, id, content hash), invoices per organization, and the money
    sums (total, balance) of a synced database."""
    real = url.replace("postgresql://", "postgresql+psycopg://")
    engine = sa.create_engine(real, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if "invoices" not in sa.inspect(conn).get_table_names():
                return set(), Counter(), Decimal(0), Decimal(0)
            rows = conn.execute(
                sa.text("SELECT organization_id, id, row_hash, total, balance FROM invoices")
            ).all()
    finally:
        engine.dispose()
    return (
        {(str(r[0]), str(r[1]), str(r[2])) for r in rows},
        Counter(str(r[0]) for r in rows),
        sum((Decimal(str(r[3])) for r in rows), Decimal(0)),
        sum((Decimal(str(r[4])) for r in rows), Decimal(0)),
    )


def _queue_drained(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.llen("celery")) == 0 and int(client.hlen("unacked")) == 0  # type: ignore[arg-type]
    finally:
        client.close()


def _minted(sandbox: SandboxProc) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{sandbox.db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT client_id, count(*) FROM accounts_access_tokens GROUP BY 1")
        return {str(client): int(n) for client, n in rows}
    finally:
        conn.close()


@pytest.fixture
def clean_db(postgres_url: str) -> Iterator[str]:
    """A second fresh PostgreSQL database, for the clean run."""
    name = f"zbooks_fleet_clean_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_sigkill_and_redis_restart_end_like_a_clean_run(
    sandbox: SandboxProc,
    target_db: str,
    clean_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZBOOKS_ENCRYPTION_KEY", Cipher.generate_key())
    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    redis_proc, url = start_redis(data, port, persist=True)
    store, broker = url, url.rsplit("/", 1)[0] + "/1"
    registry_url = f"sqlite:///{tmp_path / 'connections.db'}"
    with SandboxControl(sandbox.base_url, sandbox.control_token) as control:
        tenants = control.seed_fleet(ORGS, invoices=INVOICES, prefix=f"f{uuid.uuid4().hex[:4]}")
        # Slow list answers, so the faults land while most organizations are still to do.
        control.call(
            "POST", "/faults", json={"kind": "slow", "delay": 0.15, "path_prefix": "/books/v3"}
        )
    since = sandbox.control("GET", "/requests?limit=1")["requests"]
    first_seq = since[-1]["seq"] if since else 0
    registry = Connections(registry_url, token_store=store, rate_limiter=store)
    register(registry, tenants, sandbox.base_url)
    minted_before = _minted(sandbox)
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        ZBOOKS_CELERY_BROKER=broker,
        ZBOOKS_CONNECTIONS_URL=registry_url,
        ZBOOKS_SYNC_DATABASE_URL=target_db,
        ZBOOKS_TOKEN_STORE=store,
        ZBOOKS_RATE_LIMIT_STORE=store,
        ZBOOKS_CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY),
        ZBOOKS_SYNC_LOCK_LEASE="3",
        ZBOOKS_RATE_LIMIT_SLOT_LEASE="3",
        ZBOOKS_CELERY_BUSY_RETRY="1",
        ZBOOKS_CELERY_FAILED_RETRY="0.5",
    )
    log = tmp_path / "workers.log"
    machines = [_start_worker(env, log), _start_worker(env, log)]
    try:
        from celery import Celery

        sender = Celery("zbooks-test", broker=broker, backend=broker)
        names = sender.send_task(
            "zbooks.sync_all", kwargs={"modules": ["invoices"], "details": "none"}
        ).get(timeout=60)
        sender.close()
        assert len(names) == ORGS
        deadline = time.monotonic() + 60
        while len(_state(target_db)[1]) < 10:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        # One machine dies without a word, and Redis restarts (SIGTERM, as systemd does).
        os.killpg(machines[0].pid, signal.SIGKILL)
        machines[0].wait()
        redis_proc.terminate()
        redis_proc.wait(10)
        redis_proc, _ = start_redis(data, port, persist=True)
        done_at_fault = len(_state(target_db)[1])
        assert done_at_fault < ORGS  # the faults hit a run in progress
        # An autoscaler replaces the lost machine; its unacknowledged task comes back to
        # a live worker once the broker's visibility timeout has passed.
        time.sleep(VISIBILITY)
        machines.append(_start_worker(env, log))
        deadline = time.monotonic() + 60
        expected = {t.organization_id: INVOICES for t in tenants}
        while dict(_state(target_db)[1]) != expected or not _queue_drained(broker):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.25)
        sandbox.control("DELETE", "/faults")
        # A clean run of the same organizations: one process, no faults, own database.
        clean = clean_db
        for tenant in tenants:
            with registry.client(tenant.name, rate_limiter=False) as client:
                zbooks.sync.run(client, clean, modules=["invoices"], details="none")
    finally:
        for machine in machines:
            _stop(machine)
        redis_proc.terminate()
        redis_proc.wait(10)
    books = [
        e
        for e in sandbox.control("GET", f"/requests?limit=100000&since={first_seq}")["requests"]
        if e["path"].startswith("/books/")
    ]
    assert [e for e in books if e["status"] == 429] == []
    # Tokens survived the restart (AOF): one refresh per connection, except that a machine
    # killed between Zoho minting its token and saving it forces one more for that one.
    minted = _minted(sandbox)
    refreshes = sorted(minted[t.client_id] - minted_before.get(t.client_id, 0) for t in tenants)
    assert refreshes[0] == 1 and refreshes[-2] == 1 and refreshes[-1] <= 2, refreshes
    after, per_org, total, balance = _state(target_db)
    clean_rows, clean_per_org, clean_total, clean_balance = _state(clean)
    assert len(clean_rows) == ORGS * INVOICES
    assert after == clean_rows
    assert per_org == clean_per_org
    assert (total, balance) == (clean_total, clean_balance)
    assert total > 0
