"""Client-side rate limiter: stay under Zoho's limits instead of bouncing off them.

Zoho Books limits each organization (api-facts §5, §8.6) to
- 100 requests per minute (429 code 44, after which the org is blocked for a while),
- a daily budget by plan (429 code 45; retrying the same day is pointless),
- 5 (Free) or 10 (paid) requests in flight at once (429 code 1070).
No `Retry-After` header is sent, so a client that fires blindly learns about a limit only
by hitting it, and code 44 punishes it with a block. The request pipeline therefore asks
this limiter for a `Permit` before every HTTP request:

    with limiter.acquire(org_id):           # or: async with await limiter.acquire_async(...)
        response = send(...)
        limiter.update_from_headers(org_id, response.headers)

`acquire` waits for a concurrency slot, then for room in the sliding per-minute window,
and raises `DailyBudgetExhausted` at once when the day's budget is spent. The window and
daily state live in a `RateLimitBackend` (memory for one process, SQLite for several
processes on one machine, PostgreSQL or Redis from `zbooks.fleet` for many machines).
The concurrency cap is kept in the limiter for one process (shared by every thread and
asyncio task on any event loop); a backend that is a `SlotBackend` also holds it across
processes and machines, each in-flight request owning a leased slot there. Nothing is global: two
limiters never share state unless they share a backend.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from zbooks.core.ratelimit_backends import (
    DAY,
    BackendStatus,
    DailyBudgetExhausted,
    Limits,
    MemoryBackend,
    RateLimitBackend,
    SlotBackend,
    SQLiteBackend,
)

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "PLAN_CONCURRENCY",
    "PLAN_DAILY_LIMITS",
    "BackendStatus",
    "DailyBudgetExhausted",
    "Limits",
    "MemoryBackend",
    "Permit",
    "RateLimitBackend",
    "RateLimiter",
    "SQLiteBackend",
]

# A shared backend adopts routine X-Rate-Limit-* numbers at most this often per org and
# process, and every response's numbers once fewer than LOW_REMAINING are left today.
HEADER_SYNC_INTERVAL = 1.0
LOW_REMAINING = 100

PLAN_DAILY_LIMITS = {"free": 1000, "standard": 2000, "professional": 5000, "premium": 10000}
PLAN_CONCURRENCY = {"free": 5, "standard": 10, "professional": 10, "premium": 10}
# Zoho's top tiers share the Premium limits (api-facts §5).
_PLAN_ALIASES = {"elite": "premium", "ultimate": "premium"}


def _plan_name(plan: str) -> str:
    name = plan.strip().lower()
    name = _PLAN_ALIASES.get(name, name)
    if name not in PLAN_DAILY_LIMITS:
        known = ", ".join([*PLAN_DAILY_LIMITS, *_PLAN_ALIASES])
        raise ValueError(f"unknown Zoho Books plan {plan!r}; expected one of: {known}")
    return name


class Permit:
    """One granted request; releasing it frees the organization's concurrency slot.

    Release exactly once when the response (or the failure) is in; extra releases are
    ignored so `finally` blocks and context managers can both call it safely.
    """

    __slots__ = ("_limiter", "_released", "_slot", "org_id")

    def __init__(self, limiter: RateLimiter, org_id: str) -> None:
        self._limiter = limiter
        self._released = False
        self._slot: str | None = None  # the shared backend's slot, when it holds the cap
        self.org_id = org_id

    @property
    def released(self) -> bool:
        return self._released

    def release(self) -> None:
        self._limiter._release_permit(self)

    def __enter__(self) -> Permit:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    async def __aenter__(self) -> Permit:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "released" if self._released else "held"
        return f"<Permit org_id={self.org_id!r} {state}>"


# Waiters for a concurrency slot. A freed slot is handed straight to the oldest waiter
# (FIFO across threads and tasks), so a newcomer cannot overtake and the in-flight count
# never exceeds the cap, not even for an instant.
_PENDING, _GRANTED, _ABANDONED = "pending", "granted", "abandoned"


class _Waiter:
    def __init__(self) -> None:
        self.state = _PENDING

    def wake(self) -> bool:
        """Tell the waiter it owns a slot; False if it can no longer be told."""
        raise NotImplementedError


class _ThreadWaiter(_Waiter):
    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()

    def wake(self) -> bool:
        self.event.set()
        return True


async def _sleep_async(seconds: float) -> None:
    """``asyncio.sleep``, imported by the first async wait (a sync client never needs it)."""
    import asyncio

    await asyncio.sleep(seconds)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # a cancelled waiter hands its slot on itself (see _abandon)
        future.set_result(None)


class _TaskWaiter(_Waiter):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()

    def wake(self) -> bool:
        # Releases may come from any thread; only the waiter's own loop may touch its future.
        try:
            self.loop.call_soon_threadsafe(_resolve, self.future)
        except RuntimeError:  # the loop is closed: its task will never resume
            return False
        return True


_WaiterT = TypeVar("_WaiterT", bound=_Waiter)


@dataclass
class _Slots:
    in_flight: int = 0
    waiters: deque[_Waiter] = field(default_factory=deque)


class RateLimiter:
    """Per-organization limiter: sliding window, daily budget and concurrency cap.

    One instance can serve a sync client and an async client at the same time. `clock`,
    `sleep` and `async_sleep` are injectable so tests can travel in time without waiting.
    """

    def __init__(
        self,
        *,
        requests_per_window: int = 100,
        window: float = 60.0,
        plan: str = "free",
        daily_limit: int | None = None,
        concurrency: int | None = None,
        backend: RateLimitBackend | None = None,
        slot_lease: float = 120.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.plan = _plan_name(plan)
        self.limits = Limits(
            requests_per_window=requests_per_window,
            window=float(window),
            daily_limit=PLAN_DAILY_LIMITS[self.plan] if daily_limit is None else daily_limit,
        )
        self.concurrency = PLAN_CONCURRENCY[self.plan] if concurrency is None else concurrency
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.backend: RateLimitBackend = MemoryBackend() if backend is None else backend
        # A shared backend holding the concurrency cap leases each slot for this long: longer
        # than any request (timeout and retries included), short enough that slots of a
        # killed process come back soon.
        self._slot_backend = self.backend if isinstance(self.backend, SlotBackend) else None
        self.slot_lease = float(slot_lease)
        self._clock = clock
        self._sleep = sleep
        self._async_sleep = async_sleep or _sleep_async
        self._lock = threading.Lock()
        self._slots: dict[str, _Slots] = {}
        # org -> (when, limit) of the last server view written to a shared backend, and
        # the remaining count last seen (see `update_from_headers`).
        self._header_sync: dict[str, tuple[float, int | None, int | None]] = {}

    def __repr__(self) -> str:
        lim = self.limits
        return (
            f"<RateLimiter {lim.requests_per_window}/{lim.window:g}s daily={lim.daily_limit}"
            f" concurrency={self.concurrency} backend={type(self.backend).__name__}>"
        )

    # -- acquiring -------------------------------------------------------------------

    def acquire(self, org_id: str) -> Permit:
        """Block (via `sleep`) until `org_id` may send one request; return its permit.

        Raises `DailyBudgetExhausted` without waiting for the window when the day's
        budget is spent. The concurrency slot is taken first and held while waiting for
        the window, so the grant time recorded in the window is the time the request is
        actually sent.
        """
        org = _check_org(org_id)
        waiter = self._enqueue(org, _ThreadWaiter)
        if waiter is not None:
            try:
                waiter.event.wait()
            except BaseException:
                self._abandon(org, waiter)
                raise
        permit = Permit(self, org)
        try:
            if self._slot_backend is not None:
                while True:
                    slot, wait = self._slot_backend.try_slot(
                        org, self._clock, self.concurrency, self.slot_lease
                    )
                    if slot is not None:
                        permit._slot = slot
                        break
                    self._sleep(wait)
            while (wait := self.backend.try_take(org, self._clock, self.limits)) > 0:
                self._sleep(wait)
        except BaseException:
            permit.release()
            raise
        return permit

    async def acquire_async(self, org_id: str) -> Permit:
        """Await until `org_id` may send one request; never blocks the event loop.

        Same rules as `acquire`. Backends that do blocking I/O (SQLite) are called in a
        worker thread. If the task is cancelled while waiting, nothing stays reserved.
        """
        import asyncio

        org = _check_org(org_id)
        loop = asyncio.get_running_loop()
        waiter = self._enqueue(org, lambda: _TaskWaiter(loop))
        if waiter is not None:
            try:
                await waiter.future
            except BaseException:
                self._abandon(org, waiter)
                raise
        permit = Permit(self, org)
        try:
            if self._slot_backend is not None:
                while True:
                    slot, wait = await asyncio.to_thread(
                        self._slot_backend.try_slot,
                        org,
                        self._clock,
                        self.concurrency,
                        self.slot_lease,
                    )
                    if slot is not None:
                        permit._slot = slot
                        break
                    await self._async_sleep(wait)
            while (wait := await self._try_take_async(org)) > 0:
                await self._async_sleep(wait)
        except BaseException:
            permit.release()
            raise
        return permit

    async def _try_take_async(self, org: str) -> float:
        if self.backend.blocking:
            import asyncio

            return await asyncio.to_thread(self.backend.try_take, org, self._clock, self.limits)
        return self.backend.try_take(org, self._clock, self.limits)

    def _enqueue(self, org: str, make: Callable[[], _WaiterT]) -> _WaiterT | None:
        """Take a free slot (None) or queue a waiter that will be handed one."""
        with self._lock:
            slots = self._slots.setdefault(org, _Slots())
            if slots.in_flight < self.concurrency and not slots.waiters:
                slots.in_flight += 1
                return None
            waiter = make()
            slots.waiters.append(waiter)
            return waiter

    def _hand_off(self, org: str) -> None:
        """Give a freed slot to the oldest live waiter, or mark it free (lock held)."""
        slots = self._slots[org]
        while slots.waiters:
            waiter = slots.waiters.popleft()
            if waiter.state == _ABANDONED:
                continue
            waiter.state = _GRANTED
            if waiter.wake():
                return
        slots.in_flight -= 1

    def _abandon(self, org: str, waiter: _Waiter) -> None:
        """A waiter gave up (cancelled, interrupted); pass on a slot it was already given."""
        with self._lock:
            if waiter.state == _GRANTED:
                self._hand_off(org)
                return
            waiter.state = _ABANDONED
            with contextlib.suppress(ValueError):  # already handed over and skipped
                self._slots[org].waiters.remove(waiter)

    def _release_permit(self, permit: Permit) -> None:
        with self._lock:
            if permit._released:
                return
            permit._released = True
            slot, permit._slot = permit._slot, None
            self._hand_off(permit.org_id)
        if slot is not None and self._slot_backend is not None:
            # One short network call (a Lua script or one DELETE); a lost release only
            # delays the slot until its lease expires, so a failing backend is not an error
            # of the request that just finished.
            with contextlib.suppress(Exception):
                self._slot_backend.release_slot(permit.org_id, slot)

    # -- feedback from the server ----------------------------------------------------------

    def block(self, org_id: str, seconds: float) -> None:
        """Let nobody using this backend send for `org_id` during the next `seconds`.

        For a 429 code 44: Zoho blocks the org for a while (about a minute, UNCONFIRMED)
        and sends no Retry-After, so the pipeline picks the duration.
        """
        org = _check_org(org_id)
        if not math.isfinite(seconds):
            raise ValueError("block duration must be a finite number of seconds")
        if seconds > 0:
            self.backend.block(org, self._clock() + seconds)

    def update_from_headers(self, org_id: str, headers: Mapping[str, str]) -> None:
        """Adopt the server's daily numbers from `X-Rate-Limit-Limit/-Remaining/-Reset`.

        The server counts every client of the organization, so its view replaces ours,
        except for the requests this process has in flight for the organization: the
        server may not have counted them yet when it answered, and forgetting them handed
        their budget out a second time (the last requests of a day drew 429s under a
        fast transport). So they stay counted as used until their own answers bring a
        newer count; at the day's end a sync may stop up to `concurrency - 1` requests
        early, never late. Other processes sharing a backend count their own in-flight
        requests the same way when they adopt a count. Call it while the answered
        request's permit is still held (the pipeline does). Missing or unparsable headers
        are ignored (2026 probes did not always see them).
        """
        org = _check_org(org_id)
        found: dict[str, str] = {}
        for name, value in headers.items():
            lowered = str(name).lower()
            if lowered.startswith("x-rate-limit-"):
                found[lowered] = str(value)
        limit = _parse_count(found.get("x-rate-limit-limit"))
        remaining = _parse_count(found.get("x-rate-limit-remaining"))
        now = self._clock()
        reset_in = _parse_reset(found.get("x-rate-limit-reset"), now)
        if limit is None and remaining is None and reset_in is None:
            return
        if self._routine_header(org, now, limit, remaining):
            return
        if remaining is not None:
            remaining = max(remaining - self._others_in_flight(org), 0)
        self.backend.update_daily(
            org, now, self.limits, limit=limit, remaining=remaining, reset_in=reset_in
        )

    def _others_in_flight(self, org: str) -> int:
        """Requests of this process for `org` holding a slot, besides the answered one."""
        with self._lock:
            slots = self._slots.get(org)
            return max(slots.in_flight - 1, 0) if slots is not None else 0

    def _routine_header(
        self, org: str, now: float, limit: int | None, remaining: int | None
    ) -> bool:
        """Whether this response's numbers can be skipped: a shared backend (SQLite,
        Redis, PostgreSQL) paid a read-modify-write transaction per response for them, a
        quarter of a fleet worker's CPU, while it already counts every grant itself.
        So within `HEADER_SYNC_INTERVAL` of the last write, the server's view is adopted
        again only when it says something new: another limit, more left than before (a
        new day), or little left (the last requests of the day are counted exactly)."""
        if isinstance(self.backend, MemoryBackend):
            return False  # in-process: adopting costs nothing
        with self._lock:
            last = self._header_sync.get(org)
            routine = (
                last is not None
                and now - last[0] < HEADER_SYNC_INTERVAL
                and limit == last[1]
                and remaining is not None
                and last[2] is not None
                and remaining <= last[2]
                and remaining > max(LOW_REMAINING, 2 * self.concurrency)
            )
            # Remember the remaining count of every response (a rise means a new day),
            # but the time and limit of the last write.
            self._header_sync[org] = (
                (last[0], last[1], remaining)
                if routine and last is not None
                else (now, limit, remaining)
            )
            return routine

    def mark_daily_exhausted(self, org_id: str, reset_in: float | None = None) -> None:
        """Record that the server refused with 429 code 45 (no headers needed)."""
        org = _check_org(org_id)
        if reset_in is not None and not (math.isfinite(reset_in) and reset_in > 0):
            reset_in = None
        self.backend.update_daily(org, self._clock(), self.limits, remaining=0, reset_in=reset_in)

    def reset(self, org_id: str) -> None:
        """Forget the window, daily count and block of `org_id` (not in-flight permits)."""
        self.backend.reset(_check_org(org_id))

    # -- inspection -------------------------------------------------------------------------

    def daily_remaining(self, org_id: str) -> int | None:
        """Requests left today for `org_id`.

        Always an int with the bundled backends; None is reserved for a backend that
        cannot tell (for example a remote store that is unreachable).
        """
        return self.backend.status(_check_org(org_id), self._clock(), self.limits).daily_remaining

    def snapshot(self, org_id: str) -> dict[str, Any]:
        """Everything known about `org_id`'s budget, as plain data (doctor, --dry-run)."""
        org = _check_org(org_id)
        status = self.backend.status(org, self._clock(), self.limits)
        with self._lock:
            slots = self._slots.get(org, _Slots())
            in_flight, waiting = slots.in_flight, len(slots.waiters)
        return {
            "org_id": org,
            "plan": self.plan,
            "backend": type(self.backend).__name__,
            "requests_per_window": self.limits.requests_per_window,
            "window_seconds": self.limits.window,
            "window_used": status.window_used,
            "window_remaining": max(0, self.limits.requests_per_window - status.window_used),
            "next_slot_in": round(status.next_slot_in, 3),
            "daily_limit": status.daily_limit,
            "daily_used": status.daily_used,
            "daily_remaining": status.daily_remaining,
            "daily_reset_in": round(status.daily_reset_in, 3),
            "blocked_for": round(status.blocked_for, 3),
            "concurrency_limit": self.concurrency,
            "in_flight": in_flight,
            "waiting": waiting,
        }


def _check_org(org_id: str) -> str:
    if not isinstance(org_id, str) or not org_id:
        raise ValueError("org_id must be a non-empty string")
    return org_id


def _parse_number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip().replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _parse_count(value: str | None) -> int | None:
    number = _parse_number(value)
    return None if number is None else int(number)


def _parse_reset(value: str | None, now: float) -> float | None:
    """Seconds until the daily reset, from `X-Rate-Limit-Reset`.

    Zoho sent seconds-until-reset (e.g. 34881; api-facts §5). Tolerate an epoch timestamp
    too (a common convention elsewhere); anything else beyond a day is garbage.
    """
    number = _parse_number(value)
    if number is None or number == 0:
        return None
    if number > 1e9:  # an absolute epoch time
        number -= now
    return number if 0 < number <= DAY else None
