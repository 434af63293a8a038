"""A token store in PostgreSQL (many machines) or SQLite (one machine), via SQLAlchemy.

Two tables: ``zbooks_tokens`` (one row per name: the token as JSON, Fernet-encrypted
when ``ZBOOKS_ENCRYPTION_KEY`` is set) and ``zbooks_token_leases`` (the refresh lock).
A lease is taken by one atomic upsert that succeeds only when no row exists or the row's
lease has expired, timed by the database's clock so that machines with skewed clocks
agree; it is given back by deleting our own row. A dead holder's lease simply expires.
"""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from zbooks.auth.tokens import Token
from zbooks.core.store_urls import redact
from zbooks.errors import ConfigurationError
from zbooks.fleet.crypto import ENV_KEY, Cipher, open_token, seal_token
from zbooks.fleet.lease import DEFAULT_TTL, Lease
from zbooks.fleet.sqlengine import create_once, engine_for, is_sqlite

metadata = sa.MetaData()
tokens_table = sa.Table(
    "zbooks_tokens",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
leases_table = sa.Table(
    "zbooks_token_leases",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("holder", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

_CREATED: set[tuple[str, int]] = set()  # (engine URL, pid) whose tables exist


def _db_now(engine: sa.Engine) -> sa.ColumnElement[float]:
    """The database's clock in epoch seconds (one clock for every machine)."""
    if is_sqlite(engine):
        return sa.literal_column("((julianday('now') - 2440587.5) * 86400.0)", sa.Float)
    return sa.literal_column("extract(epoch from clock_timestamp())::float8", sa.Float)


class SQLTokenStore:
    def __init__(
        self,
        engine: sa.Engine,
        name: str,
        *,
        cipher: Cipher | None = None,
        lease_ttl: float = DEFAULT_TTL,
        label: str = "sql",
    ) -> None:
        if not name:
            raise ConfigurationError("A shared token store needs a name (profile or connection).")
        self._engine = engine
        self.name = name
        self._cipher = cipher
        self.lease_ttl = lease_ttl
        self._label = label
        self.lock_key: tuple[str, str, str] = ("sql", label, name)
        create_once(engine, metadata, _CREATED)

    @classmethod
    def from_url(cls, url: str, name: str) -> SQLTokenStore:
        keys = os.environ.get(ENV_KEY, "").strip()
        return cls(engine_for(url), name, cipher=Cipher(keys) if keys else None, label=redact(url))

    def load(self) -> Token | None:
        with self._engine.connect() as conn:
            text = conn.execute(
                sa.select(tokens_table.c.data).where(tokens_table.c.name == self.name)
            ).scalar()
        if text is None:
            return None
        return open_token(str(text), self._cipher, self.name)

    def save(self, token: Token) -> None:
        text = seal_token(token, self._cipher)
        insert = postgresql.insert if not is_sqlite(self._engine) else sqlite.insert
        statement = insert(tokens_table).values(name=self.name, data=text, updated_at=time.time())
        statement = statement.on_conflict_do_update(
            index_elements=[tokens_table.c.name],
            set_={"data": statement.excluded.data, "updated_at": statement.excluded.updated_at},
        )
        with self._engine.begin() as conn:
            conn.execute(statement)

    def delete(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(tokens_table).where(tokens_table.c.name == self.name))

    def _take(self, holder: str, ttl: float) -> bool:
        now = _db_now(self._engine)
        insert = postgresql.insert if not is_sqlite(self._engine) else sqlite.insert
        statement = insert(leases_table).values(name=self.name, holder=holder, expires_at=now + ttl)
        upsert = statement.on_conflict_do_update(
            index_elements=[leases_table.c.name],
            set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at},
            where=leases_table.c.expires_at <= now,
        ).returning(leases_table.c.holder)
        with self._engine.begin() as conn:
            won = conn.execute(upsert).scalar()
        return won == holder

    def _give(self, holder: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                sa.delete(leases_table).where(
                    leases_table.c.name == self.name, leases_table.c.holder == holder
                )
            )

    def lock(self) -> AbstractContextManager[object]:
        return Lease(self._take, self._give, what=f"token {self.name!r}", ttl=self.lease_ttl)

    def __repr__(self) -> str:
        return f"SQLTokenStore({self._label!r}, name={self.name!r})"
