"""Where the rate limiter keeps its per-organization budget state.

Zoho counts requests per *organization*, across every user, client and process
(api-facts §5). One process can keep that count in memory (`MemoryBackend`); several
processes on one machine (a CLI run next to a sync daemon, a pool of workers) must
share it, or each would spend the whole budget on its own. `SQLiteBackend` shares it
through one database file with short `BEGIN IMMEDIATE` transactions.

A backend answers one atomic question, "may this organization send one request now?",
and records the answer. All budget rules (sliding window, daily count, blocks) live in
the pure helpers below so that every backend applies exactly the same arithmetic; a
backend only decides where the numbers are stored and how the check-and-record is made
atomic.

Backends shared by several machines (PostgreSQL, Redis) live in `zbooks.fleet` and are
chosen by URL through `zbooks.core.store_urls`, which imports them only when asked. They
also implement `SlotBackend`, so the concurrency cap holds across machines too.
"""

from __future__ import annotations

import math
import os
import threading
from bisect import insort
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # sqlite3 loads with the first SQLiteBackend, not with every client
    import sqlite3

__all__ = [
    "DAY",
    "BackendStatus",
    "DailyBudgetExhausted",
    "DailyState",
    "Limits",
    "MemoryBackend",
    "RateLimitBackend",
    "SQLiteBackend",
    "SlotBackend",
    "next_daily_reset",
]

DAY = 86400.0
"""Length of the daily quota window in seconds."""


class DailyBudgetExhausted(Exception):
    """The organization's daily request budget is spent; waiting minutes will not help.

    Raised at once instead of sleeping until the reset (which can be hours away); the
    request pipeline turns it into `DailyLimitExceededError`.
    """

    def __init__(self, org_id: str, limit: int, reset_in: float | None) -> None:
        self.org_id = org_id
        self.limit = limit
        self.reset_in = reset_in
        when = f"; it resets in about {reset_in:.0f} s" if reset_in is not None else ""
        super().__init__(
            f"the daily budget of {limit:,} API requests for organization {org_id} is used up{when}"
        )

    def __reduce__(self) -> tuple[type[DailyBudgetExhausted], tuple[str, int, float | None]]:
        # Keeps the exception picklable (multiprocessing workers re-raise it in the parent).
        return (type(self), (self.org_id, self.limit, self.reset_in))


@dataclass(frozen=True)
class Limits:
    """The budget one limiter applies to an organization.

    Passed on every call rather than stored in the backend, because processes sharing a
    backend may be configured differently; each applies its own limits to the shared log.
    """

    requests_per_window: int
    window: float
    daily_limit: int

    def __post_init__(self) -> None:
        if self.requests_per_window < 1:
            raise ValueError("requests_per_window must be at least 1")
        if not (self.window > 0 and math.isfinite(self.window)):
            raise ValueError("window must be a positive number of seconds")
        if self.daily_limit < 0:
            raise ValueError("daily_limit must not be negative")


@dataclass(frozen=True)
class BackendStatus:
    """A read-only view of one organization's budget, for display and tests."""

    window_used: int
    next_slot_in: float  # 0.0 when the window has room now
    daily_limit: int
    daily_used: int
    daily_remaining: int
    daily_reset_in: float
    blocked_for: float  # 0.0 when not blocked


def next_daily_reset(now: float, anchor: float = 0.0) -> float:
    """The first daily reset strictly after `now`.

    `anchor` is the reset's offset in seconds after UTC midnight. UNCONFIRMED rule: Zoho
    does not document when the daily quota resets (org-time-zone midnight, UTC midnight or
    a rolling 24 h). We assume UTC midnight (anchor 0) until the server tells us otherwise
    through `X-Rate-Limit-Reset`, after which we keep the server's phase.
    """
    k = math.floor((now - anchor) / DAY) + 1
    return anchor + k * DAY


@dataclass
class DailyState:
    """The daily counter of one organization (mutable; backends load, change and store it)."""

    day_end: float = -math.inf  # -inf: no window started yet; the first `roll` starts one
    anchor: float = 0.0
    used: int = 0
    limit_override: int | None = None  # the server's X-Rate-Limit-Limit wins over the plan

    def roll(self, now: float) -> None:
        """Start a new daily window if the current one has ended."""
        if now >= self.day_end:
            self.day_end = next_daily_reset(now, self.anchor)
            self.used = 0

    def limit(self, limits: Limits) -> int:
        return self.limit_override if self.limit_override is not None else limits.daily_limit

    def remaining(self, limits: Limits) -> int:
        return max(0, self.limit(limits) - self.used)

    def apply_server_view(
        self,
        now: float,
        limits: Limits,
        *,
        limit: int | None,
        remaining: int | None,
        reset_in: float | None,
    ) -> None:
        """Adopt the server's numbers (X-Rate-Limit-*): it counts every client of the org."""
        self.roll(now)
        if reset_in is not None and reset_in > 0:
            self.day_end = now + reset_in
            self.anchor = self.day_end % DAY
        if limit is not None and limit > 0:
            self.limit_override = limit
        if remaining is not None and remaining >= 0:
            current = self.limit(limits)
            if remaining > current:
                # The server cannot have more left than its limit, so the limit is at least this.
                self.limit_override = current = remaining
            self.used = current - remaining


def _window_wait(grants: list[float], now: float, limits: Limits) -> float:
    """Seconds until one more grant fits the window; `grants` sorted, already pruned.

    With more grants than the limit (another process configured with a larger window
    budget), we must wait until enough of them have left the window.
    """
    excess = len(grants) - limits.requests_per_window
    if excess < 0:
        return 0.0
    return max(grants[excess] + limits.window - now, 1e-6)


class RateLimitBackend(Protocol):
    """Storage of per-key (organization) budget state with an atomic check-and-record.

    Keys are organization ids. Times are seconds on the limiter's clock (epoch seconds
    for the real clock); backends never call `time.time()` themselves so tests can fake it.
    """

    blocking: bool
    """True when calls may block on I/O or on other processes (async callers then run them
    in a worker thread so the event loop never stalls)."""

    def try_take(self, key: str, clock: Callable[[], float], limits: Limits) -> float:
        """Atomically take one request slot for `key`.

        `clock` is read once the backend holds its lock, so the recorded grant time is
        the time of the decision even when several processes queue for the database.
        Returns 0.0 if the slot was taken (and counted in the window and daily budgets),
        else the seconds to wait before trying again (window full or key blocked).
        Raises `DailyBudgetExhausted` when the daily budget is spent.
        """
        ...

    def block(self, key: str, until: float) -> None:
        """Refuse every slot for `key` until `until` (keeps the later of two blocks)."""
        ...

    def update_daily(
        self,
        key: str,
        now: float,
        limits: Limits,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        reset_in: float | None = None,
    ) -> None:
        """Override the daily budget with the server's view; `None` leaves a field alone."""
        ...

    def status(self, key: str, now: float, limits: Limits) -> BackendStatus:
        """Read the budget of `key` without taking anything."""
        ...

    def reset(self, key: str) -> None:
        """Forget everything about `key` (window log, daily count, block)."""
        ...


@runtime_checkable
class SlotBackend(Protocol):
    """A backend that also holds the concurrency cap, for callers on many machines.

    The in-process cap of `RateLimiter` cannot see other processes; a shared backend
    counts in-flight requests itself. Each slot is a lease: it expires `lease` seconds
    after it was taken, so a process that dies holding slots frees them on its own.
    """

    def try_slot(
        self, key: str, clock: Callable[[], float], concurrency: int, lease: float
    ) -> tuple[str | None, float]:
        """Atomically take one of `concurrency` slots: (slot id, 0.0) or (None, wait)."""
        ...

    def release_slot(self, key: str, slot: str) -> None:
        """Give a slot back (a slot whose lease expired is already gone; no error)."""
        ...


@dataclass
class _KeyState:
    grants: list[float] = field(default_factory=list)
    daily: DailyState = field(default_factory=DailyState)
    blocked_until: float = 0.0


class MemoryBackend:
    """Budget state of one process, in memory; thread-safe behind one lock."""

    blocking: bool = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, _KeyState] = {}

    def _state(self, key: str) -> _KeyState:
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _KeyState()
        return state

    def try_take(self, key: str, clock: Callable[[], float], limits: Limits) -> float:
        with self._lock:
            now = clock()
            state = self._state(key)
            daily = state.daily
            daily.roll(now)
            if daily.remaining(limits) <= 0:
                raise DailyBudgetExhausted(key, daily.limit(limits), daily.day_end - now)
            if state.blocked_until > now:
                return state.blocked_until - now
            _prune(state.grants, now, limits.window)
            wait = _window_wait(state.grants, now, limits)
            if wait > 0:
                return wait
            insort(state.grants, now)
            daily.used += 1
            return 0.0

    def block(self, key: str, until: float) -> None:
        with self._lock:
            state = self._state(key)
            state.blocked_until = max(state.blocked_until, until)

    def update_daily(
        self,
        key: str,
        now: float,
        limits: Limits,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        reset_in: float | None = None,
    ) -> None:
        with self._lock:
            self._state(key).daily.apply_server_view(
                now, limits, limit=limit, remaining=remaining, reset_in=reset_in
            )

    def status(self, key: str, now: float, limits: Limits) -> BackendStatus:
        with self._lock:
            state = self._keys.get(key) or _KeyState()
            grants, daily = list(state.grants), replace(state.daily)
            return _status(grants, daily, state.blocked_until, now, limits)

    def reset(self, key: str) -> None:
        with self._lock:
            self._keys.pop(key, None)


def _prune(grants: list[float], now: float, window: float) -> None:
    """Drop grants that left the window. A grant at t counts during [t, t + window)."""
    drop = 0
    while drop < len(grants) and grants[drop] + window <= now:
        drop += 1
    del grants[:drop]


def _status(
    grants: list[float], daily: DailyState, blocked_until: float, now: float, limits: Limits
) -> BackendStatus:
    _prune(grants, now, limits.window)
    daily.roll(now)
    return BackendStatus(
        window_used=len(grants),
        next_slot_in=_window_wait(grants, now, limits),
        daily_limit=daily.limit(limits),
        daily_used=daily.used,
        daily_remaining=daily.remaining(limits),
        daily_reset_in=max(0.0, daily.day_end - now),
        blocked_for=max(0.0, blocked_until - now),
    )


_SCHEMA = """
CREATE TABLE IF NOT EXISTS zbooks_ratelimit_grants (
    key TEXT NOT NULL,
    t REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS zbooks_ratelimit_grants_key_t
    ON zbooks_ratelimit_grants (key, t);
CREATE TABLE IF NOT EXISTS zbooks_ratelimit_state (
    key TEXT PRIMARY KEY,
    day_end REAL NOT NULL,
    day_anchor REAL NOT NULL,
    day_used INTEGER NOT NULL,
    limit_override INTEGER,
    blocked_until REAL NOT NULL
);
"""


class SQLiteBackend:
    """Budget state in one SQLite file, shared by every process on the machine that opens it.

    Each check-and-record is one `BEGIN IMMEDIATE` transaction, so SQLite's write lock
    serializes decisions across processes; WAL mode lets readers (status) proceed
    meanwhile. The file must live on a local disk: SQLite locking is unreliable on
    network file systems. Within a process, one connection is used behind a lock; a
    forked child opens its own connection on first use.
    """

    blocking: bool = True

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._timeout = timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        with self._lock:
            self._connection()

    def _connection(self) -> sqlite3.Connection:
        """The process's connection (caller holds `_lock`); reopened after a fork."""
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        import sqlite3

        conn = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # a lost grant after power loss is harmless
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> SQLiteBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One `BEGIN IMMEDIATE` transaction: commit on return, roll back on any exception."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @staticmethod
    def _load(conn: sqlite3.Connection, key: str) -> tuple[DailyState, float]:
        row = conn.execute(
            "SELECT day_end, day_anchor, day_used, limit_override, blocked_until"
            " FROM zbooks_ratelimit_state WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return DailyState(), 0.0
        day_end, anchor, used, override, blocked_until = row
        return DailyState(day_end, anchor, used, override), float(blocked_until)

    @staticmethod
    def _save(conn: sqlite3.Connection, key: str, daily: DailyState, blocked_until: float) -> None:
        conn.execute(
            "INSERT INTO zbooks_ratelimit_state"
            " (key, day_end, day_anchor, day_used, limit_override, blocked_until)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET day_end = excluded.day_end,"
            " day_anchor = excluded.day_anchor, day_used = excluded.day_used,"
            " limit_override = excluded.limit_override, blocked_until = excluded.blocked_until",
            (key, daily.day_end, daily.anchor, daily.used, daily.limit_override, blocked_until),
        )

    @staticmethod
    def _grants(conn: sqlite3.Connection, key: str) -> list[float]:
        rows = conn.execute(
            "SELECT t FROM zbooks_ratelimit_grants WHERE key = ? ORDER BY t", (key,)
        ).fetchall()
        return [float(t) for (t,) in rows]

    def try_take(self, key: str, clock: Callable[[], float], limits: Limits) -> float:
        with self._write() as conn:
            now = clock()  # read under the write lock, so grant times are recorded in order
            daily, blocked_until = self._load(conn, key)
            daily.roll(now)
            if daily.remaining(limits) <= 0:
                raise DailyBudgetExhausted(key, daily.limit(limits), daily.day_end - now)
            if blocked_until > now:
                return blocked_until - now
            # Same pruning rule as `_prune`: a grant at t counts during [t, t + window).
            conn.execute(
                "DELETE FROM zbooks_ratelimit_grants WHERE key = ? AND t + ? <= ?",
                (key, limits.window, now),
            )
            wait = _window_wait(self._grants(conn, key), now, limits)
            if wait > 0:
                return wait
            conn.execute("INSERT INTO zbooks_ratelimit_grants (key, t) VALUES (?, ?)", (key, now))
            daily.used += 1
            self._save(conn, key, daily, blocked_until)
            return 0.0

    def block(self, key: str, until: float) -> None:
        with self._write() as conn:
            daily, blocked_until = self._load(conn, key)
            self._save(conn, key, daily, max(blocked_until, until))

    def update_daily(
        self,
        key: str,
        now: float,
        limits: Limits,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        reset_in: float | None = None,
    ) -> None:
        with self._write() as conn:
            daily, blocked_until = self._load(conn, key)
            daily.apply_server_view(
                now, limits, limit=limit, remaining=remaining, reset_in=reset_in
            )
            self._save(conn, key, daily, blocked_until)

    def status(self, key: str, now: float, limits: Limits) -> BackendStatus:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN")  # one read snapshot for both tables
            try:
                daily, blocked_until = self._load(conn, key)
                grants = self._grants(conn, key)
            finally:
                conn.execute("COMMIT")
        return _status(grants, daily, blocked_until, now, limits)

    def reset(self, key: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM zbooks_ratelimit_grants WHERE key = ?", (key,))
            conn.execute("DELETE FROM zbooks_ratelimit_state WHERE key = ?", (key,))
