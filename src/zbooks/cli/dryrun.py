"""``--dry-run``: show the exact request a write would send, and send nothing.

The request is built by the SDK's own ``prepare`` (the same function that builds the
real one), with a placeholder instead of the access token, so what is printed is what
would go on the wire: method, URL with its query (organization_id included), headers
and body. Secret-looking values are masked. For an update, one GET of the current
record gives a field-by-field diff of what the body would change.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Substrings of a key whose value is never printed (query, headers or body).
_SECRET_KEYS = ("token", "secret", "password", "authorization", "api_key", "apikey")
_SHOWN_HEADERS = ("authorization", "content-type", "accept", "x-unique-identifier-key")


def _secret(key: str) -> bool:
    lowered = key.lower()
    return lowered == "code" or any(word in lowered for word in _SECRET_KEYS)


def mask(value: Any) -> Any:
    """A copy of a JSON value with every secret-looking field masked."""
    if isinstance(value, Mapping):
        return {k: MASK if _secret(str(k)) else mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def _masked_url(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, MASK if _secret(k) else v) for k, v in parse_qsl(parts.query, True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",:")))


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def field_diff(current: Mapping[str, Any], body: Mapping[str, Any]) -> list[str]:
    """One line per field the body sets: ``name: old -> new`` or ``name: unchanged``."""
    lines = []
    for key, new in body.items():
        if key not in current:
            lines.append(f"  {key}: (not set) -> {_show(new)}")
        elif current[key] == new:
            lines.append(f"  {key}: unchanged ({_show(new)})")
        else:
            lines.append(f"  {key}: {_show(current[key])} -> {_show(new)}")
    return lines


def _current_record(client: Any, path: str) -> Mapping[str, Any] | None:
    from zbooks.cli.output import unwrap

    answer = client.request("GET", path)
    record = unwrap(answer) if isinstance(answer, Mapping) else None
    return record if isinstance(record, Mapping) else None


def show_dry_run(
    client: Any,
    method: str,
    path: str,
    query: Mapping[str, Any] | None,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print the request ``client`` would send for this write, and for an update the
    field changes against the current record (one GET). Nothing is written."""
    from zbooks.core.pipeline import Call, prepare

    out = stream or sys.stdout
    call = Call(method.upper(), path, params=dict(query or {}) or None, json=body, headers=headers)
    # Private on purpose: the dry run must resolve the organization exactly as the real
    # call would (configured, or discovered with a read of /organizations).
    pipeline = client._pipeline
    org = pipeline.organization_for(call)
    request = prepare(pipeline.config, call, org, MASK)
    out.write("Dry run: nothing was sent. The request would be:\n")
    out.write(f"{request.method} {_masked_url(str(request.url))}\n")
    for name, value in request.headers.items():
        if name.lower() in _SHOWN_HEADERS:
            shown = "Zoho-oauthtoken ***" if name.lower() == "authorization" else value
            title = "-".join(part.capitalize() for part in name.split("-"))
            out.write(f"{title}: {shown}\n")
    if body is not None:
        out.write(json.dumps(mask(body), indent=2, ensure_ascii=False) + "\n")
    if method.upper() in ("PUT", "PATCH") and isinstance(body, Mapping):
        current = _current_record(client, path)
        if current is None:
            out.write("No current record to compare with (the GET answered no record).\n")
        else:
            out.write("Changes against the current record:\n")
            out.write("\n".join(field_diff(current, mask(body))) + "\n")
    out.flush()
