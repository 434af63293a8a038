"""Who may see the inspector: sessions opened with the control token or a one-time link."""

from __future__ import annotations

import secrets
import threading

from zbooks.sandbox.config import SandboxConfig

MAX_SESSIONS = 256


class InspectorAuth:
    """In-memory sessions and one-time login codes (a restart logs everyone out)."""

    def __init__(self, config: SandboxConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._sessions: dict[str, None] = {}  # insertion-ordered: the oldest go first
        self._codes: set[str] = set()

    @property
    def cookie_name(self) -> str:
        # Browsers keep cookies per host, not per port: name them per port so that two
        # sandboxes on one machine do not overwrite each other's session.
        return f"zbooks_inspector_{self._config.port}"

    def one_time_link(self) -> str:
        """A URL that logs its first visitor in, then stops working."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes.add(code)
        return f"{self._config.base_url}/?login={code}"

    def redeem(self, code: str) -> str | None:
        with self._lock:
            if code not in self._codes:
                return None
            self._codes.discard(code)
        return self._open()

    def login(self, token: str) -> str | None:
        if not secrets.compare_digest(token.strip().encode(), self._config.control_token.encode()):
            return None
        return self._open()

    def valid(self, session: str | None) -> bool:
        return bool(session) and session in self._sessions

    def logout(self, session: str | None) -> None:
        with self._lock:
            self._sessions.pop(session or "", None)

    def _open(self) -> str:
        session = secrets.token_urlsafe(32)
        with self._lock:
            while len(self._sessions) >= MAX_SESSIONS:
                self._sessions.pop(next(iter(self._sessions)))
            self._sessions[session] = None
        return session
