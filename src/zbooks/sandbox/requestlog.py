"""A bounded in-memory log of the requests the sandbox answered.

Tests and people debugging an integration ask "what did my client actually send, and
what did it get back?" (``GET /_sandbox/requests``). Clients put secrets in query
strings (``client_secret``, ``refresh_token`` on the token endpoint, Appendix D), so
the log keeps the path and the query parameters with the values of sensitive ones
masked. Control-plane calls are not logged: they are the observer, not the observed.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zbooks.sandbox.clock import Clock, format_zoho_time

LOG_KEY = "zbooks.log"  # scope key: a dict the Books dispatcher fills with code and org
SECRET_PARAMS = frozenset(
    {
        "client_secret",
        "refresh_token",
        "access_token",
        "token",
        "code",
        "code_verifier",
        "authtoken",
        "password",
        "assertion",
    }
)
MASK = "***"
_UNLOGGED = frozenset({"/", "/favicon.ico"})
logger = logging.getLogger("zbooks.sandbox.requests")


def redact_query(query_string: str) -> dict[str, str]:
    """Query parameters with the values of secret-bearing names masked."""
    return {
        key: (MASK if key.lower() in SECRET_PARAMS else value)
        for key, value in parse_qsl(query_string, keep_blank_values=True)
    }


class RequestLog:
    def __init__(self, maxlen: int = 2000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        # Sequence numbers keep growing across clear(): a follower (``zbooks sandbox
        # requests --follow``, the inspector) asks for entries after the last one it saw.
        self._seq = itertools.count(1)

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["seq"] = next(self._seq)
            self._entries.append(entry)

    def recent(self, limit: int | None = None, since: int = 0) -> list[dict[str, Any]]:
        """The last ``limit`` entries (after sequence number ``since``), oldest first.

        Entries are stored raw and formatted here, on the rare read, so that recording
        costs the request path almost nothing.
        """
        with self._lock:
            entries = (
                [e for e in self._entries if e["seq"] > since] if since else list(self._entries)
            )
        chosen = entries if not limit else entries[-limit:]
        return [_formatted(entry) for entry in chosen]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RequestLogMiddleware:
    """Record method, path, masked query, status, Zoho code and organization per request."""

    def __init__(self, app: ASGIApp, log: RequestLog, clock: Clock) -> None:
        self.app = app
        self.log = log
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        # The inspector page (``/``, and the icon browsers ask for) observes too, like the
        # control plane: no client of Zoho's API sends those.
        if scope["type"] != "http" or path.startswith("/_sandbox") or path in _UNLOGGED:
            await self.app(scope, receive, send)
            return
        info: dict[str, Any] = {"code": None, "org_id": None}
        scope[LOG_KEY] = info
        status = 0
        started = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except Exception:
            status = status or 500  # Starlette's outer error middleware answers 500
            raise
        finally:
            entry = {
                "time": self.clock.time(),
                "method": str(scope.get("method", "")),
                "path": path,
                "query": scope.get("query_string", b""),
                "status": status,
                "code": info["code"],
                "org_id": info["org_id"],
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            self.log.add(entry)
            if logger.isEnabledFor(logging.INFO):
                logger.info("%s %s -> %s %s", entry["method"], path, status, info["code"] or "")


def _formatted(entry: dict[str, Any]) -> dict[str, Any]:
    raw_query = entry["query"]
    return {
        **entry,
        "time": format_zoho_time(datetime.fromtimestamp(entry["time"], tz=UTC)),
        "query": redact_query(raw_query.decode("latin-1"))
        if isinstance(raw_query, bytes)
        else raw_query,
    }
