"""Many clients on one logged-in profile whose access token has expired: every call
succeeds, Zoho sees exactly one refresh, and nobody waits long for the locks.

This is the shape of a real worker: N ``zbooks.Client()``/``AsyncClient()`` objects built
with no arguments from the environment, one token file shared by all of them (and by
other processes), one GET each. Before the fix, 8 async clients stalled 60 s on the
file lock (their waits filled the default executor) and made 7 refresh requests.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zbooks
from zbooks.auth.login import code_login
from zbooks.auth.tokens import FileStore, Token
from zbooks.config import token_path
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.server import SandboxServer

from .conftest import Sandbox

WORKER = Path(__file__).with_name("token_worker.py")
TOKEN_PATH = "/oauth/v2/token"
# "Well under a second": the one refresh is a loopback round trip of a few milliseconds;
# before the fix the waits were 60 s (the file lock's timeout).
MAX_LOCK_WAIT = 1.0


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # Zoho's Books limits would make 64 simultaneous calls queue (10 in flight, 100 a
    # minute); this module is about tokens, so only the Accounts limits stay real.
    config = SandboxConfig(
        port=0,
        auto_approve=True,
        seed="demo",
        rate_limit=100_000,
        concurrency_limits={p: 1_000 for p in ("free", "standard", "professional", "premium")},
    )
    with SandboxServer(config) as server:
        yield Sandbox(server, config)


def _token_requests(sandbox: Sandbox) -> int:
    log = sandbox.control("GET", "/requests?limit=100000")["requests"]
    return sum(1 for entry in log if entry["path"] == TOKEN_PATH)


@pytest.fixture
def profile(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    """A logged-in profile (settings in the environment, tokens in the profile's file)
    whose access token has expired; returns the environment that selects it."""
    client_id, secret, code = sandbox.self_client()
    login = code_login(
        code, accounts_url=sandbox.base_url, client_id=client_id, client_secret=secret
    )
    env = {
        "ZBOOKS_CONFIG_DIR": str(tmp_path),
        "ZBOOKS_CLIENT_ID": client_id,
        "ZBOOKS_ACCOUNTS_URL": sandbox.base_url,
        "ZBOOKS_API_URL": sandbox.api_url,
    }
    organizations = zbooks.Client(
        client_id=client_id,
        client_secret=secret,
        refresh_token=login.token.refresh_token,
        accounts_url=sandbox.base_url,
        api_url=sandbox.api_url,
        env={},
    )
    with organizations:
        env["ZBOOKS_ORGANIZATION_ID"] = organizations.organizations()[0]["organization_id"]
    cold = Token(
        access_token="1000.expired.token",
        refresh_token=login.token.refresh_token,
        expires_at=time.time() - 10,
        client_secret=secret,
    )
    FileStore(token_path("default", env)).save(cold)
    return env


@pytest.fixture
def environ(profile: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in [n for n in os.environ if n.startswith("ZBOOKS_")]:
        monkeypatch.delenv(name)
    for name, value in profile.items():
        monkeypatch.setenv(name, value)
    return profile


def test_64_async_clients_on_one_profile_refresh_once(
    sandbox: Sandbox, environ: dict[str, str]
) -> None:
    before = _token_requests(sandbox)
    waits: list[float] = []
    refreshes: list[int] = []

    async def one() -> Any:
        async with zbooks.AsyncClient() as client:
            answer = await client.get("/contacts", params={"per_page": 1})
            waits.append(client._tokens.lock_wait_seconds)
            refreshes.append(client._tokens.refresh_count)
            return answer

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(one() for _ in range(64))))

    answers = asyncio.run(main())
    assert len(answers) == 64 and all(a["code"] == 0 for a in answers)
    assert _token_requests(sandbox) - before == 1
    assert sum(refreshes) == 1
    assert max(waits) < MAX_LOCK_WAIT, f"a client waited {max(waits):.2f} s for the locks"


def test_64_clients_in_64_threads_refresh_once(sandbox: Sandbox, environ: dict[str, str]) -> None:
    before = _token_requests(sandbox)
    barrier = threading.Barrier(64)
    codes: list[int] = []
    waits: list[float] = []

    def one() -> None:
        with zbooks.Client() as client:
            barrier.wait()
            codes.append(client.get("/contacts", params={"per_page": 1})["code"])
            waits.append(client._tokens.lock_wait_seconds)

    threads = [threading.Thread(target=one) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [0] * 64
    assert _token_requests(sandbox) - before == 1
    assert max(waits) < MAX_LOCK_WAIT, f"a client waited {max(waits):.2f} s for the locks"


def sandbox_secret(store_file: Path) -> str:
    token = FileStore(store_file).load()
    assert token is not None and token.client_secret
    return token.client_secret


def _run_workers(env: dict[str, str], mode: str, processes: int, per_process: int) -> list[Any]:
    start_at = time.monotonic() + 2.0  # system-wide; every process has imported zbooks by then
    # The workers see only the profile's settings, not the developer's ZBOOKS_*.
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZBOOKS_")}
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), mode, str(per_process), str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**clean, **env},
        )
        for _ in range(processes)
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


@pytest.mark.parametrize("mode", ["threads", "tasks"])
def test_4_processes_on_one_token_file_refresh_once(
    sandbox: Sandbox, profile: dict[str, str], mode: str
) -> None:
    before = _token_requests(sandbox)
    reports = _run_workers(profile, mode, processes=4, per_process=16)
    assert [r["errors"] for r in reports] == [[]] * 4
    assert sum(r["ok"] for r in reports) == 64
    assert sum(r["refreshes"] for r in reports) == 1
    assert _token_requests(sandbox) - before == 1
    assert max(r["max_wait"] for r in reports) < MAX_LOCK_WAIT


def test_refresh_token_from_the_environment_with_a_token_store_refreshes_once(
    sandbox: Sandbox, profile: dict[str, str]
) -> None:
    """The constructor seeds a given store with the environment's refresh token. It used
    to rewrite the file without the lock, clobbering a token another process had just
    saved: 4 processes x 16 threads made 2 refreshes instead of 1."""
    store_file = token_path("default", profile)
    refresh_token = FileStore(store_file).load().refresh_token  # type: ignore[union-attr]
    env = {
        **profile,
        "ZBOOKS_REFRESH_TOKEN": str(refresh_token),
        "ZBOOKS_CLIENT_SECRET": sandbox_secret(store_file),
        "ZBOOKS_WORKER_TOKEN_STORE": str(store_file),
    }
    before = _token_requests(sandbox)
    reports = _run_workers(env, "threads-store", processes=4, per_process=16)
    assert [r["errors"] for r in reports] == [[]] * 4
    assert sum(r["ok"] for r in reports) == 64
    assert _token_requests(sandbox) - before == 1
