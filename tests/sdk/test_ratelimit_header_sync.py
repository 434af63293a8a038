"""A shared limiter backend adopts the server's X-Rate-Limit-* numbers without a write
per response: a fleet worker spent a quarter of its CPU on those writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zbooks.core.ratelimit import (
    HEADER_SYNC_INTERVAL,
    LOW_REMAINING,
    MemoryBackend,
    RateLimiter,
    SQLiteBackend,
)


class Counting(SQLiteBackend):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes = 0

    def update_daily(self, *args: Any, **kwargs: Any) -> None:
        self.writes += 1
        super().update_daily(*args, **kwargs)


def headers(remaining: int, limit: int = 10_000) -> dict[str, str]:
    return {"X-Rate-Limit-Limit": str(limit), "X-Rate-Limit-Remaining": str(remaining)}


def test_routine_numbers_are_written_at_most_once_a_second(tmp_path: Path) -> None:
    now = [1_000_000.0]
    backend = Counting(tmp_path / "limits.sqlite3")
    limiter = RateLimiter(plan="premium", backend=backend, clock=lambda: now[0])
    for left in range(9_000, 8_950, -1):  # 50 responses within one second
        limiter.update_from_headers("42", headers(left))
        now[0] += HEADER_SYNC_INTERVAL / 100
    assert backend.writes == 1
    assert limiter.daily_remaining("42") == 9_000  # the written view (and the grants since)
    now[0] += HEADER_SYNC_INTERVAL
    limiter.update_from_headers("42", headers(8_900))
    assert backend.writes == 2 and limiter.daily_remaining("42") == 8_900

    # Anything new is written at once: another limit, a new day, or the last requests.
    limiter.update_from_headers("42", headers(8_899, limit=5_000))
    assert backend.writes == 3
    limiter.update_from_headers("42", headers(4_999, limit=5_000))
    assert backend.writes == 3  # routine again
    limiter.update_from_headers("42", headers(5_000, limit=5_000))  # more left: a new day
    assert backend.writes == 4
    for left in range(LOW_REMAINING, LOW_REMAINING - 5, -1):
        limiter.update_from_headers("42", headers(left, limit=5_000))
    assert backend.writes == 9 and limiter.daily_remaining("42") == LOW_REMAINING - 4
    # Organizations are separate.
    limiter.update_from_headers("43", headers(7_000))
    assert backend.writes == 10


def test_an_in_process_backend_adopts_every_response() -> None:
    now = [1_000_000.0]
    limiter = RateLimiter(plan="premium", backend=MemoryBackend(), clock=lambda: now[0])
    for left in (9_000, 8_999, 8_998):
        limiter.update_from_headers("42", headers(left))
        assert limiter.daily_remaining("42") == left
