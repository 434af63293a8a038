"""Shared helpers for the sandbox's HTTP-layer tests.

``Sandbox`` wraps an in-process ``SandboxApp`` with an ``httpx2`` client on an ASGI
transport (no sockets), and mints real access tokens through the Accounts service so the
auth path under test is the production one. ``probe_registry`` is a tiny Books route
table whose handlers exist only to observe what the dispatcher hands them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from zbooks.sandbox.app import SandboxApp, create_app
from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, Registry, ok
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.errors import rule_violation

FULL_ACCESS = "ZohoBooks.fullaccess.all"
BASE = "http://sandbox.test"


def probe_registry() -> Registry:
    """Routes under ``/probe`` that echo what they received or write a record."""
    registry = Registry()

    def echo(request: BooksRequest) -> BooksResponse:
        return ok(
            echo={
                "method": request.method,
                "path": request.path,
                "path_params": request.path_params,
                "query": dict(request.query),
                "body": request.body,
                "files": {k: v.decode("latin-1") for k, v in request.files.items()},
                "org_id": request.org_id,
                "user_id": request.user_id,
            }
        )

    def create(request: BooksRequest) -> BooksResponse:
        store = request.ledger.store
        record_id = store.new_id()
        record = {"probe_id": record_id, **request.body}
        store.insert("probes", record_id, record, request.ledger.now())
        return ok("The probe has been created.", status=201, probe=record)

    def create_then_reject(request: BooksRequest) -> BooksResponse:
        store = request.ledger.store
        store.insert("probes", store.new_id(), {"doomed": True}, request.ledger.now())
        raise rule_violation("Rejected after writing.")

    def create_then_crash(request: BooksRequest) -> BooksResponse:
        store = request.ledger.store
        store.insert("probes", store.new_id(), {"doomed": True}, request.ledger.now())
        raise RuntimeError("boom")

    def pdf(request: BooksRequest) -> BooksResponse:
        return BooksResponse(
            content=b"%PDF-1.4 probe",
            media_type="application/pdf",
            headers={"Content-Disposition": 'attachment; filename="probe.pdf"'},
        )

    registry.add("GET", "/probe", echo, scope="contacts")
    registry.add("POST", "/probe", create, scope="contacts")
    registry.add("PUT", "/probe/{probe_id}", echo, scope="contacts")
    registry.add("DELETE", "/probe/{probe_id}", echo, scope="contacts")
    registry.add("GET", "/probe/{probe_id}", echo, scope="contacts")
    registry.add("POST", "/probe/echo", echo, scope="contacts")
    registry.add("POST", "/probe/reject", create_then_reject, scope="contacts")
    registry.add("POST", "/probe/crash", create_then_crash, scope="contacts")
    registry.add("GET", "/probe/pdf", pdf, scope="invoices")
    registry.add("GET", "/orgless", echo, scope="settings", needs_org=False)
    return registry


def make_config(tmp_path: Path | None = None, **overrides: Any) -> SandboxConfig:
    """A small, fast configuration: empty seed, and a file db under ``tmp_path``."""
    values: dict[str, Any] = {"seed": "empty", "port": 0}
    if tmp_path is not None:
        values["db_path"] = str(tmp_path / "sandbox.db")
    values.update(overrides)
    return SandboxConfig(**values)


@dataclass
class Sandbox:
    app: SandboxApp
    client: httpx2.AsyncClient
    _self_client: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def org_id(self) -> str:
        return self.app.demo.org_id

    @property
    def control(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.app.config.control_token}"}

    def self_client(self) -> dict[str, Any]:
        if self._self_client is None:
            self._self_client = self.app.accounts.register_client(
                name="tests", redirect_uris=[], client_type="self"
            )
        return self._self_client

    def token(
        self, scope: str = FULL_ACCESS, *, org_id: str | None = None, user_id: str | None = None
    ) -> str:
        """A real access token, minted the way the API console + token endpoint would."""
        client = self.self_client()
        code = self.app.accounts.issue_self_client_code(
            client["client_id"], scope, org_id=org_id, user_id=user_id
        )
        body = self.app.accounts.token(
            {
                "grant_type": "authorization_code",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "code": code,
            },
            base_url=BASE,
        )
        return str(body["access_token"])

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Zoho-oauthtoken {token or self.token()}"}

    async def books(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: dict[str, str] | None = None,
        org: bool = True,
        **kwargs: Any,
    ) -> httpx2.Response:
        """Call ``/books/v3<path>`` with a full-access token and the demo org by default."""
        query = dict(params or {})
        if org:
            query.setdefault("organization_id", self.org_id)
        headers = {**self.auth(token), **kwargs.pop("headers", {})}
        return await self.client.request(
            method, "/books/v3" + path, params=query, headers=headers, **kwargs
        )


@asynccontextmanager
async def running(
    config: SandboxConfig | None = None,
    *,
    registry: Registry | None = None,
    client_addr: tuple[str, int] = ("127.0.0.1", 50000),
) -> AsyncIterator[Sandbox]:
    """An in-process sandbox (probe routes unless ``registry`` is given)."""
    app = create_app(config or make_config(), registry=registry or probe_registry())
    transport = httpx2.ASGITransport(app=app.asgi, client=client_addr)
    try:
        async with httpx2.AsyncClient(transport=transport, base_url=BASE) as client:
            yield Sandbox(app=app, client=client)
    finally:
        app.close()


def count_probes(app: SandboxApp, org_id: str | None = None) -> int:
    with app.db.read() as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM records WHERE module='probes' AND org_id=?",
            (org_id or app.demo.org_id,),
        ).fetchone()
    return int(row["n"])


def json_of(response: httpx2.Response) -> dict[str, Any]:
    data = json.loads(response.content)
    assert isinstance(data, dict)
    return data
