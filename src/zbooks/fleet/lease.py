"""Leases: a lock across machines that frees itself when its holder dies.

A process killed while refreshing a token (SIGKILL, a lost machine) never releases a
lock; a lease instead ends `ttl` seconds after it was taken. The refresh it protects is
one HTTP call with a 30 s timeout, so the default 60 s lease outlives any live holder.
Each acquisition carries a random holder id, and release deletes only our own lease,
so a holder whose lease expired cannot free the next holder's.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from types import TracebackType

from zbooks.errors import ZBooksError

DEFAULT_TTL = 60.0
DEFAULT_WAIT = 90.0  # longer than one lease: a dead holder's lease always ends first


class LeaseTimeout(ZBooksError):
    """The lease stayed taken for longer than we were willing to wait."""


class Lease:
    """A context manager over two primitives: ``take(holder, ttl) -> bool`` and
    ``give(holder)``. A new object per acquisition (the token manager may enter it in a
    worker thread and leave it from the event loop's thread)."""

    def __init__(
        self,
        take: Callable[[str, float], bool],
        give: Callable[[str], None],
        *,
        what: str,
        ttl: float = DEFAULT_TTL,
        wait: float = DEFAULT_WAIT,
        poll: float = 0.02,
    ) -> None:
        self._take = take
        self._give = give
        self._what = what
        self.ttl = ttl
        self.wait = wait
        self.poll = poll
        self.holder = secrets.token_hex(12)

    def __enter__(self) -> Lease:
        deadline = time.monotonic() + self.wait
        delay = self.poll
        while not self._take(self.holder, self.ttl):
            if time.monotonic() >= deadline:
                raise LeaseTimeout(
                    f"The lease on {self._what} was held for more than {self.wait:.0f} s.",
                    hint="Another worker is refreshing this token; if none is, the lease "
                    "expires on its own within its TTL.",
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._give(self.holder)

    def __repr__(self) -> str:
        return f"<Lease on {self._what} ttl={self.ttl:g}s>"
