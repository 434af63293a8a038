"""Tokens and where they are kept.

Zoho makes token hygiene matter: an access token lives an hour, only 10 token requests
per refresh token are allowed per 10 minutes, and only 20 refresh tokens per user and
client exist before the oldest is silently deleted. So a token is cached, shared by
every thread, task and process of a profile, and refreshed once when stale.

A store keeps one ``Token`` (which also carries the client secret when the profile
has one, so that secrets live only in the token store, never in the config file).
Each store offers ``lock()``: an exclusive lock across processes, under which the
refresh logic re-reads the store before deciding to refresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from zbooks.errors import ConfigurationError, ZBooksError

REFRESH_LEEWAY = 300.0  # refresh this many seconds before expiry: 5 minutes


def mask(secret: str | None) -> str:
    """``1000.abcd...`` -> ``1000.ab…(44)``: enough to tell two tokens apart, no more."""
    if not secret:
        return "<none>"
    return f"{secret[:7]}…({len(secret)})"


@dataclass(frozen=True)
class Token:
    """OAuth state of one profile. Reprs never show a secret."""

    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None  # epoch seconds
    api_domain: str | None = None
    accounts_server: str | None = None
    scope: str | None = None
    token_type: str = "Bearer"
    client_secret: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"Token(access_token={mask(self.access_token)}, "
            f"refresh_token={mask(self.refresh_token)}, expires_at={self.expires_at}, "
            f"api_domain={self.api_domain!r}, accounts_server={self.accounts_server!r}, "
            f"scope={self.scope!r})"
        )

    def is_fresh(self, now: float | None = None, leeway: float = REFRESH_LEEWAY) -> bool:
        """True when the access token is usable for at least ``leeway`` more seconds."""
        if not self.access_token:
            return False
        if self.expires_at is None:
            return True
        return (time.time() if now is None else now) < self.expires_at - leeway

    def merged(self, newer: Token) -> Token:
        """Combine a refresh response (no refresh token) with what we had."""
        return replace(
            self,
            access_token=newer.access_token or self.access_token,
            refresh_token=newer.refresh_token or self.refresh_token,
            expires_at=newer.expires_at if newer.access_token else self.expires_at,
            api_domain=newer.api_domain or self.api_domain,
            accounts_server=newer.accounts_server or self.accounts_server,
            scope=newer.scope or self.scope,
            token_type=newer.token_type or self.token_type,
            client_secret=newer.client_secret or self.client_secret,
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Token:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@runtime_checkable
class TokenStore(Protocol):
    def load(self) -> Token | None: ...

    def save(self, token: Token) -> None: ...

    def delete(self) -> None: ...

    def lock(self) -> AbstractContextManager[object]:
        """An exclusive lock shared by every user of this store (threads and processes).

        A store may also have a hashable ``lock_key`` attribute naming what it stores
        (a file path, a keyring entry, a database row): clients of one process whose
        stores have equal keys then queue on one in-process lock before this one.
        """
        ...


class MemoryStore:
    """A store for one process (tests, short scripts, tokens passed in directly)."""

    def __init__(self, token: Token | None = None) -> None:
        self._token = token
        # A plain Lock (not RLock): the async token manager may take it in a worker thread
        # and release it from the event loop's thread.
        self._lock = threading.Lock()

    def load(self) -> Token | None:
        return self._token

    def save(self, token: Token) -> None:
        self._token = token

    def delete(self) -> None:
        self._token = None

    def lock(self) -> AbstractContextManager[object]:
        return self._lock

    def __repr__(self) -> str:
        return f"MemoryStore({self._token!r})"


class FileStore:
    """JSON in a file of mode 0600, replaced atomically, guarded by a ``filelock``.

    Several processes may share it: the lock file beside it serialises refreshes, and
    ``os.replace`` means a reader sees the old file or the new one, never half of one.
    """

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 60.0) -> None:
        self.path = Path(path)
        # Clients of one process on the same file share their in-process locks (see
        # ``zbooks.auth.manager``): the key says which file this is.
        self.lock_key: tuple[str, str] = ("file", os.path.realpath(self.path))
        # thread_local=False: the async token manager acquires in a worker thread and
        # releases from the event loop's thread.
        from filelock import FileLock  # loaded by the stores that lock a file, not before

        self._filelock = FileLock(
            str(self.path) + ".lock", timeout=lock_timeout, thread_local=False
        )

    def load(self) -> Token | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"The token file {self.path} is not valid JSON.",
                hint="Delete it and run `zbooks login` again.",
            ) from exc
        if not isinstance(data, dict):
            raise ConfigurationError(f"The token file {self.path} has an unexpected shape.")
        return Token.from_dict(data)

    def save(self, token: Token) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(token.to_dict(), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def lock(self) -> AbstractContextManager[object]:
        return self._filelock

    def __repr__(self) -> str:
        return f"FileStore({str(self.path)!r})"


class KeyringStore:
    """The operating system's keychain (extra ``zbooks[keyring]``).

    Keyring backends can hang (a locked keychain waiting for a password prompt that no
    one sees), so every call runs under a timeout and fails with a clear error instead.
    Cross-process locking uses a lock file in the user data directory.
    """

    def __init__(
        self,
        service: str = "zbooks",
        username: str = "default",
        *,
        timeout: float = 5.0,
        lock_path: str | os.PathLike[str] | None = None,
    ) -> None:
        try:
            import keyring
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ConfigurationError(
                "The keyring token store needs the keyring package.",
                hint="pip install 'zbooks[keyring]'",
            ) from exc
        self._keyring = keyring
        self.service = service
        self.username = username
        self.timeout = timeout
        self.lock_key: tuple[str, str, str] = ("keyring", service, username)
        if lock_path is None:
            from platformdirs import user_data_dir

            lock_path = Path(user_data_dir("zbooks")) / f"keyring-{username}.lock"
        Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
        from filelock import FileLock

        self._filelock = FileLock(str(lock_path), timeout=60.0, thread_local=False)

    def _call(self, fn: Any, *args: Any) -> Any:
        # Loaded here: only keyring users pay for the executor machinery.
        from concurrent.futures import ThreadPoolExecutor
        from concurrent.futures import TimeoutError as FutureTimeout

        pool = ThreadPoolExecutor(max_workers=1)
        try:
            return pool.submit(fn, *args).result(timeout=self.timeout)
        except FutureTimeout:
            raise ZBooksError(
                f"The system keyring did not answer within {self.timeout:.0f} s.",
                hint="Unlock the keychain, or use the file token store (token_store = 'file').",
            ) from None
        finally:
            pool.shutdown(wait=False)

    def load(self) -> Token | None:
        text = self._call(self._keyring.get_password, self.service, self.username)
        if not text:
            return None
        return Token.from_dict(json.loads(text))

    def save(self, token: Token) -> None:
        self._call(
            self._keyring.set_password, self.service, self.username, json.dumps(token.to_dict())
        )

    def delete(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._keyring.delete_password, self.service, self.username)

    def lock(self) -> AbstractContextManager[object]:
        return self._filelock

    def __repr__(self) -> str:
        return f"KeyringStore(service={self.service!r}, username={self.username!r})"
