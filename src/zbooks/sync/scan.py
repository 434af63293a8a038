"""Reading a module's list page by page, with a resumable position after every page.

Three strategies (see ``modules``):

``keyset``  ``last_modified_time=<since>&sort_column=last_modified_time&sort_order=A``.
            After a page, ``since`` moves to the page's latest modification time and the
            page number goes back to 1, so records modified while we read (they move to
            the end) are neither skipped nor make us skip others. Only when a whole page
            shares one timestamp (bulk edits, 1-second granularity) does the scan step
            through page numbers at that timestamp.
``filtered`` ``last_modified_time=<since>`` in a stable documented order, page by page.
``full``    every record, page by page.

The filter is inclusive (``>=``), so boundary records come back again: callers dedupe by
comparing each row's ``last_modified_time`` with what they stored. The position is plain
data so the caller can commit it together with the rows of the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from zbooks.errors import ValidationError
from zbooks.sync import timeutil
from zbooks.sync.modules import ModuleSpec, Strategy

logger = logging.getLogger("zbooks.sync")

PER_PAGE = 200
FetchList = Callable[[dict[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Position:
    since: str | None  # last_modified_time filter (None: from the beginning)
    page: int = 1


@dataclass
class ScanPage:
    rows: list[dict[str, Any]]
    position: Position  # where this page was read
    next: Position | None  # where to continue; None once the list is exhausted
    max_modified: str | None  # latest last_modified_time on the page
    strategy: Strategy  # may differ from the requested one after a fallback


def max_modified(rows: list[dict[str, Any]]) -> str | None:
    latest: str | None = None
    for row in rows:
        value = row.get("last_modified_time")
        if isinstance(value, str) and timeutil.parse_or_none(value) is not None:
            latest = timeutil.later(latest, value)
    return latest


class ListScan:
    """Iterate the pages of one module's list from ``start``."""

    def __init__(
        self,
        spec: ModuleSpec,
        strategy: Strategy,
        fetch: FetchList,
        start: Position,
        *,
        per_page: int = PER_PAGE,
    ) -> None:
        self.spec = spec
        self.strategy: Strategy = strategy
        self.fetch = fetch
        self.start = start
        self.per_page = per_page

    def params(self, position: Position) -> dict[str, Any]:
        params: dict[str, Any] = dict(self.spec.list_params)
        if self.strategy in ("keyset", "filtered") and position.since:
            params["last_modified_time"] = position.since
        if self.strategy == "keyset":
            params["sort_column"] = "last_modified_time"
            params["sort_order"] = "A"
        elif self.spec.stable_sort is not None:
            params["sort_column"], params["sort_order"] = self.spec.stable_sort
        params["page"] = position.page
        params["per_page"] = self.per_page
        return params

    def _request(self, position: Position) -> Mapping[str, Any]:
        try:
            return self.fetch(self.params(position))
        except ValidationError as exc:
            # The module table may promise a sort Zoho no longer accepts: fall back to the
            # filtered scan from the same point rather than fail the module.
            if self.strategy == "keyset" and "sort" in exc.message.lower():
                logger.warning(
                    "%s: sorting by last_modified_time was refused (%s); reading in the "
                    "default order instead", self.spec.name, exc.message,
                )
                self.strategy = "filtered"
                return self.fetch(self.params(position))
            raise

    def __iter__(self) -> Iterator[ScanPage]:
        position = self.start
        while True:
            envelope = self._request(position)
            raw = envelope.get(self.spec.list_key)
            rows = [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []
            context = envelope.get("page_context")
            more = bool(context.get("has_more_page")) if isinstance(context, dict) else False
            latest = max_modified(rows)
            following: Position | None = None
            if more and rows:
                following = self._next(position, latest)
            yield ScanPage(rows, position, following, latest, self.strategy)
            if following is None:
                return
            position = following

    def _next(self, position: Position, latest: str | None) -> Position:
        moved = latest is not None and (
            position.since is None or timeutil.parse(latest) > timeutil.parse(position.since)
        )
        if self.strategy == "keyset" and moved:
            return Position(latest, 1)
        return Position(position.since, position.page + 1)
