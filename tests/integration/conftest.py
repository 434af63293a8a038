"""One sandbox on a free loopback port for the integration tests of a module."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.server import SandboxServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
