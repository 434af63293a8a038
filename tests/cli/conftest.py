"""Fixtures for CLI tests: one sandbox per module on loopback, and a runner that calls
``zbooks.cli.main.main`` in-process with ``ZBOOKS_CONFIG_DIR`` in a temporary folder."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from zbooks.cli.main import main
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.server import SandboxServer


@dataclass
class Sandbox:
    server: SandboxServer
    config: SandboxConfig

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def control(self, method: str, path: str, **json: Any) -> Any:
        response = httpx2.request(
            method,
            f"{self.base_url}/_sandbox{path}",
            headers={"Authorization": f"Bearer {self.config.control_token}"},
            json=json or None,
            timeout=30,
        )
        assert response.status_code < 400, response.text
        return response.json()

    def self_client(self, scope: str = "ZohoBooks.fullaccess.all") -> tuple[str, str, str]:
        """Register a Self Client and mint a grant code: (client_id, secret, code)."""
        client = self.control("POST", "/clients", name="self", client_type="self")
        code = self.control(
            "POST", "/self-client/code", client_id=client["client_id"], scope=scope
        )["code"]
        return client["client_id"], client["client_secret"], code


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(port=0, auto_approve=True, seed="demo")
    with SandboxServer(config) as server:
        yield Sandbox(server, config)


@dataclass
class Result:
    code: int
    out: str
    err: str


Runner = Callable[..., Result]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated config + token directory; no ZBOOKS_* settings leak in."""
    for name in list(os.environ):
        if name.startswith("ZBOOKS_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "zbooks-home"
    monkeypatch.setenv("ZBOOKS_CONFIG_DIR", str(folder))
    # The shared rate-limit database and header cache (issue #12) stay per test too.
    monkeypatch.setenv("ZBOOKS_CACHE_DIR", str(folder / "cache"))
    return folder


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Runner:
    def run(*args: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@dataclass
class Login:
    client_id: str
    client_secret: str


def login_with_code(
    cli: Runner, sandbox: Sandbox, scope: str = "ZohoBooks.fullaccess.all", *extra: str
) -> Login:
    client_id, secret, code = sandbox.self_client(scope)
    result = cli(
        "login",
        "--code",
        code,
        "--client-id",
        client_id,
        "--client-secret",
        secret,
        "--accounts-url",
        sandbox.base_url,
        *extra,
    )
    assert result.code == 0, result.err
    return Login(client_id, secret)


@pytest.fixture
def logged_in(cli: Runner, sandbox: Sandbox) -> Login:
    return login_with_code(cli, sandbox)
