"""Customer payments and credit notes: application rules, re-application on update,
release on delete/void, and both sides of every application staying in step."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import Call
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.contacts import create_contact, get_contact


@pytest.fixture
def customer(ledger: Ledger) -> str:
    return str(
        create_contact(ledger, {"contact_name": "Bowman & Co", "contact_type": "customer"})[
            "contact_id"
        ]
    )


@pytest.fixture
def stranger(ledger: Ledger) -> str:
    return str(
        create_contact(ledger, {"contact_name": "Zylker", "contact_type": "customer"})["contact_id"]
    )


def _invoice(call: Call, customer: str, rate: float = 100, send: bool = True) -> str:
    body = call(
        "POST",
        "/invoices",
        query={"send": "true"} if send else {},
        body={"customer_id": customer, "line_items": [{"name": "Work", "rate": rate}]},
    ).body
    assert body is not None
    return str(body["invoice"]["invoice_id"])


def _get(call: Call, kind: str, key: str, record_id: str) -> dict[str, Any]:
    body = call("GET", f"/{kind}/{record_id}").body
    assert body is not None
    return dict(body[key])


def _pay(call: Call, customer: str, amount: float, *applied: tuple[str, float]) -> dict[str, Any]:
    response = call(
        "POST",
        "/customerpayments",
        body={
            "customer_id": customer,
            "payment_mode": "cash",
            "amount": amount,
            "date": "2026-03-01",
            "invoices": [{"invoice_id": i, "amount_applied": a} for i, a in applied],
        },
    )
    assert (response.status, response.body["message"]) == (  # type: ignore[index]
        201,
        "The payment has been created.",
    )
    return dict(response.body["payment"])  # type: ignore[index]


def _error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


def _note(call: Call, customer: str, rate: float, **query: str) -> dict[str, Any]:
    response = call(
        "POST",
        "/creditnotes",
        query=query,
        body={"customer_id": customer, "line_items": [{"name": "Credit", "rate": rate}]},
    )
    assert (response.status, response.body["message"]) == (  # type: ignore[index]
        201,
        "The credit note has been created.",
    )
    return dict(response.body["creditnote"])  # type: ignore[index]


# --- payments ---------------------------------------------------------------------
def test_payment_spread_over_two_invoices_with_unused_amount(call: Call, customer: str) -> None:
    first, second = _invoice(call, customer, 100), _invoice(call, customer, 50)
    payment = _pay(call, customer, 200, (first, 100), (second, 20))
    assert payment["payment_number"] == "1"
    assert payment["unused_amount"] == 80.0
    assert [
        (e["invoice_id"], e["amount_applied"], e["balance_amount"]) for e in payment["invoices"]
    ] == [
        (first, 100.0, 0.0),
        (second, 20.0, 30.0),
    ]
    assert _get(call, "invoices", "invoice", first)["status"] == "paid"
    assert _get(call, "invoices", "invoice", second)["status"] == "partially_paid"
    assert _pay(call, customer, 5)["payment_number"] == "2"  # advance payment, nothing applied


def test_payment_rules(call: Call, customer: str, stranger: str) -> None:
    invoice = _invoice(call, customer, 100)
    over_amount = _error(
        call,
        "POST",
        "/customerpayments",
        body={
            "customer_id": customer,
            "payment_mode": "cash",
            "amount": 50,
            "invoices": [{"invoice_id": invoice, "amount_applied": 60}],
        },
    )
    assert (over_amount.status, over_amount.code) == (400, 4)
    with pytest.raises(ApiError) as over_balance:
        _pay(call, customer, 500, (invoice, 100.01))
    assert over_balance.value.status == 400
    with pytest.raises(ApiError) as foreign:
        _pay(call, stranger, 10, (invoice, 10))
    assert "does not belong" in foreign.value.message
    # No source refuses money on a draft: the payment issues it (status sent), as in the app.
    draft = _invoice(call, customer, 100, send=False)
    _pay(call, customer, 10, (draft, 10))
    paid_draft = _get(call, "invoices", "invoice", draft)
    assert (paid_draft["status"], paid_draft["balance"]) == ("partially_paid", 90)
    void = _invoice(call, customer, 100)
    call("POST", f"/invoices/{void}/status/void")
    with pytest.raises(ApiError) as not_payable:
        _pay(call, customer, 10, (void, 10))
    assert not_payable.value.status == 400
    missing_mode = _error(
        call, "POST", "/customerpayments", body={"customer_id": customer, "amount": 5}
    )
    assert missing_mode.message == "Invalid value passed for payment_mode"
    zero = _error(
        call,
        "POST",
        "/customerpayments",
        body={"customer_id": customer, "payment_mode": "cash", "amount": 0},
    )
    assert zero.message == "Invalid value passed for amount"
    # Nothing was half-applied by the refused requests.
    assert _get(call, "invoices", "invoice", invoice)["balance"] == 100.0


def test_update_reapplies_and_delete_restores(ledger: Ledger, call: Call, customer: str) -> None:
    first, second = _invoice(call, customer, 100), _invoice(call, customer, 100)
    payment = _pay(call, customer, 100, (first, 100))
    response = call(
        "PUT",
        f"/customerpayments/{payment['payment_id']}",
        body={"amount": 120, "invoices": [{"invoice_id": second, "amount_applied": 70}]},
    )
    assert response.body["message"] == "The payment details have been updated."  # type: ignore[index]
    updated = response.body["payment"]  # type: ignore[index]
    assert (updated["amount"], updated["unused_amount"]) == (120.0, 50.0)
    assert _get(call, "invoices", "invoice", first)["status"] == "sent"
    assert _get(call, "invoices", "invoice", second)["balance"] == 30.0
    contact = get_contact(ledger, customer)
    assert contact["outstanding_receivable_amount"] == 130.0
    assert contact["unused_credits_receivable_amount"] == 50.0

    # Omitting invoices keeps the applications (re-applied against the new amount).
    refused = _error(call, "PUT", f"/customerpayments/{payment['payment_id']}", body={"amount": 60})
    assert refused.status == 400
    assert _get(call, "invoices", "invoice", second)["balance"] == 30.0

    deleted = call("DELETE", f"/customerpayments/{payment['payment_id']}")
    assert deleted.body == {"code": 0, "message": "The payment has been deleted."}
    restored = _get(call, "invoices", "invoice", second)
    assert (restored["status"], restored["balance"], restored["payment_made"]) == (
        "sent",
        100.0,
        0.0,
    )
    assert get_contact(ledger, customer)["unused_credits_receivable_amount"] == 0.0
    missing = _error(call, "GET", f"/customerpayments/{payment['payment_id']}")
    assert (missing.status, missing.message) == (404, "Payment does not exist.")


def test_delete_one_payment_from_the_invoice_side(call: Call, customer: str) -> None:
    invoice = _invoice(call, customer, 100)
    payment = _pay(call, customer, 100, (invoice, 100))
    link = call("GET", f"/invoices/{invoice}/payments").body["payments"][0]  # type: ignore[index]
    assert (link["payment_id"], link["amount"]) == (payment["payment_id"], 100.0)
    call("DELETE", f"/invoices/{invoice}/payments/{link['invoice_payment_id']}")
    assert _get(call, "invoices", "invoice", invoice)["status"] == "sent"
    kept = _get(call, "customerpayments", "payment", payment["payment_id"])
    assert (kept["unused_amount"], kept["invoices"]) == (100.0, [])


def test_excess_payment_applied_through_invoice_credits(call: Call, customer: str) -> None:
    invoice = _invoice(call, customer, 100)
    advance = _pay(call, customer, 40)
    response = call(
        "POST",
        f"/invoices/{invoice}/credits",
        body={"invoice_payments": [{"payment_id": advance["payment_id"], "amount_applied": 40}]},
    )
    assert response.body == {"code": 0, "message": "Credits have been applied to the invoice(s)."}
    assert _get(call, "invoices", "invoice", invoice)["balance"] == 60.0
    assert _get(call, "customerpayments", "payment", advance["payment_id"])["unused_amount"] == 0.0
    too_much = _error(
        call,
        "POST",
        f"/invoices/{invoice}/credits",
        body={"invoice_payments": [{"payment_id": advance["payment_id"], "amount_applied": 1}]},
    )
    assert too_much.status == 400


def test_payment_list_key_filters_and_search(call: Call, customer: str, stranger: str) -> None:
    invoice = _invoice(call, customer, 100)
    cash = _pay(call, customer, 30, (invoice, 30))
    check = call(
        "POST",
        "/customerpayments",
        body={
            "customer_id": stranger,
            "payment_mode": "Check",
            "amount": 10,
            "reference_number": "CHK-991",
        },
    ).body["payment"]  # type: ignore[index]

    def ids(**query: str) -> list[str]:
        body = call("GET", "/customerpayments", query=query).body
        assert body is not None
        return [row["payment_id"] for row in body["customerpayments"]]

    assert ids() == [check["payment_id"], cash["payment_id"]]
    assert ids(filter_by="PaymentMode.Check") == [check["payment_id"]]
    assert ids(filter_by="PaymentMode.Cash") == [cash["payment_id"]]
    assert ids(filter_by="PaymentMode.Others") == []
    assert ids(search_text="chk-99") == [check["payment_id"]]
    assert ids(customer_id=customer) == [cash["payment_id"]]
    row = call("GET", "/customerpayments", query={"customer_id": customer}).body[  # type: ignore[index]
        "customerpayments"
    ][0]
    assert (row["invoice_number"], row["unused_amount"]) == ("INV-000001", 0.0)


# --- credit notes ---------------------------------------------------------------------
def test_credit_note_numbering_rules_and_closing(call: Call, customer: str) -> None:
    note = _note(call, customer, 50)
    assert (note["creditnote_number"], note["status"], note["balance"]) == (
        "CN-00001",
        "open",
        50.0,
    )
    first, second = _invoice(call, customer, 30), _invoice(call, customer, 100)
    path = f"/creditnotes/{note['creditnote_id']}/invoices"
    over_note = _error(
        call,
        "POST",
        path,
        body={
            "invoices": [
                {"invoice_id": first, "amount_applied": 30},
                {"invoice_id": second, "amount_applied": 21},
            ]
        },
    )
    assert over_note.status == 400
    over_invoice = _error(
        call, "POST", path, body={"invoices": [{"invoice_id": first, "amount_applied": 31}]}
    )
    assert over_invoice.status == 400
    call(
        "POST",
        path,
        body={
            "invoices": [
                {"invoice_id": first, "amount_applied": 30},
                {"invoice_id": second, "amount_applied": 20},
            ]
        },
    )
    closed = _get(call, "creditnotes", "creditnote", note["creditnote_id"])
    assert (closed["status"], closed["balance"]) == ("closed", 0.0)
    credited = call("GET", path).body["invoices_credited"]  # type: ignore[index]
    assert [(c["invoice_id"], c["credited_amount"]) for c in credited] == [
        (first, 30.0),
        (second, 20.0),
    ]
    assert _get(call, "invoices", "invoice", first)["status"] == "paid"
    applied = call("GET", f"/invoices/{second}/creditsapplied").body["credits"]  # type: ignore[index]
    assert (applied[0]["creditnotes_number"], applied[0]["amount_applied"]) == ("CN-00001", 20.0)

    # Take one application back from the credit note's side, one from the invoice's side.
    call("DELETE", f"{path}/{credited[0]['creditnote_invoice_id']}")
    assert _get(call, "invoices", "invoice", first)["status"] == "sent"
    call("DELETE", f"/invoices/{second}/creditsapplied/{applied[0]['creditnotes_invoice_id']}")
    reopened = _get(call, "creditnotes", "creditnote", note["creditnote_id"])
    assert (reopened["status"], reopened["balance"], reopened["invoices"]) == ("open", 50.0, [])


def test_credit_note_with_invoice_id_applies_up_to_the_invoice_balance(
    ledger: Ledger, call: Call, customer: str
) -> None:
    invoice = _invoice(call, customer, 40)
    note = _note(call, customer, 100, invoice_id=invoice)
    assert (note["balance"], note["status"]) == (60.0, "open")
    assert _get(call, "invoices", "invoice", invoice)["status"] == "paid"
    assert get_contact(ledger, customer)["unused_credits_receivable_amount"] == 60.0


def test_credit_note_status_actions(call: Call, customer: str) -> None:
    invoice = _invoice(call, customer, 100)
    note = _note(call, customer, 50, invoice_id=invoice)
    note_id = note["creditnote_id"]
    refused = _error(call, "POST", f"/creditnotes/{note_id}/status/draft")
    assert refused.status == 400  # applied credit cannot go back to draft
    void = call("POST", f"/creditnotes/{note_id}/status/void")
    assert void.body == {"code": 0, "message": "The credit note has been marked as void."}
    assert _get(call, "invoices", "invoice", invoice)["balance"] == 100.0
    assert _get(call, "creditnotes", "creditnote", note_id)["balance"] == 0.0
    cannot_apply = _error(
        call,
        "POST",
        f"/creditnotes/{note_id}/invoices",
        body={"invoices": [{"invoice_id": invoice, "amount_applied": 1}]},
    )
    assert cannot_apply.status == 400
    draft = call("POST", f"/creditnotes/{note_id}/status/draft")
    assert draft.body == {"code": 0, "message": "The credit note has been marked as Draft."}
    opened = call("POST", f"/creditnotes/{note_id}/status/open")
    assert opened.body == {
        "code": 0,
        "message": "Status of the credit note has been changed to open.",
    }
    assert _get(call, "creditnotes", "creditnote", note_id)["status"] == "open"


def test_credit_note_update_and_delete(call: Call, customer: str) -> None:
    invoice = _invoice(call, customer, 100)
    note = _note(call, customer, 50)
    note_id = note["creditnote_id"]
    call(
        "POST",
        f"/creditnotes/{note_id}/invoices",
        body={"invoices": [{"invoice_id": invoice, "amount_applied": 40}]},
    )
    too_small = _error(
        call,
        "PUT",
        f"/creditnotes/{note_id}",
        body={"line_items": [{"name": "Credit", "rate": 30}]},
    )
    assert too_small.status == 400
    updated = call(
        "PUT", f"/creditnotes/{note_id}", body={"line_items": [{"name": "Credit", "rate": 45}]}
    ).body
    assert updated["message"] == "The credit note has been updated."  # type: ignore[index]
    assert updated["creditnote"]["balance"] == 5.0  # type: ignore[index]
    deleted = call("DELETE", f"/creditnotes/{note_id}")
    assert deleted.body == {"code": 0, "message": "The credit note has been deleted."}
    assert _get(call, "invoices", "invoice", invoice)["balance"] == 100.0


def test_credit_note_list(call: Call, customer: str, stranger: str) -> None:
    mine = _note(call, customer, 10)
    theirs = _note(call, stranger, 99)
    call("POST", f"/creditnotes/{theirs['creditnote_id']}/status/void")

    def ids(**query: str) -> list[str]:
        body = call("GET", "/creditnotes", query=query).body
        assert body is not None
        return [row["creditnote_id"] for row in body["creditnotes"]]

    assert ids(filter_by="Status.Open") == [mine["creditnote_id"]]
    assert ids(status="void") == [theirs["creditnote_id"]]
    assert ids(search_text="zylk") == [theirs["creditnote_id"]]
    assert ids(sort_column="total", sort_order="A") == [
        mine["creditnote_id"],
        theirs["creditnote_id"],
    ]
