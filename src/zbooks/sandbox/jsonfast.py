"""JSON on the sandbox's hot path: orjson when it can, the standard library when it can't.

Every API read parses a stored record and renders an envelope; orjson does both several
times faster. It refuses a few things the standard library accepts (integers beyond 64
bits, NaN), which a client may legitimately have sent, so those fall back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def decimal_as_float(value: object) -> object:
    """The ``default`` every sandbox encoder uses: amounts go out as JSON numbers, as
    Zoho sends them; anything else unknown is an error."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """UTF-8 JSON bytes, compact.

    Without options first: ``OPT_NON_STR_KEYS`` made every render ~40% slower, and only
    a dict with a non-string key needs it (the same bytes either way for string keys).
    """
    try:
        return orjson.dumps(value, default=default)
    except (TypeError, orjson.JSONEncodeError):
        pass
    try:
        return orjson.dumps(value, default=default, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8"
        )
