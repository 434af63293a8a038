"""Demo data: run the registered module seeders in dependency order.

Each Books module registers ``fn(ledger, count, rng)`` with ``@seeder``; this module only
decides the order (payments need invoices, invoices need contacts and items, items need
taxes) and the counts, so adding a module's seeder is enough to see it in the demo org.
The RNG is seeded, so two sandboxes started from scratch hold the same demo data.
"""

from __future__ import annotations

import logging
import random

from zbooks.sandbox.clock import Clock
from zbooks.sandbox.db import Database
from zbooks.sandbox.ledger.base import SEEDERS, Ledger

logger = logging.getLogger("zbooks.sandbox.seed")

DEMO_RNG_SEED = 20_261_124

# Dependency order, with the demo organization's counts (kept small: a demo org to click
# through, not a load test; the control plane's /_sandbox/seed adds volume on demand).
DEMO_PLAN: tuple[tuple[str, int], ...] = (
    ("taxes", 3),
    ("currencies", 3),
    ("items", 10),
    ("contacts", 10),
    ("invoices", 25),
    ("customerpayments", 10),
    ("creditnotes", 3),
    ("estimates", 5),
    ("salesorders", 4),
    ("bills", 8),
    ("vendorpayments", 4),
    ("purchaseorders", 3),
    ("expenses", 6),
    ("journals", 3),
    ("bankaccounts", 2),
    ("banktransactions", 8),
)
EXTRA_COUNT = 3


class UnknownSeedModule(KeyError):
    """No seeder is registered for the requested module."""


def seed_module(
    db: Database, clock: Clock, org_id: str, module: str, count: int, rng: random.Random
) -> list[str]:
    """Create ``count`` records of ``module`` in one transaction; returns their ids."""
    fn = SEEDERS.get(module)
    if fn is None:
        raise UnknownSeedModule(module)
    ledger = Ledger(db=db, clock=clock, org_id=org_id)
    with db.transaction():
        return list(fn(ledger, count, rng))


def seed_demo(
    db: Database, clock: Clock, org_id: str, *, rng_seed: int = DEMO_RNG_SEED
) -> dict[str, list[str]]:
    """Fill the demo organization; modules without a registered seeder are skipped.

    A failing seeder is logged and skipped (its transaction rolled back) rather than
    making the whole sandbox unable to start; the returned map shows what was created.
    """
    rng = random.Random(rng_seed)
    created: dict[str, list[str]] = {}
    planned = {module for module, _ in DEMO_PLAN}
    # Seeders of modules outside the plan run last, a few records each.
    extras = [(m, EXTRA_COUNT) for m in sorted(SEEDERS) if m not in planned]
    for module, count in (*DEMO_PLAN, *extras):
        if module not in SEEDERS:
            continue
        try:
            created[module] = seed_module(db, clock, org_id, module, count, rng)
        except Exception:
            logger.exception("demo seeder for %s failed; continuing without it", module)
    return created
