"""JSON on the sandbox's hot path: orjson when it can, the standard library when it can't.

Every API read parses a stored record and renders an envelope; orjson does both several
times faster. It refuses a few things the standard library accepts (integers beyond 64
bits, NaN), which a client may legitimately have sent, so those fall back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


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
