"""Request bodies checked at the boundary, before any handler sees them.

Python's JSON parser accepts things no Zoho field can hold: ``1e999`` (infinity), integers
of hundreds of digits, lone UTF-16 surrogates (``"\\ud800"``, which SQLite cannot store)
and arrays nested thousands deep. Left alone they surface deep in a handler as
``OverflowError``/``UnicodeEncodeError``/``RecursionError`` and a 500. Zoho answers such
input with 400 code 4 (or 1038 for JSON it cannot read), so the sandbox rejects them here,
once, with the name of the offending field.

UNCONFIRMED: the exact bounds Zoho applies. Amounts are stored with at most 15 integer
digits here (``MAX_MAGNITUDE``), which covers any real ledger; integers up to 2**63 pass the
boundary because some clients send 19-digit record ids as JSON numbers.
"""

from __future__ import annotations

import math
from typing import Any

from zbooks.sandbox.errors import invalid_value, malformed_json

MAX_MAGNITUDE = 10**15  # ledger.totals.MAX_AMOUNT: largest amount, rate, quantity, rate
MAX_INTEGER = 2**63 - 1  # ids sent as numbers; anything bigger fits no Zoho field
MAX_DEPTH = 64  # Zoho documents nothing deeper than line items -> taxes -> tags


def check_body(data: Any) -> None:
    """Raise a 400 for the first value no Zoho field can hold (iterative, so depth is safe)."""
    stack: list[tuple[str, Any, int]] = [("JSONString", data, 0)]
    while stack:
        name, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise malformed_json()
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(str(key), name)
                stack.append((str(key), item, depth + 1))
        elif isinstance(value, list):
            stack.extend((name, item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_text(value, name)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_INTEGER:
                raise invalid_value(name)
        elif isinstance(value, float) and (not math.isfinite(value) or abs(value) >= MAX_MAGNITUDE):
            raise invalid_value(name)


def _check_text(text: str, name: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_value(name) from None
