"""A full flow at DEBUG leaves no secret in logs, exception texts or reprs."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import httpx2
import pytest

from zbooks import Client
from zbooks.auth.oauth import OAuthClient
from zbooks.auth.tokens import FileStore
from zbooks.errors import ZBooksError

from .fakes import ACCOUNTS, API, FakeZoho, envelope, error

CLIENT_SECRET = "client-secret-7f3a9c"
GRANT_CODE = "1000.grantcode1234567890abcdef.0123456789"
REFRESH = "1000.refreshtoken0123456789abcdef.fedcba9876"
SECRETS = (CLIENT_SECRET, GRANT_CODE, REFRESH)


def test_debug_flow_leaks_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="zbooks")  # whatever an earlier CLI run set
    fake = FakeZoho()
    issued: list[str] = []

    def token_endpoint(request: httpx2.Request) -> httpx2.Response:
        access = f"1000.accesstoken{len(issued):020d}.abcdef"
        issued.append(access)
        return httpx2.Response(
            200,
            json={
                "access_token": access,
                "refresh_token": REFRESH,
                "api_domain": API.removesuffix("/books/v3"),
                "token_type": "Bearer",
                "expires_in": 3600,
            },
        )

    fake.on("POST", "/oauth/v2/token", token_endpoint)
    fake.on(
        "GET",
        "/invoices",
        error(401, 57, "You are not authorized to perform this operation"),
        envelope(invoices=[], page_context={"has_more_page": False}),
    )
    fake.on("POST", "/invoices", httpx2.Response(503, text="<html>down</html>"))
    fake.on("GET", "/contacts/1", error(404, 1002, "Contact does not exist."))
    http = httpx2.Client(transport=fake.transport())

    oauth = OAuthClient(ACCOUNTS, "1000.CID", CLIENT_SECRET, http=http)
    token = oauth.exchange_code(GRANT_CODE, redirect_uri="http://127.0.0.1/cb")
    store = FileStore(tmp_path / "tokens.json")
    store.save(token)

    texts: list[str] = [repr(oauth), repr(token), repr(store)]
    client = Client(
        client_id="1000.CID",
        client_secret=CLIENT_SECRET,
        token_store=store,
        organization_id="1",
        accounts_url=ACCOUNTS,
        api_url=API,
        rate_limiter=False,
        http_client=http,
        env={},
    )
    texts.append(repr(client))
    client.get("/invoices")  # 57 -> refresh -> replay
    for call in (
        lambda: client.post("/invoices", json={"x": 1}),
        lambda: client.get("/contacts/1"),
    ):
        with pytest.raises(ZBooksError) as info:
            call()
        texts += [str(info.value), repr(info.value), str(info.value.__cause__ or "")]

    texts += [record.getMessage() for record in caplog.records]
    assert any("GET /invoices" in t for t in texts), "the flow was logged at DEBUG"
    blob = "\n".join(texts)
    for secret in (*SECRETS, *issued):
        assert secret not in blob
    assert stat.S_IMODE(os.stat(tmp_path / "tokens.json").st_mode) == 0o600
