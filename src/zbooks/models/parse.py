"""Parse records Zoho sent into models without letting one odd value fail a listing.

A listing of 10,000 invoices should not die on the one invoice whose ``date`` Zoho
wrote as ``"31/12/2025"``. The fast path validates a whole page in one pydantic-core
call; only when that fails does each record go through :func:`parse_record`, which
keeps the fields that parse typed and the ones that do not as Zoho sent them (so no
data is lost and the caller can still see the odd value).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import ConfigDict, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from zbooks.models.base import ZohoModel

M = TypeVar("M", bound=ZohoModel)

logger = logging.getLogger("zbooks.models")


@cache
def _list_adapter(model: type[ZohoModel]) -> TypeAdapter[list[Any]]:
    """One validator for a page of ``model`` (built once per model, on first use)."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


@cache
def _field_names(model: type[ZohoModel]) -> dict[str, str]:
    """Zoho's key (the alias where there is one) to the model's attribute name."""
    return {(info.alias or name): name for name, info in model.model_fields.items()}


def parse_records(model: type[M], items: Sequence[Any]) -> list[M]:
    """Every item as a ``model``; a page that validates is parsed in one call."""
    try:
        parsed: list[M] = _list_adapter(model).validate_python(items)
        return parsed
    except ValidationError:
        return [parse_record(model, item) for item in items]


def parse_record(model: type[M], item: Any) -> M:
    """``item`` as a ``model``; fields whose values do not parse keep Zoho's raw value.

    Such a field holds whatever Zoho sent (a string where a ``date`` was expected, say),
    is logged by name (never by value) at WARNING, and round-trips unchanged.
    """
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        if not isinstance(item, dict):
            raise
        bad = {e["loc"][0] for e in exc.errors() if e["loc"] and isinstance(e["loc"][0], str)}
    kept = {k: v for k, v in item.items() if k not in bad}
    try:
        record = model.model_validate(kept)
    except ValidationError:
        # Even the rest does not parse (a required id missing): keep everything raw.
        logger.warning("%s record kept unparsed: its values do not fit the model", model.__name__)
        return model.model_construct(**item)
    names = _field_names(model)
    raw = [key for key in bad if key in item]
    for key in raw:
        name = names.get(key, key)
        record.__dict__[name] = item[key]
        record.__pydantic_fields_set__.add(name)
    logger.warning(
        "%s fields kept as Zoho sent them (not parseable): %s",
        model.__name__,
        ", ".join(sorted(raw)),
    )
    return record


@dataclass(frozen=True)
class ParsedPage(Generic[M]):
    """A list page validated straight from the response bytes."""

    items: list[M]
    page_context: dict[str, Any] | None


#: pydantic-core caches every short string it reads by default (16,384 of them, about
#: 1 MiB once a listing has seen enough distinct names and ids); a page's keys repeat,
#: its values mostly do not, so only keys are cached.
_PAGE_CONFIG = ConfigDict(cache_strings="keys")


@cache
def _page_adapter(model: type[ZohoModel], key: str) -> TypeAdapter[dict[str, Any] | None]:
    """One validator for a whole envelope ``{"code": 0, key: [...], "page_context": {...}}``.

    Other envelope keys (``message``) are ignored; ``code`` is read so that an error Zoho
    sends with HTTP 200 is never mistaken for an empty page."""
    fields: dict[str, Any] = {
        "code": int,
        key: list[model],  # type: ignore[valid-type]
        "page_context": dict[str, Any],
    }
    make_typed_dict: Any = TypedDict  # a TypedDict with a run-time key
    envelope = make_typed_dict(f"{model.__name__}Page", fields, total=False)
    # ``| None`` only so that pydantic accepts a config for the whole validator (a
    # TypedDict would bring its own, which cannot set the parser's string cache); a
    # ``null`` body is not a page, and ``decode`` leaves it to the fallback.
    adapter: TypeAdapter[dict[str, Any] | None] = TypeAdapter(
        envelope | None,
        config=_PAGE_CONFIG,
    )
    return adapter


def page_decoder(model: type[M], key: str) -> Callable[[bytes], ParsedPage[M] | None]:
    """Parse a list response's bytes into ``model`` records in one pydantic-core pass.

    pydantic-core reads the JSON itself, so a page never exists as Python dicts next to
    its models (less CPU and a lower peak than ``json.loads`` + ``validate_python``).
    Money parses as exactly as before: a JSON number becomes ``Decimal(str(float))``,
    the digits Zoho wrote for any amount of up to 15 significant digits
    (``tests/sdk/test_page_decoding.py``). ``None`` means "not this way": the page has
    a record that does not validate (or is not a success envelope), and the caller
    falls back to ``json.loads`` and the record-by-record lenient path for that page
    alone.
    """
    adapter = _page_adapter(model, key)

    def decode(content: bytes) -> ParsedPage[M] | None:
        try:
            envelope = adapter.validate_json(content)
        except ValidationError:
            return None
        if envelope is None or envelope.get("code", 0) != 0 or key not in envelope:
            return None
        items: list[M] = envelope[key]
        return ParsedPage(items=items, page_context=envelope.get("page_context"))

    return decode


__all__ = ["ParsedPage", "page_decoder", "parse_record", "parse_records"]
