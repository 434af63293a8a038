"""Fixtures for webhook tests: an in-memory ledger with an engine whose HTTP goes to an
in-process recorder, a real loopback receiver that can be stopped and restarted on the
same port, and a sandbox served over loopback HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
import uvicorn

from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, load_routes
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.db import Database
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.organizations import create_organization
from zbooks.sandbox.server import SandboxServer
from zbooks.sandbox.webhooks import WebhookEngine, WebhookSettings

SECRET = "whsecret0123456789"
HOOK_URL = "http://127.0.0.1:9/hook"  # never dialled: the recorder transport answers


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@dataclass
class Recorder:
    """An httpx2 transport standing in for the receiver: records requests, answers with
    the next scripted status (200 once the script runs out)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[httpx2.Request] = field(default_factory=list)
    threads: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        with self.lock:
            self.requests.append(request)
            self.threads.append(threading.current_thread().name)
            status = self.statuses.pop(0) if self.statuses else 200
        return httpx2.Response(status, text="ok" if status < 300 else "nope")

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)


@dataclass
class Env:
    ledger: Ledger
    engine: WebhookEngine
    recorder: Recorder
    call: Callable[..., BooksResponse]

    @property
    def clock(self) -> Clock:
        return self.ledger.clock

    def ok(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, path, **kwargs)
        assert response.body is not None and response.body["code"] == 0, response.body
        return response.body

    def settle(self) -> None:
        assert self.engine.wait_idle(10)


@pytest.fixture
def env() -> Iterator[Env]:
    db = Database(":memory:")
    org = create_organization(db, name="Hooks Org", owner_user_id="u1")
    clock = Clock()
    ledger = Ledger(db=db, clock=clock, org_id=org["organization_id"])
    recorder = Recorder()
    registry = load_routes()
    settings = WebhookSettings(transport=recorder.transport, poll_interval=0.01, idle_exit=0.2)
    engine = WebhookEngine(db, clock, registry, settings)
    engine.install()

    def call(
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> BooksResponse:
        route, params = registry.match(method, path)
        request = BooksRequest(
            method=method,
            path=path,
            path_params=params,
            query=query or {},
            body=body or {},
            ledger=ledger,
            user_id="u1",
        )
        if method == "GET":
            return route.handler(request)
        with db.transaction():  # as the HTTP layer does for writes
            return route.handler(request)

    yield Env(ledger, engine, recorder, call)
    engine.close()
    db.close()


def make_hook(env: Env, **fields: Any) -> dict[str, Any]:
    body = {"webhook_name": "Invoices", "url": HOOK_URL, "entity": "invoice", **fields}
    return env.ok("POST", "/settings/webhooks", body=body)["webhook"]


def make_rule(env: Env, webhook_id: str, **fields: Any) -> dict[str, Any]:
    body = {
        "workflow_name": "On invoice",
        "entity": "invoice",
        "rule_type": "add",
        "instant_actions": [{"action_type": "webhook", "action_id": webhook_id}],
        **fields,
    }
    return env.ok("POST", "/settings/workflows", body=body)["workflow"]


def make_customer(env: Env, name: str = "Acme") -> str:
    body = {"contact_name": name, "contact_type": "customer"}
    return str(env.ok("POST", "/contacts", body=body)["contact"]["contact_id"])


def make_invoice(env: Env, customer_id: str, rate: float = 100.0) -> dict[str, Any]:
    body = {
        "customer_id": customer_id,
        "line_items": [{"name": "Work", "rate": rate, "quantity": 1}],
    }
    invoice: dict[str, Any] = env.ok("POST", "/invoices", body=body)["invoice"]
    return invoice


# --- a real receiver on loopback --------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopbackServer:
    """Serve an ASGI app on 127.0.0.1:port in a thread; ``stop`` and ``start`` again on
    the same port simulate a receiver that goes down and comes back."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.app = app
        self.port = port or free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/zoho"

    def start(self) -> LoopbackServer:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, daemon=True, name="test-receiver")
        self._thread.start()
        assert wait_until(lambda: server.started, 10), "receiver did not start"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = None
        self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Sandbox:
    server: SandboxServer
    config: SandboxConfig

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def api_url(self) -> str:
        return self.base_url + "/books/v3"

    @property
    def engine(self) -> WebhookEngine:
        engine: WebhookEngine = self.server.app.webhooks
        return engine

    def histories(self) -> list[dict[str, Any]]:
        """Delivery records read straight from the sandbox's database, newest first.

        Tests poll this rather than the API: polling the API would spend the
        organization's 100 calls a minute and end in 429s.
        """
        from zbooks.sandbox.webhooks.modules import HISTORIES

        app = self.server.app
        ledger = Ledger(db=app.db, clock=app.clock, org_id=app.demo.org_id)
        return list(reversed(ledger.store.find(HISTORIES, [])))

    def control(self, method: str, path: str, expect: int = 200, **json: Any) -> Any:
        response = httpx2.request(
            method,
            f"{self.base_url}/_sandbox{path}",
            headers={"Authorization": f"Bearer {self.config.control_token}"},
            json=json or None,
            timeout=60,
        )
        assert response.status_code == expect, response.text
        return response.json()

    def client(self) -> Any:
        from zbooks import Client
        from zbooks.auth.login import code_login
        from zbooks.auth.tokens import MemoryStore

        app = self.control("POST", "/clients", expect=201, name="hooks", client_type="self")
        code = self.control(
            "POST",
            "/self-client/code",
            client_id=app["client_id"],
            scope="ZohoBooks.fullaccess.all",
        )["code"]
        token = code_login(
            code,
            accounts_url=self.base_url,
            client_id=app["client_id"],
            client_secret=app["client_secret"],
        ).token
        return Client(
            client_id=app["client_id"],
            client_secret=app["client_secret"],
            token_store=MemoryStore(token),
            accounts_url=self.base_url,
            api_url=self.api_url,
            organization_id=self.server.app.demo.org_id,
            env={},
        )


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(port=0, auto_approve=True, seed="demo")
    with SandboxServer(config) as server:
        server.app.webhooks.settings.poll_interval = 0.01
        yield Sandbox(server, config)
