"""``--max-calls``: how many Zoho API calls one agent session may make.

Zoho's daily budget belongs to the organization (1,000 to 10,000 calls a day by plan),
and an agent in a loop can spend it in minutes. The budget counts every HTTP call the
server makes on a session's behalf (a dry run that fetches the current record counts
one), before the call is sent, and refuses with a tool error once spent. The SDK's
rate limiter still paces the calls that are allowed.
"""

from __future__ import annotations

import threading

DEFAULT_MAX_CALLS = 500


class BudgetExhausted(Exception):
    """The session has made its ``--max-calls`` calls."""


class CallBudget:
    """Counts calls per session key (the stdio process, or an HTTP MCP session)."""

    def __init__(self, max_calls: int = DEFAULT_MAX_CALLS) -> None:
        if max_calls < 0:
            raise ValueError("max_calls must be zero or more")
        self.max_calls = max_calls
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()

    def spend(self, session: str, calls: int = 1) -> None:
        """Take ``calls`` from the session's budget or raise ``BudgetExhausted``."""
        with self._lock:
            used = self._used.get(session, 0)
            if used + calls > self.max_calls:
                raise BudgetExhausted(
                    f"This session has used its {self.max_calls} Zoho API calls "
                    f"(--max-calls {self.max_calls}), which protects the organization's "
                    "daily API budget. Start a new session, or restart the server with a "
                    "larger --max-calls."
                )
            self._used[session] = used + calls

    def used(self, session: str) -> int:
        with self._lock:
            return self._used.get(session, 0)

    def remaining(self, session: str) -> int:
        return max(0, self.max_calls - self.used(session))
