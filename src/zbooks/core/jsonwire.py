"""Request bodies to JSON text, with ``Decimal`` amounts written digit for digit.

``json.dumps`` can only write a ``Decimal`` by turning it into a ``float`` first (its
``default`` hook must return something it already knows), and a float keeps about 17
significant digits: ``Decimal("12345678901234.5678")`` would reach Zoho rounded. This
encoder writes every ``Decimal`` as a JSON number made of its own digits (no exponent,
no float on the way) and defers everything else to the standard library's encoder, so
strings, escapes and the other types come out exactly as ``json.dumps`` writes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # zbooks.models.types.ZOHO_TIME_FORMAT
_encode_str = json.JSONEncoder(ensure_ascii=True).encode


def decimal_literal(value: Decimal) -> str:
    """``Decimal("1.50")`` -> ``1.50``; ``Decimal("1E+3")`` -> ``1000``. NaN and
    infinities have no JSON spelling: a ``ValueError`` says so."""
    if not value.is_finite():
        raise ValueError(f"{value} cannot be sent to Zoho: JSON numbers are finite")
    text = format(value, "f")
    return "0" if text in ("-0", "+0") else text


def _encode(value: Any, out: list[str], item_sep: str, key_sep: str) -> None:
    if isinstance(value, str):
        out.append(_encode_str(value))
    elif value is None or isinstance(value, bool | int | float):
        out.append(json.dumps(value))
    elif isinstance(value, Decimal):
        out.append(decimal_literal(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(item_sep)
            out.append(_encode_str(key if isinstance(key, str) else str(key)))
            out.append(key_sep)
            _encode(item, out, item_sep, key_sep)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(item_sep)
            _encode(item, out, item_sep, key_sep)
        out.append("]")
    elif isinstance(value, Enum):
        _encode(value.value, out, item_sep, key_sep)
    elif isinstance(value, datetime):
        out.append(_encode_str(value.strftime(_TIME_FORMAT)))
    elif isinstance(value, date):
        out.append(_encode_str(value.isoformat()))
    elif hasattr(value, "model_dump"):  # a pydantic model nested in a plain body
        dumped = value.model_dump(mode="python", by_alias=True, exclude_unset=True)
        _encode(dumped, out, item_sep, key_sep)
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serialisable")


def dumps(value: Any, *, separators: tuple[str, str] = (", ", ": ")) -> str:
    """JSON text; ``separators`` as in ``json.dumps`` (whose default it keeps)."""
    out: list[str] = []
    _encode(value, out, *separators)
    return "".join(out)


__all__ = ["decimal_literal", "dumps"]
