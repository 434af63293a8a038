"""Turn a webhook's configuration plus a record into the HTTP request Zoho would send,
and send it once.

Pure functions except ``send``: the engine decides when (first try, retries, resend)
and records the outcome. What the request looks like (api-facts §6.1-6.3):

- URL: the configured one plus ``query_parameters`` (and, unless the body is a form,
  ``entity_parameters`` and ``additional_parameters``); ``${invoice.total}``-style
  placeholders are filled from the record (placeholder syntax UNCONFIRMED);
- body: the default payload ``{"<key>": record}`` as JSON, a form of ``form_data`` (plus
  the entity/additional parameters), or the ``raw_data`` template;
- headers: the custom ``headers`` and, when a secret is set, ``X-Zoho-Webhook-Signature``
  = hex HMAC-SHA256 over the query and form parameters sorted by name (name + value
  concatenated) followed by the raw body. That is Zoho Billing's documented scheme; Books'
  is UNCONFIRMED. This is a separate implementation from the SDK's verifier on purpose.

Deliveries go to loopback URLs only unless the sandbox is told otherwise: an emulator
must never be turned into a way to make requests to arbitrary hosts.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2

from zbooks.sandbox.errors import ApiError, invalid_value

SIGNATURE_HEADER = "X-Zoho-Webhook-Signature"
USER_AGENT = "ZohoBooks-Webhook (zbooks sandbox)"
MAX_RESPONSE_MESSAGE = 2000
_PLACEHOLDER = re.compile(r"\$\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}")
_SENSITIVE_HEADER = re.compile(r"authorization|token|secret|key|signature|cookie", re.I)

# body_type spellings (Zoho's exact values are UNCONFIRMED) -> canonical value.
BODY_TYPES: dict[str, str] = {
    "": "default",
    "default": "default",
    "default_payload": "default",
    "json": "default",
    "application/json": "default",
    "form": "application/x-www-form-urlencoded",
    "form_data": "application/x-www-form-urlencoded",
    "formdata": "application/x-www-form-urlencoded",
    "x-www-form-urlencoded": "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded": "application/x-www-form-urlencoded",
    "raw": "raw",
    "raw_data": "raw",
    "user_defined": "raw",
    "user_defined_format": "raw",
    "text/plain": "raw",
}
FORM = "application/x-www-form-urlencoded"


class LoopbackOnlyError(ApiError):
    """A webhook URL outside this machine while external delivery is off."""

    def __init__(self, host: str) -> None:
        super().__init__(
            400,
            4,
            f"The zbooks sandbox delivers webhooks only to loopback URLs (127.0.0.1, ::1, "
            f"localhost); {host!r} is not one. Use a local receiver (zbooks webhooks "
            f"listen), or start the sandbox with external webhook delivery allowed.",
        )


def is_loopback_host(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def check_url(url: object, *, allow_external: bool, field_name: str = "url") -> str:
    """A valid http(s) URL; one that leaves the machine -> ``LoopbackOnlyError``."""
    if not isinstance(url, str) or not url.strip():
        raise invalid_value(field_name)
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError for a bad port
    except ValueError:
        raise invalid_value(field_name) from None
    if parts.scheme not in ("http", "https") or not host:
        raise invalid_value(field_name)
    if not allow_external and not is_loopback_host(host):
        raise LoopbackOnlyError(host)
    return text


# --- placeholders ----------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def fill(template: str, key: str, record: Mapping[str, Any]) -> str:
    """Replace ``${invoice.total}`` (or ``${total}``) with the record's value; unknown
    fields become empty strings, as a template engine would render them."""

    def lookup(match: re.Match[str]) -> str:
        path = match.group(1).split(".")
        if path[0] == key and len(path) > 1:
            path = path[1:]
        node: Any = record
        for part in path:
            if isinstance(node, Mapping):
                node = node.get(part)
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return ""
        return _text(node)

    return _PLACEHOLDER.sub(lookup, template)


def _pairs(
    items: Sequence[Mapping[str, Any]] | None, key: str, record: Mapping[str, Any]
) -> list[tuple[str, str]]:
    return [
        (str(item.get("param_name", "")), fill(_text(item.get("param_value")), key, record))
        for item in items or ()
        if item.get("param_name")
    ]


# --- the request ------------------------------------------------------------------------
@dataclass
class OutgoingRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str
    params: dict[str, str] = field(default_factory=dict)  # what the signature covers

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": [list(h) for h in self.headers],
            "body": self.body,
            "params": self.params,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OutgoingRequest:
        return cls(
            method=str(data["method"]),
            url=str(data["url"]),
            headers=[(str(k), str(v)) for k, v in data.get("headers", [])],
            body=str(data.get("body", "")),
            params={str(k): str(v) for k, v in dict(data.get("params", {})).items()},
        )

    def headers_text(self) -> str:
        """Headers as history shows them, with credential-like values masked."""
        return "\n".join(
            f"{name}: {'****' if _SENSITIVE_HEADER.search(name) else value}"
            for name, value in self.headers
        )


def signing_message(body: bytes, params: Mapping[str, str]) -> bytes:
    prefix = "".join(f"{name}{value}" for name, value in sorted(params.items()))
    return prefix.encode("utf-8") + body


def signature(secret: str, body: bytes, params: Mapping[str, str]) -> str:
    return hmac.new(
        secret.encode("utf-8"), signing_message(body, params), hashlib.sha256
    ).hexdigest()


def build_request(
    webhook: Mapping[str, Any],
    key: str,
    record: Mapping[str, Any],
    *,
    sign: bool = True,
) -> OutgoingRequest:
    """The request for one delivery of ``record`` (payload key ``key``)."""
    body_type = BODY_TYPES.get(str(webhook.get("body_type") or ""), "default")
    parts = urlsplit(str(webhook["url"]))
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += _pairs(webhook.get("query_parameters"), key, record)
    extra = _pairs(webhook.get("entity_parameters"), key, record)
    extra += _pairs(webhook.get("additional_parameters"), key, record)
    headers: list[tuple[str, str]] = [("User-Agent", USER_AGENT)]
    form: list[tuple[str, str]] = []
    if body_type == FORM:
        form = _pairs(webhook.get("form_data"), key, record) + extra
        body = urlencode(form)
        headers.append(("Content-Type", FORM))
    else:
        query += extra
        if body_type == "raw":
            body = fill(str(webhook.get("raw_data") or ""), key, record)
            headers.append(("Content-Type", _raw_type(body)))
        else:
            body = json.dumps({key: record}, ensure_ascii=False, separators=(",", ":"))
            headers.append(("Content-Type", "application/json"))
    for name, value in _pairs(webhook.get("headers"), key, record):
        headers = [h for h in headers if h[0].lower() != name.lower()]
        headers.append((name, value))
    url = urlunsplit(parts._replace(query=urlencode(query)))
    # The receiver sees one value per name (the last): sign what it will see.
    params = dict(query)
    params.update(form)
    secret = str(webhook.get("secret") or "")
    if secret and sign:
        headers.append((SIGNATURE_HEADER, signature(secret, body.encode("utf-8"), params)))
    method = str(webhook.get("method") or "POST").upper()
    return OutgoingRequest(method=method, url=url, headers=headers, body=body, params=params)


def _raw_type(body: str) -> str:
    try:
        json.loads(body)
    except ValueError:
        return "text/plain"
    return "application/json"


# --- sending ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AttemptResult:
    ok: bool
    response_code: int  # 0 when no HTTP response came back
    response_message: str
    response_headers: str = ""
    retry_after: str | None = None


def send(
    request: OutgoingRequest,
    *,
    timeout: float,
    allow_external: bool,
    transport: httpx2.BaseTransport | None = None,
) -> AttemptResult:
    """One attempt. A 2xx answer is success; anything else, redirects included (Zoho's
    handling of 3xx is UNCONFIRMED), a timeout or a refused connection is a failure."""
    host = urlsplit(request.url).hostname or ""
    if not allow_external and not is_loopback_host(host):
        return AttemptResult(False, 0, f"Refused: {host} is not a loopback address.")
    try:
        with httpx2.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
        ) as client:
            response = client.request(
                request.method,
                request.url,
                content=request.body.encode("utf-8"),
                headers=request.headers,
            )
            text = response.text[:MAX_RESPONSE_MESSAGE]
    except httpx2.TimeoutException:
        return AttemptResult(False, 0, f"Timed out after {timeout:g} seconds.")
    except httpx2.HTTPError as exc:
        return AttemptResult(False, 0, f"Connection failed: {type(exc).__name__}: {exc}")
    headers_text = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return AttemptResult(
        ok=200 <= response.status_code < 300,
        response_code=response.status_code,
        response_message=text,
        response_headers=headers_text,
        retry_after=response.headers.get("retry-after"),
    )
