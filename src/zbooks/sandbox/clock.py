"""The sandbox clock: real time plus an offset that tests and the control plane can advance.

Every expiry (grant codes, access tokens, rate-limit windows, overdue invoices) reads
this clock, so advancing it is how tests travel in time without sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone


class Clock:
    def __init__(self, offset_seconds: float = 0.0, tz_offset_minutes: int = 0) -> None:
        self._offset = offset_seconds
        self._lock = threading.Lock()
        self._tz = timezone(timedelta(minutes=tz_offset_minutes))
        self._today: tuple[int, date, str] = (-1, date.min, "")  # (second, date, ISO)

    @property
    def offset(self) -> float:
        return self._offset

    def time(self) -> float:
        """Seconds since the epoch, as the sandbox sees it."""
        return time.time() + self._offset

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def now(self) -> datetime:
        """Aware datetime in the organization's time zone."""
        return datetime.fromtimestamp(self.time(), tz=UTC).astimezone(self._tz)

    def today(self) -> date:
        """The organization's date now. Asked several times by every request (statuses,
        memo keys), so it is worked out once per second: the time-zone offset is whole
        minutes, so a date never changes within a second."""
        return self._day()[1]

    def today_iso(self) -> str:
        """``today().isoformat()``, cached alike: a list page asks once per row."""
        return self._day()[2]

    def _day(self) -> tuple[int, date, str]:
        second = int(self.time() // 1)
        cached = self._today
        if cached[0] == second:
            return cached
        day = datetime.fromtimestamp(second, tz=UTC).astimezone(self._tz).date()
        self._today = (second, day, day.isoformat())
        return self._today

    def zoho_timestamp(self) -> str:
        """Zoho's timestamp form: ``2013-11-18T02:17:40-0800`` (no colon in the offset)."""
        return format_zoho_time(self.now())


def format_zoho_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S%z")


def parse_zoho_time(text: str) -> datetime:
    """Parse ``2023-11-18T02:02:51-0800`` and the ISO forms clients commonly send.

    A ``+`` that arrived unencoded in a query string has become a space; accept that too.
    """
    cleaned = text.strip().replace(" ", "+")
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+0000"
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed
    return datetime.fromisoformat(cleaned)
