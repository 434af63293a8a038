"""What a sync run reports: per-module counts, progress events and the final summary."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from zbooks.errors import ZBooksError

Phase = Literal["start", "page", "reconcile", "done", "failed", "skipped"]


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
    seconds: float = 0.0

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
        return self._total("requests")

    @property
    def planned_requests(self) -> int:
        return sum(r.planned_requests or 0 for r in self.results)

    def result(self, module: str, organization_id: str | None = None) -> ModuleResult:
        for r in self.results:
            if r.module == module and organization_id in (None, r.organization_id):
                return r
        raise KeyError(module)

    def budget_note(self) -> str:
        """For --dry-run: does the plan fit in what is left of today's budget?"""
        lines = []
        for org, remaining in self.daily_remaining.items():
            planned = sum(r.planned_requests or 0 for r in self.results
                          if r.organization_id == org)
            if remaining is None:
                lines.append(f"organization {org}: {planned:,} requests planned; "
                             "remaining daily budget unknown")
            elif planned <= remaining:
                lines.append(f"organization {org}: {planned:,} requests planned, "
                             f"{remaining:,} left today: fits")
            else:
                days = math.ceil(planned / max(remaining, 1))
                lines.append(f"organization {org}: {planned:,} requests planned, only "
                             f"{remaining:,} left today: about {days} days of budget; the "
                             "sync stops at the limit and resumes where it stopped")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "inserted": self.inserted,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "requests": self.requests,
            "planned_requests": self.planned_requests if self.dry_run else None,
            "daily_remaining": self.daily_remaining,
            "seconds": round(self.seconds, 3),
            "modules": [r.as_dict() for r in self.results],
        }


class SyncFailed(ZBooksError):
    """Some modules failed; ``summary`` has what was done (their state is kept, so the
    next run resumes them)."""

    hint = "Run the same command again: finished pages are kept and each module resumes."

    def __init__(self, summary: SyncSummary) -> None:
        names = "; ".join(f"{r.module} ({r.error})" for r in summary.failures)
        super().__init__(f"Sync failed for: {names}.")
        self.summary = summary
