"""The uvicorn runner and the ``zbooks sandbox serve`` command line."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx2
import pytest
from typer.testing import CliRunner

from tests.sandbox.helpers import make_config, probe_registry
from zbooks.cli.main import app as cli_app
from zbooks.cli.main import run
from zbooks.sandbox.server import SandboxServer, banner, bind_socket


def test_server_picks_a_free_port_serves_and_stops() -> None:
    config = make_config()
    with SandboxServer(config, registry=probe_registry()) as server:
        assert config.port != 0
        assert server.base_url == f"http://127.0.0.1:{config.port}"
        info = httpx2.get(f"{server.base_url}/oauth/serverinfo", timeout=5)
        assert info.status_code == 200
        assert info.json()["locations"]["us"] == server.base_url
        unauthenticated = httpx2.get(f"{server.base_url}/books/v3/probe", timeout=5)
        assert unauthenticated.json()["code"] == 14
        port = config.port
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"http://127.0.0.1:{port}/oauth/serverinfo", timeout=2)


def test_the_socket_listens_before_the_url_is_announced() -> None:
    """The banner (and ``SandboxServer.base_url``) name the port before uvicorn runs: a
    client that connects in that moment queues instead of being refused."""
    config = make_config()
    sock = bind_socket(config)
    try:
        with socket.create_connection(("127.0.0.1", config.port), timeout=2):
            pass
    finally:
        sock.close()


def test_banner_names_everything_a_client_needs() -> None:
    with SandboxServer(make_config(), registry=probe_registry()) as server:
        text = banner(server.app)
        base = server.base_url
        demo = server.app.demo
    for expected in (
        f"{base}/books/v3",
        f"{base}/oauth/v2/token",
        server.config.control_token,
        demo.client_id,
        demo.client_secret,
        demo.redirect_uri,
        demo.org_id,
        f"ZBOOKS_ACCOUNTS_URL={base}",
        f"ZBOOKS_API_URL={base}/books/v3",
    ):
        assert expected in text


def test_cli_help_lists_the_sandbox_group() -> None:
    result = CliRunner().invoke(cli_app, ["--help"])
    assert result.exit_code == 0
    assert "sandbox" in result.output
    serve_help = CliRunner().invoke(cli_app, ["sandbox", "serve", "--help"])
    assert serve_help.exit_code == 0
    for option in (
        "--host",
        "--port",
        "--db",
        "--seed",
        "--client-id",
        "--client-secret",
        "--redirect-uri",
        "--auto-approve",
        "--rate-limit",
        "--plan",
        "--token-ttl",
    ):
        assert option in serve_help.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--rate-limit", "lots"], "--rate-limit"),
        (["--rate-limit", "0/60s"], "--rate-limit"),
        (["--plan", "gold"], "--plan"),
        (["--seed", "full"], "--seed"),
        (["--port", "70000"], "--port"),
        (["--token-ttl", "0"], "--token-ttl"),
        (["--redirect-uri", "ftp://x"], "--redirect-uri"),
    ],
)
def test_cli_bad_values_give_one_line_errors(args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(cli_app, ["sandbox", "serve", *args])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert fragment in errors[0]
    assert "Traceback" not in result.output


def test_cli_port_in_use_is_a_clean_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as exited:
            run(["sandbox", "serve", "--port", str(port), "--seed", "empty"])
    assert exited.value.code == 1  # a usage error (the documented exit code 1)
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_python_dash_m_zbooks_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zbooks", "sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout


def test_cli_help_does_not_import_the_sandbox() -> None:
    code = (
        "import sys\n"
        "from zbooks.cli.main import app\n"
        "heavy = [m for m in ('starlette', 'uvicorn', 'zbooks.sandbox.app') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""
