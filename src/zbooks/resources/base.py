"""What every generated resource method calls.

Generated methods only describe an operation (method, path, query, body, where the
result lives in the envelope, which model parses it); everything that decides how to
send and read lives here once, shared by the sync and async classes:

- query values are converted to what Zoho reads (enums to their value, dates to
  ``yyyy-mm-dd``, timestamps to ``2023-11-18T02:02:51-0800``, id lists to ``a,b,c``);
- bodies are models (only fields that were set, by Zoho's names) or typed dicts, with
  ``extra_body`` (fields the OAS does not know yet) merged last;
  with files the body travels as the ``JSONString`` form field beside them, the way
  Zoho's multipart endpoints expect;
- the result is found under the documented key, or under the key the API really uses
  when the OAS names it differently, or in the envelope itself when flattened.
"""

from __future__ import annotations

import json
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import partial
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

from zbooks.core import jsonwire
from zbooks.core.pagination import MAX_PER_PAGE, list_key_of, to_page
from zbooks.models.wire import ZOHO_TIME_FORMAT, is_model, json_default

if TYPE_CHECKING:
    from zbooks.core.client import AsyncClient, Client
    from zbooks.core.pipeline import Call
    from zbooks.models.base import ZohoModel

M = TypeVar("M", bound="ZohoModel")

#: A file to upload: raw bytes, an open binary file, or ``(filename, content[, type])``.
FileContent = bytes | IO[bytes] | tuple[str, bytes | IO[bytes]] | tuple[str, bytes | IO[bytes], str]

_ENVELOPE_META = ("code", "message", "page_context")


def parse_record(model: type[M], item: Any) -> M:
    """``zbooks.models.parse.parse_record``, imported with the first model parsed (this
    module is loaded by ``client.<module>``, which must not import pydantic)."""
    from zbooks.models.parse import parse_record as parse

    return parse(model, item)


def parse_records(model: type[M], items: Sequence[Any]) -> list[M]:
    """``zbooks.models.parse.parse_records`` (a page in one validation), imported lazily."""
    from zbooks.models.parse import parse_records as parse

    return parse(model, items)


def _path(template: str, *values: str) -> str:
    """Fill ``{}`` slots with path parameters, each escaped as one path segment."""
    return template.format(*(quote(str(v), safe="") for v in values))


def query_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.strftime(ZOHO_TIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return jsonwire.decimal_literal(value)
    if isinstance(value, list | tuple):
        return ",".join(str(query_value(v)) for v in value)
    return value


def build_query(query: Mapping[str, Any], params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Documented parameters win over same-named entries of the free-form ``params``."""
    out = {k: query_value(v) for k, v in (params or {}).items() if v is not None}
    out.update({k: query_value(v) for k, v in query.items() if v is not None})
    return out


def plain(value: Any) -> Any:
    """Models (also nested inside mappings and lists) to the dicts Zoho reads."""
    if is_model(value):
        return value.model_dump(mode="python", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def merge_body(body: Any, extra_body: Mapping[str, Any] | None) -> Any:
    """The JSON body: the typed ``body`` (model or dict) with ``extra_body`` merged last.

    ``extra_body`` is the one door for fields Zoho accepts before its OpenAPI files
    document them (as in openai-python): the typed ``body`` stays strict, and an
    undocumented field is a visible, deliberate choice that wins over a typed one."""
    payload = plain(body) if body is not None else None
    if extra_body:
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            raise TypeError("extra_body can only extend a JSON object body")
        payload.update(plain(dict(extra_body)))
    return payload


def prepare(
    *,
    query: Mapping[str, Any],
    params: Mapping[str, Any] | None,
    body: Any = None,
    extra_body: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
    organization_id: str | None = None,
    binary: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for ``Client.request``."""
    kwargs: dict[str, Any] = {
        "params": build_query(query, params),
        "organization_id": organization_id,
        "binary": binary,
    }
    sent_headers = {
        k: ("true" if v is True else "false" if v is False else str(v))
        for k, v in (headers or {}).items()
        if v is not None
    }
    if sent_headers:
        kwargs["headers"] = sent_headers
    payload = merge_body(body, extra_body)
    uploads = {k: v for k, v in (files or {}).items() if v is not None}
    if uploads:
        kwargs["files"] = uploads
        if payload is not None:
            kwargs["data"] = {"JSONString": jsonwire.dumps(payload)}
    elif payload is not None:
        kwargs["json"] = payload
    return kwargs


def extract(envelope: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """The result inside an envelope: the first documented key present; else the one
    container beside code/message; else the envelope's own fields (a flattened record)."""
    for key in keys:
        if key in envelope:
            return envelope[key]
    rest = {k: v for k, v in envelope.items() if k not in _ENVELOPE_META}
    containers = [v for v in rest.values() if isinstance(v, dict | list)]
    if len(rest) == 1 and containers:
        return containers[0]
    return rest


def one(value: Any) -> Any:
    """A record key the OAS types as an array still holds one object."""
    if isinstance(value, list) and len(value) <= 1:
        return value[0] if value else {}
    return value


def many(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return list(value)


def record_of(envelope: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in envelope.items() if k not in ("code", "message")}


def as_bytes(result: Any) -> bytes:
    """A download; a JSON answer (Zoho sometimes sends one) comes back as its bytes."""
    if isinstance(result, bytes):
        return result
    return json.dumps(result, default=json_default).encode()


@dataclass(frozen=True)
class ModelPage(Generic[M]):
    """One page of a list: its records and Zoho's ``page_context``."""

    items: list[M]
    page_context: dict[str, Any]
    number: int

    @property
    def has_more(self) -> bool:
        return bool(self.page_context.get("has_more_page"))


def _model_page(envelope: Any, keys: Sequence[str], model: type[M], number: int) -> ModelPage[M]:
    from zbooks.models.parse import ParsedPage  # loaded with the first page's models

    if isinstance(envelope, ParsedPage):  # validated from the response bytes already
        context = envelope.page_context
        if context is None:  # as ``to_page``: no page_context is one complete page
            context = {"page": number, "has_more_page": False}
        return ModelPage(items=envelope.items, page_context=context, number=number)
    key = next((k for k in keys if k in envelope), None)
    if key is None:
        try:
            key = list_key_of(envelope, None)
        except ValueError:
            key = keys[-1]
    if isinstance(envelope.get(key), dict):  # a list the OAS types as one object
        envelope = {**envelope, key: [envelope[key]]}
    page = to_page(envelope, key, number)
    items = parse_records(model, page.items)
    return ModelPage(items=items, page_context=page.page_context, number=number)


class _LazyDecoder(Generic[M]):
    """``zbooks.models.parse.page_decoder(model, key)``, built on the first page read."""

    __slots__ = ("_decode", "_key", "_model")

    def __init__(self, model: type[M], key: str) -> None:
        self._model = model
        self._key = key
        self._decode: Callable[[bytes], Any] | None = None

    def __call__(self, content: bytes) -> Any:
        if self._decode is None:
            from zbooks.models.parse import page_decoder

            self._decode = page_decoder(self._model, self._key)
        return self._decode(content)


def _page_call(
    path: str,
    base: Mapping[str, Any],
    number: int,
    per_page: int,
    organization_id: str | None,
    decode: Callable[[bytes], Any],
    hold: bool = False,
) -> Call:
    """A list page's GET; its body is validated into models from the response bytes
    (``zbooks.models.parse.page_decoder``), or read as a dict when that fails. With
    ``hold``, a success body comes back unparsed (``readahead.HeldPage``)."""
    from zbooks.core.pipeline import Call

    call = Call(
        "GET",
        path,
        params={**base, "page": number, "per_page": per_page},
        organization_id=organization_id,
        decode=decode,
    )
    if hold:
        from zbooks.core.readahead import holding

        return holding(call)
    return call


class Paginator(Generic[M]):
    """Lazy, auto-paginating list: iterate for records, ``.pages()`` for pages.

    Nothing is fetched until you iterate. The first page is requested when you start;
    from the second page on, the next page is requested while this one is parsed and
    used (one page ahead at most: ``zbooks.core.readahead``), and only while
    Zoho says ``has_more_page``. ``pages(read_ahead=False)`` requests each page only
    when the previous one is used up.
    """

    def __init__(
        self,
        fetch: Callable[[int, bool], Any],
        keys: Sequence[str],
        model: type[M],
        start: int = 1,
    ) -> None:
        self._fetch = fetch
        self._keys = tuple(keys)
        self._model = model
        self._start = start

    def pages(self, read_ahead: bool = True) -> Iterator[ModelPage[M]]:
        """Each page in turn; with ``read_ahead``, the next page's request overlaps
        parsing and using this one (from the second page on)."""
        from zbooks.core.readahead import Ahead, HeldPage

        number = self._start
        ahead: Ahead[Any] | None = None  # started with the first page read ahead
        try:
            while True:
                if ahead is not None and ahead.pending:
                    envelope = ahead.result()
                else:
                    envelope = self._fetch(number, read_ahead and number > self._start)
                if isinstance(envelope, HeldPage):
                    if envelope.promises_more:
                        ahead = ahead or Ahead()
                        ahead.submit(partial(self._fetch, number + 1, True))
                    envelope = envelope.parse()
                page = _model_page(envelope, self._keys, self._model, number)
                del envelope
                yield page
                more = page.has_more and bool(page.items)
                del page  # not alive while the next page is read (peak memory: one page)
                if not more:
                    return
                number += 1
        finally:
            if ahead is not None:  # a request out is awaited, one not out is never sent
                ahead.close()

    def __iter__(self) -> Iterator[M]:
        for page in self.pages():
            items = page.items
            del page
            yield from items
            del items

    def first(self) -> M | None:
        """The first record, fetching one page at most."""
        page = next(iter(self.pages()), None)
        return page.items[0] if page is not None and page.items else None


class AsyncPaginator(Generic[M]):
    """``async for`` over records; ``.pages()`` for pages. Lazy and reading one page
    ahead from the second page on, like ``Paginator``."""

    def __init__(
        self,
        fetch: Callable[[int, bool], Coroutine[Any, Any, Any]],
        keys: Sequence[str],
        model: type[M],
        start: int = 1,
    ) -> None:
        self._fetch = fetch
        self._keys = tuple(keys)
        self._model = model
        self._start = start

    async def pages(self, read_ahead: bool = True) -> AsyncGenerator[ModelPage[M], None]:
        """Each page in turn; with ``read_ahead``, the next page's request is out while
        this one is parsed and used (from the second page on)."""
        from zbooks.core.readahead import AsyncAhead, HeldPage

        number = self._start
        ahead: AsyncAhead[Any] | None = None
        try:
            while True:
                if ahead is not None:
                    envelope = await ahead.result()
                    ahead = None
                else:
                    envelope = await self._fetch(number, read_ahead and number > self._start)
                if isinstance(envelope, HeldPage):
                    if envelope.promises_more:
                        ahead = AsyncAhead(self._fetch(number + 1, True))
                        await ahead.started()
                    envelope = envelope.parse()
                page = _model_page(envelope, self._keys, self._model, number)
                del envelope
                yield page
                more = page.has_more and bool(page.items)
                del page  # not alive while the next page is read (peak memory: one page)
                if not more:
                    return
                number += 1
        finally:
            if ahead is not None:  # the caller stopped first: the page ahead is cancelled
                await ahead.close()

    async def __aiter__(self) -> AsyncIterator[M]:
        pages = self.pages()
        try:
            async for page in pages:
                items = page.items
                del page
                for item in items:
                    yield item
                del items
        finally:
            await pages.aclose()

    async def first(self) -> M | None:
        """The first record, fetching one page at most."""
        pages = self.pages()
        try:
            async for page in pages:
                return page.items[0] if page.items else None
            return None
        finally:
            await pages.aclose()


class SyncResource:
    """Base of the generated synchronous resource classes."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    def _send(self, method: str, path: str, **options: Any) -> Any:
        return self._client.request(method, path, **prepare(**options))

    def _model(
        self, method: str, path: str, keys: Sequence[str], model: type[M], **options: Any
    ) -> M:
        return parse_record(model, one(extract(self._send(method, path, **options), keys)))

    def _models(
        self, method: str, path: str, keys: Sequence[str], model: type[M], **options: Any
    ) -> list[M]:
        found = many(extract(self._send(method, path, **options), keys))
        return parse_records(model, found)

    def _record(self, method: str, path: str, model: type[M], **options: Any) -> M:
        return parse_record(model, record_of(self._send(method, path, **options)))

    def _envelope(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        return dict(self._send(method, path, **options))

    def _bytes(self, method: str, path: str, **options: Any) -> bytes:
        return as_bytes(self._send(method, path, binary=True, **options))

    def _paginate(
        self,
        path: str,
        keys: Sequence[str],
        model: type[M],
        query: Mapping[str, Any],
        *,
        params: Mapping[str, Any] | None,
        organization_id: str | None,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
    ) -> Paginator[M]:
        base = build_query(query, params)
        decode = _LazyDecoder(model, keys[0])

        def fetch(number: int, hold: bool = False) -> Any:
            call = _page_call(path, base, number, per_page, organization_id, decode, hold)
            return self._client._send_call(call)

        return Paginator(fetch, keys, model, page)


class AsyncResource:
    """Base of the generated asynchronous resource classes."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    async def _send(self, method: str, path: str, **options: Any) -> Any:
        return await self._client.request(method, path, **prepare(**options))

    async def _model(
        self, method: str, path: str, keys: Sequence[str], model: type[M], **options: Any
    ) -> M:
        envelope = await self._send(method, path, **options)
        return parse_record(model, one(extract(envelope, keys)))

    async def _models(
        self, method: str, path: str, keys: Sequence[str], model: type[M], **options: Any
    ) -> list[M]:
        found = many(extract(await self._send(method, path, **options), keys))
        return parse_records(model, found)

    async def _record(self, method: str, path: str, model: type[M], **options: Any) -> M:
        return parse_record(model, record_of(await self._send(method, path, **options)))

    async def _envelope(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        return dict(await self._send(method, path, **options))

    async def _bytes(self, method: str, path: str, **options: Any) -> bytes:
        return as_bytes(await self._send(method, path, binary=True, **options))

    def _paginate(
        self,
        path: str,
        keys: Sequence[str],
        model: type[M],
        query: Mapping[str, Any],
        *,
        params: Mapping[str, Any] | None,
        organization_id: str | None,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
    ) -> AsyncPaginator[M]:
        base = build_query(query, params)
        decode = _LazyDecoder(model, keys[0])

        async def fetch(number: int, hold: bool = False) -> Any:
            call = _page_call(path, base, number, per_page, organization_id, decode, hold)
            return await self._client._send_call(call)

        return AsyncPaginator(fetch, keys, model, page)


__all__ = [
    "AsyncPaginator",
    "AsyncResource",
    "FileContent",
    "ModelPage",
    "Paginator",
    "SyncResource",
]
