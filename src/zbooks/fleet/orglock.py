"""At most one sync per organization at a time, across every worker.

A Redis lock (redis-py's `Lock`, a maintained implementation of SET NX PX with a token)
per organization, held for the whole sync and renewed by a heartbeat thread, so a worker
killed mid-sync (SIGKILL, lost machine) frees its organizations within one lease.
Without Redis (one machine, ``zbooks sync --all-connections``), an in-process lock does.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

LEASE = 60.0  # seconds; renewed every LEASE / 3 while the sync runs


class OrgLocks(Protocol):
    def hold(self, org_id: str) -> AbstractContextManager[bool]:
        """Enter to try the organization's lock: True if ours, False if another has it."""
        ...


class LocalLocks:
    """Organization locks for the threads of one process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: set[str] = set()

    @contextmanager
    def _hold(self, org_id: str) -> Iterator[bool]:
        with self._guard:
            if org_id in self._held:
                yield False
                return
            self._held.add(org_id)
        try:
            yield True
        finally:
            with self._guard:
                self._held.discard(org_id)

    def hold(self, org_id: str) -> AbstractContextManager[bool]:
        return self._hold(org_id)


class RedisLocks:
    """Organization locks in Redis; ``hold`` yields False when another worker has it."""

    def __init__(self, url: str, *, prefix: str = "zbooks", lease: float = LEASE) -> None:
        from zbooks.fleet.redis_tokens import redis_client

        self._redis = redis_client(url)
        self._prefix = prefix
        self.lease = lease

    @contextmanager
    def _hold(self, org_id: str) -> Iterator[bool]:
        lock = self._redis.lock(
            f"{self._prefix}:sync-lock:{org_id}", timeout=self.lease, thread_local=False
        )
        if not lock.acquire(blocking=False):
            yield False
            return
        stop = threading.Event()

        def heartbeat() -> None:
            while not stop.wait(self.lease / 3):
                try:
                    lock.reacquire()
                except Exception:  # the lease was lost; the sync's own state stays exact
                    return

        beat = threading.Thread(target=heartbeat, name=f"zbooks-lock-{org_id}", daemon=True)
        beat.start()
        try:
            yield True
        finally:
            stop.set()
            beat.join()
            with contextlib.suppress(Exception):  # expired meanwhile: nothing to release
                lock.release()

    def hold(self, org_id: str) -> AbstractContextManager[bool]:
        return self._hold(org_id)
