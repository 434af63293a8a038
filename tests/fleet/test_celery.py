"""Real Celery workers (2 prefork processes) on real Redis keep a small fleet in sync."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.sync.support import SandboxProc
from zbooks.fleet import Connections
from zbooks.fleet.crypto import Cipher
from zbooks.fleet.orglock import RedisLocks
from zbooks.fleet.sandbox import SandboxControl, Tenant, register

from .test_shared_stores import ROOT

ORGS, INVOICES = 6, 4


def invoice_orgs(url: str) -> dict[str, int]:
    """Invoices per organization in a synced database."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            if "invoices" not in names:
                return {}
            rows = conn.execute(
                sa.text("SELECT organization_id, count(*) FROM invoices GROUP BY 1")
            ).all()
        return {str(org): int(n) for org, n in rows}
    finally:
        engine.dispose()


def _access_tokens_minted(sandbox: SandboxProc) -> dict[str, int]:
    """Access tokens the sandbox issued per client id (read from its own database)."""
    conn = sqlite3.connect(f"file:{sandbox.db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT client_id, count(*) FROM accounts_access_tokens GROUP BY client_id"
        ).fetchall()
    finally:
        conn.close()
    return {str(client): int(n) for client, n in rows}


def test_worker_pool_syncs_every_connection_once(
    sandbox: SandboxProc,
    redis_url: str,
    target_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = Cipher.generate_key()
    monkeypatch.setenv("ZBOOKS_ENCRYPTION_KEY", key)
    registry_url = f"sqlite:///{tmp_path / 'connections.db'}"
    broker = redis_url.rsplit("/", 1)[0] + "/3"  # its own Redis database
    with SandboxControl(sandbox.base_url, sandbox.control_token) as control:
        tenants: list[Tenant] = control.seed_fleet(ORGS, invoices=INVOICES, prefix="celery")
    registry = Connections(registry_url, token_store=redis_url, rate_limiter=redis_url)
    register(registry, tenants, sandbox.base_url)

    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        ZBOOKS_CELERY_BROKER=broker,
        ZBOOKS_CONNECTIONS_URL=registry_url,
        ZBOOKS_SYNC_DATABASE_URL=target_db,
        ZBOOKS_TOKEN_STORE=redis_url,
        ZBOOKS_RATE_LIMIT_STORE=redis_url,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "zbooks.fleet.celery",
            "worker",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"fleet-test-{uuid.uuid4().hex[:6]}@%h",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        from celery import Celery

        sender = Celery("zbooks-test", broker=broker, backend=broker)
        fanned = sender.send_task("zbooks.sync_all", kwargs={"modules": ["invoices"]})
        names = fanned.get(timeout=60)
        assert sorted(names) == sorted(t.name for t in tenants)
        expected = {t.organization_id: INVOICES for t in tenants}
        deadline = time.monotonic() + 90
        while invoice_orgs(target_db) != expected and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            time.sleep(0.5)
        assert invoice_orgs(target_db) == expected
        # A second round is idempotent: same rows, no new refresh.
        again = sender.send_task(
            "zbooks.sync_connection", args=[tenants[0].name], kwargs={"modules": ["invoices"]}
        ).get(timeout=60)
        assert again["status"] == "ok"
        assert again["organizations"][tenants[0].organization_id]["inserted"] == 0
        assert invoice_orgs(target_db) == expected
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    # Exactly one token refresh per connection, however many tasks and processes ran:
    # the sandbox minted two access tokens per client, one at sign-up, one on refresh.
    minted = _access_tokens_minted(sandbox)
    assert {t.client_id: minted.get(t.client_id) for t in tenants} == {
        t.client_id: 2 for t in tenants
    }
    statuses = [e["status"] for e in sandbox.control("GET", "/requests?limit=2000")["requests"]]
    assert 429 not in statuses


def test_one_worker_per_organization(redis_url: str) -> None:
    locks = RedisLocks(redis_url, lease=2.0)
    other = RedisLocks(redis_url, lease=2.0)
    org = f"org-{uuid.uuid4().hex[:8]}"
    with locks.hold(org) as mine:
        assert mine
        with other.hold(org) as theirs:
            assert not theirs
        time.sleep(2.5)  # longer than the lease: the heartbeat keeps it ours
        with other.hold(org) as theirs:
            assert not theirs
    with other.hold(org) as theirs:
        assert theirs
