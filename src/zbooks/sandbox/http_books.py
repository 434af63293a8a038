"""The Books API's HTTP front door: ``/books/v3/{path}``.

Every request goes through the same steps, in the order Zoho appears to apply them
(api-facts §2.1-2.4, §4.4, §5), so a client sees the same error for the same mistake:

1. fault injection (the control plane's rules);
2. authentication: ``Authorization: Zoho-oauthtoken <t>`` (``Bearer`` too if allowed);
   no or malformed header -> 401/14, unknown, expired or revoked token -> 401/57;
3. route lookup in the registry -> 404/5 or 405/37;
4. scope check -> 401/57;
5. organization: ``organization_id`` query parameter, else the
   ``X-com-zoho-books-organizationid`` header, else the user's only org -> 400/6024,
   400/2 or 400/6041;
6. limits (per organization) -> 429/44, 45, 1070, plus ``X-Rate-Limit-*`` headers;
7. body: JSON, or a form/multipart ``JSONString`` field (and uploaded files);
8. the handler, inside one database transaction for every write.

Answers that only depend on the database (the organization a token may use, a record
fetched by id) are memoised against the database generation (``readcache``), so polling
the same record does not re-derive it; every step above still runs for every request.
A GET by id whose handler has a pre-rendered twin (``books.fastread``: an invoice's
answer as stored with it, ``ledger.details``) is answered from those bytes, the same ones
the handler's envelope renders to.

Blocking work (SQLite) runs in worker threads so that a slow request never stalls the
event loop and concurrency limits can actually be reached.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from zbooks.sandbox import jsonfast
from zbooks.sandbox.accounts.scopes import scope_allows
from zbooks.sandbox.bodycheck import check_body
from zbooks.sandbox.books import fastread
from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, Registry, Route
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.db import Database
from zbooks.sandbox.errors import (
    ApiError,
    internal_error,
    invalid_value,
    malformed_json,
    method_not_allowed,
    no_auth,
    not_authorized,
)
from zbooks.sandbox.faults import (
    IMMEDIATE_KINDS,
    MANGLING_KINDS,
    FaultInjector,
    FaultRule,
    mangling_send,
    send_immediate,
    slow_delay,
)
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.organizations import (
    get_organization,
    organizations_for_user,
    plan_of,
)
from zbooks.sandbox.limits import RateLimiter, RateLimitError
from zbooks.sandbox.readcache import GenerationMemo
from zbooks.sandbox.requestlog import LOG_KEY

logger = logging.getLogger("zbooks.sandbox.books")

BOOKS_PREFIX = "/books/v3"
# The older base path (``https://books.zoho.com/api/v3``) that Zoho still serves
# (api-facts §1.1) and some third-party clients hard-code.
LEGACY_PREFIX = "/api/v3"
API_PREFIXES = (BOOKS_PREFIX, LEGACY_PREFIX)
JSON_MEDIA_TYPE = "application/json;charset=UTF-8"
ORG_HEADER = "x-com-zoho-books-organizationid"
ALLOWED_METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
MAX_FORM_PART = 64 * 1024 * 1024  # JSONString of a large bulk request, or an attachment

MULTIPLE_ORGS_MESSAGE = (
    "This user belongs to multiple organizations, hence the parameter CompanyID/CompanyName "
    "is required for associating this user to a specific organization."
)


def not_associated(org_id: str) -> ApiError:
    """400/6041, exact text of api-facts §4.3."""
    return ApiError(
        400, 6041, f"This user is not associated with the CompanyID/CompanyName:{org_id}."
    )


def bad_organization_id() -> ApiError:
    # UNCONFIRMED: code 2 vs 4 for a non-numeric organization_id (api-facts §4.4); we use 2.
    return ApiError(400, 2, "Invalid value passed for organization_id")


class Grant(Protocol):
    """What the dispatcher needs from an access grant (``accounts.service.AccessGrant``)."""

    @property
    def user_id(self) -> str: ...
    @property
    def scopes(self) -> frozenset[str]: ...
    @property
    def org_id(self) -> str | None: ...
    @property
    def expires_at(self) -> float: ...


class TokenValidator(Protocol):
    def validate_access_token(self, token: str) -> Grant | None: ...


@dataclass(frozen=True)
class _OrgAccess:
    """Which organization a call acts on, whose budget it spends, and that org's plan."""

    org_id: str  # "" for the few routes that need none and got none
    limit_org: str | None  # None: nobody's budget
    plan: str


@dataclass
class _Resolved:
    route: Route
    params: dict[str, str]
    user_id: str
    org_id: str  # "" for the few routes that need none and got none
    limit_org: str | None  # whose budget the call spends (None: nobody's)
    plan: str = "premium"


@dataclass
class _Exchange:
    """Per-request facts gathered along the way, for the response headers and the log."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    org_id: str | None = None


def query_of(query_string: bytes) -> dict[str, str]:
    """Query parameters (the last value of a repeated name wins, as with Starlette)."""
    if not query_string:
        return {}
    return dict(_parsed_query(query_string))


@functools.lru_cache(maxsize=512)
def _parsed_query(query_string: bytes) -> tuple[tuple[str, str], ...]:
    """Clients repeat the same few query strings (``organization_id=...``): parsing is a
    pure function of the bytes, so it is done once per distinct string."""
    return tuple(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


def headers_of(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name (ASGI servers send names lower-cased)."""
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        # reversed: the first of repeated headers wins, as with Starlette's Headers.get
        for name, value in reversed(scope.get("headers", ()))
    }


def relative_path(path: str) -> str:
    """``/books/v3/invoices/1/`` (or ``/api/v3/...``) -> ``/invoices/1`` (trailing
    slashes are tolerated)."""
    rest = path
    for prefix in API_PREFIXES:
        if path.startswith(prefix):
            rest = path[len(prefix) :]
            break
    return "/" + rest.strip("/")


def bearer_token(header: str | None, *, accept_bearer: bool) -> str:
    """The access token of an ``Authorization`` header, or 401/14 when missing/malformed."""
    if not header:
        raise no_auth()
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    schemes = _SCHEMES_WITH_BEARER if accept_bearer else _SCHEMES
    if scheme.lower() not in schemes or not token or " " in token:
        raise no_auth()
    return token


_SCHEMES = frozenset({"zoho-oauthtoken"})
_SCHEMES_WITH_BEARER = _SCHEMES | {"bearer"}


def render_json(body: Mapping[str, Any]) -> bytes:
    # ``ledger.details`` renders stored detail answers the same way: a change here must
    # bump ``details.FORMAT`` so that stored ones are rendered again.
    return jsonfast.dumps(body, default=jsonfast.decimal_as_float)


def parse_json_string(text: str) -> dict[str, Any]:
    """The legacy ``JSONString`` form field: empty, broken or not an object -> 400/4."""
    if not text.strip():
        raise invalid_value("JSONString")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise invalid_value("JSONString") from None
    if data is None:
        return {}  # ``null``: no body, as for an empty one
    if not isinstance(data, dict):
        raise invalid_value("JSONString")
    check_body(data)
    return data


def is_array_body_path(path: str) -> bool:
    """Operations whose documented body is a bare JSON array (``PUT .../customfields``)."""
    return path.rstrip("/").endswith("/customfields")


def parse_json_body(raw: bytes, path: str = "") -> dict[str, Any]:
    """A JSON request body; empty or ``null`` means ``{}``, broken (or not an object) ->
    400/1038. A bare array is accepted where the OAS documents one (custom fields) and is
    handed on as ``{"custom_fields": [...]}``, the object form of the same request."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise malformed_json() from None
    if data is None:
        # Some clients send ``null`` on actions that take no body (status/sent).
        return {}
    if isinstance(data, list) and is_array_body_path(path):
        data = {"custom_fields": data}
    if not isinstance(data, dict):
        # UNCONFIRMED: Zoho's answer to a top-level JSON array/scalar; 1038 is the closest.
        raise malformed_json()
    check_body(data)
    return data


class BooksDispatcher:
    """The ASGI app behind ``/books/v3``."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        config: SandboxConfig,
        accounts: TokenValidator,
        registry: Registry,
        limiter: RateLimiter,
        faults: FaultInjector,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.accounts = accounts
        self.registry = registry
        self.limiter = limiter
        self.faults = faults
        self._org_access: GenerationMemo[_OrgAccess] = GenerationMemo(db)
        self._single_reads: GenerationMemo[BooksResponse] = GenerationMemo(db)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        log: dict[str, Any] = scope.get(LOG_KEY, {})
        method = str(scope["method"]).upper()
        exchange = _Exchange(method=method, path=relative_path(str(scope["path"])))
        rule = self.faults.pick(method, exchange.path)
        if rule is not None and rule.kind in IMMEDIATE_KINDS:
            await send_immediate(rule, send)
            log["code"] = "fault:" + rule.kind
            return
        if rule is not None and rule.kind in MANGLING_KINDS:
            send = mangling_send(rule.kind, send)

        try:
            result = await self._handle(scope, receive, exchange, rule)
        except ApiError as exc:
            if isinstance(exc, RateLimitError):
                exchange.headers.update(exc.headers)
            result = BooksResponse(status=exc.status, body=exc.body())
        except Exception:
            logger.exception("unhandled error in %s %s", method, exchange.path)
            err = internal_error()
            result = BooksResponse(status=err.status, body=err.body())
        if result.status != 401 and "X-Rate-Limit-Limit" not in exchange.headers:
            # Rejected before the limiter (unknown path, bad org...): clients read these
            # headers on every answer, so send the current budget without spending it.
            # Not on a 401: the 2026 probes saw none there (api-facts Appendix D).
            exchange.headers.update(self._budget_headers(scope, exchange))
        log["org_id"] = exchange.org_id
        log["code"] = None if result.body is None else result.body.get("code")
        await self._respond(result, exchange.headers, send)

    def _budget_headers(self, scope: Scope, exchange: _Exchange) -> dict[str, str]:
        """``X-Rate-Limit-*`` of the organization a failed call would have spent, else of
        the token's user's first organization, else a full budget of the default plan.
        UNCONFIRMED: what Zoho reports for calls it cannot tie to an organization."""
        try:
            org_id = exchange.org_id
            if org_id is None:
                header = headers_of(scope).get("authorization")
                token = bearer_token(header, accept_bearer=self.config.accept_bearer)
                grant = self.accounts.validate_access_token(token)
                if grant is not None:
                    orgs = organizations_for_user(self.db, grant.user_id)
                    org_id = grant.org_id or (str(orgs[0]["organization_id"]) if orgs else None)
            if org_id:
                return self.limiter.headers(org_id, plan_of(self.db, org_id))
        except ApiError:
            pass
        return self.limiter.headers("", self.config.plan)

    # the pipeline ----------------------------------------------------------------
    async def _handle(
        self, scope: Scope, receive: Receive, exchange: _Exchange, rule: FaultRule | None
    ) -> BooksResponse:
        if exchange.method not in ALLOWED_METHODS:
            raise method_not_allowed()
        query_string: bytes = scope.get("query_string", b"")
        query = query_of(query_string)
        headers = headers_of(scope)
        # A handful of indexed reads: cheaper on the loop than a hop to a worker thread
        # (the hop alone cost more than the whole request of a bare endpoint).
        resolved = self._resolve(exchange.method, exchange.path, query, headers)
        exchange.org_id = resolved.org_id or None
        ticket = None
        if resolved.limit_org is not None:
            ticket = self.limiter.acquire(resolved.limit_org, resolved.plan)
            exchange.headers.update(ticket.headers)
        try:
            single_read = _is_single_read(resolved.route, exchange.method)
            cache_key: tuple[object, ...] | None = None
            generation = 0
            if rule is None and single_read:
                # The clock's date is in the key: overdue statuses move with it.
                cache_key = (
                    resolved.user_id,
                    resolved.org_id,
                    exchange.path,
                    query_string,
                    headers.get("accept", ""),
                    self.clock.today(),
                )
                cached = self._single_reads.get(cache_key)
                if cached is not None:
                    return cached
                generation = self._single_reads.generation()
            if rule is not None and rule.kind == "slow":
                # Inside the in-flight window on purpose: a slow request occupies a
                # concurrency slot, which is how code 1070 becomes reachable in tests.
                await asyncio.sleep(slow_delay(rule))
            body, files, file_names = await self._read_body(
                scope, receive, headers, exchange.method, query
            )
            books_request = BooksRequest(
                method=exchange.method,
                path=exchange.path,
                path_params=resolved.params,
                query=query,
                body=body,
                ledger=Ledger(db=self.db, clock=self.clock, org_id=resolved.org_id),
                headers=headers,
                files=files,
                file_names=file_names,
                user_id=resolved.user_id,
            )
            if single_read:
                result = _fast_read(resolved.route, books_request) or self._invoke(
                    resolved.route, books_request
                )
                if cache_key is not None and result.status == 200:
                    result = _rendered(result)
                    self._single_reads.put(cache_key, _bytes_only(result), generation)
                return result
            # Lists and writes may take milliseconds: keep the event loop free for them.
            return await run_in_threadpool(self._invoke, resolved.route, books_request)
        finally:
            if ticket is not None:
                ticket.release()

    def _resolve(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> _Resolved:
        """Steps 2-5 (short indexed database reads)."""
        token = bearer_token(headers.get("authorization"), accept_bearer=self.config.accept_bearer)
        grant = self.accounts.validate_access_token(token)
        if grant is None or grant.expires_at <= self.clock.time():
            raise not_authorized()
        route, params = self.registry.match(method, path)
        if not scope_allows(grant.scopes, route.scope):
            raise not_authorized()
        raw_org = (query.get("organization_id") or headers.get(ORG_HEADER) or "").strip()
        key = (grant.user_id, grant.org_id, raw_org, route.needs_org)
        access = self._org_access.get(key)
        if access is None:
            generation = self._org_access.generation()
            access = self._org_access_of(route, grant, raw_org)
            self._org_access.put(key, access, generation)
        return _Resolved(route, params, grant.user_id, access.org_id, access.limit_org, access.plan)

    def _org_access_of(self, route: Route, grant: Grant, raw_org: str) -> _OrgAccess:
        org_id = self._organization(route, grant, raw_org)
        limit_org: str | None = org_id or None
        if limit_org is None:
            # Org-less calls (GET /organizations) still spend someone's budget in Zoho;
            # charge the user's default organization so the headers are always present.
            orgs = organizations_for_user(self.db, grant.user_id)
            limit_org = orgs[0]["organization_id"] if orgs else None
        plan = plan_of(self.db, limit_org) if limit_org else self.config.plan
        return _OrgAccess(org_id, limit_org, plan)

    def _organization(self, route: Route, grant: Grant, raw: str) -> str:
        if raw:
            if not raw.isdigit():
                raise bad_organization_id()
            if grant.org_id is not None:
                # A client-credentials token is bound to one organization (soid).
                if raw != grant.org_id or get_organization(self.db, raw) is None:
                    raise not_associated(raw)
                return raw
            if not self._is_member(grant.user_id, raw):
                raise not_associated(raw)
            return raw
        if grant.org_id is not None:
            return grant.org_id
        if not route.needs_org:
            return ""
        orgs = organizations_for_user(self.db, grant.user_id)
        if len(orgs) == 1:
            # UNCONFIRMED (api-facts §2.1): a single-org user falls back to that org.
            return str(orgs[0]["organization_id"])
        raise ApiError(
            400,
            6024,
            MULTIPLE_ORGS_MESSAGE,
            error_info=[
                {
                    "organization_id": org["organization_id"],
                    "name": org.get("name", ""),
                    "is_default_org": bool(org.get("is_default_org", False)),
                }
                for org in orgs
            ],
        )

    def _is_member(self, user_id: str, org_id: str) -> bool:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM org_users WHERE org_id=? AND user_id=?", (org_id, user_id)
            ).fetchone()
        return row is not None

    async def _read_body(
        self,
        scope: Scope,
        receive: Receive,
        headers: Mapping[str, str],
        method: str,
        query: Mapping[str, str],
    ) -> tuple[dict[str, Any], dict[str, bytes], dict[str, str]]:
        """Step 7: (body, uploaded files, their names). GET and DELETE bodies are ignored,
        as Zoho documents none."""
        if method not in ("POST", "PUT"):
            return {}, {}, {}
        request = Request(scope, receive)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type in FORM_TYPES:
            return await self._read_form(request, query)
        raw = await request.body()
        if not raw.strip() and "JSONString" in query:
            # Some legacy clients put JSONString in the query string of a POST.
            return parse_json_string(query["JSONString"]), {}, {}
        return parse_json_body(raw, str(scope.get("path", ""))), {}, {}

    async def _read_form(
        self, request: Request, query: Mapping[str, str]
    ) -> tuple[dict[str, Any], dict[str, bytes], dict[str, str]]:
        try:
            form = await request.form(max_part_size=MAX_FORM_PART)
        except Exception:
            raise invalid_value("JSONString") from None
        body: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        file_names: dict[str, str] = {}
        json_string: str | None = None
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                name = key if key not in files else f"{key}[{len(files)}]"
                files[name] = await value.read()
                if value.filename:
                    file_names[name] = value.filename
            elif key == "JSONString":
                json_string = value
        await form.close()
        if json_string is not None:
            body = parse_json_string(json_string)
        elif query.get("JSONString") is not None:
            body = parse_json_string(query["JSONString"])
        return body, files, file_names

    def _invoke(self, route: Route, request: BooksRequest) -> BooksResponse:
        """Step 8: reads run as they are; every write is one transaction, all or nothing."""
        if request.method == "GET":
            result = route.handler(request)
        else:
            with self.db.transaction():
                result = route.handler(request)
        if not isinstance(result, BooksResponse):
            raise TypeError(f"handler for {route.template} returned {type(result).__name__}")
        return result

    # rendering ------------------------------------------------------------------
    async def _respond(
        self, result: BooksResponse, rate_headers: Mapping[str, str], send: Send
    ) -> None:
        """Send the answer as raw ASGI messages (a Starlette Response per request cost
        more than the record lookup)."""
        result = _rendered(result)
        payload = result.content or b""
        media_type = result.media_type
        headers = [
            (b"content-type", media_type.encode("latin-1")),
            (b"content-length", str(len(payload)).encode("latin-1")),
        ]
        extra = {**rate_headers, **result.headers} if result.headers else rate_headers
        for key, value in extra.items():
            name = _HEADER_NAMES.get(key)
            if name is None:
                name = key.lower().encode("latin-1")
                if len(_HEADER_NAMES) < 256:
                    _HEADER_NAMES[key] = name
            headers.append((name, value.encode("latin-1", "replace")))
        await send({"type": "http.response.start", "status": result.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


# Response header names as sent (lower-cased bytes): the same few on every answer.
_HEADER_NAMES: dict[str, bytes] = {}


def _rendered(result: BooksResponse) -> BooksResponse:
    """The same answer with its JSON envelope rendered to bytes once."""
    if result.content is not None:
        return result
    body = result.body if result.body is not None else {"code": 0, "message": "success"}
    return BooksResponse(
        status=result.status,
        body=body,  # kept for the request log's Zoho code
        content=render_json(body),
        media_type=JSON_MEDIA_TYPE,
        headers=result.headers,
    )


def _bytes_only(result: BooksResponse) -> BooksResponse:
    """A rendered answer for the read memo: its bytes, and of its envelope only the
    code the request log records. A memo full of parsed documents kept a few hundred
    thousand objects alive for the garbage collector to walk again and again."""
    code = None if result.body is None else result.body.get("code")
    return BooksResponse(
        status=result.status,
        body={"code": code},
        content=result.content,
        media_type=result.media_type,
        headers=result.headers,
    )


def _fast_read(route: Route, request: BooksRequest) -> BooksResponse | None:
    """The handler's pre-rendered twin's answer (``books.fastread``), when it has one."""
    fast = fastread.lookup(route.handler)
    content = None if fast is None else fast(request)
    if content is None:
        return None
    # The envelope's code and message, for the request log; the bytes are the answer.
    return BooksResponse(
        status=200,
        body={"code": 0, "message": "success"},
        content=content,
        media_type=JSON_MEDIA_TYPE,
    )


def _is_single_read(route: Route, method: str) -> bool:
    """A GET of one record by id: one indexed read, fast enough to run on the loop."""
    return method == "GET" and bool(route.segments) and route.segments[-1].startswith("{")
