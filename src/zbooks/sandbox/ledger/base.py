"""The per-organization unit of work that every ledger rule receives.

A ``Ledger`` bundles the organization's record store, the sandbox clock and the
organization's settings. Rules are plain functions ``rule(ledger, ...)``: no HTTP,
so accounting can be tested directly.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

from zbooks.sandbox.clock import Clock
from zbooks.sandbox.db import Database
from zbooks.sandbox.errors import invalid_value
from zbooks.sandbox.ledger.store import RecordStore


@dataclass
class Ledger:
    db: Database
    clock: Clock
    org_id: str

    @cached_property
    def store(self) -> RecordStore:
        return RecordStore(self.db, self.org_id)

    @property
    def org(self) -> dict[str, Any]:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT data FROM organizations WHERE org_id=?", (self.org_id,)
            ).fetchone()
        return {} if row is None else dict(json.loads(row["data"]))

    @cached_property
    def precision(self) -> int:
        """Read once per ledger (a ledger lives for one request or one seeding run):
        ``money()`` is called for every amount, and each ``org`` read is a query."""
        return int(self.org.get("price_precision", 2))

    def now(self) -> str:
        return self.clock.zoho_timestamp()

    def today(self) -> str:
        return self.clock.today_iso()

    def money(self, value: Decimal | float | int | str) -> float:
        """Round to the organization's price precision, half up, as a JSON number."""
        quantum = Decimal(1).scaleb(-self.precision)
        amount = Decimal(str(value))
        if not amount.is_finite() or abs(amount) >= MONEY_LIMIT:
            raise invalid_value("amount")  # too big for Zoho (ledger.totals.MAX_AMOUNT)
        return float(amount.quantize(quantum, rounding=ROUND_HALF_UP))


MONEY_LIMIT = Decimal(10) ** 15  # the same bound as ledger.totals.MAX_AMOUNT

Seeder = Callable[[Ledger, int, random.Random], list[str]]
SEEDERS: dict[str, Seeder] = {}


def seeder(module: str) -> Callable[[Seeder], Seeder]:
    """Register ``fn(ledger, count, rng) -> created ids`` as the seeder of a module.

    The control plane's "seed N records per module" and ``--seed demo`` call these.
    """

    def register(fn: Seeder) -> Seeder:
        SEEDERS[module] = fn
        return fn

    return register
