"""Per-organization limits: per-minute window (44), daily quota (45), concurrency (1070)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest

from tests.sandbox.helpers import json_of, make_config, running
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.errors import CONCURRENCY_MESSAGE, PER_MINUTE_MESSAGE
from zbooks.sandbox.faults import FaultRule
from zbooks.sandbox.limits import RateLimiter, RateLimitError, daily_limit_message

NOON = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC).timestamp()


def clock_at(timestamp: float) -> Clock:
    clock = Clock()
    clock.advance(timestamp - clock.time())
    return clock


def limiter(clock: Clock, **overrides: object) -> RateLimiter:
    return RateLimiter(SandboxConfig(**overrides), clock)  # type: ignore[arg-type]


def rejection(limits: RateLimiter, org: str = "1", plan: str = "premium") -> RateLimitError:
    with pytest.raises(RateLimitError) as info:
        limits.acquire(org, plan)
    return info.value


def test_daily_message_formats_the_number_with_commas() -> None:
    assert daily_limit_message(1000) == (
        "The API call for this organization has exceeded the maximum call rate limit of 1,000."
    )
    assert daily_limit_message(10000).endswith("limit of 10,000.")


def test_per_minute_window_rolls_with_the_sandbox_clock() -> None:
    clock = clock_at(NOON)
    limits = limiter(clock, rate_limit=3, rate_window=60.0)
    for _ in range(3):
        limits.acquire("1", "premium").release()
        clock.advance(10)
    error = rejection(limits)
    assert (error.status, error.code, error.message) == (429, 44, PER_MINUTE_MESSAGE)
    # The oldest call (t=0) leaves the window at t=60; we are at t=30.
    clock.advance(29)
    assert rejection(limits).code == 44
    clock.advance(2)  # t=61: one slot free again, exactly one
    limits.acquire("1", "premium").release()
    assert rejection(limits).code == 44


def test_rejections_consume_no_budget() -> None:
    clock = clock_at(NOON)
    limits = limiter(clock, rate_limit=2)
    limits.acquire("1", "premium").release()
    limits.acquire("1", "premium").release()
    for _ in range(20):
        rejection(limits)
    assert limits.headers("1", "premium")["X-Rate-Limit-Remaining"] == "9998"
    clock.advance(61)
    limits.acquire("1", "premium").release()
    limits.acquire("1", "premium").release()


def test_daily_quota_by_plan_resets_at_utc_midnight() -> None:
    clock = clock_at(NOON)
    limits = limiter(
        clock,
        rate_limit=1000,
        daily_limits={"free": 3, "standard": 5, "professional": 5, "premium": 5},
    )
    for _ in range(3):
        limits.acquire("free-org", "free").release()
    error = rejection(limits, "free-org", "free")
    assert (error.status, error.code) == (429, 45)
    assert error.message == daily_limit_message(3)
    assert error.headers["X-Rate-Limit-Remaining"] == "0"
    assert error.headers["X-Rate-Limit-Reset"] == str(12 * 3600)
    # A premium org has its own, larger budget.
    for _ in range(5):
        limits.acquire("premium-org", "premium").release()
    clock.advance(12 * 3600 - 1)  # 23:59:59 the same day
    assert rejection(limits, "free-org", "free").code == 45
    clock.advance(1)  # midnight UTC
    ticket = limits.acquire("free-org", "free")
    assert ticket.headers == {
        "X-Rate-Limit-Limit": "3",
        "X-Rate-Limit-Remaining": "2",
        "X-Rate-Limit-Reset": "86400",
    }


def test_concurrency_limit_and_release() -> None:
    limits = limiter(clock_at(NOON), concurrency_limits={"premium": 2, "free": 1})
    first = limits.acquire("1", "premium")
    second = limits.acquire("1", "premium")
    error = rejection(limits)
    assert (error.code, error.message) == (1070, CONCURRENCY_MESSAGE)
    assert limits.in_flight("1") == 2
    first.release()
    first.release()  # idempotent: a double release must not free a slot it never held
    third = limits.acquire("1", "premium")
    assert rejection(limits).code == 1070
    second.release()
    third.release()
    assert limits.in_flight("1") == 0
    # Another organization is unaffected by this one's in-flight calls.
    limits.acquire("2", "free")
    assert rejection(limits, "2", "free").code == 1070


def test_retry_after_only_when_configured() -> None:
    clock = clock_at(NOON)
    quiet = limiter(clock, rate_limit=1)
    quiet.acquire("1", "premium").release()
    assert "Retry-After" not in rejection(quiet).headers
    loud = limiter(clock, rate_limit=1, send_retry_after=True)
    loud.acquire("1", "premium").release()
    clock.advance(15)
    assert rejection(loud).headers["Retry-After"] == "45"


def test_limiter_is_thread_safe() -> None:
    limits = limiter(clock_at(NOON), rate_limit=100_000, concurrency_limits={"premium": 1000})
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(500):
            limits.acquire("1", "premium").release()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert limits.headers("1", "premium")["X-Rate-Limit-Remaining"] == str(10000 - 4000)
    assert limits.in_flight("1") == 0


# over HTTP --------------------------------------------------------------------------------


async def test_http_per_minute_limit_is_429_code_44_with_headers() -> None:
    async with running(make_config(rate_limit=3)) as sbx:
        token = sbx.token()
        for _ in range(3):
            assert (await sbx.books("GET", "/probe", token=token)).status_code == 200
        blocked = await sbx.books("GET", "/probe", token=token)
        assert blocked.status_code == 429
        assert json_of(blocked) == {"code": 44, "message": PER_MINUTE_MESSAGE}
        assert blocked.headers["x-rate-limit-remaining"] == "9997"
        assert "x-rate-limit-reset" in blocked.headers
        assert "retry-after" not in blocked.headers
        # A second organization of the same user has its own window.
        other = sbx.app.create_organization(name="Other")["organization_id"]
        response = await sbx.books("GET", "/probe", token=token, params={"organization_id": other})
        assert response.status_code == 200
        sbx.app.clock.advance(61)
        assert (await sbx.books("GET", "/probe", token=token)).status_code == 200


async def test_http_daily_limit_is_429_code_45() -> None:
    config = make_config(daily_limits={"free": 2, "standard": 2, "professional": 2, "premium": 2})
    async with running(config) as sbx:
        token = sbx.token()
        first = await sbx.books("GET", "/probe", token=token)
        assert first.headers["x-rate-limit-limit"] == "2"
        assert first.headers["x-rate-limit-remaining"] == "1"
        await sbx.books("GET", "/probe", token=token)
        blocked = await sbx.books("GET", "/probe", token=token)
        assert blocked.status_code == 429
        assert json_of(blocked) == {
            "code": 45,
            "message": "The API call for this organization has exceeded the maximum call "
            "rate limit of 2.",
        }
        assert blocked.headers["x-rate-limit-remaining"] == "0"
        reset = int(blocked.headers["x-rate-limit-reset"])
        sbx.app.clock.advance(reset)
        fresh = sbx.token()  # the old token expired during the wait
        assert (await sbx.books("GET", "/probe", token=fresh)).status_code == 200


async def test_http_plan_of_the_org_sets_its_daily_limit() -> None:
    async with running(make_config(plan="free")) as sbx:
        response = await sbx.books("GET", "/probe")
    assert response.headers["x-rate-limit-limit"] == "1000"


async def test_http_concurrency_limit_is_429_code_1070() -> None:
    config = make_config(
        concurrency_limits={"free": 2, "standard": 2, "professional": 2, "premium": 2}
    )
    async with running(config) as sbx:
        sbx.app.faults.add(FaultRule.from_json({"kind": "slow", "delay": 0.3}))
        token = sbx.token()
        responses = await asyncio.gather(
            *(sbx.books("GET", "/probe", token=token) for _ in range(5))
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 200, 429, 429, 429]
        for response in responses:
            if response.status_code == 429:
                assert json_of(response) == {"code": 1070, "message": CONCURRENCY_MESSAGE}
        # Slots are released when the slow requests finish.
        assert sbx.app.limiter.in_flight(sbx.org_id) == 0
        sbx.app.faults.clear()
        assert (await sbx.books("GET", "/probe", token=token)).status_code == 200
