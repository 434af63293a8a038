"""``zbooks sync`` against the sandbox: request rate under Zoho's limit, and memory.

1. Rate: the sandbox allows 100 requests per 6 s (Zoho's 100/min, compressed tenfold so
   the run takes minutes, not hours). The client's limiter is told the same limit with a
   1.7 % safety margin. Target: the steady-state request rate (after the first window's
   burst) >= 95 % of the limit, with zero 429 responses.
2. Memory: peak RSS of a sync process copying 10,000 invoices, then 100,000 (into fresh
   databases, no rate limit). The engine holds one page at a time, so the target is
   peak(100,000) <= 1.2 x peak(10,000).

    .venv/bin/python benchmarks/sync.py [--rate-invoices 1500] [--small 10000] [--large 100000]

Results go to docs/benchmarks.md (section "sync").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from report import write_section  # noqa: E402
from tests.sync.support import HUGE, SandboxProc, sandbox_process  # noqa: E402

import zbooks.sync as zsync  # noqa: E402
from zbooks.core.ratelimit import RateLimiter  # noqa: E402
from zbooks.core.retry import RetryPolicy  # noqa: E402

LIMIT, WINDOW = 100, 6.0
CLIENT_WINDOW = 6.1  # the client's margin against clock and network jitter


def rate_run(invoices: int) -> dict[str, Any]:
    sent: list[float] = []  # when each request left the client

    def record(request: httpx2.Request) -> None:
        if "/books/v3/" in str(request.url):
            sent.append(time.monotonic())

    with tempfile.TemporaryDirectory() as tmp, sandbox_process(
        seed="demo", rate_limit=LIMIT, rate_window=WINDOW
    ) as sandbox:
        sandbox.seed("contacts", max(invoices // 5, 1))
        sandbox.seed("invoices", invoices)
        creds = sandbox.credentials()
        limiter = RateLimiter(requests_per_window=LIMIT, window=CLIENT_WINDOW,
                              plan="premium", daily_limit=HUGE)
        marker = sandbox.mark()
        http = httpx2.Client(timeout=30, event_hooks={"request": [record]})
        # One attempt only: a 429 would fail the run instead of hiding in a retry.
        with http, sandbox.client(creds, limiter=limiter, retry=RetryPolicy(max_attempts=1),
                                  http_client=http) as client:
            started = time.monotonic()
            summary = zsync.run(client, f"sqlite:///{tmp}/rate.sqlite",
                                modules="contacts,invoices", raise_on_error=False)
            elapsed = time.monotonic() - started
        log = sandbox.requests_since(marker)
    too_many = sum(1 for entry in log if entry["status"] == 429)
    # How well the window is kept full: every request after the first LIMIT waits for the
    # one LIMIT places earlier to leave the window, so the time a full window's worth of
    # requests takes (averaged over the run, stalls included) gives the sustained rate.
    # (requests / elapsed would count the first, free window as if it were sustained.)
    gaps = [sent[i] - sent[i - LIMIT] for i in range(LIMIT, len(sent))]
    steady = LIMIT / (sum(gaps) / len(gaps))
    return {
        "requests": summary.requests,
        "sent": len(sent),
        "logged": len(log),
        "seconds": elapsed,
        "rate": summary.requests / elapsed,
        "steady_rate": steady,
        "ratio": steady / (LIMIT / WINDOW),
        "status_429": too_many,
        "ok": summary.ok,
    }


def memory_worker(url: str) -> None:
    """Child mode: sync invoices with credentials from ZB_* and print peak RSS."""
    from zbooks import Client

    env = os.environ
    base = env["ZB_BASE_URL"]
    client = Client(
        client_id=env["ZB_CLIENT_ID"], client_secret=env["ZB_CLIENT_SECRET"],
        access_token=env["ZB_ACCESS_TOKEN"], refresh_token=env["ZB_REFRESH_TOKEN"],
        accounts_url=base, api_url=base + "/books/v3", organization_id=env["ZB_ORG_ID"],
        env={}, rate_limiter=RateLimiter(requests_per_window=HUGE, window=60,
                                         plan="premium", daily_limit=HUGE),
    )
    started = time.monotonic()
    summary = zsync.run(client, url, modules="invoices")
    print(json.dumps({
        "rows": summary.inserted,
        "requests": summary.requests,
        "seconds": time.monotonic() - started,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def memory_run(sandbox: SandboxProc, env: dict[str, str], url: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", url], env={**os.environ, **env},
        capture_output=True, text=True, check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def memory_runs(small: int, large: int) -> tuple[dict[str, Any], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp, sandbox_process(seed="empty") as sandbox:
        for module, count in (("taxes", 3), ("items", 50), ("contacts", 500)):
            sandbox.seed(module, count)
        sandbox.seed("invoices", small)
        env = sandbox.credentials().env(sandbox)
        first = memory_run(sandbox, env, f"sqlite:///{tmp}/small.sqlite")
        remaining = large - small
        while remaining > 0:
            batch = min(remaining, 50_000)
            sandbox.seed("invoices", batch, seed=remaining)
            remaining -= batch
        second = memory_run(sandbox, env, f"sqlite:///{tmp}/large.sqlite")
    return first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate-invoices", type=int, default=1500)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--worker", metavar="DB_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        memory_worker(args.worker)
        return

    rate = rate_run(args.rate_invoices)
    print("rate:", rate, flush=True)
    small, large = memory_runs(args.small, args.large)
    print("memory:", small, large, flush=True)
    ratio = large["peak_rss_mb"] / small["peak_rss_mb"]
    rate_ok = rate["ratio"] >= 0.95 and rate["status_429"] == 0 and rate["ok"]
    rate_row = " | ".join([
        f"{rate['requests']:,}", f"{rate['seconds']:.1f}", f"{rate['rate']:.2f}/s",
        f"{rate['steady_rate']:.2f}/s", f"**{rate['ratio']:.1%}**", f"**{rate['status_429']}**",
    ])
    memory_rows = "\n".join(
        "| " + " | ".join([f"{m['rows']:,}", f"{m['requests']:,}", f"{m['seconds']:.1f}",
                           f"{m['peak_rss_mb']:.1f} MB"]) + " |"
        for m in (small, large)
    )
    body = f"""## Sync rate and memory (`benchmarks/sync.py`)

**Rate.** Sandbox limit {LIMIT} requests per {WINDOW:g} s (Zoho's 100/min, ten times
faster); the client's limiter set to {LIMIT} per {CLIENT_WINDOW:g} s. `zbooks sync
--modules contacts,invoices` of {args.rate_invoices:,} invoices:

| requests | seconds | mean rate | sustained rate (see below) | of the limit | 429s |
|---|---|---|---|---|---|
| {rate_row} |

Sustained rate: {LIMIT} divided by the mean time between a request and the one {LIMIT}
places earlier (how full the window is kept, stalls included; the whole-run mean counts
the first window, which starts empty, as if it were sustained). Target >= 95 % of the
limit with zero 429: **{'met' if rate_ok else 'NOT met'}**.

**Memory.** Peak RSS of the sync process (`--modules invoices`, fresh SQLite file, no
rate limit; one detail GET per invoice):

| invoices | requests | seconds | peak RSS |
|---|---|---|---|
{memory_rows}

**Ratio {ratio:.2f}x** (target <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'}).
"""
    write_section("sync", body)
    print(body)


if __name__ == "__main__":
    main()
