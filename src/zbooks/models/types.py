"""Field types shared by every generated model.

Zoho's wire format is looser than its OpenAPI files: amounts arrive as JSON numbers
(sometimes as strings such as ``"12.50"``), empty text stands for "no value", ids are
digit strings that some examples show as integers, and timestamps carry a ``-0800``
offset without a colon. Each alias below accepts all of that on input and writes back
exactly what Zoho expects on output, so generated models stay one line per field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, Union, cast

from pydantic import BeforeValidator, Field, GetPydanticSchema, PlainSerializer
from pydantic_core import core_schema

from zbooks.models.wire import (
    ZOHO_TIME_FORMAT,
    datetime_to_json,
    decimal_to_json,
    discount_to_json,
)

_BLANK = re.compile(r"^\s*$")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _blank(value: Any) -> bool:
    return (
        value is None or value == "" or (isinstance(value, str) and _BLANK.match(value) is not None)
    )


def to_decimal(value: Any) -> Decimal | None:
    """JSON numbers via ``str()`` so ``0.1`` stays ``Decimal("0.1")``, not a float's tail."""
    if _blank(value):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    raise ValueError(f"not a number: {value!r}")


def to_discount(value: Any) -> Decimal | str | None:
    """A discount is an amount or a percentage string such as ``"10%"`` (kept as text)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return value.strip()
    return to_decimal(value)


def to_date(value: Any) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise ValueError(f"not a yyyy-mm-dd date: {value!r}") from None
    raise ValueError(f"not a date: {value!r}")


def to_datetime(value: Any) -> datetime | None:
    """``2023-11-18T02:02:51-0800`` (Zoho), ``...Z`` and ``... +00:00`` all parse aware."""
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not a Zoho timestamp: {value!r}") from None
    raise ValueError(f"not a timestamp: {value!r}")


def to_bool(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "":
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"not a boolean: {value!r}")


def to_int(value: Any) -> Any:
    """Blank text means "no value"; everything else goes to pydantic's int parsing."""
    return None if _blank(value) else value


def to_str(value: Any) -> Any:
    """Ids and codes: integers (as some examples show them) become digit strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return value


#: ``""`` (Zoho's "no value") to ``None`` inside pydantic-core: the literal, then a
#: ``None`` validator whose failure falls back to its default. No Python call.
_BLANK_TO_NONE = core_schema.chain_schema(
    [
        core_schema.literal_schema([""]),
        core_schema.with_default_schema(
            core_schema.none_schema(), default=None, on_error="default"
        ),
    ]
)
_Blank = Annotated[None, GetPydanticSchema(lambda _type, _handler: _BLANK_TO_NONE)]


class _SchemaOnce:
    """``Annotated`` metadata: the core schema of ``alias``, generated once per process.

    A response model has dozens of fields of each alias (an invoice's closure has 164
    fields), and pydantic generates a field's union schema from scratch for every one of
    them: most of the time it takes to build the first model's validator. The schema of
    an alias does not depend on the field, so it is generated on first use and each
    further field gets a copy of its outer dict (and of its ``metadata``, the one nested
    dict pydantic adds to): pydantic wraps a field's schema (``nullable``, ``default``)
    in new dicts and never edits the inner ones, which stay shared. A deep copy per field
    was a third of the time to build the invoice validator; ``tests/sdk/test_models.py``
    checks that building every model leaves the shared schemas as they were.
    """

    __slots__ = ("alias", "schema")

    def __init__(self, alias: Any) -> None:
        self.alias = alias
        self.schema: core_schema.CoreSchema | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        if self.schema is None:
            self.schema = handler.generate_schema(self.alias)
        schema: Any = dict(self.schema)
        if "metadata" in schema:
            schema["metadata"] = dict(schema["metadata"])
        return cast(core_schema.CoreSchema, schema)

    def __repr__(self) -> str:
        return f"SchemaOnce({self.alias!r})"


def once(value_type: Any, alias: Any) -> Any:
    """``alias`` (whose values are ``value_type``) with its core schema generated once per
    process (see ``_SchemaOnce``); ``model_fields`` still show ``value_type``."""
    return Annotated[value_type, _SchemaOnce(alias)]


def _native_first(native: Any, fallback: Any, *metadata: Any, blank: bool = True) -> Any:
    """``native``, else ``None`` (also from ``""``), else ``fallback``, left to right.

    pydantic-core parses what Zoho normally sends (JSON numbers and ``"12.50"`` as
    ``Decimal``, ``yyyy-mm-dd`` dates, ``-0800`` timestamps, numeric ids, ``""`` for no
    value) in Rust without calling Python; only values it refuses (``"1,234.50"``, a
    timestamp where a date belongs, a boolean id, whitespace) reach ``fallback``: the
    lenient Python parser, with the same result and the same errors as before. Profiles
    of a 10,000 invoice listing spent most of their time in these Python parsers when
    every value went through them.
    """
    choices = (native, None, _Blank, fallback) if blank else (native, None, fallback)
    union: Any = Union.__getitem__(choices)  # a union built at run time, of Annotated types
    return Annotated[union, Field(union_mode="left_to_right"), *metadata]


_MONEY_JSON = PlainSerializer(decimal_to_json, when_used="json-unless-none")
_DATETIME_JSON = PlainSerializer(datetime_to_json, when_used="json-unless-none")

#: The lenient parsers alone: what a value that pydantic-core refuses goes through.
LenientMoney = Annotated[Decimal | None, BeforeValidator(to_decimal)]
LenientDiscount = Annotated[Decimal | str | None, BeforeValidator(to_discount)]
LenientDate = Annotated[date | None, BeforeValidator(to_date)]
LenientDateTime = Annotated[datetime | None, BeforeValidator(to_datetime)]
LenientBool = Annotated[bool | None, BeforeValidator(to_bool)]
LenientInt = Annotated[int | None, BeforeValidator(to_int)]
LenientStr = Annotated[str | None, BeforeValidator(to_str)]

if TYPE_CHECKING:  # what type checkers see: the value types, without the parsing machinery
    Money = Annotated[Decimal | None, _MONEY_JSON]
    Discount = Annotated[Decimal | str | None, PlainSerializer(discount_to_json)]
    ZohoDate = date | None
    ZohoDateTime = Annotated[datetime | None, _DATETIME_JSON]
    Bool = bool | None
    Int = int | None
    Str = str | None
    Id = str
else:
    Money = once(Decimal | None, _native_first(Decimal, LenientMoney, _MONEY_JSON))
    Discount = once(
        Decimal | str | None,
        _native_first(
            Decimal,
            LenientDiscount,
            PlainSerializer(discount_to_json, when_used="json-unless-none"),
        ),
    )
    ZohoDate = once(date | None, _native_first(date, LenientDate))
    ZohoDateTime = once(datetime | None, _native_first(datetime, LenientDateTime, _DATETIME_JSON))
    Bool = once(bool | None, _native_first(bool, LenientBool))
    Int = once(int | None, _native_first(int, LenientInt))
    # Numbers become digit strings natively (the models' ``coerce_numbers_to_str``).
    Str = once(str | None, _native_first(str, LenientStr, blank=False))  # "" stays text
    Id = once(
        str,
        Annotated[
            Union[str, Annotated[str, BeforeValidator(to_str)]],  # noqa: UP007
            Field(union_mode="left_to_right"),
        ],
    )

__all__ = [
    "ZOHO_TIME_FORMAT",
    "Bool",
    "Discount",
    "Id",
    "Int",
    "Money",
    "Str",
    "ZohoDate",
    "ZohoDateTime",
    "datetime_to_json",
    "decimal_to_json",
    "to_date",
    "to_datetime",
    "to_decimal",
]
