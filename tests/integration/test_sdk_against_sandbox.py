"""The SDK against the sandbox over real loopback HTTP: login, calls, refresh, revoke."""

from __future__ import annotations

import httpx2
import pytest

from zbooks import Client
from zbooks.auth.login import browser_login, code_login
from zbooks.auth.tokens import MemoryStore
from zbooks.errors import AuthenticationError, InvalidGrantError, NotFoundError

from .conftest import Sandbox, free_port


def _client(sandbox: Sandbox, client_id: str, secret: str, store: MemoryStore) -> Client:
    return Client(
        client_id=client_id,
        client_secret=secret,
        token_store=store,
        accounts_url=sandbox.base_url,
        api_url=sandbox.api_url,
        env={},
    )


def test_browser_login_then_calls(sandbox: Sandbox) -> None:
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/oauth-callback"
    app = sandbox.control("POST", "/clients", name="Integration", redirect_uris=[redirect])

    def approve(url: str) -> None:
        # auto-approve: the consent URL redirects straight to our loopback callback.
        httpx2.get(url, follow_redirects=True, timeout=30)

    result = browser_login(
        accounts_url=sandbox.base_url,
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        port=port,
        open_browser=False,
        show_url=approve,
        timeout=30,
    )
    token = result.token
    assert token.refresh_token and token.access_token
    assert token.api_domain == sandbox.base_url
    assert token.accounts_server == sandbox.base_url
    with _client(sandbox, app["client_id"], app["client_secret"], MemoryStore(token)) as client:
        orgs = client.organizations()
        assert len(orgs) == 1
        # The same attribute is the typed resource: one organization by id.
        org = client.organizations.get(orgs[0]["organization_id"])
        assert org.organization_id == orgs[0]["organization_id"] and org.name == orgs[0]["name"]
        contacts = list(client.paginate("/contacts", per_page=2))
        assert contacts and all("contact_id" in c for c in contacts)
        with pytest.raises(NotFoundError) as info:
            client.get("/contacts/999999999")
        assert info.value.code == 1002


def test_self_client_code_refresh_after_expiry_and_revoke(sandbox: Sandbox) -> None:
    client_id, secret, code = sandbox.self_client()
    token = code_login(
        code, accounts_url=sandbox.base_url, client_id=client_id, client_secret=secret
    ).token
    with pytest.raises(InvalidGrantError):  # codes are single use
        code_login(code, accounts_url=sandbox.base_url, client_id=client_id, client_secret=secret)
    store = MemoryStore(token)
    with _client(sandbox, client_id, secret, store) as client:
        client.get("/contacts")
        first = store.load()
        sandbox.control("POST", "/clock/advance", seconds=3700)
        client.get("/contacts")  # the cached token expired: refreshed before the call
        second = store.load()
        assert first and second and first.access_token != second.access_token
        assert second.refresh_token == token.refresh_token  # Zoho never rotates them

        revoke = httpx2.post(
            f"{sandbox.base_url}/oauth/v2/token/revoke", params={"token": token.refresh_token}
        )
        assert revoke.json() == {"status": "success"}
        with pytest.raises((AuthenticationError, InvalidGrantError)):
            client.get("/contacts")
