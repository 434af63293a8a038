"""``zbooks.testing.sandbox()`` outside pytest fixtures: a context manager and a decorator,
and the snapshot semantics the fixtures rely on, over the control plane."""

from __future__ import annotations

import http.server
import os
import threading
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

import zbooks
import zbooks.testing
from zbooks.testing.control import SandboxControlError


def test_context_manager_points_plain_clients_at_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZBOOKS_API_URL", "https://books.example.invalid/api/v3")
    with zbooks.testing.sandbox(seed="empty", plan="standard") as sb:
        assert os.environ["ZBOOKS_API_URL"] == sb.api_url
        with zbooks.Client() as client:  # no arguments: the environment points at sb
            assert list(client.invoices.list()) == []
            assert client.organizations()[0]["organization_id"] == sb.org_id
        base = sb.base_url
    assert os.environ["ZBOOKS_API_URL"] == "https://books.example.invalid/api/v3"
    with pytest.raises(httpx2.TransportError):
        httpx2.get(base + "/books/v3/contacts", timeout=2)  # stopped with the block


def test_decorator_runs_each_call_in_a_fresh_sandbox() -> None:
    @zbooks.testing.sandbox()
    def create_and_count() -> int:
        with zbooks.Client() as client:
            client.contacts.create(body={"contact_name": "Decorated"})
            return sum(c.contact_name == "Decorated" for c in client.contacts.list())

    assert create_and_count() == 1
    assert create_and_count() == 1  # the first call's contact is gone
    assert "ZBOOKS_SANDBOX_URL" not in os.environ


def test_snapshots_clock_and_errors() -> None:
    with zbooks.testing.sandbox(patch_env=False) as sb:
        client = sb.client()
        start = sb.clock.now()
        saved = sb.snapshot("before")
        first = client.contacts.create(body={"contact_name": "First"}).contact_id
        sb.clock.advance(timedelta(days=2))
        assert sb.clock.now() - start >= timedelta(days=2)
        sb.restore(saved)
        assert sb.clock.now() - start < timedelta(days=1)  # the clock came back too
        again = client.contacts.create(body={"contact_name": "Again"}).contact_id
        assert again == first  # ids restart from the snapshot
        target = datetime.now(UTC) + timedelta(days=400)
        assert abs((sb.clock.set(target) - target).total_seconds()) < 5
        with pytest.raises(SandboxControlError, match="only moves forward"):
            sb.clock.set(start)
        with pytest.raises(SandboxControlError, match="no snapshot") as caught:
            sb.restore(zbooks.testing.Snapshot(id="snap_999", name="?"))
        assert caught.value.status == 404
        with pytest.raises(SandboxControlError, match="no seeder for planets"):
            sb.seed(planets=3)
        with pytest.raises(ValueError, match="say what to seed"):
            sb.seed()


class _FailingHook(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        _FailingHook.hits.append(self.path)
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_restore_drops_the_retries_of_the_abandoned_state() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FailingHook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        with zbooks.testing.sandbox(patch_env=False) as sb:
            saved = sb.snapshot()
            fired = sb.control.trigger("invoice.created", url=target)
            assert fired["deliveries"][0]["status"] == "retrying"
            sb.clock.advance(timedelta(days=1))
            sb.control.call("POST", "/webhooks/flush", json={"timeout": 20})
            assert len(_FailingHook.hits) == 2  # the first attempt and one retry
            sb.restore(saved)
            assert sb.control.call("GET", "/webhooks/deliveries")["deliveries"] == []
            sb.clock.advance(timedelta(days=3))
            sb.control.call("POST", "/webhooks/flush", json={"timeout": 20})
            assert len(_FailingHook.hits) == 2  # nothing more was sent
    finally:
        server.shutdown()
        server.server_close()
