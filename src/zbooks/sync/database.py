"""Open the target database from a URL with settings that suit a sync.

Supported targets (``SUPPORTED_URLS``):

- ``duckdb:///books.duckdb`` (the default, ``DEFAULT_URL``): one file, exact
  ``DECIMAL(28,8)`` money, real ``DATE``/``TIMESTAMP`` columns, fast analytics. Through
  its SQLAlchemy dialect (``duckdb-engine``): measured against DuckDB's native API in
  ``benchmarks/sync_targets.py``, and it keeps one code path for every target. DuckDB
  allows one writer, so the engine serialises its writes.
- ``sqlite:///FILE``: WAL and ``synchronous=NORMAL`` (a killed process keeps every
  committed page; readers do not block the sync); money as integer millionths
  (``schema.SQLITE_MONEY_SCALE``). ``sqlite://`` (memory) uses one shared connection.
- ``postgresql://``: the psycopg 3 driver (the ``sync`` extra installs it) instead of
  SQLAlchemy's default psycopg2.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from zbooks.errors import ConfigurationError

DEFAULT_URL = "duckdb:///zbooks.duckdb"
# DuckDB threads while a sync writes (``sync_settings``).
SYNC_DUCKDB_THREADS = 1
SUPPORTED_URLS = (
    "duckdb:///FILE.duckdb",
    "sqlite:///FILE.sqlite",
    "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
)
_BACKENDS = ("duckdb", "sqlite", "postgresql", "postgres")


class UnsupportedDatabaseURL(ConfigurationError):
    """The ``--db`` URL is not one of the supported targets."""


def _unsupported(url: object, why: str) -> UnsupportedDatabaseURL:
    return UnsupportedDatabaseURL(
        f"{why}: {url!s}. Supported: {', '.join(SUPPORTED_URLS)}.",
        hint="For example --db duckdb:///books.duckdb (the default: exact money, one file).",
    )


def normalise_url(url: str | URL) -> URL:
    """A parsed, supported URL (``UnsupportedDatabaseURL`` otherwise)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise _unsupported(url, "not a database URL") from None
    backend = parsed.get_backend_name()
    if backend not in _BACKENDS:
        safe = parsed.render_as_string(hide_password=True)
        raise _unsupported(safe, f"unsupported database {backend!r}")
    if parsed.drivername in ("postgresql", "postgres"):  # an explicit driver is kept
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_file_database(url: URL) -> str | None:
    """The file path of a SQLite or DuckDB target, None for memory or a server."""
    if url.get_backend_name() in ("sqlite", "duckdb") and url.database not in (
        None,
        "",
        ":memory:",
    ):
        return str(url.database)
    return None


def target_exists(engine: Engine) -> bool:
    """Whether connecting would find a database rather than create one (a dry run must
    not create the file)."""
    path = is_file_database(engine.url)
    return path is None or os.path.exists(path)


def make_engine(target: str | URL | Engine) -> Engine:
    if isinstance(target, Engine):
        return target
    url = normalise_url(target)
    backend = url.get_backend_name()
    if backend == "duckdb":
        return _duckdb_engine(url)
    if backend != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database in (None, "", ":memory:"):
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _duckdb_engine(url: URL) -> Engine:
    try:
        import duckdb_engine  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "The DuckDB target needs the duckdb and duckdb-engine packages.",
            hint="pip install 'zbooks[sync]'",
        ) from None
    # No rollback when a connection goes back to the pool: SQLAlchemy has already ended
    # its transaction, and DuckDB answers a rollback without one by raising an error the
    # dialect then swallows, about half a millisecond of CPU per commit.
    if url.database in (None, "", ":memory:"):
        # Every DuckDB memory connection is its own database: share one.
        return create_engine(url, poolclass=StaticPool, pool_reset_on_return=None)
    return create_engine(url, pool_reset_on_return=None)


@contextlib.contextmanager
def sync_settings(engine: Engine) -> Iterator[None]:
    """Settings for the length of a sync, put back as they were afterwards.

    DuckDB runs with ``SYNC_DUCKDB_THREADS`` (1) thread: a sync's statements touch 20 to
    200 rows each, where a second thread only adds the cost of waking it (its worker
    threads were a seventh of a sync's client CPU, ``benchmarks/sync_cpu.py``). DuckDB's
    ``threads`` belongs to the database instance, so a connection to the same file in the
    same process shares it until the sync ends."""
    if engine.dialect.name != "duckdb":
        yield
        return
    with engine.connect() as conn:
        before = int(conn.exec_driver_sql("SELECT current_setting('threads')").scalar_one())
        conn.exec_driver_sql(f"SET threads = {SYNC_DUCKDB_THREADS}")
    try:
        yield
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SET threads = {before}")
