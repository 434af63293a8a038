"""Client-side rate limiter: window, daily budget, concurrency, blocks, shared backends.

Time travels on a fake clock whose `sleep` advances it, so nothing here waits for the
budget for real, except the multi-process SQLite test, which needs the real clock because
each process has its own (small window, bounded run).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest

from zbooks.core.ratelimit import (
    PLAN_CONCURRENCY,
    PLAN_DAILY_LIMITS,
    DailyBudgetExhausted,
    MemoryBackend,
    Permit,
    RateLimiter,
    SQLiteBackend,
)

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp()  # 14 h before UTC midnight
NEXT_MIDNIGHT = datetime(2026, 11, 25, tzinfo=UTC).timestamp()
ORG = "60001234567"
OTHER = "60009999999"
BIG = 10**9


class FakeClock:
    """A clock that only moves when someone sleeps on it (or a test advances it)."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)


def fake_limiter(clock: FakeClock, **kwargs: object) -> RateLimiter:
    return RateLimiter(clock=clock, sleep=clock.sleep, async_sleep=clock.async_sleep, **kwargs)  # type: ignore[arg-type]


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected wait of {seconds} s")


def max_in_any_window(times: list[float], window: float) -> int:
    """The most grants in any window [a, a + window) or (a - window, a] over the grant times."""
    times = sorted(times)
    best = 0
    for t in times:
        starting = bisect_left(times, t + window) - bisect_left(times, t)
        ending = bisect_right(times, t) - bisect_right(times, t - window)
        best = max(best, starting, ending)
    return best


@pytest.fixture(params=["memory", "sqlite"])
def backend_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """Both bundled backends must apply identical rules."""
    opened: list[SQLiteBackend] = []

    def make() -> MemoryBackend | SQLiteBackend:
        if request.param == "memory":
            return MemoryBackend()
        backend = SQLiteBackend(tmp_path / "budget.db")
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        backend.close()


# -- sliding window -------------------------------------------------------------------


@pytest.mark.parametrize("step", [0.0, 0.05])
def test_window_never_exceeds_limit_and_waits_instead(step: float, backend_factory) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    limiter = fake_limiter(clock, backend=backend_factory(), daily_limit=BIG)
    grants = []
    for _ in range(250):
        with limiter.acquire(ORG):
            grants.append(clock())
        clock.now += step  # time spent on the request itself
    assert max_in_any_window(grants, 60.0) == 100
    assert all(b - a >= 60.0 for a, b in zip(grants, grants[100:], strict=False))
    # 100 at once, 100 a window later, the last 50 two windows later: no bouncing off 429.
    assert 120.0 <= grants[-1] - START <= 120.0 + 100 * step + 1e-6
    assert clock.sleeps, "the limiter must have waited"


async def test_window_holds_for_many_concurrent_tasks() -> None:
    clock = FakeClock()
    limiter = fake_limiter(clock, plan="premium", daily_limit=BIG)
    grants: list[float] = []

    async def one() -> None:
        async with await limiter.acquire_async(ORG):
            grants.append(clock())  # no await between the decision and here
            await asyncio.sleep(0)

    await asyncio.gather(*(one() for _ in range(250)))
    assert len(grants) == 250
    assert max_in_any_window(grants, 60.0) <= 100


def test_window_slot_frees_exactly_one_window_after_the_oldest_grant() -> None:
    clock = FakeClock()
    limiter = fake_limiter(clock, requests_per_window=3, window=10.0)
    for offset in (0.0, 4.0, 7.0):
        clock.now = START + offset
        limiter.acquire(ORG).release()
    assert limiter.snapshot(ORG)["next_slot_in"] == pytest.approx(3.0)
    limiter.acquire(ORG).release()
    assert clock.now == pytest.approx(START + 10.0)
    assert clock.sleeps == [pytest.approx(3.0)]


# -- daily budget -------------------------------------------------------------------------


@pytest.mark.parametrize("plan", sorted(PLAN_DAILY_LIMITS))
def test_daily_budget_by_plan_fails_fast_and_resets_next_utc_day(plan: str) -> None:
    clock = FakeClock()
    limiter = fake_limiter(clock, plan=plan, requests_per_window=BIG)
    limit = PLAN_DAILY_LIMITS[plan]
    for _ in range(limit):
        limiter.acquire(ORG).release()
    assert limiter.daily_remaining(ORG) == 0

    limiter = RateLimiter(plan=plan, requests_per_window=BIG, clock=clock, sleep=no_sleep,
                          backend=limiter.backend)
    with pytest.raises(DailyBudgetExhausted) as caught:
        limiter.acquire(ORG)
    assert (caught.value.org_id, caught.value.limit) == (ORG, limit)
    assert caught.value.reset_in == pytest.approx(NEXT_MIDNIGHT - START)
    assert limiter.snapshot(ORG)["in_flight"] == 0  # the refusal did not keep a slot

    clock.now = NEXT_MIDNIGHT - 1
    with pytest.raises(DailyBudgetExhausted):
        limiter.acquire(ORG)
    clock.now = NEXT_MIDNIGHT
    limiter.acquire(ORG).release()
    assert limiter.daily_remaining(ORG) == limit - 1


def test_daily_exhaustion_does_not_wait_for_a_full_window_or_a_block() -> None:
    clock = FakeClock()
    limiter = fake_limiter(clock, requests_per_window=2, daily_limit=2)
    limiter.acquire(ORG).release()
    limiter.acquire(ORG).release()
    limiter.block(ORG, 300)
    limiter._sleep = no_sleep
    with pytest.raises(DailyBudgetExhausted):
        limiter.acquire(ORG)


async def test_daily_exhaustion_async() -> None:
    clock = FakeClock()
    limiter = fake_limiter(clock, daily_limit=1)
    (await limiter.acquire_async(ORG)).release()
    with pytest.raises(DailyBudgetExhausted):
        await limiter.acquire_async(ORG)
    assert limiter.snapshot(ORG)["in_flight"] == 0


def test_headers_lower_and_raise_the_daily_budget(backend_factory) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    limiter = fake_limiter(clock, backend=backend_factory(), requests_per_window=BIG)
    for _ in range(10):
        limiter.acquire(ORG).release()
    assert limiter.daily_remaining(ORG) == 990

    # Another integration spent most of the budget: the server's count wins.
    limiter.update_from_headers(
        ORG, {"X-Rate-Limit-Limit": "1000", "X-Rate-Limit-Remaining": "3",
              "X-Rate-Limit-Reset": "3600"},
    )
    assert limiter.daily_remaining(ORG) == 3
    for _ in range(3):
        limiter.acquire(ORG).release()
    with pytest.raises(DailyBudgetExhausted) as caught:
        limiter.acquire(ORG)
    assert caught.value.reset_in == pytest.approx(3600)

    # Support raised the limit (api-facts §5): a larger server view raises ours too.
    limiter.update_from_headers(
        ORG, httpx2.Headers({"x-rate-limit-limit": "7500", "x-rate-limit-remaining": "7000"})
    )
    assert limiter.daily_remaining(ORG) == 7000
    assert limiter.snapshot(ORG)["daily_limit"] == 7500

    # The window the server announced ends in 3600 s; the next one keeps its phase.
    clock.now += 3600
    assert limiter.daily_remaining(ORG) == 7500
    assert limiter.snapshot(ORG)["daily_reset_in"] == pytest.approx(86400)


def test_headers_absent_or_garbage_change_nothing(backend_factory) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    limiter = fake_limiter(clock, backend=backend_factory())
    limiter.acquire(ORG).release()
    before = limiter.snapshot(ORG)
    for headers in (
        {},
        {"Content-Type": "application/json"},
        {"X-Rate-Limit-Remaining": "lots", "X-Rate-Limit-Limit": "-5"},
        {"X-Rate-Limit-Reset": "nan", "X-Rate-Limit-Limit": "inf"},
        {"X-Rate-Limit-Reset": "-30"},
        {"X-Rate-Limit-Reset": "500000"},  # neither seconds-within-a-day nor an epoch time
    ):
        limiter.update_from_headers(ORG, headers)
    assert limiter.snapshot(ORG) == before


def test_remaining_header_above_plan_limit_and_epoch_reset() -> None:
    clock = FakeClock()
    limiter = fake_limiter(clock)
    limiter.update_from_headers(ORG, {"x-rate-limit-remaining": "1,500",
                                      "x-rate-limit-reset": str(START + 600)})
    snap = limiter.snapshot(ORG)
    assert (snap["daily_remaining"], snap["daily_limit"]) == (1500, 1500)
    assert snap["daily_reset_in"] == pytest.approx(600)


def test_mark_daily_exhausted_after_a_code_45() -> None:
    clock = FakeClock()
    limiter = fake_limiter(clock)
    limiter.mark_daily_exhausted(ORG, reset_in=120)
    with pytest.raises(DailyBudgetExhausted) as caught:
        limiter.acquire(ORG)
    assert caught.value.reset_in == pytest.approx(120)
    clock.now += 120
    limiter.acquire(ORG).release()


# -- concurrency ----------------------------------------------------------------------------


class InFlight:
    """Counts requests in flight from any thread or task, remembering the peak."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0
        self.done = 0

    def enter(self) -> None:
        with self.lock:
            self.current += 1
            self.peak = max(self.peak, self.current)

    def leave(self) -> None:
        with self.lock:
            self.current -= 1
            self.done += 1


def run_threads(limiter: RateLimiter, meter: InFlight, count: int, rounds: int = 3) -> list[
    threading.Thread
]:
    barrier = threading.Barrier(count)

    def worker() -> None:
        barrier.wait()
        for _ in range(rounds):
            with limiter.acquire(ORG):
                meter.enter()
                time.sleep(0.001)
                meter.leave()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


async def run_tasks(limiter: RateLimiter, meter: InFlight, count: int, rounds: int = 3) -> None:
    async def worker() -> None:
        for _ in range(rounds):
            async with await limiter.acquire_async(ORG):
                meter.enter()
                await asyncio.sleep(0.001)
                meter.leave()

    await asyncio.gather(*(worker() for _ in range(count)))


def test_concurrency_cap_across_64_threads() -> None:
    limiter = RateLimiter(requests_per_window=BIG, daily_limit=BIG)  # free plan: 5
    meter = InFlight()
    for thread in run_threads(limiter, meter, 64):
        thread.join(timeout=30)
    assert meter.done == 64 * 3
    assert 1 < meter.peak <= PLAN_CONCURRENCY["free"] == 5
    assert limiter.snapshot(ORG)["in_flight"] == 0


async def test_concurrency_cap_across_64_tasks() -> None:
    limiter = RateLimiter(requests_per_window=BIG, daily_limit=BIG, concurrency=5)
    meter = InFlight()
    await run_tasks(limiter, meter, 64)
    assert meter.done == 64 * 3
    assert meter.peak == 5  # tasks interleave only at awaits, so the cap is reached exactly
    assert limiter.snapshot(ORG)["in_flight"] == 0


async def test_concurrency_cap_shared_by_threads_and_tasks() -> None:
    limiter = RateLimiter(requests_per_window=BIG, daily_limit=BIG, concurrency=5)
    meter = InFlight()
    threads = run_threads(limiter, meter, 32)
    heartbeat = 0

    async def beat() -> None:
        nonlocal heartbeat
        while any(thread.is_alive() for thread in threads):
            heartbeat += 1
            await asyncio.sleep(0.001)

    await asyncio.gather(run_tasks(limiter, meter, 32), beat())
    for thread in threads:
        thread.join(timeout=30)
    assert meter.done == 64 * 3
    assert 1 < meter.peak <= 5
    assert heartbeat > 1  # waiting tasks never blocked the event loop
    assert limiter.snapshot(ORG)["in_flight"] == 0


def test_concurrency_by_plan_and_override() -> None:
    assert RateLimiter(plan="free").concurrency == 5
    assert RateLimiter(plan="Professional").concurrency == 10
    assert RateLimiter(plan="elite").limits.daily_limit == 10000
    assert RateLimiter(plan="premium", concurrency=3).concurrency == 3
    with pytest.raises(ValueError, match="unknown Zoho Books plan"):
        RateLimiter(plan="gold")


async def test_waiting_task_does_not_block_loop_and_thread_release_wakes_it() -> None:
    limiter = RateLimiter(concurrency=1)
    held = limiter.acquire(ORG)
    waiter = asyncio.create_task(limiter.acquire_async(ORG))
    for _ in range(5):  # the loop keeps running other work while the task waits
        await asyncio.sleep(0)
    assert not waiter.done()
    assert limiter.snapshot(ORG)["waiting"] == 1
    releaser = threading.Thread(target=held.release)
    releaser.start()
    permit = await asyncio.wait_for(waiter, timeout=5)
    releaser.join()
    assert limiter.snapshot(ORG)["in_flight"] == 1
    permit.release()
    assert limiter.snapshot(ORG)["in_flight"] == 0


async def test_cancelled_waiters_do_not_leak_slots() -> None:
    limiter = RateLimiter(concurrency=1)
    held = await limiter.acquire_async(ORG)

    # Cancelled while still queued.
    queued = asyncio.create_task(limiter.acquire_async(ORG))
    await asyncio.sleep(0)
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued

    # Cancelled after the slot was handed to it but before it resumed.
    handed = asyncio.create_task(limiter.acquire_async(ORG))
    await asyncio.sleep(0)
    held.release()
    handed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handed

    snap = limiter.snapshot(ORG)
    assert (snap["in_flight"], snap["waiting"]) == (0, 0)
    permit = await asyncio.wait_for(limiter.acquire_async(ORG), timeout=1)
    permit.release()


def test_permit_release_is_idempotent() -> None:
    limiter = RateLimiter(concurrency=2)
    permit = limiter.acquire(ORG)
    other = limiter.acquire(ORG)
    assert isinstance(permit, Permit) and not permit.released
    permit.release()
    permit.release()
    with permit:
        pass
    assert permit.released
    assert limiter.snapshot(ORG)["in_flight"] == 1  # the second permit is still held
    other.release()
    assert limiter.snapshot(ORG)["in_flight"] == 0


def test_permit_released_when_the_window_wait_is_interrupted() -> None:
    class Interrupted(Exception):
        pass

    def interrupt(seconds: float) -> None:
        raise Interrupted

    clock = FakeClock()
    limiter = RateLimiter(requests_per_window=1, clock=clock, sleep=interrupt)
    limiter.acquire(ORG).release()
    with pytest.raises(Interrupted):
        limiter.acquire(ORG)
    assert limiter.snapshot(ORG)["in_flight"] == 0


# -- block ----------------------------------------------------------------------------------


def test_block_grants_nothing_until_it_ends(backend_factory) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    limiter = fake_limiter(clock, backend=backend_factory())
    limiter.acquire(ORG).release()
    limiter.block(ORG, 60)
    limiter.block(ORG, 10)  # a shorter block does not shorten the longer one
    assert limiter.snapshot(ORG)["blocked_for"] == pytest.approx(60)
    with limiter.acquire(ORG):
        assert clock() >= START + 60
    assert clock() == pytest.approx(START + 60)
    assert limiter.snapshot(ORG)["blocked_for"] == 0
    with limiter.acquire(ORG):  # no more waiting once the block is over
        assert clock() == pytest.approx(START + 60)


async def test_block_applies_to_async_waiters() -> None:
    clock = FakeClock()
    limiter = fake_limiter(clock)
    limiter.block(ORG, 45)
    async with await limiter.acquire_async(ORG):
        assert clock() == pytest.approx(START + 45)


# -- per-organization isolation ------------------------------------------------------------


def test_organizations_do_not_share_budgets(backend_factory) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    limiter = fake_limiter(clock, backend=backend_factory(), requests_per_window=2,
                           daily_limit=3, concurrency=1)
    held = limiter.acquire(ORG)  # ORG's only concurrency slot
    other = limiter.acquire(OTHER)  # not blocked by ORG's slot
    other.release()
    held.release()
    limiter.acquire(ORG).release()  # ORG's window is now full
    limiter.block(ORG, 600)
    limiter._sleep = no_sleep
    limiter.acquire(OTHER).release()  # neither ORG's full window nor its block apply
    clock.now += 600
    limiter._sleep = clock.sleep
    limiter.acquire(ORG).release()  # daily: ORG spent 3
    with pytest.raises(DailyBudgetExhausted):
        limiter.acquire(ORG)
    limiter.acquire(OTHER).release()
    assert limiter.daily_remaining(OTHER) == 0
    assert limiter.snapshot(ORG)["daily_used"] == 3


def test_limiters_share_state_only_through_a_backend() -> None:
    clock = FakeClock()
    first = fake_limiter(clock, daily_limit=1)
    first.acquire(ORG).release()
    assert fake_limiter(clock, daily_limit=1).daily_remaining(ORG) == 1  # no global state
    shared = fake_limiter(clock, daily_limit=1, backend=first.backend)
    assert shared.daily_remaining(ORG) == 0


# -- SQLite backend --------------------------------------------------------------------------


def test_sqlite_budget_survives_reopening_and_is_shared(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "budget.db"
    with SQLiteBackend(path) as backend:
        first = fake_limiter(clock, backend=backend, requests_per_window=5)
        for _ in range(5):
            first.acquire(ORG).release()
        first.block(ORG, 30)
    with SQLiteBackend(path) as again:
        second = fake_limiter(clock, backend=again, requests_per_window=5)
        snap = second.snapshot(ORG)
        assert (snap["window_used"], snap["daily_used"]) == (5, 5)
        assert snap["blocked_for"] == pytest.approx(30)
        with second.acquire(ORG):
            assert clock() == pytest.approx(START + 60)  # the window outlasts the block
        second.reset(ORG)
        assert second.snapshot(ORG)["daily_used"] == 0


class RecordingSQLiteBackend(SQLiteBackend):
    """Logs the clock reading behind every granted slot (the decision time itself)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.granted: list[float] = []

    def try_take(self, key, clock, limits):  # type: ignore[no-untyped-def]
        seen: list[float] = []

        def reading() -> float:
            seen.append(clock())
            return seen[-1]

        wait = super().try_take(key, reading, limits)
        if wait == 0:
            self.granted.append(seen[-1])
        return wait


async def test_sqlite_backend_with_async_tasks(tmp_path: Path) -> None:
    clock = FakeClock()
    with RecordingSQLiteBackend(tmp_path / "budget.db") as backend:
        limiter = fake_limiter(clock, backend=backend, requests_per_window=10, window=5.0,
                               concurrency=10)
        held: list[Permit] = []

        async def one() -> None:
            async with await limiter.acquire_async(ORG) as permit:
                held.append(permit)

        await asyncio.gather(*(one() for _ in range(30)))
    assert len(held) == 30 and all(permit.released for permit in held)
    assert len(backend.granted) == 30
    assert max_in_any_window(backend.granted, 5.0) == 10
    assert max(backend.granted) - START >= 10.0  # 30 grants at 10 per 5 s span two waits


WINDOW_LIMIT, WINDOW_SECONDS, PROCESSES, PER_PROCESS = 20, 2.0, 4, 12


def _sqlite_worker(db_path: str, out_path: str, barrier: object) -> None:
    """One OS process: take PER_PROCESS permits from the shared file, log decision times."""
    last_read = [0.0]

    def clock() -> float:
        # Only try_take reads the clock (under the db write lock), so after acquire
        # returns, the last reading is the time the grant was recorded.
        last_read[0] = time.time()
        return last_read[0]

    backend = SQLiteBackend(db_path)
    limiter = RateLimiter(requests_per_window=WINDOW_LIMIT, window=WINDOW_SECONDS,
                          daily_limit=BIG, backend=backend, clock=clock)
    barrier.wait()  # type: ignore[attr-defined]
    times = []
    for _ in range(PER_PROCESS):
        with limiter.acquire(ORG):
            times.append(last_read[0])
    backend.close()
    Path(out_path).write_text("\n".join(repr(t) for t in times))


def test_sqlite_backend_shares_one_budget_across_processes(tmp_path: Path) -> None:
    db_path = tmp_path / "shared.db"
    SQLiteBackend(db_path).close()  # create the schema once up front
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    outputs = [tmp_path / f"grants-{n}.txt" for n in range(PROCESSES)]
    procs = [
        ctx.Process(target=_sqlite_worker, args=(str(db_path), str(out), barrier))
        for out in outputs
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    assert [proc.exitcode for proc in procs] == [0] * PROCESSES

    grants = sorted(float(line) for out in outputs for line in out.read_text().split())
    assert len(grants) == PROCESSES * PER_PROCESS  # 48 grants at 20 per 2 s
    assert max_in_any_window(grants, WINDOW_SECONDS) <= WINDOW_LIMIT
    assert all(b - a >= WINDOW_SECONDS
               for a, b in zip(grants, grants[WINDOW_LIMIT:], strict=False))
    # They waited for the shared budget instead of each spending its own.
    assert grants[-1] - grants[0] >= 2 * WINDOW_SECONDS
    assert grants[-1] - grants[0] < 10 * WINDOW_SECONDS


def test_an_adopted_count_keeps_the_requests_still_in_flight(backend_factory) -> None:  # type: ignore[no-untyped-def]
    """The server answered one request before it saw the nine others already sent: its
    count must not hand their budget out again (that drew 429s at the end of a day)."""
    clock = FakeClock()
    limiter = fake_limiter(
        clock, backend=backend_factory(), requests_per_window=BIG, daily_limit=100,
        concurrency=10,
    )
    sent = [limiter.acquire(ORG) for _ in range(10)]
    # The first answer: the server has counted only that request.
    limiter.update_from_headers(
        ORG, {"X-Rate-Limit-Limit": "100", "X-Rate-Limit-Remaining": "99"}
    )
    sent.pop(0).release()
    granted = 10
    with pytest.raises(DailyBudgetExhausted):
        while True:
            limiter.acquire(ORG).release()
            granted += 1
    assert granted == 100  # the server's budget, exactly: nothing over, nothing lost
    for permit in sent:
        permit.release()
