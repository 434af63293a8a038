"""Shared token stores across processes: one refresh, leases that die with their holder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zbooks.auth.tokens import Token
from zbooks.core.store_urls import open_token_store
from zbooks.errors import ConfigurationError
from zbooks.fleet.crypto import Cipher

WORKER = str(Path(__file__).with_name("worker.py"))
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


def test_round_trip_and_repr_hides_secrets(store_url: str, unique: str) -> None:
    store = open_token_store(store_url, unique)
    assert store.load() is None
    store.save(Token(access_token="1000.secret-access", refresh_token="1000.secret-refresh"))
    other = open_token_store(store_url, unique)  # another client, same name: same token
    loaded = other.load()
    assert loaded is not None and loaded.refresh_token == "1000.secret-refresh"
    assert open_token_store(store_url, unique + "-other").load() is None
    assert "secret" not in repr(other) and "secret" not in repr(loaded)
    other.delete()
    assert store.load() is None


def test_encrypted_at_rest_when_key_is_set(
    redis_url: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    key = Cipher.generate_key()
    monkeypatch.setenv("ZBOOKS_ENCRYPTION_KEY", key)
    store = open_token_store(redis_url, unique)
    store.save(Token(refresh_token="1000.plain-refresh"))
    raw = redis.Redis.from_url(redis_url).get(f"zbooks:token:{unique}")
    assert raw is not None and b"plain-refresh" not in raw
    loaded = store.load()
    assert loaded is not None and loaded.refresh_token == "1000.plain-refresh"
    monkeypatch.setenv("ZBOOKS_ENCRYPTION_KEY", Cipher.generate_key())
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        open_token_store(redis_url, unique).load()
    # rotation: new key first, old key still accepted
    monkeypatch.setenv("ZBOOKS_ENCRYPTION_KEY", f"{Cipher.generate_key()},{key}")
    rotated = open_token_store(redis_url, unique).load()
    assert rotated is not None and rotated.refresh_token == "1000.plain-refresh"


def test_exactly_one_refresh_across_processes(store_url: str, unique: str, tmp_path: Path) -> None:
    """3 processes x 4 threads find an expired token at the same instant: one refresh."""
    store = open_token_store(store_url, unique)
    store.save(Token(access_token="old", refresh_token="1000.r", expires_at=time.time() - 10))
    log = tmp_path / "refreshes.log"
    start = time.time() + 2.5  # every process is up and waiting by then
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, "refresh", store_url, unique, str(log), "4", repr(start)],
            stdout=subprocess.PIPE,
            env=_env(),
        )
        for _ in range(3)
    ]
    tokens: set[str] = set()
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        tokens.update(json.loads(out))
    assert len(log.read_text().splitlines()) == 1
    assert len(tokens) == 1 and tokens.pop().startswith("fresh-")
    final = store.load()
    assert final is not None and final.refresh_token == "1000.r"  # merged, not lost


def test_lease_expires_when_holder_is_killed(store_url: str, unique: str) -> None:
    ttl = 1.5
    holder = subprocess.Popen(
        [sys.executable, WORKER, "hold-lease", store_url, unique, str(ttl)],
        stdout=subprocess.PIPE,
        env=_env(),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        taken_at = time.monotonic()
        store = open_token_store(store_url, unique)
        assert not store._take("someone-else", 5.0)  # type: ignore[attr-defined]
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        assert not store._take("someone-else", 5.0)  # type: ignore[attr-defined]
        with store.lock():
            waited = time.monotonic() - taken_at
        # Not before the dead holder's lease ended, and not long after it.
        assert ttl * 0.8 <= waited < ttl + 3.0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_release_never_frees_a_later_holders_lease(store_url: str, unique: str) -> None:
    store = open_token_store(store_url, unique)
    assert store._take("a", 0.2)  # type: ignore[attr-defined]
    time.sleep(0.4)
    assert store._take("b", 30.0)  # type: ignore[attr-defined]  # a's lease expired
    store._give("a")  # type: ignore[attr-defined]  # a wakes up late and releases
    assert not store._take("c", 30.0)  # type: ignore[attr-defined]  # b still holds it
    store._give("b")  # type: ignore[attr-defined]
    assert store._take("c", 30.0)  # type: ignore[attr-defined]


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="Unknown token store"):
        open_token_store("mongodb://u:pw@host/db", "x")
    with pytest.raises(ConfigurationError) as info:
        open_token_store("mongodb://u:hunter2@host/db", "x")
    assert "hunter2" not in str(info.value)


def test_client_joins_a_fleet_by_url(redis_url: str, unique: str, tmp_path: Path) -> None:
    """`token_store=` / `rate_limiter=` URLs, or ZBOOKS_TOKEN_STORE / ZBOOKS_RATE_LIMIT_STORE."""
    from zbooks import Client
    from zbooks.fleet.redis_limits import RedisBackend
    from zbooks.fleet.redis_tokens import RedisTokenStore

    env = {"ZBOOKS_CONFIG_DIR": str(tmp_path)}
    with Client(
        profile=None,
        access_token="1000.access",
        refresh_token="1000.refresh",
        token_store=redis_url,
        rate_limiter=redis_url,
        region="eu",
        env=env,
    ) as client:
        assert isinstance(client.token_store, RedisTokenStore)
        assert client.rate_limiter is not None
        assert isinstance(client.rate_limiter.backend, RedisBackend)
    seeded = open_token_store(redis_url, "default").load()
    assert seeded is not None and seeded.refresh_token == "1000.refresh"

    env.update(
        ZBOOKS_TOKEN_STORE=f"sqlite:///{tmp_path / 'tokens.db'}",
        ZBOOKS_RATE_LIMIT_STORE=f"sqlite:///{tmp_path / 'limits.db'}",
        ZBOOKS_PROFILE=unique,
    )
    with Client(access_token="1000.other", region="eu", env=env) as client:
        assert type(client.token_store).__name__ == "SQLTokenStore"
        assert client.rate_limiter is not None
        assert type(client.rate_limiter.backend).__name__ == "SQLiteBackend"
        token = client.token_store.load()
        assert token is not None and token.access_token == "1000.other"
