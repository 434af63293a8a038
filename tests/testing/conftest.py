"""A sandbox in another process (``zbooks sandbox serve --port 0``), as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 60.0
ZBOOKS = str(Path(sys.executable).parent / "zbooks")  # the console script of this venv


@dataclass
class ServedSandbox:
    process: subprocess.Popen[str]
    base_url: str
    token: str
    inspector_link: str
    banner: str

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "ZBOOKS_SANDBOX_URL": self.base_url,
            "ZBOOKS_SANDBOX_TOKEN": self.token,
        }


def _read_banner(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "ZBOOKS_SANDBOX_TOKEN" in line:
            return "".join(lines)
    process.kill()
    raise RuntimeError("zbooks sandbox serve did not print its banner:\n" + "".join(lines))


@pytest.fixture(scope="module")
def served() -> Iterator[ServedSandbox]:
    process = subprocess.Popen(
        [ZBOOKS, "sandbox", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = _read_banner(process)
        url = re.search(r"export ZBOOKS_SANDBOX_URL=(\S+)", banner)
        token = re.search(r"export ZBOOKS_SANDBOX_TOKEN=(\S+)", banner)
        link = re.search(r"Inspector:\s+(\S+)", banner)
        assert url and token and link, banner
        yield ServedSandbox(process, url.group(1), token.group(1), link.group(1), banner)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
