"""The organization's money precision (``price_precision``), for tables.

Tables show money as the organization does (``0.00``, or ``0.000`` for a three-decimal
currency), not as Python prints a float (``0.0``). The precision is read from the
organizations list once per organization and cached in the user cache directory, so a
table costs at most one extra call per machine, ever; JSON output never needs it.
"""

from __future__ import annotations

import json
from typing import Any

from zbooks.cli.limits import cache_dir

DEFAULT_PRECISION = 2
_CACHE = "organizations.json"


def _load() -> dict[str, Any]:
    try:
        data = json.loads((cache_dir() / _CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(data: dict[str, Any]) -> None:
    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / _CACHE).write_text(json.dumps(data, indent=1), encoding="utf-8")
    except OSError:
        pass  # a read-only cache only costs the lookup again next time


def money_precision(client: Any) -> int:
    """``price_precision`` of the client's organization (2 when Zoho does not say)."""
    from zbooks.errors import ZBooksError

    org = client.organization_id
    cached = _load()
    if org and isinstance(cached.get(org), dict) and "price_precision" in cached[org]:
        return int(cached[org]["price_precision"])
    try:
        answer = client.request("GET", "/organizations")
    except ZBooksError:
        return DEFAULT_PRECISION
    orgs = [o for o in answer.get("organizations", []) if isinstance(o, dict)]
    for entry in orgs:
        if "price_precision" in entry:
            cached[str(entry.get("organization_id"))] = {
                "price_precision": int(entry["price_precision"])
            }
    _save(cached)
    if not org and len(orgs) == 1:
        org = str(orgs[0].get("organization_id"))
    found = cached.get(str(org)) if org else None
    return int(found["price_precision"]) if isinstance(found, dict) else DEFAULT_PRECISION
