"""Finding and explaining operations, so 980 of them fit behind two tools.

``search`` scores every operation of the registry against the query's words (module
name, method name, path and one-line summary, with light stemming so "invoice" finds
``invoices``) and returns ids with one-line summaries. ``describe`` returns one
operation's parameters and a trimmed body schema built from the generated pydantic
model: field names and JSON types, nested one level, no prose, so it stays small.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import Any

from zbooks.mcp.policy import kind_of
from zbooks.resources import Operation, operations

_WORD = re.compile(r"[a-z0-9]+")
_MAX_NESTED_FIELDS = 25


class UnknownOperation(LookupError):
    """No operation has that id; the message suggests close ones."""


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower().replace("_", " "))}


@lru_cache(maxsize=1)
def _index() -> tuple[tuple[Operation, frozenset[str], frozenset[str]], ...]:
    """Per operation: the words of its id (weighted higher) and of its path+summary."""
    rows = []
    for op in operations():
        name_words = frozenset(_words(f"{op.module} {op.method}"))
        other = frozenset(_words(f"{op.path} {op.summary}"))
        rows.append((op, name_words, other))
    return tuple(rows)


def op_id(op: Operation) -> str:
    return f"{op.module}.{op.method}"


def search(query: str, limit: int = 15) -> list[dict[str, str]]:
    """Operations matching the query's words, best first."""
    wanted = _words(query)
    if not wanted:
        return []
    scored: list[tuple[float, str, Operation]] = []
    for op, name_words, other in _index():
        score = 0.0
        for word in wanted:
            if word in name_words:
                score += 3
            elif word in other or (len(word) >= 3 and any(w.startswith(word) for w in name_words)):
                score += 1
        if score:
            # Prefer the plain, common operations (list/get/create) on ties.
            score -= len(op.method) / 100
            scored.append((score, op_id(op), op))
    scored.sort(key=lambda row: (-row[0], row[1]))
    return [
        {
            "operation": op_id(op),
            "summary": op.summary,
            "kind": kind_of(op).value,
        }
        for _, _, op in scored[:limit]
    ]


def find(operation: str) -> Operation:
    """The operation with id ``module.method`` (dashes and case forgiven)."""
    wanted = operation.strip().lower().replace("-", "_")
    for op in operations():
        if op_id(op) == wanted:
            return op
    import difflib

    ids = [op_id(op) for op in operations()]
    close = difflib.get_close_matches(wanted, ids, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise UnknownOperation(
        f"No operation {operation!r}.{hint} Use zoho_books_search to find operation ids."
    )


def describe(op: Operation) -> dict[str, Any]:
    """Parameters and trimmed body schema of one operation."""
    result: dict[str, Any] = {
        "operation": op_id(op),
        "summary": op.summary,
        "http": f"{op.http_method} {op.path}",
        "kind": kind_of(op).value,
        "parameters": [_param(p) for p in op.params if p.location != "header"],
    }
    if op.paginated:
        result["pagination"] = "page and per_page (max 200); the response has page_context"
    if op.accepts_body:
        result["body"] = _body_schema(op)
        result["body_required"] = list(op.body_required)
    if op.file_params:
        result["note"] = "File uploads are not available through MCP."
    return result


def _param(p: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"name": p.name, "in": p.location, "type": p.kind}
    if p.required:
        row["required"] = True
    if p.enum:
        row["enum"] = list(p.enum)
    return row


def _body_schema(op: Operation) -> Any:
    if not op.body_model:
        return "any JSON object (not documented)"
    module = importlib.import_module(f"zbooks.models.{op.module}")
    model = getattr(module, op.body_model, None)
    if model is None:
        return "any JSON object (not documented)"
    schema = model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    return _trim(schema, defs, depth=0)


def _trim(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    """``{"field": "string", "line_items": [{"item_id": "string", ...}]}``."""
    schema = _resolve(schema, defs)
    kind = schema.get("type")
    if "enum" in schema:
        return "one of " + "|".join(str(v) for v in schema["enum"])
    if kind == "array":
        return [_trim(schema.get("items", {}), defs, depth)]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        if depth >= 2 or not props:
            return "object"
        names = sorted(props)
        limit = None if depth == 0 else _MAX_NESTED_FIELDS
        out = {name: _trim(props[name], defs, depth + 1) for name in names[:limit]}
        if limit is not None and len(names) > limit:
            out["..."] = f"{len(names) - limit} more fields"
        return out
    fmt = schema.get("format")
    return f"{kind}({fmt})" if fmt and kind else (kind or "any")


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and drop the ``null`` branch of optional fields."""
    if "$ref" in schema:
        return _resolve(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs)
    options = schema.get("anyOf")
    if options:
        real = [o for o in options if o.get("type") != "null"]
        if len(real) == 1:
            return _resolve(real[0], defs)
        if real:
            return _resolve(real[0], defs)
    return schema
