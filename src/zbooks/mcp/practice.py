"""``zbooks mcp --sandbox``: a local Zoho with demo data, so an agent can rehearse.

The sandbox runs in this process on a free loopback port and is reached over HTTP like
Zoho, so the server under rehearsal is the very one used against a real organization:
same pipeline, limiter and token store. Credentials come from the sandbox's control
plane (a Self Client and a grant code, exchanged as in Zoho's self-client flow) and
live in a ``MemoryStore``: nothing is written to the user's profiles.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2

from zbooks.auth.tokens import MemoryStore, Token


@dataclass(frozen=True)
class Practice:
    """What a client needs to talk to the running sandbox."""

    base_url: str
    api_url: str
    client_id: str
    client_secret: str
    store: MemoryStore
    organization_id: str


@contextmanager
def practice_sandbox(*, seed: str = "demo") -> Iterator[Practice]:
    """Start a sandbox with ``seed`` data and sign in to it; stop it on exit."""
    from zbooks.auth.login import code_login
    from zbooks.sandbox.config import SandboxConfig
    from zbooks.sandbox.server import SandboxServer

    config = SandboxConfig(port=0, seed=seed, auto_approve=True)
    with SandboxServer(config) as server:
        base = server.base_url
        headers = {"Authorization": f"Bearer {config.control_token}"}
        with httpx2.Client(timeout=30.0) as http:
            response = http.post(
                f"{base}/_sandbox/clients",
                headers=headers,
                json={"name": "zbooks mcp", "client_type": "self"},
            )
            response.raise_for_status()
            client = response.json()
            response = http.post(
                f"{base}/_sandbox/self-client/code",
                headers=headers,
                json={"client_id": client["client_id"], "scope": "ZohoBooks.fullaccess.all"},
            )
            response.raise_for_status()
            code = response.json()["code"]
        token: Token = code_login(
            code,
            accounts_url=base,
            client_id=client["client_id"],
            client_secret=client["client_secret"],
        ).token
        yield Practice(
            base_url=base,
            api_url=f"{base}/books/v3",
            client_id=client["client_id"],
            client_secret=client["client_secret"],
            store=MemoryStore(token),
            organization_id=str(server.app.demo.org_id),
        )
