"""Real Redis (a `redis-server` process on a free loopback port) and the real PostgreSQL
at ``ZBOOKS_TEST_POSTGRES_URL`` for the fleet tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.sync.support import SandboxProc, sandbox_process

POSTGRES_URL = os.environ.get("ZBOOKS_TEST_POSTGRES_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(
    tmp: Path, port: int | None = None, *, persist: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    """A redis-server on `port` (a free one by default). ``persist``: with an append-only
    file in `tmp` (``appendfsync everysec``, as a deployment that keeps its broker queue,
    tokens and limiter windows across a restart runs it), so a restart on the same `tmp`
    and port finds its data again."""
    binary = shutil.which("redis-server")
    if binary is None:
        # A developer's fresh machine may lack it: skip with the fix. CI (CI=true, where
        # .ci/redis.sh installs it) must never skip the fleet tests.
        message = "redis-server is not installed (apt-get install redis-server; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = port or free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if persist else "no",
            "--appendfsync",
            "everysec",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.02)
    client.close()
    return proc, url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not POSTGRES_URL:
        pytest.skip("ZBOOKS_TEST_POSTGRES_URL is not set (see .ci/postgres.sh)")
    return POSTGRES_URL


@pytest.fixture(params=["redis", "postgresql", "sqlite"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every shared token store kind."""
    if request.param == "redis":
        return str(request.getfixturevalue("redis_url"))
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'tokens.db'}"


@pytest.fixture(params=["redis", "postgresql"])
def limiter_url(request: pytest.FixtureRequest) -> str:
    """Every limiter backend shared across machines."""
    name = "redis_url" if request.param == "redis" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def unique() -> str:
    """A fresh name: tests share one Redis and one database without cleaning up."""
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProc]:
    """A sandbox in a child process (limits lifted; fleets are created per test)."""
    with sandbox_process(seed="empty") as proc:
        yield proc


@pytest.fixture
def target_db(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for synced data (dropped afterwards)."""
    name = f"zbooks_fleet_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
