"""Zoho's OpenAPI files as a test oracle: find the operation for a request and check a
sandbox response body against its documented 2xx schema.

The files live outside the repository (``ZBOOKS_OAS_DIR``, see ``tests/oasfiles.py``)
and are read at test time only. Their known mistakes are tolerated in ONE place, ``OAS_QUIRKS``
below; everything else is strict about the types of documented fields, while extra,
undocumented fields are allowed (Zoho adds fields all the time).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml

from tests.oasfiles import BOOKS_OAS, OAS_DIR, OAS_SKIP_REASON, REPO_ROOT, requires_oas

OAS_ROOT = BOOKS_OAS.parent
__all__ = ["OAS_DIR", "OAS_ROOT", "OAS_SKIP_REASON", "REPO_ROOT", "requires_oas"]

_METHODS = ("get", "post", "put", "delete")
_REGEX_SEGMENT = re.compile(r"^\(.*\)$")  # reporting tags use "(\d+)" as a path segment

# --- The allowlist: every known way the OAS differs from what the API returns ---------
# The schema converter below consults these entries and nothing else loosens a schema.
OAS_QUIRKS: dict[str, str] = {
    "page_context_array": "page_context is typed array in some files; the API sends an object",
    "money_typed_string": "amounts typed string (invoice total, balance) are JSON numbers",
    "money_typed_integer": "amounts typed integer are decimals (rate 100 vs 99.5)",
    "integer_ids": "ids typed integer (from integer examples) are digit strings",
    "nullable": "OpenAPI 3.0 'nullable: true' admits JSON null",
    "format_ignored": "format (double, int64, date, binary) is advice, not checked",
    "enum_ignored": "the few enums in responses are incomplete lists of live values",
    "required_ignored": "required lists name nested fields at top level (payment invoice_id)",
    "customerpayments_key": "GET /customerpayments lists under customerpayments, not "
    "customer_payments",
    "fixed_asset_key": "GET /fixedassets/{id} documents its key as 'fissed-asset'",
    "singular_key_typed_array": "record keys typed array (salesorder, tax, contact_person) "
    "hold one object",
    "plural_key_typed_object": "list keys typed object (creditnotes) hold an array of them",
    "record_key_typed_scalar": "exchange_rate is typed number but holds the rate object",
    "object_or_array_field": "vendor payment check_details/billing_address are typed object "
    "in one operation and array in another",
    "flattened_envelope": "POST /vendorpayments puts the payment's fields beside code/message; "
    "the API nests them under vendorpayment",
    "percent_discount": "discount is typed number but a percentage discount is the string "
    "'10.00%' (api-facts §2.5)",
    "line_items_typed_object": "vendor-credits.yml types the record's line_items as one object "
    "in its create/get/update responses; its own line_items component is an array",
}
# Names that look like money: typed string/integer in the OAS, numbers on the wire
# (``_bcy``/``_fcy``: the same amount in base and foreign currency, e.g. ``amount_bcy``).
_MONEY = re.compile(
    r"(amount|total|balance|rate|price|charge|adjustment|discount|cost|credits?|paid|"
    r"quantity|percentage|percent|value|outstanding|receivable|payable|hours|salary)s?"
    r"(_bcy|_fcy)?$"
)
_RENAMED_KEYS = {"customer_payments": "customerpayments", "fissed-asset": "fixed_asset"}
_SCALAR_RECORD_KEYS = frozenset({"exchange_rate"})
_OBJECT_OR_ARRAY_FIELDS = frozenset({"check_details", "billing_address"})
_LISTS_TYPED_OBJECT = frozenset({"line_items"})
_FLATTENED = {("POST", "/vendorpayments"): "vendorpayment"}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    source: str  # the YAML file's stem, e.g. "invoices"
    operation_id: str
    status: int
    segments: tuple[str, ...]
    raw_schema: Any = field(repr=False, compare=False)
    doc: Any = field(repr=False, compare=False)
    raw_request: Any = field(default=None, repr=False, compare=False)
    raw_parameters: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(0 if _is_param(s) else 1 for s in self.segments)


def _is_param(segment: str) -> bool:
    return segment.startswith("{") or bool(_REGEX_SEGMENT.match(segment))


def _split(path: str) -> tuple[str, ...]:
    path = path.split("?", 1)[0]
    for prefix in ("/books/v3", "/api/v3"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
    return tuple(s for s in path.strip("/").split("/") if s)


class OasIndex:
    """Every operation of the 2026-07 files, with lookup by concrete request path."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self.operations = list(operations)
        self._by_len: dict[int, list[Operation]] = {}
        for op in self.operations:
            self._by_len.setdefault(len(op.segments), []).append(op)
        self._schemas: dict[tuple[str, str, str], dict[str, Any]] = {}

    def find(self, method: str, path: str) -> Operation | None:
        """The operation a request hits: literal segments beat parameters; when two files
        document the same path, the file named after the resource wins."""
        segments = _split(path)
        best: Operation | None = None
        for op in self._by_len.get(len(segments), []):
            if op.method != method.upper():
                continue
            if not all(_is_param(t) or t == s for t, s in zip(op.segments, segments, strict=True)):
                continue
            if best is None or _rank(op) > _rank(best):
                best = op
        return best

    def schema(self, op: Operation) -> dict[str, Any]:
        """The operation's success schema as JSON Schema, quirks applied."""
        key = (op.source, op.method, op.template)
        if key not in self._schemas:
            self._schemas[key] = _envelope_schema(op)
        return self._schemas[key]

    def request_schema(self, op: Operation) -> dict[str, Any]:
        """The JSON request body's schema (``{}`` when none is documented)."""
        if op.raw_request is None:
            return {}
        return _convert(op.doc, op.raw_request, "", ())

    def query_parameters(self, op: Operation) -> dict[str, dict[str, Any]]:
        """Documented query parameters (file uploads excluded) and their schemas."""
        found = {}
        for param in op.raw_parameters:
            if not isinstance(param, dict) or param.get("in") != "query":
                continue
            schema = _convert(op.doc, param.get("schema", {}), str(param.get("name")), ())
            if _resolve(op.doc, param.get("schema", {})).get("format") != "binary":
                found[str(param["name"])] = schema
        return found

    def validate(self, method: str, path: str, body: Any) -> list[str]:
        """Problems with ``body`` as the response of ``method path``; empty when valid."""
        op = self.find(method, path)
        if op is None:
            return [f"no documented operation for {method} {path}"]
        validator = jsonschema.Draft202012Validator(self.schema(op))
        problems = []
        for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
            while error.context:  # anyOf: report the alternative that got furthest
                error = max(error.context, key=lambda e: len(e.absolute_path))
            where = "/".join(str(p) for p in error.absolute_path) or "<body>"
            problems.append(f"{op.source}:{op.operation_id} {where}: {error.message[:200]}")
        return problems


def _rank(op: Operation) -> tuple[tuple[int, ...], int]:
    literals = {s for s in op.segments if not _is_param(s)}
    return op.specificity, 1 if op.source.replace("-", "") in literals else 0


@lru_cache(maxsize=1)
def load_oas(oas_dir: Path = OAS_DIR) -> OasIndex:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    operations = []
    for file in sorted(oas_dir.glob("*.yml")):
        doc = yaml.load(file.read_text(encoding="utf-8"), Loader=loader)
        for template, item in doc.get("paths", {}).items():
            for method in _METHODS:
                op = item.get(method)
                if op is None:
                    continue
                status = next((c for c in sorted(op["responses"]) if c.startswith("2")), "200")
                response = _resolve(doc, op["responses"][status])
                media = response.get("content", {}).get("application/json", {})
                request = _resolve(doc, op.get("requestBody", {}))
                request_media = request.get("content", {}).get("application/json", {})
                parameters = [*item.get("parameters", []), *op.get("parameters", [])]
                operations.append(
                    Operation(
                        method=method.upper(),
                        template=template,
                        source=file.stem,
                        operation_id=str(op.get("operationId", "")),
                        status=int(status),
                        segments=_split(template),
                        raw_schema=media.get("schema", {}),
                        doc=doc,
                        raw_request=request_media.get("schema"),
                        raw_parameters=tuple(_resolve(doc, p) for p in parameters),
                    )
                )
    return OasIndex(operations)


# --- schema conversion ------------------------------------------------------------------


def _resolve(doc: Mapping[str, Any], node: Any) -> Any:
    for _ in range(50):
        if not (isinstance(node, dict) and "$ref" in node):
            return node
        target: Any = doc
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _envelope_schema(op: Operation) -> dict[str, Any]:
    doc = op.doc
    top = _resolve(doc, op.raw_schema)
    if not isinstance(top, dict):
        return {}
    properties = {
        name: _convert(doc, sub, name, ()) for name, sub in top.get("properties", {}).items()
    }
    flattened = _FLATTENED.get((op.method, op.template))
    if flattened and flattened not in properties:  # quirk: flattened_envelope
        record = {k: v for k, v in properties.items() if k not in ("code", "message")}
        properties = {
            "code": properties.get("code", {}),
            "message": properties.get("message", {}),
            flattened: {"type": "object", "properties": record},
        }
    for name in list(properties):
        alias = _RENAMED_KEYS.get(name)  # quirks: customerpayments_key, fixed_asset_key
        if alias and alias not in properties:
            properties[alias] = properties[name]
    for name, schema in list(properties.items()):
        properties[name] = _envelope_key(name, schema)
    return {"type": "object", "properties": properties}


def _envelope_key(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Quirks of record and list keys beside code/message."""
    kinds = _types(schema)
    if name in ("code", "message", "page_context"):
        return schema
    if "array" in kinds and not name.endswith("s") and "items" in schema:
        return {"anyOf": [schema, schema["items"]]}  # quirk: singular_key_typed_array
    if "object" in kinds and name.endswith("s"):
        return {"anyOf": [schema, {"type": "array", "items": schema}]}  # plural_key_typed_object
    if name in _SCALAR_RECORD_KEYS:
        return {"anyOf": [schema, {"type": "object"}]}  # quirk: record_key_typed_scalar
    return schema


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return set(kind)
    return {kind} if isinstance(kind, str) else set()


def _convert(
    doc: Mapping[str, Any], node: Any, name: str, stack: tuple[int, ...]
) -> dict[str, Any]:
    """One OAS schema node to JSON Schema. ``name`` is the property it describes."""
    node = _resolve(doc, node)
    if not isinstance(node, dict) or id(node) in stack:
        return {}
    stack = (*stack, id(node))
    if name == "page_context":
        return {"type": "object"}  # quirk: page_context_array
    out: dict[str, Any] = {}
    kind = node.get("type")
    if not isinstance(kind, str):
        kind = "object" if "properties" in node else "array" if "items" in node else None
    if kind is not None:
        out["type"] = _widen(name, kind, node)
    if "properties" in node and isinstance(node["properties"], dict):
        out["properties"] = {
            key: _list_typed_object(key, _convert(doc, sub, key, stack))
            for key, sub in node["properties"].items()
        }
    if "items" in node:
        out["items"] = _convert(doc, node["items"], name, stack)
    if "allOf" in node:
        out["allOf"] = [_convert(doc, sub, name, stack) for sub in node["allOf"]]
    # quirks format_ignored, enum_ignored, required_ignored: those keywords are dropped.
    if name in _OBJECT_OR_ARRAY_FIELDS and kind in ("array", "object"):
        # quirk: object_or_array_field (one spelling even says "array of strings")
        other = {"type": "object"} if kind == "array" else {"type": "array", "items": out}
        return {"anyOf": [out, other]}
    return out


def _list_typed_object(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """quirk: line_items_typed_object (a property, not the items of an array)."""
    if name in _LISTS_TYPED_OBJECT and schema.get("type") == "object":
        return {"type": "array", "items": schema}
    return schema


def _widen(name: str, kind: str, node: Mapping[str, Any]) -> str | list[str]:
    types = {kind}
    example = node.get("example")
    numeric_example = isinstance(example, int | float) and not isinstance(example, bool)
    money = bool(_MONEY.search(name)) or node.get("format") in ("double", "float")
    if kind == "string" and (money or numeric_example):
        types.add("number")  # quirk: money_typed_string
    if kind in ("number", "integer") and name == "discount":
        types.add("string")  # quirk: percent_discount
    if kind == "integer":
        if money or isinstance(example, float):
            types.add("number")  # quirk: money_typed_integer
        if name == "id" or name.endswith("_id"):
            types.add("string")  # quirk: integer_ids
    if node.get("nullable") is True:
        types.add("null")  # quirk: nullable
    return kind if len(types) == 1 else sorted(types)


def concrete_path(template: str, values: Mapping[str, str] | None = None) -> str:
    """A request path for a template: parameters get ``values`` or a digit-string id."""
    values = values or {}
    out = []
    for seg in template.strip("/").split("/"):
        if _is_param(seg):
            name = seg.strip("{}")
            out.append(
                values.get(name, "cm_debtor" if name == "module_name" else "460000000009999")
            )
        else:
            out.append(seg)
    return "/" + "/".join(out)
