"""Vendor credits through the route handlers (no HTTP): money, numbering, applying
credits to bills (both directions), un-applying, void rules, refunds, the vendor's
derived balances, seeding, and every new operation's responses against the OAS."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.sandbox.oas import requires_oas
from tests.sandbox.test_oas_conformance import (
    BILL,
    CASH_ACCOUNT,
    DAY,
    EXPENSE_ACCOUNT,
    VENDOR,
    Scenario,
    Step,
    run_scenario,
)
from zbooks.sandbox.ledger.base import SEEDERS, Ledger

from .conftest import Call
from .test_purchases import account_id, api_error, bill, body_of, contact, pay, tax, vendor


def credit(
    call: Call,
    ledger: Ledger,
    vendor_id: str,
    rate: float = 150,
    query: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    office = account_id(ledger, "Office Supplies")
    body = {"vendor_id": vendor_id, "line_items": [{"account_id": office, "rate": rate}], **fields}
    response = call("POST", "/vendorcredits", body=body, query=query)
    assert response.status == 201
    assert body_of(response)["message"] == "Vendor credit has been created."
    return dict(body_of(response)["vendor_credit"])


def get_credit(call: Call, credit_id: str) -> dict[str, Any]:
    return dict(body_of(call("GET", f"/vendorcredits/{credit_id}"))["vendor_credit"])


def get_bill(call: Call, bill_id: str) -> dict[str, Any]:
    return dict(body_of(call("GET", f"/bills/{bill_id}"))["bill"])


def apply(call: Call, credit_id: str, *pairs: tuple[str, float]) -> dict[str, Any]:
    body = {"bills": [{"bill_id": b, "amount_applied": a} for b, a in pairs]}
    response = call("POST", f"/vendorcredits/{credit_id}/bills", body=body)
    assert response.status == 201
    return body_of(response)


def money_state(call: Call, credit_id: str, bill_id: str) -> tuple[Any, ...]:
    c, b = get_credit(call, credit_id), get_bill(call, bill_id)
    return (c["balance"], c["status"], c["total_credits_used"], b["balance"], b["status"])


# --- creating --------------------------------------------------------------------------
def test_create_computes_totals_like_bills_and_numbers_itself(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    gst = tax(call, "GST", 10)
    office = account_id(ledger, "Office Supplies")
    first = credit(
        call,
        ledger,
        vendor_id,
        line_items=[
            {"account_id": office, "rate": 50, "quantity": 2, "tax_id": gst},
            {"account_id": office, "rate": 20, "quantity": 1, "discount": "10%"},
        ],
    )
    assert first["vendor_credit_number"] == "DN-00001"
    assert first["sub_total"] == 118.0  # 100 + 20 less 10 %
    assert first["tax_total"] == 10.0
    assert first["total"] == 128.0
    assert first["balance"] == 128.0
    assert first["status"] == "open"
    assert first["vendor_name"] == "Northwind Supply"
    assert first["line_items"][0]["account_name"] == "Office Supplies"
    assert credit(call, ledger, vendor_id)["vendor_credit_number"] == "DN-00002"
    assert contact(call, vendor_id)["unused_credits_payable_amount"] == 278.0


def test_a_customer_cannot_receive_a_vendor_credit(call: Call, ledger: Ledger) -> None:
    body = {"contact_name": "Only Customer", "contact_type": "customer"}
    customer_id = body_of(call("POST", "/contacts", body=body))["contact"]["contact_id"]
    error = api_error(
        call,
        "POST",
        "/vendorcredits",
        body={"vendor_id": customer_id, "line_items": [{"name": "x", "rate": 1}]},
    )
    assert (error.status, error.code) == (400, 4)


def test_a_draft_credit_offers_no_credit_until_opened(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    draft = credit(call, ledger, vendor_id, status="draft")
    assert draft["status"] == "draft"
    assert contact(call, vendor_id)["unused_credits_payable_amount"] == 0.0
    bill_id = bill(call, ledger, vendor_id)["bill_id"]
    error = api_error(
        call,
        "POST",
        f"/vendorcredits/{draft['vendor_credit_id']}/bills",
        body={"bills": [{"bill_id": bill_id, "amount_applied": 10}]},
    )
    assert (error.status, error.code) == (400, 4)
    response = call("POST", f"/vendorcredits/{draft['vendor_credit_id']}/status/open")
    assert response.status == 201
    assert get_credit(call, draft["vendor_credit_id"])["status"] == "open"
    assert contact(call, vendor_id)["unused_credits_payable_amount"] == 150.0


# --- applying to bills -----------------------------------------------------------------
def test_apply_partially_then_fully(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    bill_id = bill(call, ledger, vendor_id)["bill_id"]  # total 100
    credit_id = credit(call, ledger, vendor_id)["vendor_credit_id"]  # total 150

    body = apply(call, credit_id, (bill_id, 40))
    assert body["message"] == "Credits have been applied to the bill(s)."
    assert body["bills"] == [{"bill_id": bill_id, "amount_applied": 40.0}]
    assert money_state(call, credit_id, bill_id) == (110.0, "open", 40.0, 60.0, "partially_paid")
    shown = get_bill(call, bill_id)
    assert shown["vendor_credits_applied"] == 40.0
    assert shown["vendor_credits"][0]["vendor_credit_id"] == credit_id
    assert shown["vendor_credits"][0]["amount"] == 40.0
    vendor_now = contact(call, vendor_id)
    assert vendor_now["outstanding_payable_amount"] == 60.0
    assert vendor_now["unused_credits_payable_amount"] == 110.0

    apply(call, credit_id, (bill_id, 60))
    assert money_state(call, credit_id, bill_id) == (50.0, "open", 100.0, 0.0, "paid")
    vendor_now = contact(call, vendor_id)
    assert vendor_now["outstanding_payable_amount"] == 0.0
    assert vendor_now["unused_credits_payable_amount"] == 50.0
    listed = body_of(call("GET", f"/vendorcredits/{credit_id}/bills"))["bills_credited"]
    assert [row["amount"] for row in listed] == [40.0, 60.0]
    assert {row["vendor_credit_id"] for row in listed} == {credit_id}


def test_using_up_the_credit_closes_it(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    bill_id = bill(call, ledger, vendor_id, lines=None)["bill_id"]
    credit_id = credit(call, ledger, vendor_id, rate=80)["vendor_credit_id"]
    apply(call, credit_id, (bill_id, 80))
    assert money_state(call, credit_id, bill_id) == (0.0, "closed", 80.0, 20.0, "partially_paid")
    closed = body_of(call("GET", "/vendorcredits", query={"status": "closed"}))["vendorcredits"]
    assert [row["vendor_credit_id"] for row in closed] == [credit_id]
    assert contact(call, vendor_id)["unused_credits_payable_amount"] == 0.0


def test_over_applying_is_rejected_and_changes_nothing(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    bill_id = bill(call, ledger, vendor_id)["bill_id"]  # 100
    other_bill = bill(call, ledger, vendor_id, number="NW-101")["bill_id"]  # 100
    credit_id = credit(call, ledger, vendor_id, rate=120)["vendor_credit_id"]
    apply(call, credit_id, (bill_id, 30))
    before = money_state(call, credit_id, bill_id)

    too_much_for_bill = api_error(
        call,
        "POST",
        f"/vendorcredits/{credit_id}/bills",
        body={"bills": [{"bill_id": bill_id, "amount_applied": 71}]},
    )
    assert (too_much_for_bill.status, too_much_for_bill.code) == (400, 4)
    assert "exceeds its balance" in too_much_for_bill.message

    # 60 + 40 fit each bill but not the credit's remaining 90: neither is applied.
    too_much_for_credit = api_error(
        call,
        "POST",
        f"/vendorcredits/{credit_id}/bills",
        body={
            "bills": [
                {"bill_id": other_bill, "amount_applied": 60},
                {"bill_id": bill_id, "amount_applied": 40},
            ]
        },
    )
    assert (too_much_for_credit.status, too_much_for_credit.code) == (400, 4)
    assert "balance of the vendor credit" in too_much_for_credit.message

    # The same bill named twice counts as the sum (40 + 40 > the bill's 70).
    twice = api_error(
        call,
        "POST",
        f"/vendorcredits/{credit_id}/bills",
        body={
            "bills": [
                {"bill_id": bill_id, "amount_applied": 40},
                {"bill_id": bill_id, "amount_applied": 40},
            ]
        },
    )
    assert twice.status == 400
    assert money_state(call, credit_id, bill_id) == before
    assert get_bill(call, other_bill)["balance"] == 100.0
    assert len(body_of(call("GET", f"/vendorcredits/{credit_id}/bills"))["bills_credited"]) == 1


def test_only_bills_of_the_same_vendor_and_valid_amounts(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    stranger_bill = bill(call, ledger, vendor(call, "Other Vendor"))["bill_id"]
    credit_id = credit(call, ledger, vendor_id)["vendor_credit_id"]
    foreign = api_error(
        call,
        "POST",
        f"/vendorcredits/{credit_id}/bills",
        body={"bills": [{"bill_id": stranger_bill, "amount_applied": 10}]},
    )
    assert (foreign.status, foreign.code) == (400, 4)
    assert "does not belong to this vendor" in foreign.message
    for bad in ({"bills": []}, {"bills": [{"bill_id": stranger_bill, "amount_applied": -5}]}):
        error = api_error(call, "POST", f"/vendorcredits/{credit_id}/bills", body=bad)
        assert (error.status, error.code) == (400, 4)
    missing = api_error(
        call,
        "POST",
        f"/vendorcredits/{credit_id}/bills",
        body={"bills": [{"bill_id": "999999", "amount_applied": 5}]},
    )
    assert (missing.status, missing.code) == (404, 1002)
    assert get_bill(call, stranger_bill)["balance"] == 100.0


def test_unapplying_restores_both_sides(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    bill_id = bill(call, ledger, vendor_id)["bill_id"]
    credit_id = credit(call, ledger, vendor_id)["vendor_credit_id"]
    apply(call, credit_id, (bill_id, 100))
    link = body_of(call("GET", f"/vendorcredits/{credit_id}/bills"))["bills_credited"][0]
    response = call("DELETE", f"/vendorcredits/{credit_id}/bills/{link['vendor_credit_bill_id']}")
    assert body_of(response)["message"] == "Credits applied to the bill have been deleted."
    assert money_state(call, credit_id, bill_id) == (150.0, "open", 0.0, 100.0, "open")
    assert get_bill(call, bill_id)["vendor_credits"] == []
    vendor_now = contact(call, vendor_id)
    assert vendor_now["outstanding_payable_amount"] == 100.0
    assert vendor_now["unused_credits_payable_amount"] == 150.0
    again = api_error(
        call, "DELETE", f"/vendorcredits/{credit_id}/bills/{link['vendor_credit_bill_id']}"
    )
    assert (again.status, again.code) == (404, 1002)


def test_apply_from_the_bill_side_with_credits_and_excess_payments(
    call: Call, ledger: Ledger
) -> None:
    vendor_id = vendor(call)
    bill_id = bill(call, ledger, vendor_id)["bill_id"]
    credit_id = credit(call, ledger, vendor_id, rate=30)["vendor_credit_id"]
    advance = pay(call, vendor_id, 50, [])
    response = call(
        "POST",
        f"/bills/{bill_id}/credits",
        body={
            "apply_vendor_credits": [{"vendor_credit_id": credit_id, "amount_applied": 30}],
            "bill_payments": [{"payment_id": advance["payment_id"], "amount_applied": 45}],
        },
    )
    assert response.status == 201
    shown = get_bill(call, bill_id)
    assert (shown["vendor_credits_applied"], shown["payment_made"]) == (30.0, 45.0)
    assert (shown["balance"], shown["status"]) == (25.0, "partially_paid")
    assert get_credit(call, credit_id)["status"] == "closed"
    payment = body_of(call("GET", f"/vendorpayments/{advance['payment_id']}"))["vendorpayment"]
    assert payment["unused_amount"] == 5.0
    assert contact(call, vendor_id)["unused_credits_payable_amount"] == 5.0

    # All or nothing: the credit part fits, the payment part does not (5 left on it).
    other = credit(call, ledger, vendor_id, rate=10)["vendor_credit_id"]
    error = api_error(
        call,
        "POST",
        f"/bills/{bill_id}/credits",
        body={
            "apply_vendor_credits": [{"vendor_credit_id": other, "amount_applied": 10}],
            "bill_payments": [{"payment_id": advance["payment_id"], "amount_applied": 6}],
        },
    )
    assert error.status == 400
    assert get_credit(call, other)["balance"] == 10.0
    assert get_bill(call, bill_id)["balance"] == 25.0
    empty = api_error(call, "POST", f"/bills/{bill_id}/credits", body={})
    assert (empty.status, empty.code) == (400, 4)


def test_create_with_bill_id_applies_up_to_the_bill_balance(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    bill_id = bill(call, ledger, vendor_id)["bill_id"]
    created = credit(call, ledger, vendor_id, query={"bill_id": bill_id})
    assert (created["balance"], created["total_credits_used"]) == (50.0, 100.0)
    assert created["bills_credited"][0]["bill_id"] == bill_id
    assert get_bill(call, bill_id)["status"] == "paid"


# --- voiding, deleting, editing --------------------------------------------------------
def test_void_only_when_nothing_is_applied(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    bill_id = bill(call, ledger, vendor_id)["bill_id"]
    credit_id = credit(call, ledger, vendor_id)["vendor_credit_id"]
    apply(call, credit_id, (bill_id, 20))
    refused = api_error(call, "POST", f"/vendorcredits/{credit_id}/status/void")
    assert (refused.status, refused.code) == (400, 4)
    assert get_credit(call, credit_id)["status"] == "open"

    link = get_credit(call, credit_id)["bills_credited"][0]["vendor_credit_bill_id"]
    call("DELETE", f"/vendorcredits/{credit_id}/bills/{link}")
    response = call("POST", f"/vendorcredits/{credit_id}/status/void")
    assert (response.status, body_of(response)["message"]) == (
        201,
        "The vendor credit has been voided.",
    )
    voided = get_credit(call, credit_id)
    assert (voided["status"], voided["balance"]) == ("void", 0.0)
    assert contact(call, vendor_id)["unused_credits_payable_amount"] == 0.0
    error = api_error(
        call,
        "POST",
        f"/vendorcredits/{credit_id}/bills",
        body={"bills": [{"bill_id": bill_id, "amount_applied": 1}]},
    )
    assert error.status == 400
    edit = api_error(call, "PUT", f"/vendorcredits/{credit_id}", body={"notes": "x"})
    assert edit.status == 400

    call("POST", f"/vendorcredits/{credit_id}/status/open")
    assert (get_credit(call, credit_id)["status"], get_credit(call, credit_id)["balance"]) == (
        "open",
        150.0,
    )


def test_voiding_the_bill_gives_the_credit_back(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    bill_id = bill(call, ledger, vendor_id)["bill_id"]
    credit_id = credit(call, ledger, vendor_id)["vendor_credit_id"]
    apply(call, credit_id, (bill_id, 100))
    refused = api_error(call, "DELETE", f"/bills/{bill_id}")
    assert refused.status == 400
    call("POST", f"/bills/{bill_id}/status/void")
    restored = get_credit(call, credit_id)
    assert (restored["balance"], restored["status"], restored["bills_credited"]) == (
        150.0,
        "open",
        [],
    )
    assert get_bill(call, bill_id)["vendor_credits_applied"] == 0.0


def test_deleting_a_credit_gives_the_bills_their_balance_back(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    bill_id = bill(call, ledger, vendor_id)["bill_id"]
    credit_id = credit(call, ledger, vendor_id)["vendor_credit_id"]
    apply(call, credit_id, (bill_id, 100))
    response = call("DELETE", f"/vendorcredits/{credit_id}")
    assert body_of(response)["message"] == "The vendor credit has been deleted."
    assert (get_bill(call, bill_id)["balance"], get_bill(call, bill_id)["status"]) == (
        100.0,
        "open",
    )
    gone = api_error(call, "GET", f"/vendorcredits/{credit_id}")
    assert (gone.status, gone.code, gone.message) == (404, 1002, "Vendor credit does not exist.")
    assert contact(call, vendor_id)["unused_credits_payable_amount"] == 0.0


def test_update_cannot_bring_the_total_below_what_was_used(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    bill_id = bill(call, ledger, vendor_id)["bill_id"]
    created = credit(call, ledger, vendor_id)
    credit_id = created["vendor_credit_id"]
    apply(call, credit_id, (bill_id, 100))
    line = {"line_item_id": created["line_items"][0]["line_item_id"], "rate": 90}
    error = api_error(call, "PUT", f"/vendorcredits/{credit_id}", body={"line_items": [line]})
    assert (error.status, error.code) == (400, 4)
    line["rate"] = 120
    body = body_of(call("PUT", f"/vendorcredits/{credit_id}", body={"line_items": [line]}))
    assert body["message"] == "Vendor credit information has been updated."
    assert (body["vendor_credit"]["total"], body["vendor_credit"]["balance"]) == (120.0, 20.0)
    other = vendor(call, "Someone Else")
    moved = api_error(call, "PUT", f"/vendorcredits/{credit_id}", body={"vendor_id": other})
    assert moved.status == 400


# --- refunds ---------------------------------------------------------------------------
def test_refunds_reduce_the_balance_and_come_back_when_deleted(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    credit_id = credit(call, ledger, vendor_id)["vendor_credit_id"]
    cash = account_id(ledger, "Petty Cash")
    path = f"/vendorcredits/{credit_id}/refunds"
    response = call("POST", path, body={"date": "2026-11-03", "amount": 60, "account_id": cash})
    assert response.status == 201
    refund = body_of(response)["vendor_credit_refund"]
    assert (refund["amount"], refund["account_name"]) == (60.0, "Petty Cash")
    shown = get_credit(call, credit_id)
    assert (shown["balance"], shown["total_refunded_amount"]) == (90.0, 60.0)
    assert (
        shown["vendor_credit_refunds"][0]["vendor_credit_refund_id"]
        == (refund["vendor_credit_refund_id"])
    )
    assert contact(call, vendor_id)["unused_credits_payable_amount"] == 90.0

    over = api_error(call, "POST", path, body={"amount": 91, "account_id": cash})
    assert (over.status, over.code) == (400, 4)
    no_account = api_error(call, "POST", path, body={"amount": 5})
    assert no_account.status == 400
    refund_path = f"{path}/{refund['vendor_credit_refund_id']}"
    # The edited refund may use the balance plus its own old amount: 90 + 60 = 150.
    too_big = api_error(call, "PUT", refund_path, body={"amount": 151})
    assert too_big.status == 400
    call("PUT", refund_path, body={"amount": 150})
    closed = get_credit(call, credit_id)
    assert (closed["balance"], closed["status"]) == (0.0, "closed")
    void = api_error(call, "POST", f"/vendorcredits/{credit_id}/status/void")
    assert void.status == 400

    every = body_of(call("GET", "/vendorcredits/refunds"))["vendor_credit_refunds"]
    assert [(r["amount"], r["customer_name"]) for r in every] == [(150.0, "Northwind Supply")]
    assert len(body_of(call("GET", path))["vendor_credit_refunds"]) == 1

    deleted = call("DELETE", refund_path)
    assert body_of(deleted)["message"] == "The refund has been successfully deleted."
    reopened = get_credit(call, credit_id)
    assert (reopened["balance"], reopened["status"], reopened["total_refunded_amount"]) == (
        150.0,
        "open",
        0.0,
    )
    missing = api_error(call, "GET", refund_path)
    assert (missing.status, missing.code) == (404, 1002)


def test_refunds_of_one_credit_are_not_listed_under_another(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    cash = account_id(ledger, "Petty Cash")
    first = credit(call, ledger, vendor_id)["vendor_credit_id"]
    second = credit(call, ledger, vendor_id)["vendor_credit_id"]
    made = body_of(
        call("POST", f"/vendorcredits/{first}/refunds", body={"amount": 5, "account_id": cash})
    )["vendor_credit_refund"]
    for query in ({}, {"filter_by": "Status.All"}, {"vendor_credit_id": first}):
        listed = body_of(call("GET", f"/vendorcredits/{second}/refunds", query=query))
        assert listed["vendor_credit_refunds"] == []
    wrong_parent = api_error(
        call, "GET", f"/vendorcredits/{second}/refunds/{made['vendor_credit_refund_id']}"
    )
    assert wrong_parent.status == 404


# --- listing and seeding ---------------------------------------------------------------
def test_list_filters_and_searches(call: Call, ledger: Ledger) -> None:
    vendor_id = vendor(call)
    first = credit(call, ledger, vendor_id, reference_number="RMA-1")
    credit(call, ledger, vendor(call, "Second Vendor"), status="draft")
    rows = body_of(call("GET", "/vendorcredits", query={"filter_by": "Status.Open"}))
    assert [r["vendor_credit_id"] for r in rows["vendorcredits"]] == [first["vendor_credit_id"]]
    assert rows["page_context"]["report_name"] == "Vendor Credits"
    drafts = body_of(call("GET", "/vendorcredits", query={"status": "draft"}))["vendorcredits"]
    assert [r["vendor_name"] for r in drafts] == ["Second Vendor"]
    found = body_of(call("GET", "/vendorcredits", query={"search_text": "RMA-1"}))
    assert [r["vendor_credit_number"] for r in found["vendorcredits"]] == ["DN-00001"]


def test_seeder_creates_consistent_credits(ledger: Ledger) -> None:
    rng = random.Random(7)
    SEEDERS["bills"](ledger, 20, rng)
    created = SEEDERS["vendorcredits"](ledger, 12, rng)
    assert len(created) == 12
    for credit_id in created:
        record = ledger.store.get("vendorcredits", credit_id)
        assert record is not None
        used = sum(e["amount"] for e in record["bills_credited"])
        if record["status"] != "void":
            assert record["balance"] == pytest.approx(record["total"] - used)
        for entry in record["bills_credited"]:
            bill_record = ledger.store.get("bills", entry["bill_id"])
            assert bill_record is not None
            links = {c["vendor_credit_bill_id"] for c in bill_record["_credits"]}
            assert entry["vendor_credit_bill_id"] in links


# --- OAS conformance -------------------------------------------------------------------
VENDOR_CREDIT_SCENARIO = Scenario(
    "vendorcredits",
    ("POST", "/vendorcredits"),
    (
        VENDOR,
        EXPENSE_ACCOUNT,
        CASH_ACCOUNT,
        BILL,
        Step(
            "POST",
            "/vendorcredits",
            body={
                "vendor_id": "{vendor_id}",
                "date": DAY,
                "line_items": [{"account_id": "{expense_account_id}", "rate": 30}],
            },
            save={"vc_id": "vendor_credit.vendor_credit_id"},
        ),
        Step("GET", "/vendorcredits/{vc_id}"),
        Step("GET", "/vendorcredits"),
        Step("PUT", "/vendorcredits/{vc_id}", body={"reference_number": "VC-REF"}),
        Step(
            "POST",
            "/vendorcredits/{vc_id}/bills",
            body={"bills": [{"bill_id": "{bill_id}", "amount_applied": 5}]},
        ),
        Step(
            "POST",
            "/bills/{bill_id}/credits",
            body={"apply_vendor_credits": [{"vendor_credit_id": "{vc_id}", "amount_applied": 2}]},
        ),
        Step(
            "GET",
            "/vendorcredits/{vc_id}/bills",
            save={
                "link1": "bills_credited.0.vendor_credit_bill_id",
                "link2": "bills_credited.1.vendor_credit_bill_id",
            },
        ),
        Step("DELETE", "/vendorcredits/{vc_id}/bills/{link1}"),
        Step("DELETE", "/vendorcredits/{vc_id}/bills/{link2}"),
        Step(
            "POST",
            "/vendorcredits/{vc_id}/refunds",
            body={"date": DAY, "amount": 3, "account_id": "{cash_account_id}"},
            save={"refund_id": "vendor_credit_refund.vendor_credit_refund_id"},
        ),
        Step("GET", "/vendorcredits/{vc_id}/refunds"),
        Step("GET", "/vendorcredits/refunds"),
        Step("GET", "/vendorcredits/{vc_id}/refunds/{refund_id}"),
        Step("PUT", "/vendorcredits/{vc_id}/refunds/{refund_id}", body={"amount": 4}),
        Step("DELETE", "/vendorcredits/{vc_id}/refunds/{refund_id}"),
        Step("POST", "/vendorcredits/{vc_id}/status/void"),
        Step("POST", "/vendorcredits/{vc_id}/status/open"),
        Step("DELETE", "/vendorcredits/{vc_id}"),
    ),
)


@requires_oas
def test_every_vendor_credit_operation_conforms_to_the_oas(call: Call, ledger: Ledger) -> None:
    validated, problems = run_scenario(call, ledger, VENDOR_CREDIT_SCENARIO)
    assert problems == [], "\n".join(problems)
    assert validated == len(VENDOR_CREDIT_SCENARIO.steps)
