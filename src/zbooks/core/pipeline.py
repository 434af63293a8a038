"""The request pipeline, written once: build URL -> organization_id -> rate limiter ->
token -> send -> classify -> retry policy -> result or typed error.

Everything that decides (``prepare``, ``interpret``, ``transport_error``, the retry
``decide``) is a plain function shared by ``SyncPipeline`` and ``AsyncPipeline``; the
two classes only differ in how they wait and do I/O.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx2

from zbooks.auth.manager import TokenManager
from zbooks.core import jsonwire
from zbooks.core.ratelimit import DailyBudgetExhausted, RateLimiter
from zbooks.core.retry import RetryPolicy, decide
from zbooks.errors import (
    APIError,
    AuthenticationError,
    CertificateError,
    ConfigurationError,
    DailyLimitExceededError,
    OrganizationError,
    TransportError,
    UncertainWriteError,
    ZBooksError,
    api_error_from_response,
)
from zbooks.regions import books_url_from_api_domain

logger = logging.getLogger("zbooks")

USER_AGENT = "zbooks-python/0.1"
_SENSITIVE_PARAMS = ("token", "secret", "password", "code", "authorization")
_NO_ORG_PATHS = ("/organizations", "/organizations/user")


#: Called in the thread that sends, just before a request leaves: a list page read ahead
#: (``zbooks.core.readahead``) waits for it, so that its request is on the wire before
#: the caller's thread goes on parsing (a parse holds the GIL for milliseconds, and
#: would otherwise hold the request back until it ends).
SENDING: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "zbooks_sending", default=None
)


def needs_organization(path: str) -> bool:
    """Only the organization directory calls work without an organization_id."""
    clean = path.rstrip("/") or "/"
    return clean not in _NO_ORG_PATHS and not clean.startswith("/organizations/address")


@dataclass
class Call:
    """One API call as the caller described it."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    data: Mapping[str, Any] | None = None
    files: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None
    organization_id: str | None = None
    needs_org: bool | None = None
    binary: bool = False  # expect bytes (a PDF) instead of a JSON envelope
    #: Reads a success body straight from its bytes (a typed list page); ``None`` from
    #: it means "read it the usual way" (``json.loads``, then the error checks).
    decode: Callable[[bytes], Any] | None = None


@dataclass
class PipelineConfig:
    tokens: TokenManager
    api_url: str  # Books base URL; a token's api_domain wins when it has one
    api_url_explicit: bool = False
    organization_id: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limiter: RateLimiter | None = None
    user_agent: str = USER_AGENT
    rng: random.Random = field(default_factory=random.Random)
    monotonic: Callable[[], float] = time.monotonic


def _param_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def redact_params(params: Mapping[str, Any]) -> str:
    """Query string for logs, with anything secret-looking masked."""
    parts = []
    for key, value in params.items():
        shown = "***" if any(s in key.lower() for s in _SENSITIVE_PARAMS) else value
        parts.append(f"{key}={shown}")
    return "&".join(parts)


def prepare(
    config: PipelineConfig, call: Call, organization_id: str | None, access_token: str
) -> httpx2.Request:
    """Build the HTTP request (pure; no I/O).

    The URL is built whole, query string included (httpx's ``params=`` built a
    ``QueryParams`` and validated the query as a component of its own), and a request
    without a body (every GET) is handed to httpx as an empty stream with the ``Host``
    header httpx would have added, skipping its body encoding: 45 us -> 26 us per GET.
    The request is the same (``tests/sdk/test_prepare_equivalence.py``).
    """
    token = config.tokens.current
    base = config.api_url
    if not config.api_url_explicit and token is not None and token.api_domain:
        base = _books_url(token.api_domain)
    path = call.path if call.path.startswith("/") else "/" + call.path
    params: dict[str, str] = {}
    for key, value in (call.params or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            params[key] = ",".join(_param_value(v) for v in value)
        else:
            params[key] = _param_value(value)
    if organization_id:
        params["organization_id"] = organization_id
    headers = {
        "Authorization": f"Zoho-oauthtoken {access_token}",
        "User-Agent": config.user_agent,
        "Accept": "application/pdf" if call.binary else "application/json",
    }
    if call.headers:
        headers.update(call.headers)
    kwargs: dict[str, Any] = {}
    if call.json is not None:
        # Decimal amounts keep their exact digits (never a float on the way).
        kwargs["content"] = jsonwire.dumps(call.json).encode()
        headers["Content-Type"] = "application/json"
    elif call.data is not None or call.files is not None:
        kwargs["data"] = dict(call.data or {})
        kwargs["files"] = dict(call.files or {}) or None
    method = call.method.upper()
    url = base.rstrip("/") + quote(path, safe=_PATH_SAFE)
    if "?" in base or "#" in base:  # no Books URL has either: let httpx merge, as it did
        return httpx2.Request(method, url, params=params, headers=headers, **kwargs)
    if params:  # what httpx's params= made of them (``QueryParams`` is ``urlencode``)
        url += "?" + urlencode(params)
    if kwargs or method not in _BODILESS or _names_host(call.headers):
        return httpx2.Request(method, url, headers=headers, **kwargs)
    target = httpx2.URL(url)
    if not target.host:
        return httpx2.Request(method, target, headers=headers)
    # What httpx does for a request without a body: ``Host`` first, an empty body read.
    request = httpx2.Request(
        method,
        target,
        headers={"Host": target.netloc.decode("ascii"), **headers},
        stream=httpx2.ByteStream(b""),
    )
    request.read()
    return request


_PATH_SAFE = "/%:@-._~!$&'()*+,;="
# Methods httpx sends without a Content-Length when they have no body (it adds
# ``Content-Length: 0`` to POST, PUT, PATCH and QUERY).
_BODILESS = frozenset({"GET", "DELETE", "HEAD", "OPTIONS"})


def _names_host(headers: Mapping[str, str] | None) -> bool:
    return bool(headers) and any(name.lower() == "host" for name in headers or ())


@functools.lru_cache(maxsize=16)
def _books_url(api_domain: str) -> str:
    """The Books base URL of a token's ``api_domain``: parsed once, not per request."""
    return books_url_from_api_domain(api_domain)


def _retry_after(response: httpx2.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return None


def interpret(response: httpx2.Response, call: Call) -> Any:
    """A success body (dict, or bytes for binary calls), or the mapped APIError.

    ``code != 0`` raises even with HTTP 200: Zoho has been seen doing that.
    """
    status = response.status_code
    content = response.content
    content_type = response.headers.get("content-type", "")
    if call.binary and status < 400 and "json" not in content_type:
        return content
    if call.decode is not None and status < 400:
        decoded = call.decode(content)
        if decoded is not None:
            return decoded
    return read_envelope(content, call, response)


def read_envelope(
    content: bytes, call: Call, response: httpx2.Response | None = None
) -> dict[str, Any]:
    """The JSON envelope of an answer, or the mapped APIError.

    ``response`` is absent only for a 200 answer read later than it arrived (a list
    page read ahead, ``zbooks.core.readahead``): its status is then 200.
    """
    status = response.status_code if response is not None else 200
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        text = response.text if response is not None else content.decode("utf-8", "replace")
        raise api_error_from_response(
            status=status, body=None, text=text, method=call.method, path=call.path
        )
    code = body.get("code")
    if status >= 400 or (isinstance(code, int) and code != 0):
        raise api_error_from_response(
            status=status,
            body=body,
            text="",
            method=call.method,
            path=call.path,
            retry_after=_retry_after(response) if response is not None else None,
        )
    return body


_NOT_SENT = (
    httpx2.ConnectError,
    httpx2.ConnectTimeout,
    httpx2.PoolTimeout,
    httpx2.UnsupportedProtocol,
)


def transport_error(exc: httpx2.HTTPError, call: Call) -> TransportError:
    sent = not isinstance(exc, _NOT_SENT)
    kind = type(exc).__name__
    if sent:
        message = f"No complete answer to {call.method} {call.path} ({kind})."
        hint = "The network or Zoho dropped the connection after the request was sent."
    elif _certificate_refused(exc):
        return CertificateError(
            f"The server's TLS certificate was not trusted for {call.method} {call.path}.",
            method=call.method,
            path=call.path,
            sent=False,
            hint="Behind a TLS-inspecting proxy, point SSL_CERT_FILE at its CA bundle; "
            "otherwise check the API URL (and the system clock).",
        )
    else:
        message = f"Could not connect for {call.method} {call.path} ({kind})."
        hint = "Check the network, proxy variables (HTTPS_PROXY) and the region's API URL."
    return TransportError(message, method=call.method, path=call.path, sent=sent, hint=hint)


def _certificate_refused(exc: BaseException) -> bool:
    """Whether the TLS handshake failed on the server's certificate (httpx wraps the
    ``ssl`` error, sometimes only as text)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _daily_error(exc: DailyBudgetExhausted, call: Call) -> DailyLimitExceededError:
    return DailyLimitExceededError(
        f"Stopped before sending: organization {exc.org_id}'s daily budget of {exc.limit:,} "
        "requests is used up.",
        status=429,
        code=45,
        method=call.method,
        path=call.path,
    )


def _log_request(request: httpx2.Request, call: Call) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        query = redact_params(dict(request.url.params))
        logger.debug("-> %s %s%s", call.method, call.path, f"?{query}" if query else "")


def _log_response(call: Call, status: int | str, started: float, now: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "<- %s %s %s (%.1f ms)", status, call.method, call.path, (now - started) * 1000
        )


class _Attempts:
    """Bookkeeping shared by both pipelines for one call's attempts."""

    def __init__(self, config: PipelineConfig, call: Call, organization_id: str | None) -> None:
        self.config = config
        self.call = call
        self.organization_id = organization_id
        self.attempt = 0
        self.started = config.monotonic()
        self.auth_replayed = False
        self.rejected: str | None = None

    def after_failure(self, error: ZBooksError, token_used: str | None) -> float:
        """Return seconds to wait before the next attempt, or raise the final error."""
        if isinstance(error, AuthenticationError) and error.code == 57 and not self.auth_replayed:
            # The token may have just expired or been revoked elsewhere: refresh once and
            # replay once. A second 57 means scope or data centre, which refreshing can't fix.
            self.auth_replayed = True
            self.rejected = token_used
            return 0.0
        decision = decide(
            error,
            method=self.call.method,
            attempt=self.attempt,
            elapsed=self.config.monotonic() - self.started,
            policy=self.config.retry,
            rng=self.config.rng,
        )
        if decision.uncertain_write:
            raise UncertainWriteError(
                f"{self.call.method} {self.call.path} may or may not have been applied: "
                f"{error.message}",
                method=self.call.method,
                path=self.call.path,
                cause=error,
            ) from error
        if not decision.retry:
            raise error
        if decision.block_organization and self.config.limiter and self.organization_id:
            self.config.limiter.block(self.organization_id, decision.block_organization)
        logger.info(
            "retrying %s %s in %.2f s after %s",
            self.call.method,
            self.call.path,
            decision.wait,
            type(error).__name__,
        )
        return decision.wait


class SyncPipeline:
    def __init__(
        self,
        config: PipelineConfig,
        http: httpx2.Client,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.http = http
        self._sleep = sleep
        self._discovered_org: str | None = None

    def organization_for(self, call: Call) -> str | None:
        org = call.organization_id or self.config.organization_id or self._discovered_org
        needed = call.needs_org if call.needs_org is not None else needs_organization(call.path)
        if org or not needed:
            return org if needed or call.organization_id else None
        orgs = self.send(Call("GET", "/organizations", needs_org=False)).get("organizations", [])
        self._discovered_org = _single_org(orgs)
        return self._discovered_org

    def send(self, call: Call) -> Any:
        org = self.organization_for(call)
        state = _Attempts(self.config, call, org)
        limiter = self.config.limiter
        while True:
            state.attempt += 1
            token_used: str | None = None
            try:
                permit = limiter.acquire(org) if limiter is not None and org else None
            except DailyBudgetExhausted as exc:
                raise _daily_error(exc, call) from None
            with permit if permit is not None else contextlib.nullcontext():
                try:
                    token_used = self.config.tokens.access_token(rejected=state.rejected)
                    state.rejected = None
                    request = prepare(self.config, call, org, token_used)
                    _log_request(request, call)
                    started = self.config.monotonic()
                    try:
                        if (leaving := SENDING.get()) is not None:
                            leaving()
                        response = self.http.send(request)
                    except httpx2.HTTPError as exc:
                        _log_response(call, type(exc).__name__, started, self.config.monotonic())
                        raise transport_error(exc, call) from None
                    _log_response(call, response.status_code, started, self.config.monotonic())
                    if limiter is not None and org:
                        limiter.update_from_headers(org, response.headers)
                    return interpret(response, call)
                except (APIError, TransportError) as error:
                    failure: ZBooksError = error
            wait = state.after_failure(failure, token_used)
            if wait:
                self._sleep(wait)


class AsyncPipeline:
    def __init__(
        self,
        config: PipelineConfig,
        http: httpx2.AsyncClient,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.http = http
        self._sleep = sleep
        self._discovered_org: str | None = None

    async def organization_for(self, call: Call) -> str | None:
        org = call.organization_id or self.config.organization_id or self._discovered_org
        needed = call.needs_org if call.needs_org is not None else needs_organization(call.path)
        if org or not needed:
            return org if needed or call.organization_id else None
        body = await self.send(Call("GET", "/organizations", needs_org=False))
        self._discovered_org = _single_org(body.get("organizations", []))
        return self._discovered_org

    async def send(self, call: Call) -> Any:
        import asyncio

        org = await self.organization_for(call)
        state = _Attempts(self.config, call, org)
        limiter = self.config.limiter
        while True:
            state.attempt += 1
            token_used: str | None = None
            try:
                permit = await limiter.acquire_async(org) if limiter is not None and org else None
            except DailyBudgetExhausted as exc:
                raise _daily_error(exc, call) from None
            with permit if permit is not None else contextlib.nullcontext():
                try:
                    token_used = await self.config.tokens.access_token_async(
                        rejected=state.rejected
                    )
                    state.rejected = None
                    request = prepare(self.config, call, org, token_used)
                    _log_request(request, call)
                    started = self.config.monotonic()
                    try:
                        if (leaving := SENDING.get()) is not None:
                            leaving()
                        response = await self.http.send(request)
                    except httpx2.HTTPError as exc:
                        _log_response(call, type(exc).__name__, started, self.config.monotonic())
                        raise transport_error(exc, call) from None
                    _log_response(call, response.status_code, started, self.config.monotonic())
                    if limiter is not None and org:
                        limiter.update_from_headers(org, response.headers)
                    return interpret(response, call)
                except (APIError, TransportError) as error:
                    failure: ZBooksError = error
            wait = state.after_failure(failure, token_used)
            if wait:
                await (self._sleep or asyncio.sleep)(wait)


def _single_org(orgs: list[dict[str, Any]]) -> str:
    if len(orgs) == 1:
        return str(orgs[0]["organization_id"])
    if not orgs:
        raise ConfigurationError(
            "This user has no Zoho Books organization.",
            hint="Create one in Zoho Books, or check the region (organizations are per DC).",
        )
    raise OrganizationError(
        f"organization_id is required: this user belongs to {len(orgs)} organizations.",
        status=400,
        code=6024,
        body={"error_info": orgs},
    )
