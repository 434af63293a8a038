"""What a sync run reports: per-module counts, progress events and the final summary."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from zbooks.errors import ZBooksError

if TYPE_CHECKING:
    from zbooks.sync.forecast import Forecast

Phase = Literal["start", "page", "plan", "details", "reconcile", "done", "failed", "skipped"]


def days_of_budget(needed: int, remaining: int | None, daily_limit: int | None) -> int | None:
    """Days of API budget ``needed`` requests take: today's ``remaining`` first, then
    ``daily_limit`` a day (1 = fits today). None when the budget is unknown."""
    if needed <= 0:
        return 0
    if remaining is None:
        return None
    if needed <= remaining:
        return 1
    if not daily_limit or daily_limit <= 0:
        return None
    return 1 + math.ceil((needed - remaining) / daily_limit)


@dataclass
class ModuleResult:
    """Counts for one (organization, module). ``requests`` are API calls the sync made
    (a retried call counts once; the limiter's window sees every attempt)."""

    organization_id: str
    module: str
    strategy: str = ""
    listed: int = 0  # list rows read
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    list_requests: int = 0
    detail_requests: int = 0
    reconcile_requests: int = 0
    planned_requests: int | None = None  # --dry-run: what a real run would send
    details: str = "changed"  # the detail mode: "changed" or "none"
    filled: int = 0  # rows that held a list row and now hold the full record
    details_pending: int | None = None  # detail GETs the fill phase set out to make
    details_done: int = 0  # ... and made so far
    resumed: bool = False  # continued a scan an earlier run left unfinished
    error: str | None = None
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return self.list_requests + self.detail_requests + self.reconcile_requests

    @property
    def ok(self) -> bool:
        return self.error is None

    def snapshot(self) -> ModuleResult:
        return replace(self)

    def as_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["requests"] = self.requests
        return data


@dataclass(frozen=True)
class Progress:
    """Sent to ``on_progress`` (from worker threads) after each step of a module."""

    phase: Phase
    result: ModuleResult
    daily_used: int | None = None  # requests counted today (limiter's view)
    daily_remaining: int | None = None  # requests left today
    daily_limit: int | None = None
    eta_seconds: float | None = None  # this module's remaining detail requests / rate

    @property
    def module(self) -> str:
        return self.result.module

    @property
    def organization_id(self) -> str:
        return self.result.organization_id


ProgressCallback = Callable[[Progress], None]


@dataclass
class SyncSummary:
    results: list[ModuleResult] = field(default_factory=list)
    dry_run: bool = False
    # organization -> requests left today as the rate limiter sees it (None: unknown)
    daily_remaining: dict[str, int | None] = field(default_factory=dict)
    daily_limit: dict[str, int | None] = field(default_factory=dict)
    seconds: float = 0.0
    # organization -> what the run was expected to cost, told before it started
    forecasts: dict[str, Forecast] = field(default_factory=dict)
    counting_requests: int = 0  # requests the forecasts spent counting records


    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> list[ModuleResult]:
        return [r for r in self.results if not r.ok]

    def _total(self, name: str) -> int:
        return sum(int(getattr(r, name)) for r in self.results)

    @property
    def inserted(self) -> int:
        return self._total("inserted")

    @property
    def updated(self) -> int:
        return self._total("updated")

    @property
    def deleted(self) -> int:
        return self._total("deleted")

    @property
    def unchanged(self) -> int:
        return self._total("unchanged")

    @property
    def requests(self) -> int:
        return self._total("requests") + self.counting_requests

    @property
    def planned_requests(self) -> int:
        return sum(r.planned_requests or 0 for r in self.results)

    def result(self, module: str, organization_id: str | None = None) -> ModuleResult:
        for r in self.results:
            if r.module == module and organization_id in (None, r.organization_id):
                return r
        raise KeyError(module)

    def days_of_budget(self, organization_id: str) -> int | None:
        """Days of the organization's API budget the planned requests take (dry run)."""
        planned = sum(r.planned_requests or 0 for r in self.results
                      if r.organization_id == organization_id)
        return days_of_budget(planned, self.daily_remaining.get(organization_id),
                              self.daily_limit.get(organization_id))

    def budget_note(self) -> str:
        """For --dry-run: does the plan fit in what is left of today's budget?"""
        lines = []
        for org, remaining in self.daily_remaining.items():
            planned = sum(r.planned_requests or 0 for r in self.results
                          if r.organization_id == org)
            days = self.days_of_budget(org)
            if remaining is None:
                lines.append(f"organization {org}: {planned:,} requests planned; "
                             "remaining daily budget unknown")
            elif planned <= remaining:
                lines.append(f"organization {org}: {planned:,} requests planned, "
                             f"{remaining:,} left today: fits (1 day of budget)")
            else:
                per_day = self.daily_limit.get(org)
                daily = f" at {per_day:,} a day" if per_day else ""
                span = f"{days} days of budget" if days else "more than today's budget"
                lines.append(f"organization {org}: {planned:,} requests planned, only "
                             f"{remaining:,} left today: {span}{daily}; the sync stops at "
                             "the limit and resumes where it stopped")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """Plain data; a dry run says ``would_insert``/``would_update`` (nothing was)."""
        data: dict[str, Any] = {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "inserted": self.inserted,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "requests": self.requests,
            "planned_requests": self.planned_requests if self.dry_run else None,
            "days_of_budget": ({org: self.days_of_budget(org) for org in self.daily_remaining}
                               if self.dry_run else None),
            "daily_remaining": self.daily_remaining,
            "daily_limit": self.daily_limit,
            "seconds": round(self.seconds, 3),
            "modules": [r.as_dict() for r in self.results],
        }
        if self.dry_run:
            for entry in (data, *data["modules"]):
                entry["would_insert"] = entry.pop("inserted")
                entry["would_update"] = entry.pop("updated")
        return data


class SyncFailed(ZBooksError):
    """Some modules failed; ``summary`` has what was done (their state is kept, so the
    next run resumes them)."""

    hint = "Run the same command again: finished pages are kept and each module resumes."

    def __init__(self, summary: SyncSummary) -> None:
        names = "; ".join(f"{r.module} ({r.error})" for r in summary.failures)
        super().__init__(f"Sync failed for: {names}.")
        self.summary = summary
