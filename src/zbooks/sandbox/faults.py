"""Fault injection: make the sandbox fail the way production Zoho (and networks) fail.

SDK retry logic is only trustworthy if it has met every failure it claims to handle:
429s of each kind, 5xx JSON, HTML error pages from the edge, slow answers, truncated
bodies, and the nastiest one, a write that committed but whose response never arrived
(``drop_after_commit``: a blind POST retry would create a duplicate).

Rules come from the control plane. A rule matches by method and path prefix (relative to
``/books/v3``; a prefix starting with ``/oauth`` targets the accounts endpoints instead),
fires with ``probability`` using a seedable RNG, and expires after ``count`` firings.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zbooks.sandbox.errors import CONCURRENCY_MESSAGE, PER_MINUTE_MESSAGE

BOOKS_PREFIX = "/books/v3"
JSON_TYPE = "application/json;charset=UTF-8"

# kind -> (status, body) for the faults that answer instead of the handler.
_JSON_FAULTS: dict[str, tuple[int, dict[str, Any]]] = {
    "rate_limit": (429, {"code": 44, "message": PER_MINUTE_MESSAGE}),
    "concurrency": (429, {"code": 1070, "message": CONCURRENCY_MESSAGE}),
    "server_error": (500, {"code": 1000, "message": "Internal error"}),
}
_HTML_FAULTS: dict[str, tuple[int, str]] = {
    "bad_gateway": (502, "502 Bad Gateway"),
    "unavailable": (503, "503 Service Temporarily Unavailable"),
}
IMMEDIATE_KINDS = frozenset({*_JSON_FAULTS, *_HTML_FAULTS})
MANGLING_KINDS = frozenset({"truncated", "drop_after_commit"})
KINDS = IMMEDIATE_KINDS | MANGLING_KINDS | {"slow"}
DEFAULT_SLOW_DELAY = 1.0


class FaultRuleError(ValueError):
    """A rule the control plane cannot accept (unknown kind, bad probability, ...)."""


@dataclass
class FaultRule:
    kind: str
    probability: float = 1.0
    count: int | None = None  # remaining firings; None = unlimited
    method: str | None = None
    path_prefix: str | None = None
    delay: float | None = None
    id: int = 0
    fired: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        if not isinstance(data, Mapping):
            raise FaultRuleError("a fault rule must be a JSON object")
        unknown = set(data) - {"kind", "probability", "count", "method", "path_prefix", "delay"}
        if unknown:
            raise FaultRuleError(f"unknown fault rule keys: {sorted(unknown)}")
        kind = data.get("kind")
        if kind not in KINDS:
            raise FaultRuleError(f"kind must be one of {sorted(KINDS)}")
        probability = _number(data.get("probability", 1.0), "probability")
        if not 0.0 <= probability <= 1.0:
            raise FaultRuleError("probability must be between 0 and 1")
        count = data.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise FaultRuleError("count must be an integer")
        if count is not None and count < 1:
            raise FaultRuleError("count must be at least 1")
        delay = data.get("delay")
        if delay is not None:
            delay = _number(delay, "delay")
            if delay < 0:
                raise FaultRuleError("delay must not be negative")
        method = data.get("method")
        prefix = data.get("path_prefix")
        if method is not None and not isinstance(method, str):
            raise FaultRuleError("method must be a string")
        if prefix is not None and not isinstance(prefix, str):
            raise FaultRuleError("path_prefix must be a string")
        return cls(
            kind=str(kind),
            probability=probability,
            count=count,
            method=method.upper() if method else None,
            path_prefix=_normalise_prefix(prefix) if prefix else None,
            delay=delay,
        )

    @property
    def targets_accounts(self) -> bool:
        return bool(self.path_prefix and self.path_prefix.startswith("/oauth"))

    def matches(self, method: str, path: str, *, accounts: bool) -> bool:
        if accounts != self.targets_accounts:
            return False
        if self.method and self.method != method.upper():
            return False
        return not self.path_prefix or path.startswith(self.path_prefix)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultRuleError(f"{name} must be a number")
    return float(value)


def _normalise_prefix(prefix: str) -> str:
    """Accept ``/books/v3/invoices`` as well as ``/invoices`` (and ``invoices``)."""
    if prefix.startswith(BOOKS_PREFIX):
        prefix = prefix[len(BOOKS_PREFIX) :]
    return prefix if prefix.startswith("/") else "/" + prefix


class FaultInjector:
    """The active rules; thread-safe, deterministic for a given seed."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
        return rule

    def seed(self, seed: int | None) -> None:
        with self._lock:
            self._rng.seed(seed)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def pick(self, method: str, path: str, *, accounts: bool = False) -> FaultRule | None:
        """The first matching rule that fires for this request (consuming one ``count``).

        ``path`` is relative to ``/books/v3`` for API calls, absolute for accounts calls.
        """
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path, accounts=accounts):
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        self._rules.remove(rule)
                return rule
        return None


# responses -------------------------------------------------------------------------


def immediate_response(rule: FaultRule) -> tuple[int, str, bytes]:
    """(status, content type, body) of a fault that answers instead of the handler."""
    if rule.kind in _JSON_FAULTS:
        status, body = _JSON_FAULTS[rule.kind]
        return status, JSON_TYPE, json.dumps(body).encode()
    status, title = _HTML_FAULTS[rule.kind]
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>ZGS</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return status, "text/html", page.encode()


async def send_immediate(rule: FaultRule, send: Send) -> int:
    """Answer with the rule's error (after its optional delay); returns the status."""
    if rule.delay:
        await asyncio.sleep(rule.delay)
    status, content_type, body = immediate_response(rule)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
    return status


def slow_delay(rule: FaultRule) -> float:
    return DEFAULT_SLOW_DELAY if rule.delay is None else rule.delay


def mangling_send(kind: str, send: Send) -> Send:
    """Wrap ``send`` so the finished response is cut in half.

    ``truncated``: a well-formed HTTP response (Content-Length matches) whose JSON body is
    half of the real one. ``drop_after_commit``: the headers promise the full length, half
    the body goes out, and the response is never completed, so the server closes the
    connection and the client sees a protocol error after the write has committed.
    """
    start: Message | None = None
    chunks: list[bytes] = []

    async def wrapped(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = dict(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(bytes(message.get("body", b"")))
        if message.get("more_body", False) or start is None:
            return
        body = b"".join(chunks)
        half = body[: len(body) // 2]
        promised = len(half) if kind == "truncated" else len(body)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(promised).encode()))
        await send({**start, "headers": headers})
        if kind == "truncated":
            await send({"type": "http.response.body", "body": half, "more_body": False})
        else:
            await send({"type": "http.response.body", "body": half, "more_body": True})

    return wrapped


class AccountsFaultMiddleware:
    """Apply rules whose ``path_prefix`` starts with ``/oauth`` to the accounts endpoints
    (a token endpoint that times out or answers 503 is a real-world refresh failure)."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith("/oauth"):
            await self.app(scope, receive, send)
            return
        rule = self.injector.pick(str(scope["method"]), path, accounts=True)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind in IMMEDIATE_KINDS:
            await send_immediate(rule, send)
        elif rule.kind == "slow":
            await asyncio.sleep(slow_delay(rule))
            await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, mangling_send(rule.kind, send))
