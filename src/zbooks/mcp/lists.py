"""Small answers from big lists: a page of at most ``limit`` records, key fields only,
and an opaque cursor to continue.

Zoho pages by ``page``/``per_page`` (at most 200). A curated list tool asks for one
page of ``limit`` records and returns a cursor that encodes the next page *and* the
query that produced it, so the agent continues by passing only the cursor and cannot
mix a cursor with other filters by mistake.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

# The fields an accountant reads first; everything else on request (fields=...).
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "invoices": (
        "invoice_id",
        "invoice_number",
        "customer_id",
        "customer_name",
        "status",
        "date",
        "due_date",
        "currency_code",
        "total",
        "balance",
    ),
    "contacts": (
        "contact_id",
        "contact_name",
        "company_name",
        "contact_type",
        "status",
        "email",
        "currency_code",
        "outstanding_receivable_amount",
        "outstanding_payable_amount",
    ),
    "bills": (
        "bill_id",
        "bill_number",
        "vendor_id",
        "vendor_name",
        "status",
        "date",
        "due_date",
        "currency_code",
        "total",
        "balance",
    ),
}


class BadCursor(ValueError):
    """A cursor that this server did not produce (or for another tool)."""


def encode_cursor(tool: str, page: int, query: Mapping[str, Any]) -> str:
    raw = json.dumps({"t": tool, "p": page, "q": dict(query)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(tool: str, cursor: str) -> tuple[int, dict[str, Any]]:
    """(page, query) from a cursor that ``tool`` returned."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        page, query, owner = int(data["p"]), dict(data["q"]), data["t"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadCursor(
            "cursor is not one this server returned. Pass the next_cursor value of the "
            "previous result unchanged, or omit cursor to start from the first page."
        ) from exc
    if owner != tool:
        raise BadCursor(f"This cursor belongs to {owner}, not {tool}; call {owner} with it.")
    return page, query


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT} (Zoho's page size).")
    return limit


def pick(record: Mapping[str, Any], fields: Sequence[str] | None, module: str) -> dict[str, Any]:
    """The key fields of ``record`` (or the ``fields`` asked for; ``["*"]`` for all)."""
    if fields and list(fields) == ["*"]:
        return dict(record)
    wanted = fields or KEY_FIELDS.get(module, ())
    return {name: record[name] for name in wanted if name in record}


def split_fields(fields: str | None) -> list[str] | None:
    """``"invoice_number, total"`` -> ``["invoice_number", "total"]``."""
    if fields is None:
        return None
    names = [f.strip() for f in fields.split(",") if f.strip()]
    return names or None


def page_result(
    *,
    tool: str,
    module: str,
    envelope: Mapping[str, Any],
    page: int,
    query: Mapping[str, Any],
    fields: Sequence[str] | None,
) -> dict[str, Any]:
    """One page of a Zoho list envelope, trimmed, with the cursor to the next one."""
    records = envelope.get(module) or []
    context = envelope.get("page_context") or {}
    more = bool(context.get("has_more_page"))
    result: dict[str, Any] = {
        module: [pick(r, fields, module) for r in records if isinstance(r, Mapping)],
        "count": len(records),
        "page": page,
        "has_more": more,
    }
    if more:
        result["next_cursor"] = encode_cursor(tool, page + 1, query)
    return result
