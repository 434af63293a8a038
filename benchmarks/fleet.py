"""Fleet benchmark: N organizations x M invoices synced by 1, 2 and 4 Celery worker
processes against real Redis (broker, tokens, limiter) and real PostgreSQL (registry and
synced data), with a sandbox standing in for Zoho.

    ZBOOKS_TEST_POSTGRES_URL=postgresql://… python benchmarks/fleet.py [--orgs 40] [--invoices 50]

Per run it reports wall time, records/s, CPU seconds of the worker processes per 1,000
records (the client-side cost that bounds how many workers a core can drive), 429s seen
by the sandbox, the most requests any organization received in any 60-s window (from
the sandbox's own request log, against its limit of 100), and token refreshes per
connection (access tokens the sandbox minted per client, minus the one from sign-up).
The scale is reduced from the issue's 1,000 x 1,000 to fit a 2-core machine shared with
other work; pass --orgs/--invoices to run larger.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from bisect import bisect_left
from collections import defaultdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import write_section  # noqa: E402

from zbooks.fleet import Connections  # noqa: E402
from zbooks.fleet.crypto import Cipher  # noqa: E402
from zbooks.fleet.sandbox import SandboxControl, register  # noqa: E402
from zbooks.sandbox import requestlog  # noqa: E402
from zbooks.sandbox.config import SandboxConfig  # noqa: E402
from zbooks.sandbox.server import SandboxServer  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    import redis

    port = free_port()
    proc = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
         "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(500):
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.02)
    raise RuntimeError("redis-server did not start")


def create_db(admin_url: str) -> str:
    name = f"zbooks_fleet_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_db(admin_url: str, url: str) -> None:
    admin = sa.create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def invoices_synced(url: str) -> int:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            if "invoices" not in sa.inspect(conn).get_table_names():
                return 0
            return int(conn.execute(sa.text("SELECT count(*) FROM invoices")).scalar() or 0)
    finally:
        engine.dispose()


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its live descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def max_per_window(entries: list[dict[str, Any]], window: float = 60.0) -> int:
    """The most requests any organization received within any `window` seconds."""
    times: dict[str, list[float]] = defaultdict(list)
    for entry in entries:
        if entry["org_id"]:
            times[entry["org_id"]].append(entry["time"])
    worst = 0
    for stamps in times.values():
        stamps.sort()
        for i, t in enumerate(stamps):
            worst = max(worst, bisect_left(stamps, t + window) - i)
    return worst


def run(
    workers: int, orgs: int, invoices: int, redis_url: str, pg_url: str, tmp: Path
) -> dict[str, Any]:
    config = SandboxConfig(port=0, seed="empty", db_path=str(tmp / f"sandbox-{workers}.db"))
    server = SandboxServer(config).start()
    target = create_db(pg_url)
    registry_url = create_db(pg_url)
    try:
        with SandboxControl(server.base_url, server.config.control_token) as control:
            tenants = control.seed_fleet(orgs, invoices=invoices, prefix=f"w{workers}")
        connections = Connections(registry_url, token_store=redis_url, rate_limiter=redis_url)
        register(connections, tenants, server.base_url)
        broker = redis_url.rsplit("/", 1)[0] + f"/{workers}"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "ZBOOKS_CELERY_BROKER": broker,
            "ZBOOKS_CONNECTIONS_URL": registry_url,
            "ZBOOKS_SYNC_DATABASE_URL": target,
            "ZBOOKS_TOKEN_STORE": redis_url,
            "ZBOOKS_RATE_LIMIT_STORE": redis_url,
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "zbooks.fleet.celery", "worker",
             "--concurrency", str(workers), "--pool", "prefork", "--loglevel", "ERROR",
             "--without-mingle", "--without-gossip", "--without-heartbeat"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        from celery import Celery

        app = Celery("bench", broker=broker, backend=broker)
        time.sleep(3.0)  # let the pool come up (imports) before the clocks start
        cpu_before = tree_cpu(worker.pid)
        own_before = time.process_time()  # this process runs the sandbox
        started = time.perf_counter()
        app.send_task("zbooks.sync_all", kwargs={"modules": ["invoices"]}).get(timeout=600)
        expected = orgs * invoices
        while invoices_synced(target) < expected:
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        cpu = tree_cpu(worker.pid) - cpu_before
        sandbox_cpu = time.process_time() - own_before
        worker.terminate()
        worker.wait(60)
        entries = server.app.requests.recent()
        books = [e for e in entries if e["path"].startswith("/books/")]
        raw = [dict(org_id=e.get("org_id"), time=e["time"]) for e in server.app.requests._entries]
        db = sqlite3.connect(config.db_path or "")
        minted = dict(
            db.execute("SELECT client_id, count(*) FROM accounts_access_tokens GROUP BY 1")
        )
        db.close()
        refreshes = [minted.get(t.client_id, 0) - 1 for t in tenants]
        return {
            "workers": workers,
            "seconds": elapsed,
            "records": expected,
            "rate": expected / elapsed,
            "cpu_per_1000": cpu / expected * 1000,
            "cpu_share": cpu / elapsed,
            "sandbox_share": sandbox_cpu / elapsed,
            "load": os.getloadavg()[0],
            "429": sum(1 for e in books if e["status"] == 429),
            "max_window": max_per_window(raw),
            "refreshes": (min(refreshes), max(refreshes)),
            "requests": len(books),
        }
    finally:
        server.stop()
        drop_db(pg_url, target)
        drop_db(pg_url, registry_url)


def interpretation(results: list[dict[str, Any]]) -> str:
    """What the table says, computed from it (so a rerun never keeps stale prose)."""
    busiest = max(r["cpu_share"] + r["sandbox_share"] for r in results)
    load = max(r["load"] for r in results)
    per_core = 1000 / min(r["cpu_per_1000"] for r in results)
    scaling = ", ".join(f"{r['workers']}: {r['rate'] / results[0]['rate']:.2f}x" for r in results)
    return (
        f"Throughput relative to one worker process: {scaling}. The workers and the sandbox "
        f"together kept at most {busiest:.2f} of the 2 cores busy while the machine's load "
        f"average was up to {load:.0f} (other jobs share it), so on this run the limit was "
        "the oversubscribed machine, not the fleet: added workers queue for the same two "
        "cores. The client-side cost is the worker CPU per 1,000 records (Celery, the "
        "pipeline, the shared limiter's Redis calls, the sync's SQL writes): one dedicated "
        f"core drives about {per_core:.0f} records/s, which is the figure to size worker "
        f"pools with (docs/fleet.md). 429s over all runs: {sum(r['429'] for r in results)}; "
        f"most requests one organization received in a 60-s window: "
        f"{max(r['max_window'] for r in results)} (limit 100); token refreshes per "
        f"connection: {min(r['refreshes'][0] for r in results)} to "
        f"{max(r['refreshes'][1] for r in results)}. SIGKILL of a worker mid-task is covered by "
        "`tests/fleet/test_celery.py::test_sigkilled_worker_loses_and_duplicates_nothing` "
        "(rows identical to a clean run); a Redis restart mid-run is not measured yet.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orgs", type=int, default=40)
    parser.add_argument("--invoices", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    pg_url = os.environ.get("ZBOOKS_TEST_POSTGRES_URL")
    if not pg_url:
        raise SystemExit("set ZBOOKS_TEST_POSTGRES_URL (see .ci/postgres.sh)")
    os.environ.setdefault("ZBOOKS_ENCRYPTION_KEY", Cipher.generate_key())
    # Keep every request of the run in the sandbox's log (the default keeps 2,000).
    requestlog.RequestLog.__init__.__defaults__ = (10_000_000,)
    with tempfile.TemporaryDirectory(prefix="zbooks-fleet-bench-") as tmp_name:
        tmp = Path(tmp_name)
        redis_proc, redis_url = start_redis(tmp)
        try:
            results = [
                run(int(w), args.orgs, args.invoices, redis_url, pg_url, tmp)
                for w in args.workers.split(",")
            ]
        finally:
            redis_proc.terminate()
            redis_proc.wait()
    base = results[0]["rate"]
    rows = [
        f"| {r['workers']} | {r['seconds']:.1f} s | {r['rate']:.0f} ({r['rate'] / base:.2f}x) "
        f"| {r['cpu_per_1000']:.2f} s | {r['cpu_share']:.2f} | {r['sandbox_share']:.2f} "
        f"| {r['load']:.1f} | {r['429']} | {r['max_window']} "
        f"| {r['refreshes'][0]}-{r['refreshes'][1]} | {r['requests']:,} |"
        for r in results
    ]
    body = (
        "## Fleet (`benchmarks/fleet.py`)\n\n"
        f"{args.orgs} organizations x {args.invoices} invoices (scaled down from 1,000 x "
        "1,000 for a 2-core machine shared with other work), each with its own user, "
        "client and refresh token; Celery prefork workers on real Redis (broker, tokens, "
        "limiter) and PostgreSQL (registry, synced data); the sandbox (in the benchmark "
        "process) enforces 100 requests a minute per organization.\n\n"
        "| worker processes | wall time | records/s | worker CPU per 1,000 records "
        "| worker CPU cores busy | sandbox CPU cores busy | machine load (1 min) | 429s "
        "| max requests / org / 60 s | refreshes per connection | Books requests |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n"
        + interpretation(results)
    )
    print(body)
    if not args.no_write:
        write_section("fleet", body)


if __name__ == "__main__":
    main()
