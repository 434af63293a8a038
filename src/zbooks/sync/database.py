"""Open the target database from a URL with settings that suit a sync.

- SQLite files use WAL and ``synchronous=NORMAL``: a killed process keeps every committed
  page, and readers (your queries) do not block the sync.
- ``sqlite://`` (memory) uses one shared connection, or each thread would see its own
  empty database.
- ``postgresql://`` gets the psycopg 3 driver (the ``sync`` extra installs it) instead of
  SQLAlchemy's default psycopg2.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

DEFAULT_URL = "sqlite:///zbooks.sqlite"


def normalise_url(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(target: str | URL | Engine) -> Engine:
    if isinstance(target, Engine):
        return target
    url = normalise_url(target)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database in (None, "", ":memory:"):
        return create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine
