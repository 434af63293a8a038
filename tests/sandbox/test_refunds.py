"""Refunds of customer payments, credit notes and vendor payments: only unused money can
go back, edits re-check the limit, deletes restore it, and the parent's balances, status
and the contact's unused credits follow every step. Responses are checked against the
2026-07 OAS through the conformance scenario runner."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import Call
from tests.sandbox.oas import requires_oas
from tests.sandbox.test_oas_conformance import (
    BILL,
    CASH_ACCOUNT,
    CUSTOMER,
    DAY,
    EXPENSE_ACCOUNT,
    INVOICE,
    ITEM,
    VENDOR,
    Scenario,
    Step,
    run_scenario,
)
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger.base import Ledger


# --- helpers -----------------------------------------------------------------------------
def _body(call: Call, method: str, path: str, status: int = 200, **kwargs: Any) -> dict[str, Any]:
    response = call(method, path, **kwargs)
    assert response.status == status
    assert response.body is not None and response.body["code"] == 0
    return dict(response.body)


def _error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


def _contact(call: Call, name: str, contact_type: str) -> str:
    body = _body(
        call,
        "POST",
        "/contacts",
        201,
        body={"contact_name": name, "contact_type": contact_type},
    )
    return str(body["contact"]["contact_id"])


def _cash_account(call: Call) -> str:
    body = _body(
        call,
        "POST",
        "/chartofaccounts",
        201,
        body={"account_name": "Refund Till", "account_type": "cash"},
    )
    return str(body["chart_of_account"]["account_id"])


def _credits(call: Call, contact_id: str) -> tuple[float, float]:
    contact = _body(call, "GET", f"/contacts/{contact_id}")["contact"]
    return contact["unused_credits_receivable_amount"], contact["unused_credits_payable_amount"]


@pytest.fixture
def customer(call: Call) -> str:
    return _contact(call, "Refund Customer", "customer")


@pytest.fixture
def vendor(call: Call) -> str:
    return _contact(call, "Refund Vendor", "vendor")


@pytest.fixture
def till(call: Call) -> str:
    return _cash_account(call)


# --- customer payments -------------------------------------------------------------------
def _customer_payment(call: Call, customer: str, amount: float, applied: float) -> str:
    invoice = _body(
        call,
        "POST",
        "/invoices",
        201,
        query={"send": "true"},
        body={"customer_id": customer, "line_items": [{"name": "Work", "rate": 100}]},
    )["invoice"]["invoice_id"]
    payment = _body(
        call,
        "POST",
        "/customerpayments",
        201,
        body={
            "customer_id": customer,
            "payment_mode": "cash",
            "amount": amount,
            "date": "2026-03-01",
            "invoices": [{"invoice_id": invoice, "amount_applied": applied}],
        },
    )["payment"]
    return str(payment["payment_id"])


def _payment(call: Call, payment_id: str) -> dict[str, Any]:
    return dict(_body(call, "GET", f"/customerpayments/{payment_id}")["payment"])


def test_customer_payment_refund_takes_only_the_unused_amount(
    call: Call, customer: str, till: str
) -> None:
    payment_id = _customer_payment(call, customer, 100, 30)
    assert _payment(call, payment_id)["unused_amount"] == 70.0
    base = f"/customerpayments/{payment_id}/refunds"

    created = _body(
        call,
        "POST",
        base,
        body={
            "amount": 50.25,
            "date": "2026-03-05",
            "refund_mode": "cash",
            "reference_number": "RF-1",
            "from_account_id": till,
            "description": "Overpaid",
        },
    )
    assert created["message"] == "The refund information for this payment has been saved."
    [refund] = created["payment_refunds"]
    assert refund["payment_id"] == payment_id
    assert refund["payment_refund_id"].isdigit()
    assert (refund["amount"], refund["date"], refund["refund_mode"]) == (
        50.25,
        "2026-03-05",
        "cash",
    )
    assert (refund["from_account_id"], refund["from_account_name"]) == (till, "Refund Till")
    assert refund["last_modified_time"]
    payment = _payment(call, payment_id)
    assert (payment["amount_refunded"], payment["unused_amount"]) == (50.25, 19.75)
    assert _credits(call, customer)[0] == 19.75

    # Over-refund: 400 code 4 and nothing changes anywhere.
    over = _error(call, "POST", base, body={"amount": 19.76, "from_account_id": till})
    assert (over.status, over.code) == (400, 4)
    assert over.message == "The amount refunded exceeds the unused amount of the payment."
    assert _payment(call, payment_id) == payment
    assert len(_body(call, "GET", base)["payment_refunds"]) == 1
    assert _credits(call, customer)[0] == 19.75

    # The refunded money cannot be applied to invoices any more.
    # The refunded money can neither be applied to invoices nor cut from the amount.
    invoice_id = payment["invoices"][0]["invoice_id"]
    applied = [{"invoice_id": invoice_id, "amount_applied": 70}]
    refused = _error(call, "PUT", f"/customerpayments/{payment_id}", body={"invoices": applied})
    assert (refused.status, refused.code) == (400, 4)
    shrink = _error(call, "PUT", f"/customerpayments/{payment_id}", body={"amount": 50})
    assert shrink.message == "The payment amount cannot be less than the amount refunded."
    assert _payment(call, payment_id) == payment


def test_customer_payment_refund_edit_and_delete_restore_the_unused_amount(
    call: Call, customer: str, till: str
) -> None:
    payment_id = _customer_payment(call, customer, 100, 30)
    base = f"/customerpayments/{payment_id}/refunds"
    refund_id = _body(call, "POST", base, body={"amount": 20, "from_account_id": till})[
        "payment_refunds"
    ][0]["payment_refund_id"]

    # The edit may use the refund's own 20 plus the 50 still unused: 70 fits, 70.01 not.
    updated = _body(call, "PUT", f"{base}/{refund_id}", body={"amount": 70, "refund_mode": "check"})
    assert updated["message"] == "The refund information has been saved."
    assert updated["payment_refunds"][0]["amount"] == 70.0
    assert updated["payment_refunds"][0]["from_account_id"] == till  # kept when not sent
    assert _payment(call, payment_id)["unused_amount"] == 0.0
    assert _credits(call, customer)[0] == 0.0
    too_much = _error(call, "PUT", f"{base}/{refund_id}", body={"amount": 70.01})
    assert too_much.status == 400
    got = _body(call, "GET", f"{base}/{refund_id}")["payment_refunds"][0]
    assert (got["amount"], got["refund_mode"]) == (70.0, "check")

    # A payment with refunds cannot be deleted (UNCONFIRMED rule), the refund can.
    assert _error(call, "DELETE", f"/customerpayments/{payment_id}").status == 400
    deleted = _body(call, "DELETE", f"{base}/{refund_id}")
    assert deleted["message"] == "The refund has been deleted."
    payment = _payment(call, payment_id)
    assert (payment["amount_refunded"], payment["unused_amount"]) == (0.0, 70.0)
    assert _credits(call, customer)[0] == 70.0
    assert _body(call, "GET", base)["payment_refunds"] == []
    assert _error(call, "GET", f"{base}/{refund_id}").status == 404
    _body(call, "DELETE", f"/customerpayments/{payment_id}")


def test_customer_payment_refund_validation(call: Call, customer: str, till: str) -> None:
    payment_id = _customer_payment(call, customer, 100, 30)
    base = f"/customerpayments/{payment_id}/refunds"
    missing_account = _error(call, "POST", base, body={"amount": 5})
    assert missing_account.message == "Invalid value passed for from_account_id"
    unknown_account = _error(call, "POST", base, body={"amount": 5, "from_account_id": "1"})
    assert unknown_account.message == "Invalid value passed for from_account_id"
    for amount in (None, 0, -3, "abc"):
        err = _error(call, "POST", base, body={"amount": amount, "from_account_id": till})
        assert (err.status, err.code) == (400, 4)
    long_mode = _error(
        call, "POST", base, body={"amount": 5, "from_account_id": till, "refund_mode": "x" * 51}
    )
    assert (long_mode.status, long_mode.code) == (400, 15)
    bad_date = _error(
        call, "POST", base, body={"amount": 5, "from_account_id": till, "date": "05/03/2026"}
    )
    assert bad_date.message == "Invalid value passed for date"
    assert _payment(call, payment_id)["unused_amount"] == 70.0


# --- credit notes ------------------------------------------------------------------------
def _note(call: Call, customer: str, rate: float = 100) -> str:
    body = _body(
        call,
        "POST",
        "/creditnotes",
        201,
        body={"customer_id": customer, "line_items": [{"name": "Return", "rate": rate}]},
    )
    return str(body["creditnote"]["creditnote_id"])


def _credit_note(call: Call, note_id: str) -> dict[str, Any]:
    return dict(_body(call, "GET", f"/creditnotes/{note_id}")["creditnote"])


def test_credit_note_closes_when_fully_refunded_and_reopens_on_delete(
    call: Call, customer: str, till: str
) -> None:
    note_id = _note(call, customer)
    base = f"/creditnotes/{note_id}/refunds"
    first = _body(call, "POST", base, body={"amount": 40, "from_account_id": till})
    assert first["message"] == "The credit note amount is refunded successfully."
    refund = first["creditnote_refund"]
    assert (refund["creditnote_id"], refund["amount"]) == (note_id, 40.0)
    note = _credit_note(call, note_id)
    assert (note["balance"], note["total_refunded_amount"], note["status"]) == (60.0, 40.0, "open")
    assert _credits(call, customer)[0] == 60.0

    second = _body(call, "POST", base, body={"amount": 60})["creditnote_refund"]
    assert second["from_account_name"] == "Petty Cash"  # default account (UNCONFIRMED)
    note = _credit_note(call, note_id)
    assert (note["balance"], note["status"]) == (0.0, "closed")
    assert _credits(call, customer)[0] == 0.0

    over = _error(call, "POST", base, body={"amount": 0.01})
    assert (over.status, over.code) == (400, 4)
    assert over.message == "The amount refunded exceeds the balance of the credit note."
    assert _credit_note(call, note_id) == note

    # Lowering a refund reopens the note; deleting one gives its money back.
    _body(
        call,
        "PUT",
        f"{base}/{second['creditnote_refund_id']}",
        body={"amount": 50, "reference_number": "R-2"},
    )
    note = _credit_note(call, note_id)
    assert (note["balance"], note["status"]) == (10.0, "open")
    deleted = _body(call, "DELETE", f"{base}/{first['creditnote_refund']['creditnote_refund_id']}")
    assert deleted["message"] == "The refund has been successfully deleted."
    note = _credit_note(call, note_id)
    assert (note["balance"], note["total_refunded_amount"], note["status"]) == (50.0, 50.0, "open")
    assert _credits(call, customer)[0] == 50.0


def test_credit_note_refund_rules(call: Call, customer: str, till: str) -> None:
    note_id = _note(call, customer)
    _body(call, "POST", f"/creditnotes/{note_id}/status/draft")
    draft = _error(call, "POST", f"/creditnotes/{note_id}/refunds", body={"amount": 5})
    assert draft.status == 400 and "draft" in draft.message
    _body(call, "POST", f"/creditnotes/{note_id}/status/open")
    _body(call, "POST", f"/creditnotes/{note_id}/refunds", body={"amount": 5})
    # A refunded note can be neither voided nor deleted nor sent back to draft.
    for path in ("status/void", "status/draft"):
        assert _error(call, "POST", f"/creditnotes/{note_id}/{path}").status == 400
    assert _error(call, "DELETE", f"/creditnotes/{note_id}").status == 400
    # Its total cannot drop below what was refunded.
    lowered = _error(
        call,
        "PUT",
        f"/creditnotes/{note_id}",
        body={"line_items": [{"name": "Return", "rate": 4}]},
    )
    assert lowered.status == 400
    assert _credit_note(call, note_id)["balance"] == 95.0


def test_credit_note_refunds_list_across_the_organization(
    call: Call, customer: str, till: str
) -> None:
    other = _contact(call, "Other Customer", "customer")
    mine, theirs = _note(call, customer), _note(call, other)
    ids = []
    for note_id, amount in ((mine, 10), (mine, 20), (theirs, 30)):
        body = _body(call, "POST", f"/creditnotes/{note_id}/refunds", body={"amount": amount})
        ids.append(body["creditnote_refund"]["creditnote_refund_id"])

    every = _body(call, "GET", "/creditnotes/refunds", query={"sort_column": "amount_bcy"})
    assert [r["amount"] for r in every["creditnote_refunds"]] == [30.0, 20.0, 10.0]
    assert every["page_context"]["has_more_page"] is False
    own = _body(call, "GET", "/creditnotes/refunds", query={"customer_id": customer})
    assert {r["creditnote_refund_id"] for r in own["creditnote_refunds"]} == set(ids[:2])
    assert {r["customer_name"] for r in own["creditnote_refunds"]} == {"Refund Customer"}
    paged = _body(call, "GET", "/creditnotes/refunds", query={"per_page": "2", "page": "1"})
    assert len(paged["creditnote_refunds"]) == 2 and paged["page_context"]["has_more_page"]
    of_note = _body(call, "GET", f"/creditnotes/{theirs}/refunds")["creditnote_refunds"]
    assert [r["creditnote_refund_id"] for r in of_note] == [ids[2]]

    by_id = _body(call, "GET", f"/creditnotes/refunds/{ids[2]}")["creditnote_refund"]
    assert (by_id["creditnote_id"], by_id["amount"]) == (theirs, 30.0)
    bad_sort = _error(call, "GET", "/creditnotes/refunds", query={"sort_column": "nope"})
    assert bad_sort.status == 400


# --- vendor payments ---------------------------------------------------------------------
def _vendor_payment(call: Call, ledger: Ledger, vendor: str, amount: float, applied: float) -> str:
    from zbooks.sandbox.ledger.accounts_chart import default_account_id

    bill = _body(
        call,
        "POST",
        "/bills",
        201,
        body={
            "vendor_id": vendor,
            "bill_number": "B-1",
            "line_items": [
                {"account_id": default_account_id(ledger, "Office Supplies"), "rate": 100}
            ],
        },
    )["bill"]
    payment = _body(
        call,
        "POST",
        "/vendorpayments",
        201,
        body={
            "vendor_id": vendor,
            "amount": amount,
            "bills": [{"bill_id": bill["bill_id"], "amount_applied": applied}],
        },
    )["vendorpayment"]
    return str(payment["payment_id"])


def _vendor_payment_of(call: Call, payment_id: str) -> dict[str, Any]:
    return dict(_body(call, "GET", f"/vendorpayments/{payment_id}")["vendorpayment"])


def test_vendor_payment_refund_lifecycle(
    call: Call, ledger: Ledger, vendor: str, till: str
) -> None:
    payment_id = _vendor_payment(call, ledger, vendor, 100, 20)
    assert _credits(call, vendor)[1] == 80.0
    base = f"/vendorpayments/{payment_id}/refunds"
    missing = _error(call, "POST", base, body={"amount": 5})
    assert missing.message == "Invalid value passed for to_account_id"

    created = _body(
        call,
        "POST",
        base,
        201,
        body={"amount": 30.5, "to_account_id": till, "date": "2026-03-02", "refund_mode": "cash"},
    )
    assert created["message"] == "Vendor Payment Refunded successfully"
    refund = created["vendorpayment_refund"]
    assert (refund["vendorpayment_id"], refund["to_account_name"]) == (payment_id, "Refund Till")
    payment = _vendor_payment_of(call, payment_id)
    assert (payment["unused_amount"], payment["balance"]) == (49.5, 49.5)
    assert [
        (r["vendorpayment_refund_id"], r["amount_fcy"]) for r in payment["vendorpayment_refunds"]
    ] == [(refund["vendorpayment_refund_id"], 30.5)]
    assert _credits(call, vendor)[1] == 49.5

    over = _error(call, "POST", base, body={"amount": 49.51, "to_account_id": till})
    assert (over.status, over.code) == (400, 4)
    assert _vendor_payment_of(call, payment_id) == payment

    single = f"{base}/{refund['vendorpayment_refund_id']}"
    _body(call, "PUT", single, body={"amount": 80})
    assert _vendor_payment_of(call, payment_id)["unused_amount"] == 0.0
    assert _error(call, "PUT", single, body={"amount": 80.01}).status == 400
    # Refunded money cannot pay bills any more; the payment cannot shrink below it.
    shrink = _error(call, "PUT", f"/vendorpayments/{payment_id}", body={"amount": 90})
    assert shrink.status == 400
    assert _error(call, "DELETE", f"/vendorpayments/{payment_id}").status == 400

    assert _body(call, "GET", base)["vendorpayment_refunds"][0]["amount"] == 80.0
    _body(call, "DELETE", single)
    payment = _vendor_payment_of(call, payment_id)
    assert (payment["unused_amount"], payment["vendorpayment_refunds"]) == (80.0, [])
    assert _credits(call, vendor)[1] == 80.0


# --- 404s --------------------------------------------------------------------------------
def test_unknown_parents_and_refunds_are_404(
    call: Call, ledger: Ledger, customer: str, vendor: str, till: str
) -> None:
    unknown = "460000000999999"
    for path, resource in (
        (f"/customerpayments/{unknown}/refunds", "Payment"),
        (f"/creditnotes/{unknown}/refunds", "Credit Note"),
        (f"/vendorpayments/{unknown}/refunds", "Vendor payment"),
    ):
        for method in ("GET", "POST"):
            err = _error(call, method, path, body={"amount": 1, "from_account_id": till})
            assert (err.status, err.code, err.message) == (404, 1002, f"{resource} does not exist.")
        for method in ("GET", "PUT", "DELETE"):
            err = _error(call, method, f"{path}/{unknown}", body={"amount": 1})
            assert err.status == 404

    # A real parent with an unknown refund, or with another parent's refund.
    first, second = _note(call, customer), _note(call, customer)
    refund_id = _body(call, "POST", f"/creditnotes/{first}/refunds", body={"amount": 1})[
        "creditnote_refund"
    ]["creditnote_refund_id"]
    for path in (
        f"/creditnotes/{first}/refunds/{unknown}",
        f"/creditnotes/{second}/refunds/{refund_id}",
    ):
        for method in ("GET", "PUT", "DELETE"):
            err = _error(call, method, path, body={"amount": 1})
            assert (err.status, err.code, err.message) == (404, 1002, "Refund does not exist.")
    assert _error(call, "GET", f"/creditnotes/refunds/{unknown}").status == 404
    assert _credit_note(call, first)["balance"] == 99.0
    payment_id = _customer_payment(call, customer, 50, 10)
    assert _error(call, "GET", f"/customerpayments/{payment_id}/refunds/{unknown}").status == 404
    vendor_payment = _vendor_payment(call, ledger, vendor, 50, 10)
    assert (
        _error(call, "DELETE", f"/vendorpayments/{vendor_payment}/refunds/{unknown}").status == 404
    )


# --- OAS conformance ---------------------------------------------------------------------
# Whole amounts: the OAS types amount_bcy/amount_fcy as integer and the test oracle's
# money quirk does not (yet) cover those names.
_REFUND_SCENARIOS = (
    Scenario(
        "customerpayment_refunds",
        ("POST", "/customerpayments/{customer_payment_id}/refunds"),
        (
            CUSTOMER,
            ITEM,
            INVOICE,
            CASH_ACCOUNT,
            Step("POST", "/invoices/{invoice_id}/status/sent"),
            Step(
                "POST",
                "/customerpayments",
                body={
                    "customer_id": "{customer_id}",
                    "payment_mode": "cash",
                    "amount": 50,
                    "date": DAY,
                    "invoices": [{"invoice_id": "{invoice_id}", "amount_applied": 20}],
                },
                save={"payment_id": "payment.payment_id"},
            ),
            Step(
                "POST",
                "/customerpayments/{payment_id}/refunds",
                body={
                    "date": DAY,
                    "refund_mode": "cash",
                    "reference_number": "RF-1",
                    "amount": 10,
                    "from_account_id": "{cash_account_id}",
                    "description": "Refund",
                },
                save={"refund_id": "payment_refunds.payment_refund_id"},
            ),
            Step("GET", "/customerpayments/{payment_id}/refunds"),
            Step("GET", "/customerpayments/{payment_id}/refunds/{refund_id}"),
            Step("PUT", "/customerpayments/{payment_id}/refunds/{refund_id}", body={"amount": 12}),
            Step("GET", "/customerpayments/{payment_id}"),
            Step("DELETE", "/customerpayments/{payment_id}/refunds/{refund_id}"),
        ),
    ),
    Scenario(
        "creditnote_refunds",
        ("POST", "/creditnotes/{creditnote_id}/refunds"),
        (
            CUSTOMER,
            ITEM,
            CASH_ACCOUNT,
            Step(
                "POST",
                "/creditnotes",
                body={
                    "customer_id": "{customer_id}",
                    "date": DAY,
                    "line_items": [{"item_id": "{item_id}", "rate": 10, "quantity": 2}],
                },
                save={"creditnote_id": "creditnote.creditnote_id"},
            ),
            Step(
                "POST",
                "/creditnotes/{creditnote_id}/refunds",
                body={"date": DAY, "amount": 5, "from_account_id": "{cash_account_id}"},
                save={"refund_id": "creditnote_refund.creditnote_refund_id"},
            ),
            Step("GET", "/creditnotes/{creditnote_id}/refunds"),
            Step("GET", "/creditnotes/refunds"),
            Step("GET", "/creditnotes/refunds", query={"customer_id": "{customer_id}"}),
            Step("GET", "/creditnotes/refunds/{refund_id}"),
            Step("GET", "/creditnotes/{creditnote_id}/refunds/{refund_id}"),
            Step(
                "PUT",
                "/creditnotes/{creditnote_id}/refunds/{refund_id}",
                body={"amount": 20, "refund_mode": "check"},
            ),
            Step("GET", "/creditnotes/{creditnote_id}"),
            Step("DELETE", "/creditnotes/{creditnote_id}/refunds/{refund_id}"),
        ),
    ),
    Scenario(
        "vendorpayment_refunds",
        ("POST", "/vendorpayments/{payment_id}/refunds"),
        (
            VENDOR,
            EXPENSE_ACCOUNT,
            CASH_ACCOUNT,
            BILL,
            Step(
                "POST",
                "/vendorpayments",
                body={
                    "vendor_id": "{vendor_id}",
                    "amount": 50,
                    "date": DAY,
                    "paid_through_account_id": "{cash_account_id}",
                    "bills": [{"bill_id": "{bill_id}", "amount_applied": 20}],
                },
                save={"vendor_payment_id": "vendorpayment.payment_id"},
            ),
            Step(
                "POST",
                "/vendorpayments/{vendor_payment_id}/refunds",
                body={"date": DAY, "amount": 10, "to_account_id": "{cash_account_id}"},
                save={"refund_id": "vendorpayment_refund.vendorpayment_refund_id"},
            ),
            Step("GET", "/vendorpayments/{vendor_payment_id}/refunds"),
            Step("GET", "/vendorpayments/{vendor_payment_id}/refunds/{refund_id}"),
            Step(
                "PUT",
                "/vendorpayments/{vendor_payment_id}/refunds/{refund_id}",
                body={"amount": 30, "description": "more"},
            ),
            Step("GET", "/vendorpayments/{vendor_payment_id}"),
            Step("DELETE", "/vendorpayments/{vendor_payment_id}/refunds/{refund_id}"),
        ),
    ),
)


@requires_oas
@pytest.mark.parametrize("scenario", _REFUND_SCENARIOS, ids=[s.name for s in _REFUND_SCENARIOS])
def test_refund_responses_conform_to_the_oas(
    call: Call, ledger: Ledger, scenario: Scenario
) -> None:
    validated, problems = run_scenario(call, ledger, scenario)
    assert problems == [], "\n".join(problems)
    assert validated == len(scenario.steps)
