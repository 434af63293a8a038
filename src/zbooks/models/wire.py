"""How Python values go back on the wire, without importing pydantic.

The resource layer encodes request bodies and query values with these, and a client
that never parses a model (``client.paginate``, envelope methods) should not pay for
pydantic's import. ``zbooks.models.types`` and ``zbooks.models.base`` re-export them.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

ZOHO_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def decimal_to_json(value: Decimal) -> int | float:
    """Numbers stay JSON numbers (Zoho rejects quoted amounts in some fields)."""
    if value == value.to_integral_value() and abs(value) < 10**15:
        return int(value)
    return float(str(value))


def discount_to_json(value: Decimal | str) -> int | float | str:
    return value if isinstance(value, str) else decimal_to_json(value)


def datetime_to_json(value: datetime) -> str:
    return value.strftime(ZOHO_TIME_FORMAT)


def is_model(value: Any) -> bool:
    """A pydantic model? (Without pydantic imported, nothing can be one.)"""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(value, pydantic.BaseModel)


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback for plain payloads (downloads, logs). Bodies sent to Zoho
    go through ``zbooks.core.jsonwire`` instead, which keeps a Decimal's exact digits."""
    if isinstance(value, Decimal):
        return decimal_to_json(value)
    if isinstance(value, datetime):
        return datetime_to_json(value)
    if isinstance(value, date):
        return value.isoformat()
    if is_model(value):
        return value.model_dump(mode="python", by_alias=True, exclude_unset=True)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serialisable")


class ZohoEnum(StrEnum):
    """Known values of a Zoho enumeration. Fields typed with one also accept any other
    string, because Zoho adds values (statuses especially) without notice."""


__all__ = [
    "ZOHO_TIME_FORMAT",
    "ZohoEnum",
    "datetime_to_json",
    "decimal_to_json",
    "discount_to_json",
    "is_model",
    "json_default",
]
