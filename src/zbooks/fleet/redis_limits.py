"""The rate limiter's budget state in Redis: one organization's limits hold across every
process and machine.

Per organization (hash-tagged, so a Redis Cluster keeps them on one shard):

    zbooks:rl:{ORG}:grants   sorted set of grant times (the sliding minute window)
    zbooks:rl:{ORG}:state    hash: day_end, anchor, used, limit_override, blocked_until
    zbooks:rl:{ORG}:slots    sorted set of in-flight slots scored by lease expiry

`try_take` and `try_slot` are Lua scripts, so a check and its record are one atomic step
on the server: two workers cannot both see "99 of 100" and both send. The arithmetic is
the same as `zbooks.core.ratelimit_backends` (a grant at t counts during [t, t + window),
the daily window rolls at `anchor + k * DAY`). Times come from the limiter's clock, so
machines must keep NTP time; a skew of a few milliseconds against a 60 s window is
harmless. The daily state survives 2 days without traffic; a Redis restart without
persistence forgets the window (run Redis with AOF if that matters) and the server's
X-Rate-Limit-* headers re-synchronise the daily count on the next response.

A maintained Python rate limiter was considered (``pyrate-limiter``'s Redis bucket): it
offers a sliding window but neither Zoho's daily budget synchronised from response
headers nor leased concurrency slots, so this module keeps the core's semantics instead.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import redis

from zbooks.core.ratelimit_backends import (
    DAY,
    BackendStatus,
    DailyBudgetExhausted,
    DailyState,
    Limits,
    _status,
)
from zbooks.core.store_urls import redact
from zbooks.fleet.redis_tokens import redis_client

STATE_TTL_MS = int(2 * DAY * 1000)
SLOT_POLL = 0.02  # a freed slot is noticed within this many seconds

_TRY_TAKE = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local rpw = tonumber(ARGV[3])
local dlimit = tonumber(ARGV[4])
local day = tonumber(ARGV[6])
local st = redis.call('HMGET', KEYS[2], 'day_end', 'anchor', 'used', 'limit_override',
                      'blocked_until')
local day_end = tonumber(st[1])
local anchor = tonumber(st[2]) or 0
local used = tonumber(st[3]) or 0
local override = tonumber(st[4])
local blocked = tonumber(st[5]) or 0
if day_end == nil or now >= day_end then
  day_end = anchor + (math.floor((now - anchor) / day) + 1) * day
  used = 0
end
local limit = override or dlimit
if limit - used <= 0 then
  redis.call('HSET', KEYS[2], 'day_end', tostring(day_end), 'anchor', tostring(anchor),
             'used', used)
  redis.call('PEXPIRE', KEYS[2], ARGV[7])
  return {'daily', tostring(limit), tostring(day_end - now)}
end
if blocked > now then
  return {'wait', tostring(blocked - now)}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now - window))
local excess = redis.call('ZCARD', KEYS[1]) - rpw
if excess >= 0 then
  local item = redis.call('ZRANGE', KEYS[1], excess, excess, 'WITHSCORES')
  local wait = tonumber(item[2]) + window - now
  if wait < 0.000001 then wait = 0.000001 end
  return {'wait', tostring(wait)}
end
redis.call('ZADD', KEYS[1], tostring(now), ARGV[5])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
redis.call('HSET', KEYS[2], 'day_end', tostring(day_end), 'anchor', tostring(anchor),
           'used', used + 1)
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return {'ok'}
"""

_TRY_SLOT = """
local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], tostring(now + lease), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(lease * 1000) + 1000)
  return {'ok'}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {'wait', tostring(tonumber(first[2]) - now)}
"""

_BLOCK = """
local current = tonumber(redis.call('HGET', KEYS[1], 'blocked_until')) or 0
if tonumber(ARGV[1]) > current then
  redis.call('HSET', KEYS[1], 'blocked_until', ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisBackend:
    """`RateLimitBackend` and `SlotBackend` on Redis (``ZBOOKS_RATE_LIMIT_STORE=redis://…``)."""

    blocking: bool = True

    def __init__(self, client: redis.Redis, *, prefix: str = "zbooks", label: str = "redis"):
        self._redis = client
        self._prefix = prefix
        self._label = label
        self._try_take: Any = client.register_script(_TRY_TAKE)
        self._try_slot: Any = client.register_script(_TRY_SLOT)
        self._block: Any = client.register_script(_BLOCK)

    @classmethod
    def from_url(cls, url: str) -> RedisBackend:
        return cls(redis_client(url), label=redact(url))

    def __repr__(self) -> str:
        return f"RedisBackend({self._label!r})"

    def _keys(self, key: str) -> tuple[str, str, str]:
        base = f"{self._prefix}:rl:{{{key}}}"
        return f"{base}:grants", f"{base}:state", f"{base}:slots"

    # RateLimitBackend -------------------------------------------------------------
    def try_take(self, key: str, clock: Callable[[], float], limits: Limits) -> float:
        grants, state, _ = self._keys(key)
        now = clock()
        member = f"{now!r}:{secrets.token_hex(6)}"
        reply = self._try_take(
            keys=[grants, state],
            args=[
                repr(now),
                repr(limits.window),
                limits.requests_per_window,
                limits.daily_limit,
                member,
                repr(DAY),
                STATE_TTL_MS,
            ],
        )
        kind = _text(reply[0])
        if kind == "ok":
            return 0.0
        if kind == "daily":
            raise DailyBudgetExhausted(key, int(float(_text(reply[1]))), float(_text(reply[2])))
        return max(float(_text(reply[1])), 1e-6)

    def block(self, key: str, until: float) -> None:
        _, state, _ = self._keys(key)
        self._block(keys=[state], args=[repr(until), STATE_TTL_MS])

    def _load(self, pipe: Any, state: str) -> tuple[DailyState, float]:
        raw = pipe.hmget(state, "day_end", "anchor", "used", "limit_override", "blocked_until")
        day_end, anchor, used, override, blocked = (None if v is None else _text(v) for v in raw)
        daily = DailyState(
            day_end=float(day_end) if day_end is not None else DailyState().day_end,
            anchor=float(anchor) if anchor is not None else 0.0,
            used=int(float(used)) if used is not None else 0,
            limit_override=int(float(override)) if override not in (None, "") else None,
        )
        return daily, float(blocked) if blocked is not None else 0.0

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
        """Adopt the server's daily view: optimistic (WATCH) read-modify-write of the hash,
        retried if a concurrent `try_take` changed it meanwhile."""
        _, state, _ = self._keys(key)

        def apply(pipe: Any) -> None:
            daily, _blocked = self._load(pipe, state)
            daily.apply_server_view(
                now, limits, limit=limit, remaining=remaining, reset_in=reset_in
            )
            fields: dict[str, str] = {
                "day_end": repr(daily.day_end),
                "anchor": repr(daily.anchor),
                "used": str(daily.used),
            }
            if daily.limit_override is not None:
                fields["limit_override"] = str(daily.limit_override)
            pipe.multi()
            pipe.hset(state, mapping=fields)
            pipe.pexpire(state, STATE_TTL_MS)

        self._redis.transaction(apply, state)

    def status(self, key: str, now: float, limits: Limits) -> BackendStatus:
        grants_key, state, _ = self._keys(key)
        daily, blocked = self._load(self._redis, state)
        rows: list[Any] = list(self._redis.zrange(grants_key, 0, -1, withscores=True))
        grants = sorted(float(row[1]) for row in rows)
        return _status(grants, daily, blocked, now, limits)

    def reset(self, key: str) -> None:
        self._redis.delete(*self._keys(key))

    # SlotBackend ------------------------------------------------------------------
    def try_slot(
        self, key: str, clock: Callable[[], float], concurrency: int, lease: float
    ) -> tuple[str | None, float]:
        _, _, slots = self._keys(key)
        slot = secrets.token_hex(8)
        reply = self._try_slot(keys=[slots], args=[repr(clock()), concurrency, repr(lease), slot])
        if _text(reply[0]) == "ok":
            return slot, 0.0
        # The earliest lease end is the latest we need to wait; a release frees sooner.
        return None, min(max(float(_text(reply[1])), 1e-3), SLOT_POLL)

    def release_slot(self, key: str, slot: str) -> None:
        _, _, slots = self._keys(key)
        self._redis.zrem(slots, slot)

    def in_flight(self, key: str, now: float) -> int:
        """Slots held now (for diagnostics and tests)."""
        _, _, slots = self._keys(key)
        return int(self._redis.zcount(slots, f"({now!r}", "+inf"))
