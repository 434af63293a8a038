"""Before a sync starts: how many requests it will take, and whether today's budget
covers them.

The expensive part of a first sync is one detail GET per record, so the forecast counts
the records each module with details will list and adds the rows already waiting for
their details. Counting is cheap: invoices answer ``response_option=2`` with the number
alone (one request); other lists are probed by page number (about two requests per
doubling of the page count: 1, 2, 4, 8, ... then a bisection), never read in full.
The days of budget come from :func:`~zbooks.sync.results.days_of_budget`, the same
arithmetic ``--dry-run`` reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zbooks.sync.results import days_of_budget
from zbooks.sync.scan import FetchList


@dataclass(frozen=True)
class ModuleForecast:
    module: str
    records: int  # records the scan will list (new or changed since the last run)
    list_requests: int  # one per page
    detail_requests: int  # at most one per listed record, plus rows still lacking details

    @property
    def requests(self) -> int:
        return self.list_requests + self.detail_requests


@dataclass(frozen=True)
class Forecast:
    """What a run of one organization is expected to cost, told before it starts."""

    organization_id: str
    modules: tuple[ModuleForecast, ...]
    daily_remaining: int | None  # requests left today (after the counting requests)
    daily_limit: int | None
    counting_requests: int  # what the forecast itself spent

    @property
    def requests(self) -> int:
        return sum(m.requests for m in self.modules)

    @property
    def days(self) -> int | None:
        """Days of budget the run takes (1: fits today; None: budget unknown)."""
        return days_of_budget(self.requests, self.daily_remaining, self.daily_limit)

    @property
    def fits_today(self) -> bool:
        days = self.days
        return days is None or days <= 1

    def warning(self) -> str | None:
        """The sentence to show before starting when today's budget runs out first."""
        if self.fits_today:
            return None
        costly = sorted(self.modules, key=lambda m: m.requests, reverse=True)
        parts = ", ".join(f"{m.module} {m.requests:,}" for m in costly if m.requests)
        per_day = f" at {self.daily_limit:,} a day" if self.daily_limit else ""
        biggest = costly[0].module
        return (
            f"Warning: organization {self.organization_id}: about {self.requests:,} "
            f"requests needed ({parts}), {self.daily_remaining:,} left today: the daily "
            f"budget runs out first; this sync takes about {self.days} days of "
            f"budget{per_day}. It stops at the limit; run it again the next day and it "
            f"continues, newest records first. Use --details {biggest}=none to copy list "
            "rows only (one request per 200 records)."
        )


def count_records(
    fetch: FetchList,
    params: Mapping[str, Any],
    *,
    per_page: int,
    list_key: str,
    count_params: tuple[tuple[str, str], ...] = (),
) -> tuple[int, int]:
    """``(records, requests spent)`` for the list ``params`` select.

    With ``count_params`` (``response_option=2`` for invoices) one request answers; if
    its answer carries no count (the field is UNCONFIRMED), the pages are probed."""
    spent = 0
    if count_params:
        envelope = fetch({**params, **dict(count_params), "page": 1, "per_page": per_page})
        spent += 1
        context = envelope.get("page_context")
        total = context.get("total") if isinstance(context, Mapping) else None
        if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
            return total, spent

    def probe(page: int) -> tuple[int, bool]:
        nonlocal spent
        envelope = fetch({**params, "page": page, "per_page": per_page})
        spent += 1
        rows = envelope.get(list_key)
        context = envelope.get("page_context")
        more = bool(context.get("has_more_page")) if isinstance(context, Mapping) else False
        return (len(rows) if isinstance(rows, list) else 0), more

    rows, more = probe(1)
    if not more:
        return rows, spent
    full, beyond = 1, 2  # a page known to have more after it; a page still to look at
    while True:
        rows, more = probe(beyond)
        if rows and not more:
            return (beyond - 1) * per_page + rows, spent
        if not rows:
            break
        full, beyond = beyond, beyond * 2
    # The last page lies strictly between ``full`` (more after it) and ``beyond`` (empty).
    while beyond - full > 1:
        middle = (full + beyond) // 2
        rows, more = probe(middle)
        if not rows:
            beyond = middle
        elif more:
            full = middle
        else:
            return (middle - 1) * per_page + rows, spent
    return full * per_page, spent  # a full last page that still said "more"
