"""docs/testing.md runs: its test blocks as a user's test files under pytest, its other
Python blocks as a script, its shell block in bash."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
_BLOCK = re.compile(r"```(python|bash)\n(.*?)```", re.S)


def _blocks(language: str) -> list[str]:
    return [code for lang, code in _BLOCK.findall(DOC.read_text("utf-8")) if lang == language]


def test_the_page_starts_with_the_one_fixture_example() -> None:
    first = _blocks("python")[0]
    # One fixture argument (typed, so the example passes mypy --strict too).
    assert re.search(r"^def test_\w+\(zbooks_sandbox(: Sandbox)?\) -> None:", first, re.M)
    assert "conftest" not in first and "SandboxServer" not in first


def test_test_blocks_pass_under_pytest(pytester: pytest.Pytester) -> None:
    tests = [code for code in _blocks("python") if "def test_" in code]
    assert len(tests) >= 6
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    for number, code in enumerate(tests, 1):
        pytester.makepyfile(**{f"test_doc_block_{number}": code})
    expected = sum(len(re.findall(r"^def test_", code, re.M)) for code in tests)
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=expected)


def test_script_blocks_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZBOOKS_CONFIG_DIR", str(tmp_path))
    scripts = [code for code in _blocks("python") if "def test_" not in code]
    assert scripts
    for number, code in enumerate(scripts, 1):
        namespace: dict[str, Any] = {"__name__": "docs_testing"}
        exec(compile(code, f"docs/testing.md script block {number}", "exec"), namespace)
    assert "ZBOOKS_SANDBOX_URL" not in os.environ  # the blocks' sandboxes cleaned up


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_shell_block_runs(tmp_path: Path) -> None:
    (block,) = _blocks("bash")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZBOOKS_")}
    env["ZBOOKS_CONFIG_DIR"] = str(tmp_path / "config")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so a failure cannot leave the sandbox running
    )
    try:
        out, err = process.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    assert process.returncode == 0, f"{out}\n{err}"
    assert "Traceback" not in err
    assert '"contacts"' in (tmp_path / "contacts.json").read_text()
    lines = out.splitlines()
    assert any("GET" in line and "/books/v3/contacts" in line and " 200 " in line for line in lines)
    assert "429" in lines
    assert any(line.startswith("Seeded 10 contacts, 500 invoices") for line in lines)
