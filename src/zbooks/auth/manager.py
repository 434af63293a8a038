"""Single-flight access tokens: refresh once, however many threads, tasks or processes
ask at the same moment.

The protocol is the classic double-checked one: use the cached token if fresh; else
take the in-process lock, then the store's cross-process lock, **re-read the store**
(another process may have refreshed meanwhile), and refresh only if the token there is
still stale (or is the very token the API just rejected). Zoho throttles token
requests (10 per refresh token per 10 minutes), so this is correctness, not polish.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

from zbooks.auth.tokens import REFRESH_LEEWAY, Token, TokenStore
from zbooks.errors import ConfigurationError

Refresher = Callable[[Token | None], Token]
AsyncRefresher = Callable[[Token | None], Awaitable[Token]]


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
        self._thread_lock = threading.Lock()
        self._async_locks: dict[int, asyncio.Lock] = {}
        self.refresh_count = 0  # refreshes this manager performed (for diagnostics)

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
        with self._thread_lock:
            token = self._locked_refresh(rejected)
        assert token.access_token is not None
        return token.access_token

    def _locked_refresh(self, rejected: str | None) -> Token:
        if self._usable(self._cached, rejected):
            assert self._cached is not None
            return self._cached
        stored = self.store.load()
        if self._usable(stored, rejected):
            self._cached = stored
            assert stored is not None
            return stored
        with self.store.lock():
            stored = self.store.load()
            if self._usable(stored, rejected):
                self._cached = stored
                assert stored is not None
                return stored
            if self._refresher is None:
                raise self._no_refresher()
            fresh = self._refresher(stored)
            merged = stored.merged(fresh) if stored is not None else fresh
            self.store.save(merged)
            self.refresh_count += 1
            self._cached = merged
            return merged

    # async ------------------------------------------------------------------------
    def _async_lock(self) -> asyncio.Lock:
        loop_id = id(asyncio.get_running_loop())
        lock = self._async_locks.get(loop_id)
        if lock is None:
            lock = self._async_locks[loop_id] = asyncio.Lock()
        return lock

    async def access_token_async(self, *, rejected: str | None = None) -> str:
        cached = self._cached
        if self._usable(cached, rejected):
            assert cached is not None and cached.access_token is not None
            return cached.access_token
        async with self._async_lock():
            await asyncio.to_thread(self._thread_lock.acquire)
            try:
                token = await self._locked_refresh_async(rejected)
            finally:
                self._thread_lock.release()
        assert token.access_token is not None
        return token.access_token

    async def _locked_refresh_async(self, rejected: str | None) -> Token:
        if self._usable(self._cached, rejected):
            assert self._cached is not None
            return self._cached
        stored = await asyncio.to_thread(self.store.load)
        if self._usable(stored, rejected):
            self._cached = stored
            assert stored is not None
            return stored
        lock = self.store.lock()
        await asyncio.to_thread(lock.__enter__)
        try:
            stored = await asyncio.to_thread(self.store.load)
            if self._usable(stored, rejected):
                self._cached = stored
                assert stored is not None
                return stored
            if self._async_refresher is None:
                raise self._no_refresher()
            fresh = await self._async_refresher(stored)
            merged = stored.merged(fresh) if stored is not None else fresh
            await asyncio.to_thread(self.store.save, merged)
            self.refresh_count += 1
            self._cached = merged
            return merged
        finally:
            lock.__exit__(None, None, None)
