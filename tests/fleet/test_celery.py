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


def invoice_orgs(url: str, *, detailed: bool = False) -> dict[str, int]:
    """Invoices per organization in a synced database (``detailed``: only the rows that
    hold the full record, not just the list row)."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            if "invoices" not in names:
                return {}
            rows = conn.execute(
                sa.text(
                    "SELECT organization_id, count(*) FROM invoices"
                    + (" WHERE detail_synced_at IS NOT NULL" if detailed else "")
                    + " GROUP BY 1"
                )
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


def _rows(url: str) -> set[tuple[str, str, str]]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT organization_id, id, row_hash FROM invoices"))
            return {(str(a), str(b), str(c)) for a, b, c in found}
    finally:
        engine.dispose()


def _start_worker(
    env: dict[str, str], concurrency: int, log: Path | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "zbooks.fleet.celery", "worker",
            "--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"fleet-kill-{uuid.uuid4().hex[:6]}@%h",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w") if log else subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: SIGKILL takes the pool with it
    )  # fmt: skip


def test_sigkilled_worker_loses_and_duplicates_nothing(
    sandbox: SandboxProc,
    redis_url: str,
    target_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import signal

    monkeypatch.setenv("ZBOOKS_ENCRYPTION_KEY", Cipher.generate_key())
    registry_url = f"sqlite:///{tmp_path / 'connections.db'}"
    broker = redis_url.rsplit("/", 1)[0] + "/4"
    with SandboxControl(sandbox.base_url, sandbox.control_token) as control:
        # 40 invoices: the killed run and the rerun together stay under one organization's
        # 100 requests a minute, which the shared limiter enforces across both workers.
        (tenant,) = control.seed_fleet(1, invoices=40, prefix="kill")
        # Slow invoice answers so the kill lands mid-sync.
        control.call(
            "POST",
            "/faults",
            json={"kind": "slow", "delay": 0.25, "path_prefix": "/books/v3/invoices"},
        )
    registry = Connections(registry_url, token_store=redis_url, rate_limiter=redis_url)
    register(registry, [tenant], sandbox.base_url)
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        ZBOOKS_CELERY_BROKER=broker,
        ZBOOKS_CONNECTIONS_URL=registry_url,
        ZBOOKS_SYNC_DATABASE_URL=target_db,
        ZBOOKS_TOKEN_STORE=redis_url,
        ZBOOKS_RATE_LIMIT_STORE=redis_url,
        ZBOOKS_CELERY_VISIBILITY_TIMEOUT="4",
        ZBOOKS_SYNC_LOCK_LEASE="3",
        ZBOOKS_CELERY_BUSY_RETRY="1",
        ZBOOKS_RATE_LIMIT_SLOT_LEASE="3",  # the killed worker's in-flight slots
    )
    from celery import Celery

    sender = Celery("zbooks-test", broker=broker, backend=broker)
    first = _start_worker(env, 1)
    second: subprocess.Popen[str] | None = None
    try:
        result = sender.send_task(
            "zbooks.sync_connection", args=[tenant.name], kwargs={"modules": ["invoices"]}
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            log = sandbox.control("GET", "/requests?limit=2000")["requests"]
            if sum(1 for e in log if e.get("org_id") == tenant.organization_id) >= 8:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the worker never started syncing")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        # Mid-sync: the list rows may all be in, the full records not yet.
        assert invoice_orgs(target_db, detailed=True).get(tenant.organization_id, 0) < 40
        with SandboxControl(sandbox.base_url, sandbox.control_token) as control:
            control.call("DELETE", "/faults")
        # The broker hands an unacknowledged message out again once it is older than the
        # visibility timeout (4 s here); a replacement worker that starts sooner sees
        # nothing yet, so start it the way an autoscaler would, after the timeout.
        time.sleep(4.5)
        second = _start_worker(env, 1)
        outcome = result.get(timeout=90)  # the same task, redelivered and finished
        assert outcome["status"] == "ok"
        assert invoice_orgs(target_db) == {tenant.organization_id: 40}
        assert invoice_orgs(target_db, detailed=True) == {tenant.organization_id: 40}
        # Identical to a clean run: the same rows with the same content hashes.
        import zbooks.sync

        clean = f"sqlite:///{tmp_path / 'clean.db'}"
        with registry.client(tenant.name, rate_limiter=False) as client:  # not the fleet's budget
            zbooks.sync.run(client, clean, modules=["invoices"])
        assert _rows(target_db) == _rows(clean) and len(_rows(clean)) == 40
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
