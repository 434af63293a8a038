"""A token store in Redis, shared by every worker on every machine.

The token is one string key (JSON, Fernet-encrypted when ``ZBOOKS_ENCRYPTION_KEY`` is
set); the refresh lock is a lease: ``SET lease holder NX PX ttl`` takes it, a Lua script
deletes it only if we still hold it. A holder that dies leaves a lease that Redis expires
by itself, after which the next caller takes it and, as always, re-reads the token before
deciding to refresh (`zbooks.auth.manager`).
"""

from __future__ import annotations

import os
import threading
from contextlib import AbstractContextManager
from typing import Any

import redis

from zbooks.auth.tokens import Token
from zbooks.core.store_urls import redact
from zbooks.errors import ConfigurationError
from zbooks.fleet.crypto import ENV_KEY, Cipher, open_token, seal_token
from zbooks.fleet.lease import DEFAULT_TTL, Lease

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


_CLIENTS: dict[tuple[str, int], redis.Redis] = {}
_CLIENTS_LOCK = threading.Lock()


def redis_client(url: str) -> redis.Redis:
    """One client (one connection pool) per URL and process: a thousand connections'
    stores share it. A forked child (a Celery worker) builds its own."""
    key = (url, os.getpid())
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = redis.Redis.from_url(
                url, socket_timeout=10.0, socket_connect_timeout=5.0
            )
        return client


class RedisTokenStore:
    def __init__(
        self,
        client: redis.Redis,
        name: str,
        *,
        prefix: str = "zbooks",
        cipher: Cipher | None = None,
        lease_ttl: float = DEFAULT_TTL,
        label: str = "redis",
    ) -> None:
        if not name:
            raise ConfigurationError("A shared token store needs a name (profile or connection).")
        self._redis = client
        self.name = name
        self._key = f"{prefix}:token:{name}"
        self._lease_key = f"{prefix}:token-lease:{name}"
        self._cipher = cipher
        self.lease_ttl = lease_ttl
        self._release: Any = client.register_script(_RELEASE)
        self._label = label
        self.lock_key: tuple[str, str, str] = ("redis", label, name)

    @classmethod
    def from_url(cls, url: str, name: str) -> RedisTokenStore:
        keys = os.environ.get(ENV_KEY, "").strip()
        return cls(
            redis_client(url), name, cipher=Cipher(keys) if keys else None, label=redact(url)
        )

    def load(self) -> Token | None:
        raw = self._redis.get(self._key)
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        return open_token(text, self._cipher, self.name)

    def save(self, token: Token) -> None:
        self._redis.set(self._key, seal_token(token, self._cipher))

    def delete(self) -> None:
        self._redis.delete(self._key)

    def _take(self, holder: str, ttl: float) -> bool:
        return bool(self._redis.set(self._lease_key, holder, nx=True, px=int(ttl * 1000)))

    def _give(self, holder: str) -> None:
        self._release(keys=[self._lease_key], args=[holder])

    def lock(self) -> AbstractContextManager[object]:
        return Lease(self._take, self._give, what=f"token {self.name!r}", ttl=self.lease_ttl)

    def __repr__(self) -> str:
        return f"RedisTokenStore({self._label!r}, name={self.name!r})"
