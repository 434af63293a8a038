"""Token stores and limiter backends chosen by URL (``ZBOOKS_TOKEN_STORE``,
``ZBOOKS_RATE_LIMIT_STORE``, ``token_store=``, ``rate_limiter=``).

One string names where the shared state lives, so a `Client` joins a fleet by
configuration, not by code:

    memory                          this process only
    file  |  file:///path/tok.json  a JSON file (today's default, one machine)
    keyring                         the system keychain
    sqlite:///path/state.db         one SQLite file shared by the processes of one machine
    postgresql://user@host/db       PostgreSQL, shared by many machines   (zbooks[fleet])
    redis://host:6379/0             Redis, shared by many machines        (zbooks[fleet])

The core never imports the fleet's backends: the schemes below name them as strings and
`importlib` loads one only when a URL asks for it, so `redis` and the database drivers
stay optional.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zbooks.auth.tokens import FileStore, KeyringStore, MemoryStore, TokenStore
from zbooks.core.ratelimit_backends import MemoryBackend, RateLimitBackend, SQLiteBackend
from zbooks.errors import ConfigurationError

# scheme -> "module:factory". Factories take (url, name) for token stores, (url) for limiters.
_TOKEN_STORES = {
    "redis": "zbooks.fleet.redis_tokens:RedisTokenStore.from_url",
    "rediss": "zbooks.fleet.redis_tokens:RedisTokenStore.from_url",
    "unix": "zbooks.fleet.redis_tokens:RedisTokenStore.from_url",
    "postgresql": "zbooks.fleet.sql_tokens:SQLTokenStore.from_url",
    "postgres": "zbooks.fleet.sql_tokens:SQLTokenStore.from_url",
    "sqlite": "zbooks.fleet.sql_tokens:SQLTokenStore.from_url",
}
_LIMITER_BACKENDS = {
    "redis": "zbooks.fleet.redis_limits:RedisBackend.from_url",
    "rediss": "zbooks.fleet.redis_limits:RedisBackend.from_url",
    "unix": "zbooks.fleet.redis_limits:RedisBackend.from_url",
    "postgresql": "zbooks.fleet.pg_limits:PostgresBackend.from_url",
    "postgres": "zbooks.fleet.pg_limits:PostgresBackend.from_url",
}
_KNOWN = "memory, file, file:///PATH, keyring, sqlite:///PATH, postgresql://…, redis://…"


def _load(target: str, url: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        scheme = urlsplit(url).scheme
        raise ConfigurationError(
            f"The {scheme}:// store needs an optional dependency ({exc.name} is missing).",
            hint="pip install 'zbooks[fleet]'",
        ) from exc
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def redact(url: str) -> str:
    """The URL without its password, for reprs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _sqlite_path(url: str) -> Path:
    path = url.removeprefix("sqlite://").removeprefix("file://")
    if not path.startswith("/") or path == "/":
        raise ConfigurationError(
            f"{url!r} does not name a file.", hint="Use three slashes: sqlite:///path/to/file.db"
        )
    return Path(path)


def open_token_store(spec: str, name: str, *, default_file: Path | None = None) -> TokenStore:
    """The token store that `spec` names, holding the token called `name` (a profile or
    connection name). ``file`` without a path means `default_file`."""
    spec = spec.strip()
    scheme = urlsplit(spec).scheme.lower() if "://" in spec else spec.lower()
    if scheme == "memory":
        return MemoryStore()
    if scheme == "keyring":
        return KeyringStore(username=name)
    if scheme == "file":
        if "://" in spec:
            return FileStore(_sqlite_path(spec))
        if default_file is None:
            raise ConfigurationError("The file token store needs a path: file:///path/to.json")
        return FileStore(default_file)
    target = _TOKEN_STORES.get(scheme)
    if target is None:
        raise ConfigurationError(
            f"Unknown token store {redact(spec)!r}.", hint=f"Use one of: {_KNOWN}."
        )
    store: TokenStore = _load(target, spec)(spec, name)
    return store


def open_limiter_backend(spec: str) -> RateLimitBackend:
    """The rate-limit backend that `spec` names (``memory``, ``sqlite:///…``, …)."""
    spec = spec.strip()
    scheme = urlsplit(spec).scheme.lower() if "://" in spec else spec.lower()
    if scheme == "memory":
        return MemoryBackend()
    if scheme == "sqlite":
        return SQLiteBackend(_sqlite_path(spec))
    target = _LIMITER_BACKENDS.get(scheme)
    if target is None:
        raise ConfigurationError(
            f"Unknown rate-limit store {redact(spec)!r}.",
            hint="Use one of: memory, sqlite:///PATH, postgresql://…, redis://….",
        )
    backend: RateLimitBackend = _load(target, spec)(spec)
    return backend


def env_spec(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None
