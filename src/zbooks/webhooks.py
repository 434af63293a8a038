"""Receive Zoho Books webhooks safely: verify, parse, drop duplicates, then handle.

What Zoho gives you (api-facts §6): the record's JSON under its singular key
(``{"invoice": {...}}``), no event id, no delivery id, retries that can deliver the same
change twice, and deliveries that may be skipped entirely. So:

- ``verify`` checks an HMAC-SHA256 signature in constant time. Books' own header is
  UNCONFIRMED; the default follows Zoho Billing (``X-Zoho-Webhook-Signature``, hex
  HMAC over the alphabetically sorted query/form parameters concatenated as key+value,
  followed by the raw body). Header name and scheme are configurable.
- ``parse`` turns a payload into a ``WebhookEvent`` whose ``entity_type`` comes from the
  payload key; the dedupe key is (entity type, id, ``last_modified_time``).
- ``WebhookReceiver`` is an ASGI app (Starlette/FastAPI mountable) that answers 401 to a
  bad or missing signature, 400 to a body it cannot parse, to parameters it does not
  expect and to a stale record, 200 to a duplicate without calling your handler, and
  calls the handler exactly once per new event.

What the signature does not protect, and what the receiver adds (docs/webhooks.md):
the Billing scheme concatenates names and values with no separator (``?ab=c`` and
``?a=bc`` sign the same bytes, and so do body bytes moved into a parameter name) and
binds no time, nonce or delivery id, so a captured delivery verifies for ever. The
receiver therefore accepts only plain parameter names (or exactly the names you
expect), refuses records whose ``last_modified_time`` is older than a freshness window,
and remembers the deliveries it handled in a durable store (SQLite by default), so a
replay is a duplicate even after a restart.
- Because delivery is not guaranteed, ``reconcile`` (and ``areconcile``) list the
  records modified since a ``ReconcileCursor`` so that a poll fills the gaps; run them
  through the same handler and dedupe keys (see docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from zbooks.errors import ZBooksError

SIGNATURE_HEADER = "X-Zoho-Webhook-Signature"
MAX_BODY = 5 * 1024 * 1024
DEFAULT_MAX_AGE = timedelta(hours=72)
"""How old a delivered record may be. Zoho retries a failed delivery for hours (retry
policies, api-facts §6.4), so a window of three days admits its retries; anything
older is either a replay or lost anyway, and ``reconcile`` catches the record up."""

# Names a webhook's configured query/form parameters can have. JSON bytes (quotes,
# braces, colons) cannot appear in one, so a body cannot be moved into a name.
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,100}$")

DedupeKey = tuple[str, str, str]


class WebhookError(ZBooksError):
    """A webhook request that must be refused."""


class SignatureError(WebhookError):
    hint = "Check that the receiver's secret equals the webhook's secret in Zoho Books."


class PayloadError(WebhookError):
    hint = "Zoho's default payload is a JSON object with one key: the record's singular name."


class UnexpectedParameterError(WebhookError):
    hint = (
        "Zoho's signature does not bind where a parameter name ends and its value "
        "starts, so the receiver accepts only plain names, or exactly expected_params=."
    )


class StaleDeliveryError(WebhookError):
    hint = (
        "The record is older than the receiver's freshness window (max_age=): a replay, "
        "or a retry that came too late. reconcile() picks the record up either way."
    )


def check_params(params: Mapping[str, str], expected: Collection[str] | None = None) -> None:
    """Refuse parameter names a real delivery cannot have.

    With ``expected`` (the names configured on the webhook, such as ``{"event"}``),
    any other name is refused; otherwise any name that is not plain letters, digits and
    ``_.-[]``. Either way a body moved into a parameter name is refused, and with
    ``expected`` so is ``?ab=c`` standing in for ``?a=bc``.
    """
    for name in params:
        if expected is not None and name not in expected:
            raise UnexpectedParameterError(
                f"Unexpected parameter {name[:40]!r}: this receiver expects "
                f"{sorted(expected) or 'no parameters'}."
            )
        if not _PLAIN_NAME.match(name):
            raise UnexpectedParameterError(f"Parameter name {name[:40]!r} is not allowed.")


def signing_message(body: bytes, params: Mapping[str, str] | None = None) -> bytes:
    """Sorted parameters as key+value, then the raw body (the Zoho Billing scheme)."""
    prefix = "".join(f"{k}{v}" for k, v in sorted((params or {}).items()))
    return prefix.encode("utf-8") + body


def compute_signature(secret: str, body: bytes, params: Mapping[str, str] | None = None) -> str:
    return hmac.new(
        secret.encode("utf-8"), signing_message(body, params), hashlib.sha256
    ).hexdigest()


SignatureScheme = Callable[[str, bytes, Mapping[str, str]], str]


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    params: Mapping[str, str] | None = None,
    header: str = SIGNATURE_HEADER,
    scheme: SignatureScheme | None = None,
) -> None:
    """Raise ``SignatureError`` unless the request carries the right signature."""
    lowered = {k.lower(): v for k, v in headers.items()}
    given = lowered.get(header.lower(), "").strip()
    if not given:
        raise SignatureError(f"The webhook has no {header} header.")
    if scheme is not None:
        expected = scheme(secret, body, params or {})
    else:
        expected = compute_signature(secret, body, params)
    if given.lower().startswith("sha256="):
        given = given[7:]
    if not hmac.compare_digest(given.lower().encode(), expected.lower().encode()):
        raise SignatureError("The webhook signature does not match.")


@dataclass(frozen=True)
class WebhookEvent:
    entity_type: str  # "invoice", "contact", ... (the payload's key)
    entity_id: str | None
    data: dict[str, Any] = field(repr=False)
    last_modified_time: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    params: dict[str, str] = field(default_factory=dict, repr=False)
    # The request exactly as received, for forwarding it on unchanged (signature intact).
    raw_body: bytes = field(default=b"", repr=False, compare=False)
    query_string: str = field(default="", repr=False, compare=False)

    @property
    def dedupe_key(self) -> DedupeKey:
        body_hash = hashlib.sha256(json.dumps(self.data, sort_keys=True).encode()).hexdigest()
        return (
            self.entity_type,
            self.entity_id or body_hash,
            self.last_modified_time or body_hash,
        )

    def model(self) -> Any:
        """The record as a typed model (``zbooks.models.Invoice`` for an ``invoice``
        payload) when one exists for ``entity_type``, else the plain dict.

        A payload the model cannot validate (Zoho sending a type its OpenAPI file does
        not document) still comes back as the model, built without validation: refusing
        a webhook for a schema quirk would lose the event.
        """
        cls = model_for_entity(self.entity_type)
        if cls is None:
            return self.data
        from pydantic import ValidationError

        try:
            return cls.model_validate(self.data)
        except ValidationError:
            return cls.model_construct(**self.data)


# Payload keys whose model name is not simply the key in PascalCase.
_MODEL_NAMES = {
    "payment": "CustomerPayment",
    "customerpayment": "CustomerPayment",
    "salesorder": "SalesOrder",
    "purchaseorder": "PurchaseOrder",
    "creditnote": "CreditNote",
    "vendorpayment": "VendorPayment",
    "retainerinvoice": "RetainerInvoice",
    "bankaccount": "BankAccount",
    "banktransaction": "BankTransaction",
    "recurringinvoice": "RecurringInvoice",
    "vendorcredit": "VendorCredit",
    "chart_of_account": "Account",
}


def model_for_entity(entity_type: str) -> Any:
    """The generated model class for a payload key, or None (no models installed, or
    none for this entity)."""
    name = _MODEL_NAMES.get(entity_type) or "".join(
        part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", entity_type) if part
    )
    if not name:
        return None
    try:
        import zbooks.models as models

        cls = getattr(models, name)
    except (ImportError, AttributeError):
        return None
    return cls if isinstance(cls, type) and hasattr(cls, "model_validate") else None


def parse(
    body: bytes | str | Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    query_string: str = "",
) -> WebhookEvent:
    """Parse Zoho's default payload ``{"<entity>": {...}}`` into an event.

    A mapping is accepted too, so a record fetched by ``reconcile`` goes through the
    same path: ``parse({"invoice": record})``.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if isinstance(body, bytes | str):
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PayloadError("The webhook body is not JSON.") from exc
    else:
        document = dict(body)
    if not isinstance(document, dict):
        raise PayloadError("The webhook body is not a JSON object.")
    records = [(k, v) for k, v in document.items() if isinstance(v, dict)]
    if len(records) != 1:
        raise PayloadError(
            "Expected exactly one record in the webhook body, found "
            f"{len(records)} (keys: {sorted(document)[:10]})."
        )
    entity_type, data = records[0]
    raw_id = data.get(f"{entity_type}_id")
    if raw_id is None:
        raw_id = next((v for k, v in data.items() if k.endswith("_id") and v), None)
    modified = data.get("last_modified_time")
    return WebhookEvent(
        entity_type=str(entity_type),
        entity_id=None if raw_id is None else str(raw_id),
        data=data,
        last_modified_time=None if modified is None else str(modified),
        headers=dict(headers or {}),
        params=dict(params or {}),
        raw_body=raw if isinstance(raw, bytes) else b"",
        query_string=query_string,
    )


def check_fresh(event: WebhookEvent, max_age: timedelta, now: float | None = None) -> None:
    """Refuse an event whose record was last modified more than ``max_age`` ago.

    Events without a readable ``last_modified_time`` (custom payloads) pass: there is
    nothing to judge them by, and the dedupe store still catches their replays.
    """
    if event.last_modified_time is None:
        return
    stamp = _parse_time(event.last_modified_time)
    if stamp is None:
        return
    age = (time.time() if now is None else now) - stamp.timestamp()
    if age > max_age.total_seconds():
        raise StaleDeliveryError(
            f"The {event.entity_type} was last modified at {event.last_modified_time}, "
            f"{age / 3600:.1f} h ago; this receiver accepts up to "
            f"{max_age.total_seconds() / 3600:g} h."
        )


class SeenStore(Protocol):
    """Where a receiver remembers the deliveries it handled."""

    def add(self, key: DedupeKey) -> bool:
        """Record ``key``; False when it was already there. Must be atomic."""
        ...

    def forget(self, key: DedupeKey) -> None:
        """Drop ``key`` (its handler failed, so the retry must be handled)."""
        ...


class SQLiteSeenEvents:
    """Dedupe keys in a SQLite file: survives restarts, shared by the processes of one
    machine (WAL, ``INSERT OR IGNORE`` decides atomically which process handles a key).

    Keys older than ``retention`` are pruned now and then; keep it longer than the
    receiver's ``max_age``, past which deliveries are refused anyway.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        retention: timedelta = timedelta(days=30),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if path is None:
            from zbooks.config import data_dir

            path = data_dir() / "webhooks" / "seen.sqlite3"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.retention = retention
        self._clock = clock
        self._lock = threading.Lock()
        self._adds = 0
        self._db = sqlite3.connect(
            str(self.path), timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, seen_at REAL NOT NULL)"
        )

    @staticmethod
    def _text(key: DedupeKey) -> str:
        return json.dumps(list(key), separators=(",", ":"))

    def add(self, key: DedupeKey) -> bool:
        now = self._clock()
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO seen (key, seen_at) VALUES (?, ?)", (self._text(key), now)
            )
            self._adds += 1
            if self._adds % 1000 == 0:
                cutoff = now - self.retention.total_seconds()
                self._db.execute("DELETE FROM seen WHERE seen_at < ?", (cutoff,))
            return cursor.rowcount == 1

    def forget(self, key: DedupeKey) -> None:
        with self._lock:
            self._db.execute("DELETE FROM seen WHERE key = ?", (self._text(key),))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"SQLiteSeenEvents({str(self.path)!r})"


class SeenEvents:
    """A bounded, thread-safe memory of dedupe keys already handled, for one process
    that may forget them (tests, a development listener)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[DedupeKey, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: DedupeKey) -> bool:
        """Record ``key``; False when it was already there."""
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return False
            self._keys[key] = None
            if len(self._keys) > self.capacity:
                self._keys.popitem(last=False)
            return True

    def forget(self, key: DedupeKey) -> None:
        with self._lock:
            self._keys.pop(key, None)


Handler = Callable[[WebhookEvent], Awaitable[None] | None]


class WebhookReceiver:
    """An ASGI application: ``app.mount("/zoho", WebhookReceiver(handler, secret=...))``.

    Set ``secret=None`` only for webhooks configured without one (nothing is verified).
    A handler that raises gets a 500 back to Zoho so that Zoho retries; the event is then
    not remembered as handled.

    ``seen`` remembers handled deliveries; by default a ``SQLiteSeenEvents`` file in the
    zbooks data directory (``ZBOOKS_DATA_DIR``), so replays stay duplicates across
    restarts. ``expected_params`` names the query/form parameters the webhook is
    configured with; ``max_age`` is the freshness window on ``last_modified_time``
    (``None`` turns it off); ``clock`` gives the current epoch seconds.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        secret: str | None,
        header: str = SIGNATURE_HEADER,
        scheme: SignatureScheme | None = None,
        seen: SeenStore | None = None,
        expected_params: Collection[str] | None = None,
        max_age: timedelta | None = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.handler = handler
        self._secret = secret
        self.header = header
        self.scheme = scheme
        self.seen: SeenStore = seen if seen is not None else SQLiteSeenEvents()
        self.expected_params = None if expected_params is None else frozenset(expected_params)
        self.max_age = max_age
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookReceiver(header={self.header!r}, verifying={self._secret is not None})"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from starlette.requests import Request
        from starlette.responses import JSONResponse

        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self._respond(request)
        await JSONResponse(response[1], status_code=response[0])(scope, receive, send)

    async def _respond(self, request: Any) -> tuple[int, dict[str, str]]:
        if request.method not in ("POST", "PUT"):
            return 405, {"status": "error", "message": "Use POST."}
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return 413, {"status": "error", "message": "Body too large."}
        params = dict(request.query_params)
        content_type = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" in content_type:
            from urllib.parse import parse_qsl

            try:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                return 400, {"status": "error", "message": "Body is not UTF-8."}
        headers = dict(request.headers)
        try:
            check_params(params, self.expected_params)
        except UnexpectedParameterError as exc:
            return 400, {"status": "error", "message": exc.message}
        if self._secret is not None:
            try:
                verify(
                    self._secret,
                    body,
                    headers,
                    params=params,
                    header=self.header,
                    scheme=self.scheme,
                )
            except SignatureError as exc:
                return 401, {"status": "error", "message": exc.message}
        try:
            event = parse(
                body,
                headers=headers,
                params=params,
                query_string=request.url.query,
            )
        except PayloadError as exc:
            return 400, {"status": "error", "message": exc.message}
        if self.max_age is not None:
            try:
                check_fresh(event, self.max_age, self._clock())
            except StaleDeliveryError as exc:
                return 400, {"status": "stale", "message": exc.message}
        key = event.dedupe_key
        if not self.seen.add(key):
            return 200, {"status": "duplicate"}
        try:
            result = self.handler(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self.seen.forget(key)
            return 500, {"status": "error", "message": "The handler failed."}
        return 200, {"status": "ok"}


# --- reconciliation ------------------------------------------------------------------------


class _Paginates(Protocol):
    def paginate(self, path: str, **kwargs: Any) -> Iterator[dict[str, Any]]: ...


class _AsyncPaginates(Protocol):
    def paginate(self, path: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]: ...


def _parse_time(value: str) -> datetime | None:
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(value.strip().replace("Z", "+0000"), fmt)
        except ValueError:
            continue
    return None


def format_since(since: str | datetime) -> str:
    """Zoho's timestamp form (``2026-11-24T10:00:00+0000``); naive datetimes are UTC."""
    if isinstance(since, str):
        return since
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return since.strftime("%Y-%m-%dT%H:%M:%S%z")


@dataclass
class ReconcileCursor:
    """How far a poll got: the newest ``last_modified_time`` seen so far.

    Zoho's ``last_modified_time`` filter is inclusive, so the next poll starts AT the
    cursor and sees the records stamped with it again; dedupe them by
    ``WebhookEvent.dedupe_key`` (the receiver's ``seen`` does). Store ``value``
    anywhere (a file, a database row) between runs; the sync engine keeps the same.
    """

    value: str | None = None

    def update(self, record: Mapping[str, Any]) -> None:
        stamp = record.get("last_modified_time")
        if not isinstance(stamp, str) or not stamp:
            return
        if self.value is None:
            self.value = stamp
            return
        new, old = _parse_time(stamp), _parse_time(self.value)
        if new is not None and (old is None or new > old):
            self.value = stamp


def _list_call(
    module: str,
    since: str | datetime | ReconcileCursor | None,
    key: str | None,
    params: Mapping[str, Any] | None,
    organization_id: str | None,
) -> tuple[str, dict[str, Any]]:
    if isinstance(since, ReconcileCursor):
        since = since.value
    query: dict[str, Any] = dict(params or {})
    query["sort_column"] = "last_modified_time"
    query["sort_order"] = "A"
    if since:
        query["last_modified_time"] = format_since(since)
    kwargs: dict[str, Any] = {"params": query}
    if key:
        kwargs["key"] = key
    if organization_id:
        kwargs["organization_id"] = organization_id
    return "/" + module.strip("/"), kwargs


def reconcile(
    client: _Paginates,
    module: str,
    since: str | datetime | ReconcileCursor | None,
    *,
    key: str | None = None,
    params: Mapping[str, Any] | None = None,
    organization_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every record of ``module`` (``"invoices"``, ``"contacts"``) modified at or after
    ``since``, oldest first, across pages, fetched as you iterate.

    Webhooks can be late, duplicated or never sent (api-facts §6.4); a periodic
    ``reconcile`` from the last cursor catches what they missed. Passing a
    ``ReconcileCursor`` reads its value (update it yourself as records are handled).
    """
    path, kwargs = _list_call(module, since, key, params, organization_id)
    yield from client.paginate(path, **kwargs)


async def areconcile(
    client: _AsyncPaginates,
    module: str,
    since: str | datetime | ReconcileCursor | None,
    *,
    key: str | None = None,
    params: Mapping[str, Any] | None = None,
    organization_id: str | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """``reconcile`` for ``AsyncClient``."""
    path, kwargs = _list_call(module, since, key, params, organization_id)
    async for record in client.paginate(path, **kwargs):
        yield record
