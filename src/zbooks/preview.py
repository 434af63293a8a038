"""The exact request an operation would send, and what it would change: a dry run.

Both front ends that let a person (or an agent) rehearse a write use this module: the
MCP server's ``dry_run`` and the CLI's ``--dry-run``. It knows nothing of either; it
takes one operation of the registry (``zbooks.resources.operations()``) and plain
arguments, and returns plain data:

- ``build_request`` turns ``{"invoice_id": "1", "body": {...}, "status": "sent"}`` into
  the method, path, query and JSON body the SDK's pipeline will send, converting values
  the way the generated methods do (``zbooks.resources.base``), and rejects unknown or
  missing arguments with the names that would have been right;
- ``reader_for`` finds the GET that returns the record an update targets, so the
  caller can fetch it (through its own client) and ``diff`` the body against it;
- ``mask_secrets`` hides tokens and passwords in anything shown to a person or model.

Sending is the caller's job: ``client.request(**prepared.request_kwargs())`` sends
exactly what ``prepared.describe(...)`` showed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from zbooks.resources.base import plain, query_value

if TYPE_CHECKING:
    from zbooks.resources import Operation

MASK = "***"

# Keys whose values are credentials wherever they appear (bodies, headers, queries).
_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|api[_-]?key|authorization|client_secret)$",
    re.IGNORECASE,
)


class ArgumentError(ValueError):
    """Arguments that do not fit the operation; ``hint`` names what would."""

    def __init__(self, message: str, *, hint: str) -> None:
        super().__init__(f"{message} {hint}")
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class PreparedRequest:
    """One request, ready for ``Client.request`` and fit to show before sending."""

    operation: str  # module.method
    method: str
    path: str  # filled in, relative to the Books API base (/invoices/123)
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def request_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Client.request`` / ``AsyncClient.request``."""
        return {
            "method": self.method,
            "path": self.path,
            "params": dict(self.params) or None,
            "json": self.json,
            "headers": dict(self.headers) or None,
        }

    def describe(self, *, api_url: str = "", organization_id: str | None = None) -> dict[str, Any]:
        """The request as the server will see it: full URL with the organization_id the
        pipeline adds, the Authorization header masked, the body with secrets masked."""
        query = dict(self.params)
        if organization_id and "organization_id" not in query:
            query["organization_id"] = organization_id
        url = api_url.rstrip("/") + self.path
        if query:
            url = f"{url}?{urlencode(mask_secrets(query), doseq=True)}"
        shown: dict[str, Any] = {
            "method": self.method,
            "url": url,
            "headers": {
                "Authorization": f"Zoho-oauthtoken {MASK}",
                **mask_secrets(self.headers),
            },
        }
        if self.json is not None:
            shown["headers"]["Content-Type"] = "application/json"
            shown["json"] = mask_secrets(self.json)
        return shown


def _names(op: Operation) -> dict[str, Any]:
    """Every accepted argument name (wire name and Python name) to its parameter."""
    found: dict[str, Any] = {}
    for param in op.params:
        found[param.name] = param
        found[param.python_name] = param
    return found


def build_request(op: Operation, arguments: Mapping[str, Any] | None) -> PreparedRequest:
    """The request ``op`` sends for ``arguments``.

    Path and query parameters are top-level keys (wire or Python names); the JSON body
    is the ``body`` key. Unknown names are an error rather than silently sent, so a
    typo in a write never reaches Zoho as an ignored parameter.
    """
    args = dict(arguments or {})
    body = args.pop("body", None)
    accepted = _names(op)
    unknown = sorted(k for k in args if k not in accepted)
    if unknown:
        choices = sorted({p.name for p in op.params})
        close = [m for k in unknown for m in difflib.get_close_matches(k, choices, n=1)]
        hint = f"Did you mean {', '.join(close)}? " if close else ""
        known = ", ".join(choices) if choices else "none"
        body_note = " and body" if op.accepts_body else ""
        raise ArgumentError(
            f"{op.module}.{op.method} has no parameter {', '.join(map(repr, unknown))}.",
            hint=f"{hint}Accepted: {known}{body_note}.",
        )
    values: dict[str, Any] = {}
    for key, value in args.items():
        if accepted[key].location == "file":
            raise ArgumentError(
                f"{op.module}.{op.method} uploads {accepted[key].name} as a file.",
                hint="File uploads are not available here; use the SDK or `zbooks` CLI.",
            )
        if accepted[key].location == "file":
            raise ArgumentError(
                f"{op.module}.{op.method} uploads {accepted[key].name} as a file.",
                hint="File uploads are not available here; use the SDK or `zbooks` CLI.",
            )
        values[accepted[key].name] = value
    missing = [p.name for p in op.params if p.required and values.get(p.name) in (None, "")]
    if missing:
        raise ArgumentError(
            f"{op.module}.{op.method} needs {', '.join(missing)}.",
            hint="Pass each required parameter as a top-level argument.",
        )
    if body is not None and not op.accepts_body:
        raise ArgumentError(
            f"{op.module}.{op.method} ({op.http_method}) takes no body.",
            hint="Pass parameters as top-level arguments instead of under body.",
        )
    if body is not None and not isinstance(body, Mapping | list):
        raise ArgumentError(
            "body must be a JSON object.", hint='Pass body as {"field": value, ...}.'
        )
    if op.body_required and body is None and op.http_method == "POST":
        raise ArgumentError(
            f"{op.module}.{op.method} needs a body with {', '.join(op.body_required)}.",
            hint="Call zoho_books_describe for the body fields.",
        )
    path = op.path
    for param in op.path_params:
        path = path.replace("{" + param.name + "}", quote(str(values.pop(param.name)), safe=""))
    in_header = {p.name for p in op.header_params}
    params: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        converted = query_value(value)
        if converted is True or converted is False:
            converted = "true" if converted else "false"
        if name in in_header:
            headers[name] = str(converted)
        else:
            params[name] = converted
    return PreparedRequest(
        operation=f"{op.module}.{op.method}",
        method=op.http_method,
        path=path,
        params=params,
        json=plain(body) if body is not None else None,
        headers=headers,
    )


def reader_for(op: Operation) -> Operation | None:
    """The GET returning the record that ``op`` (a PUT on one record) replaces."""
    if op.http_method not in ("PUT", "PATCH") or not op.path_params:
        return None
    from zbooks.resources import operations

    for candidate in operations(op.module):
        if candidate.http_method == "GET" and candidate.path == op.path and candidate.keys:
            return candidate
    return None


def record_of(op: Operation, envelope: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record inside a GET's envelope (``{"invoice": {...}}`` -> the invoice)."""
    for key in op.keys:
        value = envelope.get(key)
        if isinstance(value, Mapping):
            return dict(value)
    return None


def diff(current: Mapping[str, Any], change: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What an update body would change in the current record, field by field.

    Only fields the body names are compared (Zoho keeps the rest); nested objects are
    compared key by key (``address.city``), lists as whole values. Values are compared
    as text so ``"100"`` against ``100.0`` is not reported: Zoho reads both alike.
    """
    changes: list[dict[str, Any]] = []
    _diff_into(changes, "", current, change)
    return changes


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return str(a) == str(b) if not isinstance(a, list | dict) else False


def _diff_into(
    out: list[dict[str, Any]], prefix: str, before: Any, after: Mapping[str, Any]
) -> None:
    old = before if isinstance(before, Mapping) else {}
    for key, new in after.items():
        name = f"{prefix}{key}"
        previous = old.get(key)
        if isinstance(new, Mapping) and isinstance(previous, Mapping):
            _diff_into(out, f"{name}.", previous, new)
        elif not _same(previous, new):
            out.append(
                {
                    "field": name,
                    "before": mask_secrets(previous) if _SECRET_KEY.search(key) is None else MASK,
                    "after": mask_secrets(new) if _SECRET_KEY.search(key) is None else MASK,
                }
            )


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` with every credential-like key's value replaced by ``***``."""
    if isinstance(value, Mapping):
        return {
            k: (MASK if isinstance(k, str) and _SECRET_KEY.search(k) and v else mask_secrets(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]
    return value


__all__ = [
    "ArgumentError",
    "PreparedRequest",
    "build_request",
    "diff",
    "mask_secrets",
    "reader_for",
    "record_of",
]
