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
  bad or missing signature, 400 to a body it cannot parse, 200 to a duplicate without
  calling your handler, and calls the handler exactly once per new event.
- Because delivery is not guaranteed, reconcile by polling ``last_modified_time``
  (see docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zbooks.errors import ZBooksError

SIGNATURE_HEADER = "X-Zoho-Webhook-Signature"
MAX_BODY = 5 * 1024 * 1024


class WebhookError(ZBooksError):
    """A webhook request that must be refused."""


class SignatureError(WebhookError):
    hint = "Check that the receiver's secret equals the webhook's secret in Zoho Books."


class PayloadError(WebhookError):
    hint = "Zoho's default payload is a JSON object with one key: the record's singular name."


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

    @property
    def dedupe_key(self) -> tuple[str, str, str]:
        body_hash = hashlib.sha256(json.dumps(self.data, sort_keys=True).encode()).hexdigest()
        return (
            self.entity_type,
            self.entity_id or body_hash,
            self.last_modified_time or body_hash,
        )

    def model(self) -> Any:
        """The record as a typed model when one exists for ``entity_type``, else the dict."""
        try:
            from zbooks.models import model_for_entity  # type: ignore[attr-defined]
        except ImportError:
            return self.data
        cls = model_for_entity(self.entity_type)
        return self.data if cls is None else cls.model_validate(self.data)


def parse(
    body: bytes | str | Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> WebhookEvent:
    """Parse Zoho's default payload ``{"<entity>": {...}}`` into an event."""
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
    )


class SeenEvents:
    """A bounded, thread-safe memory of dedupe keys already handled."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: tuple[str, str, str]) -> bool:
        """Record ``key``; False when it was already there."""
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return False
            self._keys[key] = None
            if len(self._keys) > self.capacity:
                self._keys.popitem(last=False)
            return True

    def forget(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._keys.pop(key, None)


Handler = Callable[[WebhookEvent], Awaitable[None] | None]


class WebhookReceiver:
    """An ASGI application: ``app.mount("/zoho", WebhookReceiver(handler, secret=...))``.

    Set ``secret=None`` only for webhooks configured without one (nothing is verified).
    A handler that raises gets a 500 back to Zoho so that Zoho retries; the event is then
    not remembered as handled.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        secret: str | None,
        header: str = SIGNATURE_HEADER,
        scheme: SignatureScheme | None = None,
        seen: SeenEvents | None = None,
    ) -> None:
        self.handler = handler
        self._secret = secret
        self.header = header
        self.scheme = scheme
        self.seen = seen or SeenEvents()

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
            event = parse(body, headers=headers, params=params)
        except PayloadError as exc:
            return 400, {"status": "error", "message": exc.message}
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
