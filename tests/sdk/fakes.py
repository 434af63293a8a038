"""A scripted fake of Zoho for SDK unit tests (no network: httpx2.MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx2

API = "https://books.test/books/v3"
ACCOUNTS = "https://accounts.test"
Responder = Callable[[httpx2.Request], httpx2.Response]


def envelope(status: int = 200, **body: Any) -> httpx2.Response:
    return httpx2.Response(status, json={"code": 0, "message": "success", **body})


def error(status: int, code: int, message: str = "error", **extra: Any) -> httpx2.Response:
    return httpx2.Response(status, json={"code": code, "message": message, **extra})


@dataclass
class FakeZoho:
    """Routes by (method, path); each route is a list of responses consumed in order
    (the last one repeats) or a callable. Records every request."""

    routes: dict[tuple[str, str], list[Responder | httpx2.Response]] = field(default_factory=dict)
    requests: list[httpx2.Request] = field(default_factory=list)
    token_counter: int = 0

    def on(self, method: str, path: str, *responses: Responder | httpx2.Response) -> None:
        self.routes[(method, path)] = list(responses)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/oauth/v2/token" and ("POST", path) not in self.routes:
            self.token_counter += 1
            return httpx2.Response(
                200,
                json={
                    "access_token": f"1000.access{self.token_counter:027d}.x",
                    "api_domain": "https://books.test",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                },
            )
        key = (request.method, path.removeprefix("/books/v3"))
        script = self.routes.get(key)
        if not script:
            return error(404, 5, "Invalid URL Passed")
        responder = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(responder, httpx2.Response):
            return httpx2.Response(
                responder.status_code, headers=responder.headers, content=responder.content
            )
        return responder(request)

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def calls(self, method: str, path: str) -> list[httpx2.Request]:
        return [
            r
            for r in self.requests
            if r.method == method and r.url.path.removeprefix("/books/v3") == path
        ]


def form(request: httpx2.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def body(request: httpx2.Request) -> Any:
    return json.loads(request.content)
