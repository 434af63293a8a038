"""A child process for the fleet tests: `python tests/fleet/worker.py JOB ARGS…`.

Real processes (not threads) prove that coordination happens in the shared backend.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

from zbooks.auth.manager import TokenManager
from zbooks.auth.tokens import Token
from zbooks.core.ratelimit import DailyBudgetExhausted, RateLimiter
from zbooks.core.store_urls import open_limiter_backend, open_token_store


def refresh(url: str, name: str, log: str, threads: int, barrier_at: float) -> None:
    """Every thread asks for an access token at `barrier_at`; the refresher logs each call."""
    results: list[str] = []

    def refresher(old: Token | None) -> Token:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
        time.sleep(0.3)  # a slow token endpoint widens the race
        return Token(access_token=f"fresh-{os.getpid()}", expires_at=time.time() + 3600)

    def run() -> None:
        manager = TokenManager(open_token_store(url, name), refresher=refresher)
        time.sleep(max(0.0, barrier_at - time.time()))
        results.append(manager.access_token())

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    print(json.dumps(sorted(set(results))))


def hold_lease(url: str, name: str, ttl: str) -> None:
    store = open_token_store(url, name)
    store.lease_ttl = float(ttl)  # type: ignore[attr-defined]
    with store.lock():
        print("held", flush=True)
        time.sleep(3600)


def hammer(url: str, org: str, out: str, threads: int, seconds: float, counter_url: str) -> None:
    """Send 'requests' through a shared limiter; log grant times and the in-flight count
    seen by each holder (a Redis counter incremented while a permit is held)."""
    import redis

    counter = redis.Redis.from_url(counter_url)
    limiter = RateLimiter(
        requests_per_window=10,
        window=1.0,
        daily_limit=int(os.environ.get("DAILY", "100000")),
        concurrency=3,
        backend=open_limiter_backend(url),
    )
    stop = time.time() + seconds
    lines: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        while time.time() < stop:
            try:
                permit = limiter.acquire(org)
            except DailyBudgetExhausted:
                with lock:
                    lines.append("daily")
                return
            with permit:
                granted = time.time()
                seen = counter.incr(f"inflight:{org}")
                time.sleep(0.03)
                counter.decr(f"inflight:{org}")
            with lock:
                lines.append(f"{granted!r} {seen}")

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    with open(out, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    job, *args = sys.argv[1:]
    if job == "refresh":
        refresh(args[0], args[1], args[2], int(args[3]), float(args[4]))
    elif job == "hold-lease":
        hold_lease(*args)
    elif job == "hammer":
        hammer(args[0], args[1], args[2], int(args[3]), float(args[4]), args[5])
    else:
        raise SystemExit(f"unknown job {job}")
