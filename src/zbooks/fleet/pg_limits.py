"""The rate limiter's budget state in PostgreSQL (``ZBOOKS_RATE_LIMIT_STORE=postgresql://…``).

Same tables and arithmetic as the core's `SQLiteBackend`, plus leased concurrency slots.
Each decision is one transaction that first locks the organization's state row
(``SELECT … FOR UPDATE``), so decisions about one organization are serialised across every
machine while different organizations proceed in parallel. Redis is the faster choice
for thousands of organizations (see docs/benchmarks.md); this backend suits a fleet that
already runs PostgreSQL and nothing else.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from zbooks.core.ratelimit_backends import (
    BackendStatus,
    DailyBudgetExhausted,
    DailyState,
    Limits,
    _status,
    _window_wait,
)
from zbooks.core.store_urls import redact
from zbooks.fleet.sqlengine import create_once, engine_for

metadata = sa.MetaData()
grants_table = sa.Table(
    "zbooks_ratelimit_grants",
    metadata,
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("t", sa.Float(precision=53), nullable=False),
    sa.Index("zbooks_ratelimit_grants_key_t", "key", "t"),
)
state_table = sa.Table(
    "zbooks_ratelimit_state",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("day_end", sa.Float(precision=53), nullable=False),
    sa.Column("day_anchor", sa.Float(precision=53), nullable=False),
    sa.Column("day_used", sa.Integer, nullable=False),
    sa.Column("limit_override", sa.Integer),
    sa.Column("blocked_until", sa.Float(precision=53), nullable=False),
)
slots_table = sa.Table(
    "zbooks_ratelimit_slots",
    metadata,
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("slot", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Float(precision=53), nullable=False),
    sa.PrimaryKeyConstraint("key", "slot"),
)
_CREATED: set[tuple[str, int]] = set()
SLOT_POLL = 0.02
_NO_DAY = -1e300  # -inf does not round-trip through every driver; this is "never started"


class PostgresBackend:
    """`RateLimitBackend` and `SlotBackend` over one SQLAlchemy engine (psycopg 3)."""

    blocking: bool = True

    def __init__(self, engine: sa.Engine, *, label: str = "postgresql") -> None:
        self._engine = engine
        self._label = label
        create_once(engine, metadata, _CREATED)

    @classmethod
    def from_url(cls, url: str) -> PostgresBackend:
        return cls(engine_for(url), label=redact(url))

    def __repr__(self) -> str:
        return f"PostgresBackend({self._label!r})"

    @contextmanager
    def _locked(self, key: str) -> Iterator[tuple[sa.Connection, DailyState, float]]:
        """A transaction holding `key`'s state row lock; yields (conn, daily, blocked_until)."""
        with self._engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO zbooks_ratelimit_state"
                    " (key, day_end, day_anchor, day_used, limit_override, blocked_until)"
                    " VALUES (:k, :none, 0, 0, NULL, 0) ON CONFLICT (key) DO NOTHING"
                ),
                {"k": key, "none": _NO_DAY},
            )
            row = conn.execute(
                sa.select(
                    state_table.c.day_end,
                    state_table.c.day_anchor,
                    state_table.c.day_used,
                    state_table.c.limit_override,
                    state_table.c.blocked_until,
                )
                .where(state_table.c.key == key)
                .with_for_update()
            ).one()
            day_end = float(row.day_end)
            daily = DailyState(
                day_end=DailyState().day_end if day_end <= _NO_DAY else day_end,
                anchor=float(row.day_anchor),
                used=int(row.day_used),
                limit_override=row.limit_override,
            )
            yield conn, daily, float(row.blocked_until)

    @staticmethod
    def _save(conn: sa.Connection, key: str, daily: DailyState, blocked_until: float) -> None:
        conn.execute(
            sa.update(state_table)
            .where(state_table.c.key == key)
            .values(
                day_end=max(daily.day_end, _NO_DAY),
                day_anchor=daily.anchor,
                day_used=daily.used,
                limit_override=daily.limit_override,
                blocked_until=blocked_until,
            )
        )

    @staticmethod
    def _grants(conn: sa.Connection, key: str) -> list[float]:
        rows = conn.execute(
            sa.select(grants_table.c.t).where(grants_table.c.key == key).order_by(grants_table.c.t)
        )
        return [float(t) for (t,) in rows]

    def try_take(self, key: str, clock: Callable[[], float], limits: Limits) -> float:
        with self._locked(key) as (conn, daily, blocked_until):
            now = clock()  # read under the row lock: grants are recorded in order
            daily.roll(now)
            if daily.remaining(limits) <= 0:
                self._save(conn, key, daily, blocked_until)
                raise DailyBudgetExhausted(key, daily.limit(limits), daily.day_end - now)
            if blocked_until > now:
                return blocked_until - now
            conn.execute(
                sa.delete(grants_table).where(
                    grants_table.c.key == key, grants_table.c.t + limits.window <= now
                )
            )
            wait = _window_wait(self._grants(conn, key), now, limits)
            if wait > 0:
                return wait
            conn.execute(sa.insert(grants_table).values(key=key, t=now))
            daily.used += 1
            self._save(conn, key, daily, blocked_until)
            return 0.0

    def block(self, key: str, until: float) -> None:
        with self._locked(key) as (conn, daily, blocked_until):
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
        with self._locked(key) as (conn, daily, blocked_until):
            daily.apply_server_view(
                now, limits, limit=limit, remaining=remaining, reset_in=reset_in
            )
            self._save(conn, key, daily, blocked_until)

    def status(self, key: str, now: float, limits: Limits) -> BackendStatus:
        with self._locked(key) as (conn, daily, blocked_until):
            grants = self._grants(conn, key)
        return _status(grants, daily, blocked_until, now, limits)

    def reset(self, key: str) -> None:
        with self._engine.begin() as conn:
            for table in (grants_table, slots_table, state_table):
                conn.execute(sa.delete(table).where(table.c.key == key))

    # SlotBackend ------------------------------------------------------------------
    def try_slot(
        self, key: str, clock: Callable[[], float], concurrency: int, lease: float
    ) -> tuple[str | None, float]:
        with self._locked(key) as (conn, _daily, _blocked):
            now = clock()
            conn.execute(
                sa.delete(slots_table).where(
                    slots_table.c.key == key, slots_table.c.expires_at <= now
                )
            )
            ends = [
                float(t)
                for (t,) in conn.execute(
                    sa.select(slots_table.c.expires_at)
                    .where(slots_table.c.key == key)
                    .order_by(slots_table.c.expires_at)
                )
            ]
            if len(ends) < concurrency:
                slot = secrets.token_hex(8)
                conn.execute(
                    sa.insert(slots_table).values(key=key, slot=slot, expires_at=now + lease)
                )
                return slot, 0.0
        return None, min(max(ends[0] - now, 1e-3), SLOT_POLL)

    def release_slot(self, key: str, slot: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                sa.delete(slots_table).where(slots_table.c.key == key, slots_table.c.slot == slot)
            )

    def in_flight(self, key: str, now: float) -> int:
        with self._engine.connect() as conn:
            count = conn.execute(
                sa.select(sa.func.count()).where(
                    slots_table.c.key == key, slots_table.c.expires_at > now
                )
            ).scalar()
        return int(count or 0)
