"""KeyringStore: round trip through a keyring backend, and a hung backend times out."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from zbooks.auth.tokens import KeyringStore, Token
from zbooks.errors import ZBooksError


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}
        self.delay = delay
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        if self.delay:
            self.release.wait(self.delay)
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


@pytest.fixture
def backend() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    fake = MemoryKeyring()
    keyring.set_keyring(fake)
    yield fake
    fake.release.set()
    keyring.set_keyring(previous)


def test_round_trip_and_delete(backend: MemoryKeyring, tmp_path: Path) -> None:
    store = KeyringStore(username="work", lock_path=tmp_path / "k.lock")
    assert store.load() is None
    token = Token(access_token="1000.a.b", refresh_token="1000.r.t", expires_at=5.0)
    store.save(token)
    assert store.load() == token
    assert "1000.r.t" not in repr(store)
    store.delete()
    assert store.load() is None


def test_a_hung_keyring_fails_fast_with_a_hint(backend: MemoryKeyring, tmp_path: Path) -> None:
    backend.delay = 30.0
    store = KeyringStore(username="slow", timeout=0.2, lock_path=tmp_path / "k.lock")
    started = time.monotonic()
    with pytest.raises(ZBooksError, match="did not answer") as info:
        store.load()
    assert time.monotonic() - started < 5
    assert "file token store" in (info.value.hint or "")
