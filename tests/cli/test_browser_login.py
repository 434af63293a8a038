"""A real browser against the sandbox's consent page: ``zbooks login --no-browser``
prints the URL, headless Chromium opens it and clicks Accept, the loopback redirect
completes the login, and ``zbooks orgs`` then works."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Sandbox
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.server import SandboxServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def consent_sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(port=0, auto_approve=False, seed="demo")
    with SandboxServer(config) as server:
        yield Sandbox(server, config)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_browser_login_then_orgs(consent_sandbox: Sandbox, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    client = consent_sandbox.control(
        "POST",
        "/clients",
        name="browser test",
        redirect_uris=[f"http://127.0.0.1:{port}/oauth-callback"],
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ZBOOKS_")},
        "ZBOOKS_CONFIG_DIR": str(tmp_path / "home"),
        "ZBOOKS_ACCOUNTS_URL": consent_sandbox.base_url,
    }
    login = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zbooks",
            "login",
            "--no-browser",
            "--port",
            str(port),
            "--client-id",
            client["client_id"],
            "--client-secret",
            client["client_secret"],
            "--timeout",
            "60",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        url = ""
        lines: list[str] = []
        while not url:
            line = login.stderr.readline() if login.stderr else ""
            if not line:
                break
            lines.append(line)
            if line.startswith("http"):
                url = line.strip()
        assert url.startswith(f"{consent_sandbox.base_url}/oauth/v2/auth?"), "".join(lines)
        assert "code_challenge=" in url and "state=" in url

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(url)
                assert "would like to access your data" in page.content()
                page.click("button.accept")
                page.wait_for_selector("text=Signed in", timeout=15_000)
            finally:
                browser.close()

        rest: list[str] = []
        reader = threading.Thread(
            target=lambda: rest.extend(login.stderr.readlines() if login.stderr else [])
        )
        reader.start()
        assert login.wait(timeout=30) == 0, "".join(lines + rest)
        reader.join(5)
        assert any("Logged in (browser)" in line for line in rest), "".join(rest)
    finally:
        if login.poll() is None:
            login.kill()
            login.wait()

    orgs = subprocess.run(
        [sys.executable, "-m", "zbooks", "orgs", "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert orgs.returncode == 0, orgs.stderr
    assert consent_sandbox.server.app.demo.org_id in orgs.stdout
