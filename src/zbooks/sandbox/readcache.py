"""Memos of answers derived from the database, valid while the database is unchanged.

Integrations poll: they fetch the same invoice or check the same organization again and
again between writes. Recomputing those answers (parse the stored JSON, derive totals
and statuses, render the envelope) cost more server time than everything else a request
does, so the sandbox remembers them, tagged with ``Database.generation``.

Correctness does not depend on anyone invalidating anything: an entry is served only
while the generation it was computed at is still the current one, and a caller captures
the generation *before* it reads. A write that lands while an answer is being computed
moves the generation, so that answer is stored already stale and never served.
Answers that also depend on the sandbox clock's date must carry the date in their key.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

from zbooks.sandbox.db import Database

V = TypeVar("V")

DEFAULT_MAX_ENTRIES = 1024


class GenerationMemo(Generic[V]):
    """A bounded ``key -> value`` memo whose entries expire with the database generation.

    Safe to share between threads without a lock: each entry carries its own generation,
    so no interleaving of ``get`` and ``put`` can make a stale entry look current. When
    full, it simply starts over (old-generation entries are the likely bulk anyway).
    """

    def __init__(self, db: Database, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._db = db
        self._max_entries = max_entries
        self._entries: dict[Hashable, tuple[int, V]] = {}

    def generation(self) -> int:
        """Capture this before computing a value to ``put``."""
        return self._db.generation

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] == self._db.generation:
            return entry[1]
        return None

    def put(self, key: Hashable, value: V, generation: int) -> None:
        """Remember ``value``, computed from the database as it was at ``generation``."""
        if generation != self._db.generation:
            return  # a write landed meanwhile: the value may already be stale
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (generation, value)

    def __len__(self) -> int:
        return len(self._entries)
