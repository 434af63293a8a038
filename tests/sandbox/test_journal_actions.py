"""Journal actions: publish rules, the approval workflow and reversal."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from tests.sandbox.conftest import Call
from tests.sandbox.oas import requires_oas
from tests.sandbox.test_oas_conformance import (
    CASH_ACCOUNT,
    DAY,
    EXPENSE_ACCOUNT,
    Scenario,
    Step,
    run_scenario,
)
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger.base import Ledger


@pytest.fixture
def accounts(call: Call) -> dict[str, str]:
    made = {}
    for name, kind in (("Rent", "expense"), ("Utilities", "expense"), ("Till", "cash")):
        response = call(
            "POST", "/chartofaccounts", body={"account_name": name, "account_type": kind}
        )
        assert response.body is not None
        made[name] = response.body["chart_of_account"]["account_id"]
    return made


def _journal(call: Call, accounts: dict[str, str], status: str = "draft") -> dict[str, Any]:
    """A split journal: debits 60 + 40 to two expenses, credit 100 to cash."""
    response = call(
        "POST",
        "/journals",
        body={
            "journal_date": DAY,
            "reference_number": "ADJ-7",
            "notes": "Month end",
            "status": status,
            "line_items": [
                {"account_id": accounts["Rent"], "debit_or_credit": "debit", "amount": 60},
                {"account_id": accounts["Utilities"], "debit_or_credit": "debit", "amount": 40},
                {"account_id": accounts["Till"], "debit_or_credit": "credit", "amount": 100},
            ],
        },
    )
    assert response.body is not None
    journal: dict[str, Any] = response.body["journal"]
    return journal


def _get(call: Call, journal_id: str) -> dict[str, Any]:
    response = call("GET", f"/journals/{journal_id}")
    assert response.body is not None
    journal: dict[str, Any] = response.body["journal"]
    return journal


def _refused(
    call: Call, path: str, query: dict[str, str] | None = None, method: str = "POST"
) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, query=query)
    return caught.value


# --- publish and approval -------------------------------------------------------------------
def test_publish_moves_a_draft_and_is_idempotent(
    call: Call, ledger: Ledger, accounts: dict[str, str]
) -> None:
    journal_id = _journal(call, accounts)["journal_id"]
    assert coa.account_balance(ledger, accounts["Rent"]) == 0
    ledger.clock.advance(60)
    response = call("POST", f"/journals/{journal_id}/status/publish")
    assert response.status == 201
    published = _get(call, journal_id)
    assert published["status"] == "published"
    assert coa.account_balance(ledger, accounts["Rent"]) == Decimal(60)

    ledger.clock.advance(60)
    call("POST", f"/journals/{journal_id}/status/publish")
    assert _get(call, journal_id)["last_modified_time"] == published["last_modified_time"]


def test_submit_approve_then_publish(call: Call, ledger: Ledger, accounts: dict[str, str]) -> None:
    journal_id = _journal(call, accounts)["journal_id"]
    created = _get(call, journal_id)
    ledger.clock.advance(60)
    call("POST", f"/journals/{journal_id}/submit")
    submitted = _get(call, journal_id)
    assert submitted["status"] == "submitted"
    assert submitted["last_modified_time"] > created["last_modified_time"]

    error = _refused(call, f"/journals/{journal_id}/status/publish")
    assert (error.status, error.code) == (400, 4)
    assert _get(call, journal_id) == submitted

    call("POST", f"/journals/{journal_id}/approve")
    assert _get(call, journal_id)["status"] == "approved"
    assert coa.account_balance(ledger, accounts["Rent"]) == 0  # approved is not posted yet
    call("POST", f"/journals/{journal_id}/status/publish")
    assert _get(call, journal_id)["status"] == "published"
    assert coa.account_balance(ledger, accounts["Rent"]) == Decimal(60)


def test_rejected_journal_can_be_resubmitted(call: Call, accounts: dict[str, str]) -> None:
    journal_id = _journal(call, accounts)["journal_id"]
    assert _refused(call, f"/journals/{journal_id}/reject").status == 400
    call("POST", f"/journals/{journal_id}/submit")
    call("POST", f"/journals/{journal_id}/reject", query={"reason": "Wrong account"})
    assert _get(call, journal_id)["status"] == "rejected"
    assert _refused(call, f"/journals/{journal_id}/status/publish").status == 400
    call("POST", f"/journals/{journal_id}/submit")
    assert _get(call, journal_id)["status"] == "submitted"


def test_wrong_state_approval_changes_nothing(
    call: Call, ledger: Ledger, accounts: dict[str, str]
) -> None:
    draft = _journal(call, accounts)["journal_id"]
    published = _journal(call, accounts, status="published")["journal_id"]
    before = {i: ledger.store.get("journals", i) for i in (draft, published)}
    assert _refused(call, f"/journals/{draft}/approve").message.endswith(
        "pending approval can be approved."
    )
    error = _refused(call, f"/journals/{published}/submit")
    assert (error.status, error.code) == (400, 4)
    assert {i: ledger.store.get("journals", i) for i in (draft, published)} == before


def test_put_cannot_publish_a_journal_awaiting_approval(
    call: Call, accounts: dict[str, str]
) -> None:
    journal_id = _journal(call, accounts)["journal_id"]
    call("POST", f"/journals/{journal_id}/submit")
    with pytest.raises(ApiError) as caught:
        call("PUT", f"/journals/{journal_id}", body={"status": "published"})
    assert caught.value.status == 400
    assert _get(call, journal_id)["status"] == "submitted"


def test_bulk_submit_approve_publish(call: Call, accounts: dict[str, str]) -> None:
    ids = [_journal(call, accounts)["journal_id"] for _ in range(2)]
    joined = {"journal_ids": ",".join(ids)}
    for action, status in (
        ("submit", "submitted"),
        ("approve", "approved"),
        ("status/publish", "published"),
    ):
        response = call("POST", f"/journals/{action}", query=joined)
        assert response.status == 200
        assert {_get(call, i)["status"] for i in ids} == {status}


def test_bulk_is_all_or_nothing_and_limited(
    call: Call, ledger: Ledger, accounts: dict[str, str]
) -> None:
    draft = _journal(call, accounts)["journal_id"]
    submitted = _journal(call, accounts)["journal_id"]
    call("POST", f"/journals/{submitted}/submit")
    error = _refused(call, "/journals/approve", query={"journal_ids": f"{submitted},{draft}"})
    assert error.status == 400
    assert _get(call, submitted)["status"] == "submitted"

    eleven = ",".join([draft] * 11)
    assert _refused(call, "/journals/status/publish", query={"journal_ids": eleven}).status == 400
    assert _get(call, draft)["status"] == "draft"
    assert _refused(call, "/journals/submit", query={"journal_ids": ""}).status == 400


def test_list_filters_by_approval_status(call: Call, accounts: dict[str, str]) -> None:
    draft = _journal(call, accounts)["journal_id"]
    submitted = _journal(call, accounts)["journal_id"]
    call("POST", f"/journals/{submitted}/submit")
    for status, expected in (("submitted", [submitted]), ("draft", [draft])):
        listed = call("GET", "/journals", query={"status": status}).body
        assert listed is not None
        assert [j["journal_id"] for j in listed["journals"]] == expected


# --- reversal -------------------------------------------------------------------------------
def test_reverse_creates_a_balanced_swapped_journal(
    call: Call, ledger: Ledger, accounts: dict[str, str]
) -> None:
    original = _journal(call, accounts, status="published")
    journal_id = original["journal_id"]
    before = _get(call, journal_id)
    ledger.clock.advance(60)

    response = call(
        "POST",
        f"/journals/{journal_id}/reverse",
        query={"reversal_date": "2026-11-30", "is_reversal_scheduled": "false"},
    )
    assert response.status == 200 and response.body is not None
    assert response.body["message"] == "The journal entry has been reversed."
    reversal = response.body["journal"]

    assert reversal["journal_id"] != journal_id
    assert reversal["entry_number"] != original["entry_number"]
    assert reversal["journal_date"] == "2026-11-30"
    assert reversal["status"] == "published"
    assert original["entry_number"] in reversal["notes"]
    assert reversal["total"] == original["total"] == 100

    def sides(journal: dict[str, Any]) -> Counter[tuple[str, str, float]]:
        return Counter(
            (line["account_id"], line["debit_or_credit"], line["amount"])
            for line in journal["line_items"]
        )

    flip = {"debit": "credit", "credit": "debit"}
    assert sides(reversal) == Counter(
        {(a, flip[side], amount): n for (a, side, amount), n in sides(original).items()}
    )
    debits = sum(ln["amount"] for ln in reversal["line_items"] if ln["debit_or_credit"] == "debit")
    credits = sum(
        ln["amount"] for ln in reversal["line_items"] if ln["debit_or_credit"] == "credit"
    )
    assert debits == credits == 100
    assert not {ln["line_id"] for ln in reversal["line_items"]} & {
        ln["line_id"] for ln in original["line_items"]
    }
    assert not any(key.startswith("_") for key in reversal)

    assert _get(call, journal_id) == before  # the original is untouched
    assert _get(call, reversal["journal_id"]) == reversal
    for account_id in accounts.values():
        assert coa.account_balance(ledger, account_id) == 0


def test_reverse_rules(call: Call, accounts: dict[str, str]) -> None:
    draft = _journal(call, accounts)["journal_id"]
    published = _journal(call, accounts, status="published")["journal_id"]
    path = f"/journals/{published}/reverse"

    assert _refused(call, f"/journals/{draft}/reverse", {"reversal_date": DAY}).status == 400
    assert _refused(call, path, {}).status == 400  # reversal_date is required
    assert _refused(call, path, {"reversal_date": "2026-13-01"}).status == 400
    assert _refused(call, path, {"reversal_date": "2026-11-01"}).status == 400  # before original
    bad_flag = {"reversal_date": DAY, "is_reversal_scheduled": "maybe"}
    assert _refused(call, path, bad_flag).status == 400
    assert _refused(call, "/journals/999/reverse", {"reversal_date": DAY}).status == 404

    first = call("POST", path, query={"reversal_date": DAY, "is_reversal_scheduled": "true"})
    assert first.body is not None
    error = _refused(call, path, {"reversal_date": DAY})
    assert (error.status, error.code) == (400, 4)
    assert "already been reversed" in error.message

    call("DELETE", f"/journals/{first.body['journal']['journal_id']}")
    again = call("POST", path, query={"reversal_date": DAY})
    assert again.body is not None and again.body["journal"]["status"] == "published"


# --- OAS conformance ------------------------------------------------------------------------
_LINES = [
    {"account_id": "{expense_account_id}", "debit_or_credit": "debit", "amount": 40},
    {"account_id": "{cash_account_id}", "debit_or_credit": "credit", "amount": 40},
]


def _create(name: str) -> Step:
    body = {"journal_date": DAY, "line_items": _LINES}
    return Step("POST", "/journals", body=body, save={name: "journal.journal_id"})


JOURNAL_ACTIONS = Scenario(
    "journal actions",
    ("POST", "/journals/{journal_id}/reverse"),
    (
        EXPENSE_ACCOUNT,
        CASH_ACCOUNT,
        _create("journal_id"),
        Step("POST", "/journals/{journal_id}/submit"),
        Step("POST", "/journals/{journal_id}/reject", query={"reason": "recheck"}),
        Step("POST", "/journals/{journal_id}/submit"),
        Step("POST", "/journals/{journal_id}/approve"),
        Step("POST", "/journals/{journal_id}/status/publish"),
        Step(
            "POST",
            "/journals/{journal_id}/reverse",
            query={"reversal_date": DAY, "is_reversal_scheduled": "false"},
            save={"reversal_id": "journal.journal_id"},
        ),
        Step("GET", "/journals/{reversal_id}"),
        _create("second_id"),
        Step("POST", "/journals/submit", query={"journal_ids": "{second_id}"}),
        Step("POST", "/journals/approve", query={"journal_ids": "{second_id}"}),
        Step("POST", "/journals/status/publish", query={"journal_ids": "{second_id}"}),
        Step("DELETE", "/journals/bulkdelete", query={"journal_ids": "{second_id}"}),
    ),
)


@requires_oas
def test_journal_action_responses_conform_to_the_oas(call: Call, ledger: Ledger) -> None:
    validated, problems = run_scenario(call, ledger, JOURNAL_ACTIONS)
    assert problems == [], "\n".join(problems)
    assert validated == len(JOURNAL_ACTIONS.steps)
