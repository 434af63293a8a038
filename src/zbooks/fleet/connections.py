"""The registry of tenants: every customer's Zoho Books connection, in one SQL table.

A SaaS product holding thousands of "connect your Zoho Books" grants keeps them here:
name, region (or explicit URLs), client id, the client secret and refresh token
**encrypted at rest** (`zbooks.fleet.crypto`, ``ZBOOKS_ENCRYPTION_KEY``), the
organizations the grant may reach, and a state:

- ``active``: usable;
- ``needs_reauth``: Zoho rejected the refresh token or the client (revoked, deleted,
  expired); ``reason`` says which. Only that connection stops; the customer must connect
  again (``Connections.add(..., replace=True)``).
- ``disabled``: switched off by the operator.

``Connections(url).client(name)`` returns an ordinary `zbooks.Client` wired to the shared
token store (the token is keyed by the connection name) and the shared limiter, so every
worker on every machine refreshes one token once and respects one organization's limits.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from zbooks.auth.tokens import Token, TokenStore
from zbooks.config import data_dir
from zbooks.core.client import AsyncClient, Client
from zbooks.core.ratelimit import RateLimiter
from zbooks.core.retry import RetryPolicy
from zbooks.core.store_urls import open_limiter_backend, open_token_store, redact
from zbooks.errors import ConfigurationError, InvalidClientError, InvalidGrantError, OAuthError
from zbooks.fleet.crypto import Cipher
from zbooks.fleet.sqlengine import create_once, engine_for

ENV_URL = "ZBOOKS_CONNECTIONS_URL"


class State(StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    DISABLED = "disabled"


metadata = sa.MetaData()
table = sa.Table(
    "zbooks_connections",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("region", sa.Text),
    sa.Column("accounts_url", sa.Text),
    sa.Column("api_url", sa.Text),
    sa.Column("client_id", sa.Text, nullable=False),
    sa.Column("client_secret", sa.Text, nullable=False),  # Fernet token
    sa.Column("refresh_token", sa.Text, nullable=False),  # Fernet token
    sa.Column("organizations", sa.Text, nullable=False),  # JSON list of ids
    sa.Column("plan", sa.Text),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("created_at", sa.Float(precision=53), nullable=False),
    sa.Column("updated_at", sa.Float(precision=53), nullable=False),
)
_CREATED: set[tuple[str, int]] = set()
_NO_PROFILES = os.path.join(tempfile.gettempdir(), "zbooks-fleet-no-profiles")


class ConnectionUnavailable(ConfigurationError):
    """The connection is not `active` (needs re-authorisation, or disabled)."""


@dataclass(frozen=True)
class Connection:
    """One tenant, without its secrets (safe to print, log and return from an API)."""

    name: str
    client_id: str
    organizations: tuple[str, ...]
    state: State
    reason: str | None = None
    region: str | None = None
    accounts_url: str | None = None
    api_url: str | None = None
    plan: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state.value,
            "reason": self.reason,
            "organizations": list(self.organizations),
            "client_id": self.client_id,
            "region": self.region,
            "accounts_url": self.accounts_url,
            "api_url": self.api_url,
            "plan": self.plan,
        }


def default_url(env: Mapping[str, str] | None = None) -> str:
    environ = os.environ if env is None else env
    value = environ.get(ENV_URL, "").strip()
    return value or f"sqlite:///{data_dir(environ) / 'connections.db'}"


class Connections:
    """The registry at `url` (``postgresql://…`` for a fleet, ``sqlite:///…`` for one machine).

    ``token_store`` and ``rate_limiter`` are URLs of the shared state the clients use;
    they default to ``ZBOOKS_TOKEN_STORE`` / ``ZBOOKS_RATE_LIMIT_STORE``, else to the
    registry's own database (PostgreSQL or the SQLite file).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        token_store: str | None = None,
        rate_limiter: str | None = None,
        cipher: Cipher | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ if env is None else env
        self.url = url or default_url(environ)
        scheme = urlsplit(self.url).scheme
        if scheme not in ("postgresql", "postgres", "sqlite"):
            raise ConfigurationError(
                f"The connections registry must be PostgreSQL or SQLite, not {redact(self.url)!r}.",
                hint="Use postgresql://user@host/db or sqlite:///path/connections.db",
            )
        if scheme == "sqlite":
            folder = os.path.dirname(self.url.removeprefix("sqlite:///"))
            if folder:
                os.makedirs(folder, exist_ok=True)
        self._cipher = cipher or Cipher.from_env(environ)
        self._engine = engine_for(self.url)
        create_once(self._engine, metadata, _CREATED)
        self.token_store_url = (
            token_store or environ.get("ZBOOKS_TOKEN_STORE", "").strip() or self.url
        )
        self.rate_limiter_url = (
            rate_limiter or environ.get("ZBOOKS_RATE_LIMIT_STORE", "").strip() or self.url
        )
        self._limiters: dict[str, RateLimiter] = {}
        # How long a concurrency slot of a dead worker stays taken: longer than one request
        # (30 s timeout), short enough that a killed worker's slots come back soon.
        lease = environ.get("ZBOOKS_RATE_LIMIT_SLOT_LEASE", "").strip()
        try:
            self.slot_lease = float(lease) if lease else 60.0
        except ValueError:
            raise ConfigurationError(
                f"ZBOOKS_RATE_LIMIT_SLOT_LEASE must be seconds, not {lease!r}."
            ) from None
        self.requests_per_window, self.window = _rate_limit(environ)

    def __repr__(self) -> str:
        return f"Connections({redact(self.url)!r})"

    # registry ---------------------------------------------------------------------
    def add(
        self,
        name: str,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        organizations: Sequence[str] = (),
        region: str | None = None,
        accounts_url: str | None = None,
        api_url: str | None = None,
        plan: str | None = None,
        replace: bool = False,
    ) -> Connection:
        """Register a tenant (``replace=True`` re-authorises one: new secrets, `active`)."""
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ConfigurationError(
                f"Invalid connection name {name!r}.",
                hint="Use letters, digits, '-', '_' or '.'.",
            )
        for label, value in (
            ("client id", client_id),
            ("client secret", client_secret),
            ("refresh token", refresh_token),
        ):
            if not value:
                raise ConfigurationError(f"Connection {name!r} needs a {label}.")
        if region is None and not (accounts_url and api_url):
            region = "com"
        now = time.time()
        row = {
            "name": name,
            "region": region,
            "accounts_url": accounts_url,
            "api_url": api_url,
            "client_id": client_id,
            "client_secret": self._cipher.encrypt(client_secret),
            "refresh_token": self._cipher.encrypt(refresh_token),
            "organizations": json.dumps([str(o) for o in organizations]),
            "plan": plan,
            "state": State.ACTIVE.value,
            "reason": None,
            "created_at": now,
            "updated_at": now,
        }
        with self._engine.begin() as conn:
            exists = conn.execute(sa.select(table.c.name).where(table.c.name == name)).first()
            if exists and not replace:
                raise ConfigurationError(
                    f"A connection named {name!r} exists.",
                    hint="Pick another name, or pass replace=True (--replace) to re-authorise it.",
                )
            if exists:
                row.pop("created_at")
                conn.execute(sa.update(table).where(table.c.name == name).values(**row))
            else:
                conn.execute(sa.insert(table).values(**row))
        # A replaced grant must not keep using the old access token of the old grant.
        self._store(name).delete()
        return self.get(name)

    def get(self, name: str) -> Connection:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(table).where(table.c.name == name)).mappings().first()
        if row is None:
            raise ConfigurationError(
                f"No connection named {name!r}.", hint="List them with `zbooks connections list`."
            )
        return _connection(row)

    def list(self, *, state: State | str | None = None) -> list[Connection]:
        query = sa.select(table).order_by(table.c.name)
        if state is not None:
            query = query.where(table.c.state == State(state).value)
        with self._engine.connect() as conn:
            return [_connection(row) for row in conn.execute(query).mappings()]

    def __iter__(self) -> Iterator[Connection]:
        return iter(self.list())

    def remove(self, name: str) -> None:
        self.get(name)
        with self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.name == name))
        self._store(name).delete()

    def set_state(self, name: str, state: State | str, reason: str | None = None) -> Connection:
        with self._engine.begin() as conn:
            done = conn.execute(
                sa.update(table)
                .where(table.c.name == name)
                .values(state=State(state).value, reason=reason, updated_at=time.time())
            )
        if done.rowcount == 0:
            raise ConfigurationError(f"No connection named {name!r}.")
        return self.get(name)

    def mark_needs_reauth(self, name: str, reason: str) -> None:
        self.set_state(name, State.NEEDS_REAUTH, reason)

    def set_organizations(self, name: str, organizations: Sequence[str]) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.name == name)
                .values(organizations=json.dumps(list(organizations)), updated_at=time.time())
            )

    def rotate_key(self) -> int:
        """Re-encrypt every secret under the first key of ``ZBOOKS_ENCRYPTION_KEY``."""
        count = 0
        with self._engine.begin() as conn:
            rows = conn.execute(
                sa.select(table.c.name, table.c.client_secret, table.c.refresh_token)
            ).all()
            for name, secret, refresh in rows:
                conn.execute(
                    sa.update(table)
                    .where(table.c.name == name)
                    .values(
                        client_secret=self._cipher.rotate(secret),
                        refresh_token=self._cipher.rotate(refresh),
                    )
                )
                count += 1
        return count

    # clients ----------------------------------------------------------------------
    def _secrets(self, name: str) -> tuple[str, str]:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(table.c.client_secret, table.c.refresh_token).where(table.c.name == name)
            ).first()
        if row is None:
            raise ConfigurationError(f"No connection named {name!r}.")
        return self._cipher.decrypt(row[0]), self._cipher.decrypt(row[1])

    def _store(self, name: str) -> TokenStore:
        """The shared token store entry of connection `name` (encrypted like the registry)."""
        key = f"connection:{name}"
        scheme = urlsplit(self.token_store_url).scheme
        if scheme in ("redis", "rediss", "unix"):
            from zbooks.fleet.redis_tokens import RedisTokenStore, redis_client

            return RedisTokenStore(
                redis_client(self.token_store_url),
                key,
                cipher=self._cipher,
                label=redact(self.token_store_url),
            )
        if scheme in ("postgresql", "postgres", "sqlite"):
            from zbooks.fleet.sql_tokens import SQLTokenStore

            return SQLTokenStore(
                engine_for(self.token_store_url),
                key,
                cipher=self._cipher,
                label=redact(self.token_store_url),
            )
        return open_token_store(self.token_store_url, key)

    def limiter(self, plan: str | None = None) -> RateLimiter:
        """The shared limiter for connections of `plan` (one per plan: budgets differ)."""
        plan = plan or "premium"
        limiter = self._limiters.get(plan)
        if limiter is None:
            backend = open_limiter_backend(self.rate_limiter_url)
            limiter = self._limiters[plan] = RateLimiter(
                plan=plan,
                backend=backend,
                slot_lease=self.slot_lease,
                requests_per_window=self.requests_per_window,
                window=self.window + window_margin(self.window),
            )
        return limiter

    def _client_args(self, name: str) -> tuple[Connection, dict[str, Any]]:
        connection = self.get(name)
        if connection.state is not State.ACTIVE:
            why = f": {connection.reason}" if connection.reason else ""
            raise ConnectionUnavailable(
                f"Connection {name!r} is {connection.state.value}{why}.",
                hint="Re-authorise it with `zbooks connections add NAME --replace …`"
                if connection.state is State.NEEDS_REAUTH
                else "Enable it again before use.",
            )
        secret, refresh = self._secrets(name)
        store = self._store(name)
        stored = store.load()
        if stored is None or stored.refresh_token != refresh:
            # First use (or a re-authorised grant): seed under the lease so a concurrent
            # worker's fresh access token is not overwritten.
            with store.lock():
                stored = store.load()
                if stored is None or stored.refresh_token != refresh:
                    store.save(Token(refresh_token=refresh))
        args: dict[str, Any] = {
            "client_id": connection.client_id,
            "client_secret": secret,
            "token_store": store,
            "region": connection.region,
            "accounts_url": connection.accounts_url,
            "api_url": connection.api_url,
            "organization_id": connection.organizations[0]
            if len(connection.organizations) == 1
            else None,
            "plan": connection.plan,
            "rate_limiter": self.limiter(connection.plan),
            # Zoho sends no Retry-After on a 429; the pipeline then holds the organization
            # for a window (60 s). Against a compressed window, hold it for that window.
            "retry": RetryPolicy(rate_limit_wait=self.window),
            # A connection is complete: no ZBOOKS_* variable or profile file leaks in.
            "env": {"ZBOOKS_CONFIG_DIR": _NO_PROFILES},
        }
        return connection, args

    def client(self, name: str, **options: Any) -> Client:
        """A `Client` for connection `name`; a rejected grant marks it `needs_reauth`.

        `options` go to `Client` and override the registry's wiring (``timeout=``,
        ``retry=``, or ``rate_limiter=False`` for a tool that must not share the budget)."""
        _connection, args = self._client_args(name)
        return _ConnectionClient(self, name, **{**args, **options})

    def async_client(self, name: str, **options: Any) -> AsyncClient:
        _connection, args = self._client_args(name)
        return _AsyncConnectionClient(self, name, **{**args, **options})

    def test(self, name: str) -> Connection:
        """Call Zoho once with the connection; record its organizations; return the state.

        A rejected grant leaves the connection `needs_reauth` (and returns it, no raise):
        testing a thousand connections reports each, it does not stop at the first.
        """
        try:
            with self.client(name) as client:
                orgs = [str(o["organization_id"]) for o in client.organizations()]
        except ConnectionUnavailable:
            return self.get(name)
        except (InvalidGrantError, InvalidClientError):
            return self.get(name)  # marked by the client's refresher
        if orgs:
            self.set_organizations(name, orgs)
        return self.get(name)


def window_margin(window: float) -> float:
    """How much longer than the server's window our grants count.

    A grant is recorded when the limiter admits a request, the server counts it when it
    arrives: the first request of a window may arrive late (a token refresh, a new TLS
    connection, a busy machine) and the 101st on time, so a window exactly as long as the
    server's lets 101 land inside the server's 60 s. The benchmark saw it (a 429 and 101
    requests in one window with a compressed 6-s window); 2 % of the window (at least
    0.5 s) absorbs that jitter and costs 2 % of the peak rate."""
    return max(0.5, 0.02 * window)


def _rate_limit(environ: Mapping[str, str]) -> tuple[int, float]:
    """``ZBOOKS_RATE_LIMIT`` ("100/60s", Zoho's and the default): the per-organization
    window the shared limiter enforces. Another value only makes sense against a server
    that enforces it too: a sandbox with a compressed window (``--rate-limit 100/6s``) in
    tests and benchmarks, where a minute's budget must bind within seconds. The same
    syntax as the sandbox's ``--rate-limit``, read by the same parser."""
    from zbooks.sandbox.config import parse_rate_limit

    raw = environ.get("ZBOOKS_RATE_LIMIT", "").strip()
    if not raw:
        return 100, 60.0
    try:
        return parse_rate_limit(raw)
    except ValueError:
        raise ConfigurationError(
            f"ZBOOKS_RATE_LIMIT must look like 100/60s, not {raw!r}.",
            hint="Requests per window, a slash, the window (s, m or h).",
        ) from None


def _reason(error: OAuthError) -> str:
    return f"{type(error).__name__}: {error.args[0] if error.args else error}"


class _ConnectionClient(Client):
    """A `Client` that reports a rejected grant to its registry."""

    def __init__(self, registry: Connections, name: str, **kwargs: Any) -> None:
        self._registry = registry
        self._connection_name = name
        super().__init__(**kwargs)

    def _refresh(self, token: Token | None) -> Token:
        try:
            return super()._refresh(token)
        except (InvalidGrantError, InvalidClientError) as error:
            self._registry.mark_needs_reauth(self._connection_name, _reason(error))
            raise


class _AsyncConnectionClient(AsyncClient):
    def __init__(self, registry: Connections, name: str, **kwargs: Any) -> None:
        self._registry = registry
        self._connection_name = name
        super().__init__(**kwargs)

    async def _refresh(self, token: Token | None) -> Token:
        try:
            return await super()._refresh(token)
        except (InvalidGrantError, InvalidClientError) as error:
            import asyncio

            await asyncio.to_thread(
                self._registry.mark_needs_reauth, self._connection_name, _reason(error)
            )
            raise


def _connection(row: Mapping[Any, Any]) -> Connection:
    return Connection(
        name=row["name"],
        client_id=row["client_id"],
        organizations=tuple(json.loads(row["organizations"] or "[]")),
        state=State(row["state"]),
        reason=row["reason"],
        region=row["region"],
        accounts_url=row["accounts_url"],
        api_url=row["api_url"],
        plan=row["plan"],
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
    )
