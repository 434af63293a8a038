"""The read memo: polled records are served fast, but never stale, never unchecked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.sandbox.helpers import Sandbox, json_of, make_config, running
from zbooks.sandbox.books.registry import load_routes
from zbooks.sandbox.db import Database
from zbooks.sandbox.readcache import GenerationMemo


def test_memo_entries_expire_with_any_write() -> None:
    db = Database(":memory:")
    memo: GenerationMemo[str] = GenerationMemo(db)
    generation = memo.generation()
    memo.put("k", "v", generation)
    assert memo.get("k") == "v"
    db.set_meta("anything", "changed")
    assert memo.get("k") is None
    db.close()


def test_memo_refuses_a_value_computed_before_a_write() -> None:
    db = Database(":memory:")
    memo: GenerationMemo[str] = GenerationMemo(db)
    generation = memo.generation()  # the caller starts reading...
    db.set_meta("x", "1")  # ...a write lands meanwhile...
    memo.put("k", "possibly stale", generation)  # ...so its answer must not be kept
    assert memo.get("k") is None
    assert len(memo) == 0
    db.close()


def test_memo_stays_bounded() -> None:
    db = Database(":memory:")
    memo: GenerationMemo[int] = GenerationMemo(db, max_entries=3)
    for n in range(10):
        memo.put(n, n, memo.generation())
    assert len(memo) <= 3
    assert memo.get(9) == 9
    db.close()


async def _invoice(sbx: Sandbox, **fields: Any) -> dict[str, Any]:
    contact = await sbx.books("POST", "/contacts", json={"contact_name": "Polled Ltd"})
    body = {
        "customer_id": json_of(contact)["contact"]["contact_id"],
        "line_items": [{"name": "Work", "rate": 100, "quantity": 2}],
        **fields,
    }
    created = await sbx.books("POST", "/invoices", json=body)
    assert created.status_code == 201, created.text
    return dict(json_of(created)["invoice"])


async def test_a_polled_invoice_shows_every_write_at_once() -> None:
    async with running(registry=load_routes()) as sbx:
        token = sbx.token()
        invoice = await _invoice(sbx)
        path = f"/invoices/{invoice['invoice_id']}"
        first = await sbx.books("GET", path, token=token)
        again = await sbx.books("GET", path, token=token)
        assert first.content == again.content
        assert json_of(first)["invoice"]["status"] == "draft"

        updated = await sbx.books("PUT", path, token=token, json={"reference_number": "PO-7"})
        assert updated.status_code == 200
        after_edit = json_of(await sbx.books("GET", path, token=token))["invoice"]
        assert after_edit["reference_number"] == "PO-7"

        await sbx.books("POST", path + "/status/sent", token=token)
        assert json_of(await sbx.books("GET", path, token=token))["invoice"]["status"] == "sent"

        # A revoked token is refused even though the answer is memoised.
        assert sbx.app.accounts.revoke(token)
        refused = await sbx.books("GET", path, token=token)
        assert (refused.status_code, json_of(refused)["code"]) == (401, 57)


async def test_a_polled_invoice_turns_overdue_when_the_clock_passes_its_due_date() -> None:
    # A token that outlives the trip in time, so nothing is written between the reads.
    async with running(make_config(token_ttl=10 * 86400), registry=load_routes()) as sbx:
        today = sbx.app.clock.today()
        invoice = await _invoice(
            sbx, date=today.isoformat(), due_date=(today + timedelta(days=1)).isoformat()
        )
        path = f"/invoices/{invoice['invoice_id']}"
        await sbx.books("POST", path + "/status/sent")
        token = sbx.token()
        assert json_of(await sbx.books("GET", path, token=token))["invoice"]["status"] == "sent"
        sbx.app.clock.advance(timedelta(days=2).total_seconds())  # no database write
        generation = sbx.app.db.generation
        late = json_of(await sbx.books("GET", path, token=token))["invoice"]
        assert late["status"] == "overdue"
        assert sbx.app.db.generation == generation  # the date alone changed the answer


async def test_memoised_reads_still_spend_the_rate_limit_and_are_logged() -> None:
    async with running(make_config(rate_limit=4), registry=load_routes()) as sbx:
        invoice = await _invoice(sbx)  # two calls of the four
        path = f"/invoices/{invoice['invoice_id']}"
        token = sbx.token()
        sbx.app.requests.clear()
        ok_first = await sbx.books("GET", path, token=token)
        ok_second = await sbx.books("GET", path, token=token)
        limited = await sbx.books("GET", path, token=token)
        assert [ok_first.status_code, ok_second.status_code] == [200, 200]
        assert ok_second.headers["x-rate-limit-remaining"] != ok_first.headers[
            "x-rate-limit-remaining"
        ]
        assert (limited.status_code, json_of(limited)["code"]) == (429, 44)
        logged = [(e["status"], e["code"]) for e in sbx.app.requests.recent()]
        assert logged == [(200, 0), (200, 0), (429, 44)]


async def test_organization_access_follows_membership_changes() -> None:
    async with running(registry=load_routes()) as sbx:
        token = sbx.token()
        assert (await sbx.books("GET", "/contacts", token=token)).status_code == 200
        with sbx.app.db.transaction() as conn:
            conn.execute(
                "DELETE FROM org_users WHERE org_id=? AND user_id=?",
                (sbx.org_id, sbx.app.demo.user_id),
            )
        refused = await sbx.books("GET", "/contacts", token=token)
        assert (refused.status_code, json_of(refused)["code"]) == (400, 6041)
