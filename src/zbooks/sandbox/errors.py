"""Zoho Books error bodies, as the sandbox renders them.

Exact strings come from api-facts §4.3/§4.4. Handlers raise ``ApiError``; the HTTP
layer turns it into ``{"code": ..., "message": ...}`` with the given status.
"""

from __future__ import annotations

from typing import Any

NO_AUTH_MESSAGE = (
    "The request could not be authenticated as the authentication value you entered is "
    "invalid. Enter a valid authentication value and try again."
)
NOT_AUTHORIZED_MESSAGE = "You are not authorized to perform this operation"
PER_MINUTE_MESSAGE = (
    "For security reasons your organization has been blocked as it have exceeded the maximum "
    "number of requests per minute that can originate from an organization."
)
CONCURRENCY_MESSAGE = (
    "You have reached the maximum number of in process requests allowed. "
    "Kindly try again after some time."
)


class ApiError(Exception):
    """A Books API failure: HTTP status, Zoho code, message, optional extra keys."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


def no_auth() -> ApiError:
    return ApiError(401, 14, NO_AUTH_MESSAGE)


def not_authorized() -> ApiError:
    return ApiError(401, 57, NOT_AUTHORIZED_MESSAGE)


def invalid_url() -> ApiError:
    return ApiError(404, 5, "Invalid URL Passed")


def method_not_allowed() -> ApiError:
    # UNCONFIRMED: code 37 and this wording are the most plausible reading of api-facts §4.3.
    return ApiError(405, 37, "The HTTP method is not allowed for the requested resource")


def not_found(resource: str) -> ApiError:
    """``not_found("Invoice")`` -> 404 code 1002 ``Invoice does not exist.``"""
    return ApiError(404, 1002, f"{resource} does not exist.")


def invalid_value(field: str) -> ApiError:
    return ApiError(400, 4, f"Invalid value passed for {field}")


def too_long(field: str, limit: int) -> ApiError:
    return ApiError(400, 15, f"Please ensure that the {field} has less than {limit} characters.")


def malformed_json() -> ApiError:
    return ApiError(400, 1038, "JSON is not well formed")


def rule_violation(message: str, code: int = 4) -> ApiError:
    """A business-rule rejection (400). Zoho's codes for most of these are UNCONFIRMED."""
    return ApiError(400, code, message)


def internal_error() -> ApiError:
    return ApiError(500, 1000, "Internal error")
