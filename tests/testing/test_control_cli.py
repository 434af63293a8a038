"""``zbooks sandbox`` control commands against a sandbox running in another process."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

import zbooks
import zbooks.testing
from tests.testing.conftest import ZBOOKS, ServedSandbox
from zbooks.cli.main import main
from zbooks.testing.control import ControlClient


@pytest.fixture
def cli(
    served: ServedSandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    monkeypatch.setenv("ZBOOKS_SANDBOX_URL", served.base_url)
    monkeypatch.setenv("ZBOOKS_SANDBOX_TOKEN", served.token)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["sandbox", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def control(served: ServedSandbox) -> Iterator[ControlClient]:
    with ControlClient(served.base_url, served.token) as client:
        yield client


def _count(control: ControlClient, module: str) -> int:
    org = next(o for o in control.state()["organizations"] if o["organization_id"])
    return int(org["modules"].get(module, 0))


def test_seed_then_reset(cli: Any, control: ControlClient) -> None:
    start = _count(control, "invoices")
    code, out, err = cli("seed", "--contacts", "3", "--invoices", "40")
    assert code == 0, err
    assert "Seeded 3 contacts, 40 invoices" in out
    assert _count(control, "invoices") == start + 40
    code, out, err = cli("reset")
    assert code == 0, err
    assert _count(control, "invoices") == start


def test_seed_needs_counts_and_rejects_unknown_options(cli: Any) -> None:
    code, _, err = cli("seed")
    assert code == 1 and "Error: Say what to seed." in err and "Traceback" not in err
    code, _, err = cli("seed", "--invoices", "-4")
    assert code != 0 and "Traceback" not in err


def test_clock_advance_and_set(cli: Any, control: ControlClient) -> None:
    before = float(control.clock()["time"])
    code, out, _ = cli("clock", "advance", "1d2h")
    assert code == 0 and "today" in out
    assert float(control.clock()["time"]) - before >= 26 * 3600
    code, _, err = cli("clock", "set", "2001-01-01")
    assert code == 1 and "only moves forward" in err
    code, _, err = cli("clock", "advance", "soon")
    assert code == 1 and "not a duration" in err


def test_faults_add_list_clear(cli: Any, control: ControlClient, served: ServedSandbox) -> None:
    code, out, _ = cli("faults", "add", "server_error", "--count", "1", "--path", "/items")
    assert code == 0 and "server_error" in out
    code, out, _ = cli("faults", "list")
    assert "server_error" in out and "/items" in out
    code, out, _ = cli("faults", "clear")
    assert code == 0 and "Cleared 1 fault rule." in out
    assert control.faults() == []
    code, _, err = cli("faults", "add", "meteor")
    assert code == 1 and "kind must be one of" in err


def test_token_then_requests(cli: Any, served: ServedSandbox) -> None:
    code, out, _ = cli("token")
    assert code == 0
    env = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
    with zbooks.Client(env=env) as client:
        assert list(client.contacts.list())
    code, out, _ = cli("requests", "--limit", "5")
    assert code == 0 and "GET    200" in out and "/books/v3/contacts" in out
    assert env["ZBOOKS_REFRESH_TOKEN"] not in out  # the log masks secrets
    code, out, _ = cli("token", "--code")
    assert code == 0 and out.strip().startswith("1000.")


def test_requests_follow_prints_new_requests(served: ServedSandbox) -> None:
    follower = subprocess.Popen(
        [ZBOOKS, "sandbox", "requests", "--follow", "--limit", "1"],
        env=served.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        marker = "/books/v3/following-marker"
        # Anything the sandbox answers is logged, a 404 too.
        done = threading.Event()

        def poke() -> None:
            while not done.wait(0.3):
                httpx2.get(served.base_url + marker)

        poker = threading.Thread(target=poke, daemon=True)
        poker.start()
        try:
            for _ in range(50):
                line = follower.stdout.readline()
                if marker in line:
                    break
            else:
                pytest.fail("requests --follow did not print the new request")
        finally:
            done.set()
            poker.join(5)
    finally:
        follower.terminate()
        follower.wait(10)


class _Receiver(http.server.BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        _Receiver.bodies.append(self.rfile.read(length))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_trigger_delivers_to_a_url(cli: Any) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        target = f"http://127.0.0.1:{server.server_address[1]}/hook"
        code, out, err = cli("trigger", "invoice.created", "--to", target)
        assert code == 0, err
        assert "-> 1 delivery" in out and "success" in out and target in out
        assert _Receiver.bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_errors_are_one_line(monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    monkeypatch.setenv("ZBOOKS_SANDBOX_TOKEN", "sbx_wrong")
    code, _, err = cli("clock", "show")
    assert code == 2 and err.startswith("Error:") and "Traceback" not in err
    monkeypatch.delenv("ZBOOKS_SANDBOX_TOKEN")
    code, _, err = cli("clock", "show")
    assert code == 1 and "No control token." in err
    code, _, err = cli("clock", "show", "--url", "http://127.0.0.1:9", "--token", "x")
    assert code == 5 and "Cannot reach the sandbox" in err


def test_the_plugin_api_steers_a_sandbox_in_another_process(served: ServedSandbox) -> None:
    with zbooks.testing.sandbox(url=served.base_url, token=served.token, patch_env=False) as sb:
        client = sb.client()
        client.contacts.create(body={"contact_name": "Cross Process"})
        assert any(e.method == "POST" for e in sb.requests)
        saved = sb.snapshot()
        client.contacts.create(body={"contact_name": "Gone After Restore"})
        sb.restore(saved)
        names = {c.contact_name for c in client.contacts.list()}
        assert "Cross Process" in names and "Gone After Restore" not in names
        sb.reset()
        assert "Cross Process" not in {c.contact_name for c in sb.client().contacts.list()}


def test_seed_orgs_hosts_a_fleet_with_its_own_credentials(
    cli: Any, control: ControlClient, tmp_path: Any
) -> None:
    before = {o["organization_id"] for o in control.state()["organizations"]}
    path = tmp_path / "tenants.json"
    code, out, err = cli("seed", "--orgs", "3", "--invoices", "4", "--credentials", str(path))
    assert code == 0, err
    assert "Seeded 3 organizations with 4 invoices each" in out
    assert "refresh" not in out  # no secret on the terminal
    assert path.stat().st_mode & 0o777 == 0o600
    tenants = json.loads(path.read_text())
    assert len({t["refresh_token"] for t in tenants}) == 3
    assert len({t["client_id"] for t in tenants}) == 3
    orgs = {o["organization_id"]: o for o in control.state()["organizations"]}
    new = [orgs[t["organization_id"]] for t in tenants]
    assert not before & {t["organization_id"] for t in tenants}
    assert [o["modules"].get("invoices") for o in new] == [4, 4, 4]
    # Each tenant's refresh token works for its own organization only.
    tenant = tenants[0]
    with zbooks.Client(
        client_id=tenant["client_id"],
        client_secret=tenant["client_secret"],
        refresh_token=tenant["refresh_token"],
        accounts_url=control.base_url,
        api_url=control.base_url + "/books/v3",
        env={},
    ) as client:
        assert [o["organization_id"] for o in client.organizations()] == [tenant["organization_id"]]
    code, _, err = cli("seed", "--orgs", "2", "--contacts", "3")
    assert code == 1 and "combine it only with --invoices" in err
