"""Single-flight access tokens: refresh once, however many threads, tasks or processes
ask at the same moment.

The protocol is the classic double-checked one: use the cached token if fresh; else
take the in-process lock, then the store's cross-process lock, **re-read the store**
(another process may have refreshed meanwhile), and refresh only if the token there is
still stale (or is the very token the API just rejected). Zoho throttles token
requests (10 per refresh token per 10 minutes), so this is correctness, not polish.

The in-process locks belong to the *store*, not to the manager: every client of one
process that uses the same token file (or keyring entry) shares them, so however many
clients, threads or async tasks are waiting, only one of them at a time
waits for the store's cross-process lock. The others wait on a cheap in-process lock
(an ``asyncio.Lock`` for tasks, which occupies no executor thread) and then find the
token the first one saved. Without this, N async clients each parked one default
executor thread on the file lock; with more waiters than threads, the holder could no
longer read or write the token file and everybody stalled until the lock timed out.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zbooks.auth.tokens import REFRESH_LEEWAY, Token, TokenStore
from zbooks.errors import ConfigurationError

if TYPE_CHECKING:
    import asyncio

Refresher = Callable[[Token | None], Token]
AsyncRefresher = Callable[[Token | None], Awaitable[Token]]


def store_key(store: TokenStore) -> Hashable | None:
    """What a store holds, when it can say: two ``FileStore`` objects on one path hold
    the same token. Stores say so with a hashable ``lock_key`` attribute."""
    return getattr(store, "lock_key", None)


@dataclass(eq=False)
class _Slot:
    """What the clients of one process share about one store: the lock they queue on
    before the store's own cross-process lock (and, per event loop, the lock their
    tasks queue on before that), and the newest token any of them saw, so that the
    clients queued behind a refresh pick its result up without any I/O.

    The lock is a plain ``Lock`` (not ``RLock``): the async path may acquire it in a
    worker thread and release it on the event loop's thread.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    token: Token | None = None
    loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = field(
        default_factory=weakref.WeakKeyDictionary
    )

    def loop_lock(self) -> asyncio.Lock:
        """This store's lock for the tasks of the running event loop."""
        import asyncio  # only async clients get here: a sync client never imports it

        loop = asyncio.get_running_loop()
        with _GUARD:
            lock = self.loop_locks.get(loop)
            if lock is None:
                lock = self.loop_locks[loop] = asyncio.Lock()
            return lock


_GUARD = threading.Lock()
_KEYED_SLOTS: dict[Hashable, _Slot] = {}
# A store that cannot say what it holds is shared only by the clients given that very
# object (never by a later object that happens to reuse its id).
_OBJECT_SLOTS: weakref.WeakKeyDictionary[object, _Slot] = weakref.WeakKeyDictionary()


def shared_slot(store: TokenStore) -> _Slot:
    key = store_key(store)
    with _GUARD:
        if key is not None:
            slot = _KEYED_SLOTS.get(key)
            if slot is None:
                slot = _KEYED_SLOTS[key] = _Slot()
            return slot
        try:
            slot = _OBJECT_SLOTS.get(store)
            if slot is None:
                slot = _OBJECT_SLOTS[store] = _Slot()
            return slot
        except TypeError:  # neither hashable nor weakly referenceable: its own slot
            return _Slot()


async def acquire_off_loop(acquire: Callable[[], object], release: Callable[[], object]) -> None:
    """Take a blocking lock without blocking the event loop.

    The wait happens in an executor thread. If the waiting task is cancelled, the thread
    still gets the lock eventually; it is then released at once, so a cancelled caller
    can never leave the lock held for ever.
    """
    import asyncio

    future = asyncio.get_running_loop().run_in_executor(None, acquire)
    try:
        await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(
            lambda done: release() if not done.cancelled() and done.exception() is None else None
        )
        raise


class TokenManager:
    def __init__(
        self,
        store: TokenStore,
        *,
        refresher: Refresher | None = None,
        async_refresher: AsyncRefresher | None = None,
        clock: Callable[[], float] = time.time,
        leeway: float = REFRESH_LEEWAY,
    ) -> None:
        self.store = store
        self._refresher = refresher
        self._async_refresher = async_refresher
        self._clock = clock
        self._leeway = leeway
        self._cached: Token | None = None
        self._shared = shared_slot(store)
        self._thread_lock = self._shared.lock
        self.refresh_count = 0  # refreshes this manager performed (for diagnostics)
        self.lock_wait_seconds = 0.0  # longest wait for the locks so far (diagnostics)

    def __repr__(self) -> str:
        return f"TokenManager(store={self.store!r})"

    def _usable(self, token: Token | None, rejected: str | None) -> bool:
        return (
            token is not None
            and token.is_fresh(self._clock(), self._leeway)
            and token.access_token != rejected
        )

    @property
    def current(self) -> Token | None:
        """The last token seen (no I/O)."""
        return self._cached

    def _no_refresher(self) -> ConfigurationError:
        return ConfigurationError(
            "The access token is expired or was rejected, and there is no way to refresh it.",
            hint="Provide a refresh token (or client credentials), or run `zbooks login`.",
        )

    # sync -------------------------------------------------------------------------
    def access_token(self, *, rejected: str | None = None) -> str:
        """A usable access token. ``rejected`` is one the API just refused (401/57)."""
        cached = self._cached
        if self._usable(cached, rejected):
            assert cached is not None and cached.access_token is not None
            return cached.access_token
        started = time.monotonic()
        with self._thread_lock:
            self._note_wait(started)
            token = self._locked_refresh(rejected)
        assert token.access_token is not None
        return token.access_token

    def _note_wait(self, started: float) -> None:
        self.lock_wait_seconds = max(self.lock_wait_seconds, time.monotonic() - started)

    def _adopt(self, token: Token | None, rejected: str | None) -> Token | None:
        """``token`` if usable, remembered by this manager and the process; else None.
        Called with the process lock held."""
        if not self._usable(token, rejected):
            return None
        assert token is not None
        self._cached = self._shared.token = token
        return token

    def _saved(self, token: Token) -> Token:
        self.refresh_count += 1
        self._cached = self._shared.token = token
        return token

    def _locked_refresh(self, rejected: str | None) -> Token:
        found = self._adopt(self._shared.token, rejected) or self._adopt(
            self.store.load(), rejected
        )
        if found is not None:
            return found
        with self.store.lock():
            stored = self.store.load()
            found = self._adopt(stored, rejected)
            if found is not None:
                return found
            if self._refresher is None:
                raise self._no_refresher()
            fresh = self._refresher(stored)
            merged = stored.merged(fresh) if stored is not None else fresh
            self.store.save(merged)
            return self._saved(merged)

    # async ------------------------------------------------------------------------
    async def access_token_async(self, *, rejected: str | None = None) -> str:
        cached = self._cached
        if self._usable(cached, rejected):
            assert cached is not None and cached.access_token is not None
            return cached.access_token
        started = time.monotonic()
        # One task per loop goes on to the process lock (at most one executor thread per
        # loop waits there); the rest of the loop's tasks wait here, threadless.
        async with self._shared.loop_lock():
            if not self._thread_lock.acquire(blocking=False):
                await acquire_off_loop(self._thread_lock.acquire, self._thread_lock.release)
            self._note_wait(started)
            try:
                token = await self._locked_refresh_async(rejected)
            finally:
                self._thread_lock.release()
        assert token.access_token is not None
        return token.access_token

    async def _locked_refresh_async(self, rejected: str | None) -> Token:
        import asyncio

        found = self._adopt(self._shared.token, rejected)
        if found is None:
            found = self._adopt(await asyncio.to_thread(self.store.load), rejected)
        if found is not None:
            return found
        lock = self.store.lock()
        await acquire_off_loop(lock.__enter__, lambda: lock.__exit__(None, None, None))
        try:
            stored = await asyncio.to_thread(self.store.load)
            found = self._adopt(stored, rejected)
            if found is not None:
                return found
            if self._async_refresher is None:
                raise self._no_refresher()
            fresh = await self._async_refresher(stored)
            merged = stored.merged(fresh) if stored is not None else fresh
            await asyncio.to_thread(self.store.save, merged)
            return self._saved(merged)
        finally:
            lock.__exit__(None, None, None)
