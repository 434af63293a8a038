"""``response_option=2`` on the invoice list (the count alone), and seeded invoices whose
modification times are spread over their history like real books."""

from __future__ import annotations

import random
from collections import Counter

from zbooks.sandbox.clock import parse_zoho_time
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.seed import seed_module

from .conftest import Call


def test_response_option_2_answers_the_number_of_matching_invoices(
    ledger: Ledger, call: Call
) -> None:
    seed_module(ledger.db, ledger.clock, ledger.org_id, "contacts", 5, random.Random(1))
    seed_module(ledger.db, ledger.clock, ledger.org_id, "invoices", 450, random.Random(2))
    every = call("GET", "/invoices", query={"response_option": "2"}).body
    assert every["invoices"] == []
    assert every["page_context"]["total"] == 450
    assert every["page_context"]["total_pages"] == 3  # 200 a page

    # The count honours the same filters as the list it stands for.
    paid = call("GET", "/invoices", query={"response_option": "2", "status": "paid"}).body
    listed = 0
    page = 1
    while True:
        body = call("GET", "/invoices", query={"status": "paid", "page": str(page)}).body
        listed += len(body["invoices"])
        if not body["page_context"]["has_more_page"]:
            break
        page += 1
    assert 0 < paid["page_context"]["total"] == listed < 450

    # Without the option the list is the list.
    plain = call("GET", "/invoices", query={"per_page": "10"}).body
    assert len(plain["invoices"]) == 10 and "total" not in plain["page_context"]


def test_seeded_invoices_carry_their_own_modification_times(ledger: Ledger, call: Call) -> None:
    seed_module(ledger.db, ledger.clock, ledger.org_id, "contacts", 5, random.Random(1))
    seed_module(ledger.db, ledger.clock, ledger.org_id, "invoices", 400, random.Random(3))
    rows = []
    for page in (1, 2):
        body = call(
            "GET",
            "/invoices",
            query={
                "page": str(page),
                "sort_column": "last_modified_time",
                "sort_order": "A",
            },
        ).body
        rows += body["invoices"]
    now = ledger.clock.now()
    stamps = [r["last_modified_time"] for r in rows]
    assert all(parse_zoho_time(s) <= now for s in stamps)
    for row in rows:  # touched when issued, or later when a payment was recorded
        assert parse_zoho_time(row["last_modified_time"]) >= parse_zoho_time(
            row["created_time"]
        ).replace(second=0)
    # Spread like real books: few invoices share a second (it was one second for a whole
    # batch of 2,000, which no organization has).
    assert max(Counter(stamps).values()) <= 3
    assert len({s[:10] for s in stamps}) > 30  # many different days
    # The list's order is the stored modification time's order.
    assert [parse_zoho_time(s) for s in stamps] == sorted(parse_zoho_time(s) for s in stamps)
