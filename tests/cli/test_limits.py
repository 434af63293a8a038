"""Issue #12, point 3: every ``zbooks`` process shares one rate-limit budget (SQLite in
the user cache directory), long waits say why, and ``zbooks usage`` costs nothing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import Login, Runner
from zbooks.core.ratelimit import Limits, SQLiteBackend


def _usage(cli: Runner, org: str) -> dict[str, object]:
    result = cli("usage", "--org", org, "--output", "json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert len(rows) == 1
    row: dict[str, object] = rows[0]
    return row


def _org(cli: Runner) -> str:
    assert cli("contacts", "list", "--per-page", "1").code == 0
    rows = json.loads(cli("usage", "--output", "json").out)
    assert len(rows) == 1  # the organization the call above used
    return str(rows[0]["organization_id"])


def test_consecutive_and_parallel_commands_share_one_budget(
    cli: Runner, logged_in: Login, home: Path
) -> None:
    org = _org(cli)
    before = _usage(cli, org)
    assert (home / "cache" / "ratelimit.sqlite3").exists()
    assert cli("invoices", "list", "--per-page", "1").code == 0
    assert cli("contacts", "list", "--per-page", "1").code == 0
    after = _usage(cli, org)
    assert after["minute_used"] == int(before["minute_used"]) + 2  # type: ignore[call-overload]
    assert after["today_used"] == int(before["today_used"]) + 2  # type: ignore[call-overload]
    assert after["zoho_remaining"] is not None  # Zoho's X-Rate-Limit-Remaining, remembered

    env = {k: v for k, v in os.environ.items()}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "zbooks", "invoices", "list", "--per-page", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        for _ in range(2)
    ]
    for process in processes:
        _out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    parallel = _usage(cli, org)
    # today's count: the minute window could slide past the first calls on a slow machine
    assert parallel["today_used"] == int(after["today_used"]) + 2  # type: ignore[call-overload]


def test_usage_spends_no_call(cli: Runner, logged_in: Login) -> None:
    org = _org(cli)
    first = _usage(cli, org)
    second = _usage(cli, org)
    assert first["minute_used"] == second["minute_used"]
    assert first["zoho_remaining"] == second["zoho_remaining"]
    table = cli("usage", "--output", "table")
    assert org in table.out and "minute_left" in table.out


def test_a_long_wait_says_why(cli: Runner, logged_in: Login, home: Path) -> None:
    org = _org(cli)
    # Another process spent the whole minute's budget 53 s ago: the next slot opens in
    # about 7 s, and this command must say so instead of stalling in silence.
    with SQLiteBackend(home / "cache" / "ratelimit.sqlite3") as backend:
        spent = time.time() - 53
        limits = Limits(requests_per_window=100, window=60.0, daily_limit=10000)
        for _ in range(100):
            backend.try_take(org, lambda: spent, limits)
    started = time.monotonic()
    result = cli("contacts", "list", "--per-page", "1")
    assert result.code == 0, result.err
    assert time.monotonic() - started > 2
    assert re.search(r"waiting \d+ s for Zoho's 100-per-minute limit", result.err), result.err
    quick = cli("contacts", "list", "--per-page", "1")
    assert "waiting" not in quick.err


def test_a_429_wait_says_why(cli: Runner) -> None:
    """A sandbox that allows 1 call per 8 s answers back-to-back calls with 429 code 44
    and a Retry-After; the retry's wait is announced with its reason."""
    from tests.cli.conftest import Sandbox, login_with_code
    from zbooks.sandbox.config import SandboxConfig
    from zbooks.sandbox.server import SandboxServer

    config = SandboxConfig(
        port=0, auto_approve=True, seed="demo", rate_limit=1, rate_window=8.0,
        send_retry_after=True,
    )  # fmt: skip
    with SandboxServer(config) as server:
        login_with_code(cli, Sandbox(server, config))
        results = [cli("contacts", "list", "--per-page", "1") for _ in range(2)]
    assert all(r.code == 0 for r in results), [r.err for r in results]
    said = "".join(r.err for r in results)
    assert re.search(
        r"waiting \d+ s for Zoho's rate limit \(HTTP 429\) before retrying GET /contacts", said
    ), said
