"""Token stores and single-flight refresh across threads, tasks and processes."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from zbooks.auth.manager import TokenManager
from zbooks.auth.oauth import AsyncOAuthClient, OAuthClient
from zbooks.auth.tokens import FileStore, MemoryStore, Token
from zbooks.errors import ConfigurationError

from .tokenserver import CountingTokenServer

EXPIRED = Token(
    access_token="1000.stale.t",
    refresh_token="1000.refresh.t",
    expires_at=1.0,
    client_secret="client-secret",
)


def test_token_repr_masks_secrets() -> None:
    token = Token(
        access_token="1000.aaaaaaaaaaaaaaaa.bbbb",
        refresh_token="1000.rrrrrrrrrrrr.zz",
        client_secret="topsecretvalue",
    )
    text = repr(token) + str(token)
    for secret in ("1000.aaaaaaaaaaaaaaaa.bbbb", "1000.rrrrrrrrrrrr.zz", "topsecretvalue"):
        assert secret not in text


def test_file_store_roundtrip_mode_0600_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "tokens.json"
    store = FileStore(path)
    assert store.load() is None
    store.save(EXPIRED)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert store.load() == EXPIRED
    store.save(Token(access_token="1000.next.t"))
    assert store.load() == Token(access_token="1000.next.t")
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".tokens-")] == []
    store.delete()
    assert store.load() is None


def test_corrupt_token_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        FileStore(path).load()


def test_fresh_token_is_not_refreshed() -> None:
    calls: list[Token | None] = []
    fresh = Token(access_token="1000.ok.t", refresh_token="r", expires_at=time.time() + 3000)
    manager = TokenManager(MemoryStore(fresh), refresher=lambda t: calls.append(t) or fresh)
    assert manager.access_token() == "1000.ok.t"
    assert calls == []


def test_token_near_expiry_is_refreshed_early() -> None:
    soon = Token(access_token="1000.old.t", refresh_token="r", expires_at=time.time() + 60)
    store = MemoryStore(soon)
    manager = TokenManager(
        store, refresher=lambda t: Token(access_token="1000.new.t", expires_at=time.time() + 3600)
    )
    assert manager.access_token() == "1000.new.t"
    stored = store.load()
    assert stored is not None and stored.refresh_token == "r"  # kept across the refresh


def test_rejected_token_forces_one_refresh_even_if_unexpired() -> None:
    valid = Token(access_token="1000.rejected.t", refresh_token="r", expires_at=time.time() + 3000)
    count = {"n": 0}

    def refresher(token: Token | None) -> Token:
        count["n"] += 1
        return Token(access_token=f"1000.new{count['n']}.t", expires_at=time.time() + 3600)

    manager = TokenManager(MemoryStore(valid), refresher=refresher)
    assert manager.access_token(rejected="1000.rejected.t") == "1000.new1.t"
    # A second caller that saw the same rejected token does not refresh again.
    assert manager.access_token(rejected="1000.rejected.t") == "1000.new1.t"
    assert count["n"] == 1


def test_64_threads_cause_exactly_one_refresh(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "t.json")
    store.save(EXPIRED)
    with CountingTokenServer() as server:
        oauth = OAuthClient(server.url, "1000.CID", "client-secret")
        manager = TokenManager(store, refresher=lambda t: oauth.refresh(t.refresh_token))  # type: ignore[union-attr]
        barrier = threading.Barrier(64)
        results: list[str] = []

        def worker() -> None:
            barrier.wait()
            results.append(manager.access_token())

        threads = [threading.Thread(target=worker) for _ in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert server.count == 1
    assert len(set(results)) == 1 and len(results) == 64


def test_64_tasks_cause_exactly_one_refresh(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "t.json")
    store.save(EXPIRED)

    async def main(url: str) -> set[str]:
        oauth = AsyncOAuthClient(url, "1000.CID", "client-secret")

        async def refresher(token: Token | None) -> Token:
            assert token is not None and token.refresh_token
            return await oauth.refresh(token.refresh_token)

        manager = TokenManager(store, async_refresher=refresher)
        tokens = await asyncio.gather(*(manager.access_token_async() for _ in range(64)))
        await oauth.aclose()
        return set(tokens)

    with CountingTokenServer() as server:
        assert len(asyncio.run(main(server.url))) == 1
        assert server.count == 1


def test_4_processes_sharing_a_file_store_cause_exactly_one_refresh(tmp_path: Path) -> None:
    path = tmp_path / "shared.json"
    FileStore(path).save(EXPIRED)
    worker = Path(__file__).with_name("refresh_worker.py")
    with CountingTokenServer(delay=0.2) as server:
        start_at = time.time() + 1.5
        procs = [
            subprocess.Popen(
                [sys.executable, str(worker), str(path), server.url, str(start_at)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        outputs = [p.communicate(timeout=60)[0].strip() for p in procs]
        assert all(p.returncode == 0 for p in procs)
        assert server.count == 1
    assert len(set(outputs)) == 1 and outputs[0].startswith("1000.fresh")
