"""How a failure leaves the CLI: one ``Error:`` line, one ``Hint:`` line, a documented
exit code.

Scripts branch on the exit code, so each code names a situation the caller can act on
(log in again, fix an id, back off, retry later, fix the payload) rather than which
Python class was raised. The mapping is by exception type only; nothing here formats
a token or secret (the SDK's messages never contain them).
"""

from __future__ import annotations

import sys
from typing import TextIO

OK = 0
USAGE = 1
AUTH = 2
NOT_FOUND = 3
RATE_LIMITED = 4
SERVER = 5
VALIDATION = 6

EXIT_CODES: dict[int, str] = {
    OK: "success",
    USAGE: "usage error: bad arguments, unknown command, missing input",
    AUTH: "authentication or configuration: not logged in, token rejected or revoked, "
    "wrong client id or secret, organization not accessible",
    NOT_FOUND: "not found: unknown record id or API path",
    RATE_LIMITED: "rate limited: per-minute, daily or concurrency limit, token throttle",
    SERVER: "server or network: Zoho 5xx, connection failure, a write of unknown outcome",
    VALIDATION: "validation: Zoho rejected a value or a business rule",
}


class CliError(Exception):
    """A failure the CLI itself detected, with the exit code it deserves."""

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int = USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code of an exception (USAGE for anything unclassified)."""
    if isinstance(exc, CliError):
        return exc.exit_code
    # Imported here: the error classes are cheap, but `zbooks --help` should not need them.
    from zbooks import errors as e

    if isinstance(exc, e.OAuthThrottledError | e.RateLimitError):
        return RATE_LIMITED
    if isinstance(
        exc,
        e.AuthenticationError | e.OrganizationError | e.OAuthError | e.ConfigurationError,
    ):
        return AUTH
    if isinstance(exc, e.NotFoundError):
        return NOT_FOUND
    if isinstance(
        exc, e.ServerError | e.TransportError | e.UncertainWriteError | e.UnexpectedResponseError
    ):
        return SERVER
    if isinstance(exc, e.MethodNotAllowedError):
        return USAGE
    if isinstance(exc, e.ValidationError | e.APIError):
        return VALIDATION
    if isinstance(exc, ConnectionError | TimeoutError):
        return SERVER
    return USAGE


def describe(exc: BaseException) -> tuple[str, str | None]:
    """(what failed, hint) for an exception, without repeating the hint in the message."""
    from zbooks.errors import APIError, ZBooksError

    if isinstance(exc, CliError):
        return exc.message, exc.hint
    if isinstance(exc, APIError):
        where = f" ({exc.method} {exc.path})" if exc.method else ""
        code = f" code {exc.code}" if exc.code is not None else ""
        return f"[HTTP {exc.status}{code}] {exc.message}{where}", exc.hint
    if isinstance(exc, ZBooksError):
        return exc.message, exc.hint
    if isinstance(exc, OSError) and exc.strerror:
        target = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{target}", None
    return str(exc) or type(exc).__name__, None


def report(exc: BaseException, stream: TextIO | None = None) -> int:
    """Print the two-line report and return the exit code."""
    out = stream or sys.stderr
    message, hint = describe(exc)
    out.write(f"Error: {message}\n")
    if hint:
        out.write(f"Hint: {hint}\n")
    return exit_code_for(exc)
