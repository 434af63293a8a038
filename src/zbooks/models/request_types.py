"""Field types of generated request models: wide on input for the type checker, exact
once built.

Response models (``zbooks.models.types``) describe what Zoho sends, so their amounts are
``Decimal``. A request model describes what a user writes, and users write ``quantity=2``,
``rate="12.50"`` or ``date="2026-01-31"``: these aliases accept ``int | float | str |
Decimal`` for amounts and ``date | str`` for dates *statically*, and the validators hold
the value as ``Decimal`` / ``date`` at run time, so what goes on the wire is exact
(``zbooks.core.jsonwire`` writes a ``Decimal`` with its own digits).

``Req*`` variants are for fields Zoho requires: no ``None`` and no default.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from zbooks.models.types import (
    datetime_to_json,
    decimal_to_json,
    to_date,
    to_datetime,
    to_decimal,
    to_discount,
    to_str,
)


def _present(convert: Any) -> Any:
    """A converter for a required field: blank is an error, not "no value"."""

    def check(value: Any) -> Any:
        out = convert(value)
        if out is None:
            raise ValueError("a value is required here")
        return out

    return check


def _discount_json(value: Decimal | str | Any) -> Any:
    return decimal_to_json(value) if isinstance(value, Decimal) else value


Number = Decimal | int | float | str
"""What an amount, rate or quantity accepts: every spelling is held as ``Decimal``."""

if TYPE_CHECKING:
    # What a user may pass (the constructor's view); the validators below hold the value
    # as ``Decimal`` / ``date`` / ``datetime`` at run time.
    Money = Number | None
    ReqMoney = Number
    Discount = Number | None
    ReqDiscount = Number
    Date = date | str | None
    ReqDate = date | str
    DateTime = datetime | str | None
    ReqDateTime = datetime | str
else:
    # At run time the schemas stay as small as the response models' (a wide union here
    # would make pydantic build, and try, four validators per field for nothing).
    Money = Annotated[
        Decimal | None,
        BeforeValidator(to_decimal),
        PlainSerializer(decimal_to_json, when_used="json-unless-none"),
    ]
    ReqMoney = Annotated[
        Decimal,
        BeforeValidator(_present(to_decimal)),
        PlainSerializer(decimal_to_json, when_used="json"),
    ]
    Discount = Annotated[
        Decimal | str | None,
        BeforeValidator(to_discount),
        PlainSerializer(_discount_json, when_used="json-unless-none"),
    ]
    ReqDiscount = Annotated[
        Decimal | str,
        BeforeValidator(_present(to_discount)),
        PlainSerializer(_discount_json, when_used="json"),
    ]
    Date = Annotated[date | None, BeforeValidator(to_date)]
    ReqDate = Annotated[date, BeforeValidator(_present(to_date))]
    DateTime = Annotated[
        datetime | None,
        BeforeValidator(to_datetime),
        PlainSerializer(datetime_to_json, when_used="json-unless-none"),
    ]
    ReqDateTime = Annotated[
        datetime,
        BeforeValidator(_present(to_datetime)),
        PlainSerializer(datetime_to_json, when_used="json"),
    ]
ReqStr = Annotated[str, BeforeValidator(to_str)]

__all__ = [
    "Date",
    "DateTime",
    "Discount",
    "Money",
    "Number",
    "ReqDate",
    "ReqDateTime",
    "ReqDiscount",
    "ReqMoney",
    "ReqStr",
]
