"""SQLAlchemy engines for fleet state, one per URL and process.

``postgresql://`` URLs are run on psycopg 3 (the driver of the ``sync`` extra), not
SQLAlchemy's default psycopg2. A forked child (a Celery worker) gets its own engine:
pooled connections must never cross a fork.
"""

from __future__ import annotations

import os
import threading
import time

import sqlalchemy as sa

_ENGINES: dict[tuple[str, int], sa.Engine] = {}
_LOCK = threading.Lock()


def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_for(url: str) -> sa.Engine:
    key = (url, os.getpid())
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            real = sqlalchemy_url(url)
            if real.startswith("sqlite"):
                engine = sa.create_engine(
                    real, connect_args={"timeout": 30.0, "check_same_thread": False}
                )
            else:
                engine = sa.create_engine(real, pool_pre_ping=True, pool_size=5, max_overflow=20)
            _ENGINES[key] = engine
        return engine


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_once(engine: sa.Engine, metadata: sa.MetaData, done: set[tuple[str, int]]) -> None:
    """Create `metadata`'s tables once per process. Many workers starting together race
    on CREATE TABLE (PostgreSQL reports the loser as a duplicate); the loser retries."""
    key = (str(engine.url), os.getpid())
    if key in done:
        return
    for attempt in range(5):
        try:
            metadata.create_all(engine, checkfirst=True)
            break
        except sa.exc.DBAPIError:
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    done.add(key)
