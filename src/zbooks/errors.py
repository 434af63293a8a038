"""Every exception zbooks raises, with Zoho's codes mapped to classes and a hint each.

Zoho reports failures three ways: Books API errors (HTTP status plus a JSON ``code``),
token-endpoint errors (an ``error`` key, usually with HTTP **200**), and HTML pages from
the edge. Callers should be able to ``except`` the situation (expired grant code, wrong
organization, per-minute limit) rather than parse strings, so each situation has a class,
and each error carries a ``hint`` that says what to do next.

Nothing here ever formats a token, secret or grant code into a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_EXCERPT = 200


class ZBooksError(Exception):
    """Root of everything zbooks raises."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} Hint: {self.hint}" if self.hint else self.message


class ConfigurationError(ZBooksError):
    """The SDK was not given what it needs (client id, refresh token, region ...)."""


class TransportError(ZBooksError):
    """The request did not get an HTTP response (refused, reset, timed out)."""

    def __init__(
        self, message: str, *, method: str, path: str, sent: bool, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.method = method
        self.path = path
        self.sent = sent


class CertificateError(TransportError):
    """The server's TLS certificate was not trusted, so nothing was sent. Retrying cannot
    help: the same certificate comes back."""


class UncertainWriteError(ZBooksError):
    """A write may or may not have been applied: the request reached Zoho but the answer
    was a 5xx or never came. Zoho has no idempotency keys, so a blind retry could create a
    second invoice; zbooks raises instead and lets you check first."""

    hint = (
        "Look the record up (for example by reference_number) before retrying, or use an "
        "upsert with X-Unique-Identifier-Key/-Value headers."
    )

    def __init__(self, message: str, *, method: str, path: str, cause: Exception) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.cause = cause


# --------------------------------------------------------------------------- Books API


class APIError(ZBooksError):
    """A Books API response that is not a success."""

    default_hint: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: int | None = None,
        method: str = "",
        path: str = "",
        hint: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, hint=hint or self.default_hint)
        self.status = status
        self.code = code
        self.method = method
        self.path = path
        self.body = dict(body or {})

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method else ""
        code = f" code {self.code}" if self.code is not None else ""
        text = f"[HTTP {self.status}{code}] {self.message}{where}"
        return f"{text}. Hint: {self.hint}" if self.hint else text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code}, "
            f"message={self.message!r}, method={self.method!r}, path={self.path!r})"
        )


class AuthenticationError(APIError):
    """401: no token (code 14), or a token that is expired, revoked, from another data
    centre or lacking the scope (code 57; Zoho does not say which)."""

    default_hint = (
        "The access token was rejected. zbooks refreshes once on its own; if this persists, "
        "the refresh token may be revoked (run `zbooks login`), the region may be wrong "
        "(check api_domain), or the token lacks the scope for this call "
        "(ZohoBooks.<module>.<OPERATION>). `zbooks doctor` checks each."
    )


class NotFoundError(APIError):
    """404: an unknown record id (code 1002) or an unknown path (code 5)."""

    default_hint = "Check the id and that it belongs to the organization_id you passed."


class MethodNotAllowedError(APIError):
    default_hint = "This path exists but not with this HTTP method; see the Zoho API reference."


class ValidationError(APIError):
    """400: Zoho rejected a value (codes 1, 2, 4, 6, 15, 1038, ...) or a business rule."""

    default_hint = "Fix the value named in the message and send the request again."


class DuplicateError(ValidationError):
    """400: a name or number that must be unique already exists (3062, 1001)."""

    default_hint = (
        "Use a different name or number, or look the existing record up and update it "
        "(or upsert with X-Unique-Identifier-Key/-Value)."
    )


class OrganizationError(APIError):
    """400: organization_id missing while the user has several (6024) or not one of the
    user's organizations (6041). ``organizations`` lists the candidates Zoho named."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        info = self.body.get("error_info")
        self.organizations: list[dict[str, Any]] = (
            [dict(o) for o in info if isinstance(o, Mapping)] if isinstance(info, list) else []
        )
        if self.hint is None:
            self.hint = self._make_hint()

    def _make_hint(self) -> str:
        if self.organizations:
            names = ", ".join(
                f"{o.get('organization_id')} ({o.get('name')})" for o in self.organizations[:10]
            )
            return f"Pass organization_id=<one of: {names}>, or set ZBOOKS_ORGANIZATION_ID."
        return (
            "Pass an organization_id this user belongs to (`zbooks orgs` lists them); an "
            "organization from another data centre also gives this error."
        )


class RateLimitError(APIError):
    """429 code 44: over the per-minute limit (100 per organization)."""

    default_hint = (
        "Over 100 requests per minute for this organization. zbooks' rate limiter normally "
        "prevents this; another integration may share the organization's budget."
    )

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ConcurrencyLimitError(RateLimitError):
    """429 code 1070: too many requests in flight for the organization."""

    default_hint = "Lower the number of concurrent requests (Free plan: 5, paid plans: 10)."


class DailyLimitExceededError(RateLimitError):
    """429 code 45: the organization's daily quota is used up. Not retried."""

    default_hint = (
        "The organization's daily API quota is used up (Free 1,000, Standard 2,000, "
        "Professional 5,000, Premium 10,000). Wait for the daily reset or ask Zoho to raise it."
    )


class ServerError(APIError):
    """5xx from Zoho (code 1000 or an HTML page from the edge)."""

    default_hint = "Zoho had a server-side problem; retry later (GET/PUT/DELETE are retried)."


class UnexpectedResponseError(APIError):
    """The body was not the JSON Zoho normally sends (an HTML error page, say)."""

    default_hint = (
        "The server answered with a non-JSON page; check the base URL and region, or retry "
        "if Zoho is in maintenance."
    )


# --------------------------------------------------------------------------- OAuth


class OAuthError(ZBooksError):
    """The accounts server refused a token request. ``error`` is Zoho's error string."""

    default_hint: str | None = None

    def __init__(
        self,
        message: str,
        *,
        error: str,
        status: int = 200,
        description: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint or self.default_hint)
        self.error = error
        self.status = status
        self.description = description

    def __repr__(self) -> str:
        return f"{type(self).__name__}(error={self.error!r}, status={self.status})"


class InvalidGrantError(OAuthError):
    """``invalid_code``: the grant code is expired (2 min), used or unknown, or the refresh
    token is unknown or revoked."""

    default_hint = (
        "Grant codes live 2 minutes and work once: generate a new one and exchange it at once. "
        "For a refresh token, it was revoked or evicted (Zoho keeps 20 per user and client): "
        "run `zbooks login` again."
    )


class InvalidClientError(OAuthError):
    """``invalid_client``: the client id is unknown here."""

    default_hint = (
        "The client id is unknown at this accounts server. Check it, and check the data centre: "
        "a client registered in one region is unknown in another unless multi-DC is enabled "
        "(e.g. use --region eu with accounts.zoho.eu)."
    )


class InvalidClientSecretError(OAuthError):
    default_hint = (
        "The client secret does not match the client id; copy it again from "
        "api-console.zoho.com (secrets can differ per data centre)."
    )


class RedirectURIMismatchError(OAuthError):
    default_hint = (
        "The redirect_uri must match one registered for the client, character for character "
        "(scheme, host, port, path, trailing slash)."
    )


class OAuthThrottledError(OAuthError):
    """ "Access Denied": more than 10 token requests per refresh token in 10 minutes."""

    default_hint = (
        "Too many token requests for this refresh token (Zoho allows 10 per 10 minutes). "
        "Reuse the cached access token (valid 1 hour) and wait a few minutes."
    )


class AccessDeniedError(OAuthError):
    default_hint = (
        "The user denied consent, or the client generated more than 10 grant codes in 10 "
        "minutes. Try again later."
    )


class MissingOrgInfoError(OAuthError):
    default_hint = "The client-credentials grant needs soid=ZohoBooks.<organization_id>."


_OAUTH_CLASSES: dict[str, type[OAuthError]] = {
    "invalid_code": InvalidGrantError,
    "invalid_grant": InvalidGrantError,
    "invalid_client": InvalidClientError,
    "invalid_client_secret": InvalidClientSecretError,
    "invalid_redirect_uri": RedirectURIMismatchError,
    "redirect_uri_mismatch": RedirectURIMismatchError,
    "access denied": OAuthThrottledError,
    "access_denied": AccessDeniedError,
    "missing_org_info": MissingOrgInfoError,
}


def oauth_error_from_body(body: Mapping[str, Any], status: int) -> OAuthError:
    """Map a token-endpoint body with an ``error`` key to its class."""
    error = str(body.get("error", "unknown_error"))
    description = body.get("error_description")
    cls = _OAUTH_CLASSES.get(error.lower(), OAuthError)
    message = f"Zoho Accounts refused the token request: {error}"
    if isinstance(description, str) and description:
        message += f" ({description})"
    return cls(
        message,
        error=error,
        status=status,
        description=description if isinstance(description, str) else None,
    )


# --------------------------------------------------------------------------- mapping

_CODE_CLASSES: dict[int, type[APIError]] = {
    5: NotFoundError,
    14: AuthenticationError,
    57: AuthenticationError,
    37: MethodNotAllowedError,
    44: RateLimitError,
    45: DailyLimitExceededError,
    1070: ConcurrencyLimitError,
    1000: ServerError,
    1002: NotFoundError,
    1001: DuplicateError,
    3062: DuplicateError,
    6024: OrganizationError,
    6041: OrganizationError,
}
_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    429: RateLimitError,
}
_CODE_HINTS: dict[int, str] = {
    5: "The path is not a Books v3 endpoint: check the spelling and that the base URL ends "
    "in /books/v3.",
    14: "No usable Authorization header was sent: the SDK sends 'Zoho-oauthtoken <token>'; "
    "configure credentials or run `zbooks login`.",
    1038: "The JSON body is not well formed.",
    15: "A text value is too long; shorten the field named in the message.",
}


def api_error_from_response(
    *,
    status: int,
    body: Mapping[str, Any] | None,
    text: str,
    method: str,
    path: str,
    retry_after: float | None = None,
) -> APIError:
    """Build the right ``APIError`` for a failed Books response.

    ``body`` is the parsed JSON (or None when the body was not JSON); ``path`` must not
    contain a query string, so nothing sensitive can leak into the message.
    """
    if body is None:
        excerpt = " ".join(text.split())[:_EXCERPT]
        cls: type[APIError] = ServerError if status >= 500 else UnexpectedResponseError
        message = f"Unexpected non-JSON response (HTTP {status}): {excerpt!r}"
        return cls(message, status=status, method=method, path=path)
    raw_code = body.get("code")
    code = raw_code if isinstance(raw_code, int) else None
    message = str(body.get("message") or f"HTTP {status}")
    found = _CODE_CLASSES.get(code) if code is not None else None
    if found is not None:
        cls = found
    else:
        if code == 2 and "organization" in message.lower():
            cls = OrganizationError
        else:
            cls = ServerError if status >= 500 else _STATUS_CLASSES.get(status, ValidationError)
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "method": method,
        "path": path,
        "body": body,
        "hint": _CODE_HINTS.get(code) if code is not None else None,
    }
    if issubclass(cls, RateLimitError):
        return cls(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
