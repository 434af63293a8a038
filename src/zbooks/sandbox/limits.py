"""Zoho Books' API limits, per organization (api-facts §5).

Three budgets guard every organization-bound request:

- a rolling per-minute window (``config.rate_limit`` calls per ``config.rate_window``
  seconds) -> 429 code 44;
- a daily quota by plan (``config.daily_limits``) -> 429 code 45. UNCONFIRMED whether
  Zoho resets at midnight in the org's zone, at UTC midnight or on a rolling 24 h; we reset
  at UTC midnight of the sandbox clock, which also makes ``X-Rate-Limit-Reset`` simple;
- concurrent in-flight requests by plan (``config.concurrency_limits``) -> 429 code 1070.

A rejected request consumes nothing, so a client that backs off correctly recovers.
All times come from the sandbox clock, so tests travel past a window with
``clock.advance`` instead of sleeping. State lives in memory behind one lock: it is
shared by the event loop and the worker threads, and losing it on restart is harmless.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field

from zbooks.sandbox.clock import Clock
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.errors import CONCURRENCY_MESSAGE, PER_MINUTE_MESSAGE, ApiError

DAY = 86_400


def daily_limit_message(limit: int) -> str:
    """Code 45's text; Zoho formats the number with thousands separators (``1,000``)."""
    return (
        f"The API call for this organization has exceeded the maximum call rate limit of {limit:,}."
    )


class RateLimitError(ApiError):
    """A 429 that still carries the ``X-Rate-Limit-*`` headers of the organization."""

    def __init__(self, code: int, message: str, headers: dict[str, str]) -> None:
        super().__init__(429, code, message)
        self.headers = headers


@dataclass
class _OrgState:
    minute: deque[float] = field(default_factory=deque)  # sandbox times of accepted calls
    day: int = -1  # UTC day number the daily count belongs to
    daily_count: int = 0
    in_flight: int = 0


class Ticket:
    """One admitted request: its response headers, and its concurrency slot until released."""

    def __init__(self, limiter: RateLimiter, org_id: str, headers: dict[str, str]) -> None:
        self._limiter = limiter
        self.org_id = org_id
        self.headers = headers
        self._released = False

    def release(self) -> None:
        """Free the in-flight slot; safe to call twice (error paths and ``finally``)."""
        if not self._released:
            self._released = True
            self._limiter._release(self.org_id)


class RateLimiter:
    def __init__(self, config: SandboxConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._orgs: dict[str, _OrgState] = {}

    # public ----------------------------------------------------------------------
    def acquire(self, org_id: str, plan: str) -> Ticket:
        """Admit one request for ``org_id`` or raise ``RateLimitError`` (nothing consumed)."""
        daily_limit = self._daily_limit(plan)
        concurrency = self._config.concurrency_limits.get(plan, self._config.concurrency_limit)
        with self._lock:
            now = self._clock.time()
            state = self._state(org_id, now)
            window_start = now - self._config.rate_window
            while state.minute and state.minute[0] <= window_start:
                state.minute.popleft()
            if state.daily_count >= daily_limit:
                raise self._reject(45, daily_limit_message(daily_limit), state, daily_limit, now)
            if len(state.minute) >= self._config.rate_limit:
                raise self._reject(44, PER_MINUTE_MESSAGE, state, daily_limit, now)
            if state.in_flight >= concurrency:
                raise self._reject(1070, CONCURRENCY_MESSAGE, state, daily_limit, now)
            state.minute.append(now)
            state.daily_count += 1
            state.in_flight += 1
            headers = self._headers(state, daily_limit, now)
        return Ticket(self, org_id, headers)

    def headers(self, org_id: str, plan: str) -> dict[str, str]:
        """The current ``X-Rate-Limit-*`` values without consuming anything."""
        daily_limit = self._daily_limit(plan)
        with self._lock:
            now = self._clock.time()
            return self._headers(self._state(org_id, now), daily_limit, now)

    def in_flight(self, org_id: str) -> int:
        with self._lock:
            state = self._orgs.get(org_id)
            return 0 if state is None else state.in_flight

    def reset(self) -> None:
        """Forget every count (control plane reset). In-flight slots stay balanced because
        their tickets release into fresh state harmlessly (never below zero)."""
        with self._lock:
            self._orgs.clear()

    # internals -------------------------------------------------------------------
    def _daily_limit(self, plan: str) -> int:
        return self._config.daily_limits.get(plan, self._config.daily_limit)

    def _state(self, org_id: str, now: float) -> _OrgState:
        state = self._orgs.get(org_id)
        if state is None:
            # Not setdefault: that built (and dropped) a new state on every request.
            state = self._orgs[org_id] = _OrgState()
        day = int(now // DAY)
        if state.day != day:
            state.day = day
            state.daily_count = 0
        return state

    def _release(self, org_id: str) -> None:
        with self._lock:
            state = self._orgs.get(org_id)
            if state is not None and state.in_flight > 0:
                state.in_flight -= 1

    def _headers(self, state: _OrgState, daily_limit: int, now: float) -> dict[str, str]:
        reset_in = max(1, math.ceil((state.day + 1) * DAY - now))
        return {
            "X-Rate-Limit-Limit": str(daily_limit),
            "X-Rate-Limit-Remaining": str(max(0, daily_limit - state.daily_count)),
            "X-Rate-Limit-Reset": str(reset_in),
        }

    def _reject(
        self, code: int, message: str, state: _OrgState, daily_limit: int, now: float
    ) -> RateLimitError:
        headers = self._headers(state, daily_limit, now)
        if self._config.send_retry_after:
            if code == 45:
                wait = int(headers["X-Rate-Limit-Reset"])
            elif code == 44 and state.minute:
                wait = max(1, math.ceil(state.minute[0] + self._config.rate_window - now))
            else:
                wait = 1
            headers["Retry-After"] = str(wait)
        return RateLimitError(code, message, headers)
