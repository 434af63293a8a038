"""Simulate a burst of Zoho Books requests through the limiter, on simulated time.

Answers two questions reproducibly (no network, no real waiting):
1. Does a client that uses the limiter ever hit the server's per-minute limit? The
   simulated server counts requests in fixed clock-minute buckets AND in a sliding
   60 s window (Zoho's exact rule is unknown), and reports what a real one would refuse.
2. What does one acquire/release cost in real CPU time, per backend?

    .venv/bin/python benchmarks/ratelimit_sim.py [--requests 1000] [--latency 0.3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from bisect import bisect_left
from collections import Counter
from pathlib import Path

from zbooks.core.ratelimit import MemoryBackend, RateLimitBackend, RateLimiter, SQLiteBackend

START = 1_795_000_000.0
BIG = 10**9


class SimClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def simulate(backend: RateLimitBackend, requests: int, latency: float) -> dict[str, float]:
    clock = SimClock()
    limiter = RateLimiter(daily_limit=BIG, backend=backend, clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    cpu = time.perf_counter()
    for _ in range(requests):
        with limiter.acquire("60001"):
            sent.append(clock())
            clock.now += latency  # the request itself
    cpu = time.perf_counter() - cpu
    buckets = Counter(int(t // 60) for t in sent)
    sliding_peak = max(bisect_left(sent, t + 60) - i for i, t in enumerate(sent))
    return {
        "simulated_seconds": clock() - START,
        "per_minute_bucket_peak": max(buckets.values()),
        "sliding_60s_peak": sliding_peak,
        "would_be_429": sum(max(0, n - 100) for n in buckets.values()),
        "cpu_us_per_request": cpu / requests * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backends: dict[str, RateLimitBackend] = {
            "memory": MemoryBackend(),
            "sqlite": SQLiteBackend(Path(tmp) / "budget.db"),
        }
        for name, backend in backends.items():
            result = simulate(backend, args.requests, args.latency)
            print(name, {k: round(v, 2) for k, v in result.items()})
            if isinstance(backend, SQLiteBackend):
                backend.close()


if __name__ == "__main__":
    main()
