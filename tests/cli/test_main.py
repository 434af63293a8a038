"""The root command: lazy loading, exit codes, error rendering, and ``zbooks demo``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import Runner
from zbooks import errors as e
from zbooks.cli import errors
from zbooks.cli.output import Format, Printer, columns_for, resolve_format, unwrap

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def test_help_imports_nothing_heavy() -> None:
    """`zbooks --help` must not import the SDK pipeline, rich, the resource catalogue or
    the sandbox: that is what keeps it under the 300 ms budget."""
    code = (
        "import sys\n"
        "from zbooks.cli.main import main\n"
        "rc = main(['--help'])\n"
        "heavy = [m for m in ('httpx2', 'rich', 'pydantic', 'zbooks.resources._catalog',"
        " 'zbooks.core.client', 'zbooks.sandbox.app') if m in sys.modules]\n"
        "print(rc, heavy, file=sys.stderr)\n"
    )
    result = _python(code)
    assert result.stderr.strip().splitlines()[-1] == "0 []"
    assert "login" in result.stdout and "invoices" in result.stdout
    assert "Exit codes: 0 ok, 1 usage, 2 auth" in result.stdout


def test_usage_errors_exit_1(cli: Runner) -> None:
    assert cli("--no-such-flag").code == 1
    unknown = cli("frobnicate")
    assert unknown.code == 1 and "No such command 'frobnicate'" in unknown.err
    assert cli("login", "--port", "99999").code == 1
    assert cli().code == 0  # no arguments: help


def test_version(cli: Runner) -> None:
    result = cli("--version")
    assert result.code == 0 and result.out.startswith("zbooks ")


def test_debug_shows_the_traceback_only_when_asked(cli: Runner) -> None:
    quiet = cli("orgs")
    assert quiet.code == 2 and "Traceback" not in quiet.err
    loud = cli("--debug", "orgs")
    assert loud.code == 2 and "Traceback (most recent call last)" in loud.err
    assert loud.err.rstrip().splitlines()[-2].startswith("Error: ")


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (e.AuthenticationError("x", status=401, code=57), errors.AUTH),
        (e.InvalidGrantError("x", error="invalid_code"), errors.AUTH),
        (e.ConfigurationError("x"), errors.AUTH),
        (e.OrganizationError("x", status=400, code=6041), errors.AUTH),
        (e.NotFoundError("x", status=404, code=1002), errors.NOT_FOUND),
        (e.RateLimitError("x", status=429, code=44), errors.RATE_LIMITED),
        (e.DailyLimitExceededError("x", status=429, code=45), errors.RATE_LIMITED),
        (e.OAuthThrottledError("x", error="Access Denied"), errors.RATE_LIMITED),
        (e.ServerError("x", status=500, code=1000), errors.SERVER),
        (e.TransportError("x", method="GET", path="/", sent=False), errors.SERVER),
        (
            e.UncertainWriteError("x", method="POST", path="/", cause=ValueError()),
            errors.SERVER,
        ),
        (e.ValidationError("x", status=400, code=4), errors.VALIDATION),
        (e.DuplicateError("x", status=400, code=3062), errors.VALIDATION),
        (errors.CliError("x"), errors.USAGE),
    ],
)
def test_exit_codes(exc: BaseException, code: int) -> None:
    assert errors.exit_code_for(exc) == code


def test_report_is_one_error_line_and_one_hint_line() -> None:
    stream = io.StringIO()
    exc = e.NotFoundError("Invoice does not exist.", status=404, code=1002, method="GET",
                          path="/invoices/1")  # fmt: skip
    assert errors.report(exc, stream) == errors.NOT_FOUND
    lines = stream.getvalue().splitlines()
    assert lines == [
        "Error: [HTTP 404 code 1002] Invoice does not exist. (GET /invoices/1)",
        f"Hint: {exc.hint}",
    ]


def test_output_helpers() -> None:
    assert resolve_format(None, io.StringIO()) is Format.json
    assert resolve_format("CSV") is Format.csv
    assert unwrap({"code": 0, "message": "ok", "invoice": {"a": 1}}) == {"a": 1}
    assert unwrap({"code": 0, "message": "done"}) == {"message": "done"}
    items = [{"invoice_id": "1", "status": "paid", "line_items": [], "total": 2.5}]
    assert columns_for(items, "invoices") == ["invoice_id", "status", "total"]
    assert columns_for([{"a": 1, "b": {"c": 2}}]) == ["a"]
    out = io.StringIO()
    Printer(Format.csv, stream=out).records([{"a": 1, "b": {"c": [2]}}, {"a": None, "d": True}])
    assert out.getvalue().splitlines() == ["a,b,d", '1,"{""c"":[2]}",', ",,true"]


def test_demo_runs_offline_fast_and_leaves_profiles_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('default_profile = "mine"\n')
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "zbooks", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ZBOOKS_CONFIG_DIR": str(home), "NO_COLOR": "1"},
        cwd=ROOT,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 10
    out = result.stdout
    for step in ("1. Sign up", "2. Register a client", "3. Generate credentials",
                 "4. Authorize", "5. Get tokens", "6. Make a request"):  # fmt: skip
        assert step in out
    assert "INV-0000" in out and "records" in out
    assert "refreshed the token once" in out
    assert "Error: [HTTP 400 code 6041]" in out and "Hint:" in out
    assert sorted(p.name for p in home.iterdir()) == ["config.toml"]
    assert json.dumps(out)  # plain text


def test_completion_is_available(cli: Runner) -> None:
    result = cli("--help")
    assert "--install-completion" in result.out
