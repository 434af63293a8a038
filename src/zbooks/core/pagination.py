"""Lazy auto-pagination over Zoho's ``page_context.has_more_page``.

Zoho lists carry no total count: the only signal is ``has_more_page``. Pages are fetched
one at a time as the caller iterates, so a loop that breaks early costs one request,
and page objects expose ``page_context`` so long reads can checkpoint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    page_context: dict[str, Any]
    number: int

    @property
    def has_more(self) -> bool:
        return bool(self.page_context.get("has_more_page"))


def list_key_of(envelope: Mapping[str, Any], key: str | None) -> str:
    """The envelope key holding the list: given, or the one list-valued key."""
    if key is not None:
        return key
    candidates = [k for k, v in envelope.items() if isinstance(v, list) and k != "page_context"]
    if len(candidates) != 1:
        raise ValueError(f"Cannot tell which key holds the list (found {candidates}); pass key=...")
    return candidates[0]


def to_page(envelope: Mapping[str, Any], key: str | None, number: int) -> Page:
    name = list_key_of(envelope, key)
    items = envelope.get(name) or []
    context = envelope.get("page_context")
    if not isinstance(context, dict):
        # A list without page_context is a single, complete page (unpaged sub-lists).
        context = {"page": number, "has_more_page": False}
    return Page(items=list(items), page_context=context, number=number)


FetchPage = Callable[[int], Mapping[str, Any]]
AsyncFetchPage = Callable[[int], Awaitable[Mapping[str, Any]]]


def iter_pages(fetch: FetchPage, key: str | None = None, start: int = 1) -> Iterator[Page]:
    number = start
    while True:
        page = to_page(fetch(number), key, number)
        yield page
        if not page.has_more or not page.items:
            return
        number += 1


def iter_items(
    fetch: FetchPage, key: str | None = None, start: int = 1
) -> Iterator[dict[str, Any]]:
    for page in iter_pages(fetch, key, start):
        yield from page.items


async def aiter_pages(
    fetch: AsyncFetchPage, key: str | None = None, start: int = 1
) -> AsyncIterator[Page]:
    number = start
    while True:
        page = to_page(await fetch(number), key, number)
        yield page
        if not page.has_more or not page.items:
            return
        number += 1


async def aiter_items(
    fetch: AsyncFetchPage, key: str | None = None, start: int = 1
) -> AsyncIterator[dict[str, Any]]:
    async for page in aiter_pages(fetch, key, start):
        for item in page.items:
            yield item
