"""Purchases: bills, vendor payments, purchase orders and expenses through the route
handlers (no HTTP): money, statuses, balances, messages and seeding."""

from __future__ import annotations

import random
from typing import Any

import pytest

from zbooks.sandbox.books.registry import BooksResponse
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.db import Database
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger.base import SEEDERS, Ledger
from zbooks.sandbox.ledger.organizations import create_organization
from zbooks.sandbox.ledger.store import Filter

from .conftest import Call

DAY = 86400


def body_of(response: BooksResponse) -> dict[str, Any]:
    assert response.body is not None
    return response.body


def api_error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


def vendor(call: Call, name: str = "Northwind Supply", **fields: Any) -> str:
    body = {"contact_name": name, "contact_type": "vendor", **fields}
    return str(body_of(call("POST", "/contacts", body=body))["contact"]["contact_id"])


def tax(call: Call, name: str, percent: float) -> str:
    body = {"tax_name": name, "tax_percentage": percent}
    return str(body_of(call("POST", "/settings/taxes", body=body))["tax"]["tax_id"])


def account_id(ledger: Ledger, name: str) -> str:
    found = coa.account_by_name(ledger, name)
    assert found is not None, name
    return str(found["account_id"])


def bill(call: Call, ledger: Ledger, vendor_id: str, number: str = "NW-100",
         lines: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    office = account_id(ledger, "Office Supplies")
    body = {
        "vendor_id": vendor_id,
        "bill_number": number,
        "line_items": lines or [{"account_id": office, "rate": 100, "quantity": 1}],
        **fields,
    }
    response = call("POST", "/bills", body=body)
    assert response.status == 201
    return dict(body_of(response)["bill"])


def contact(call: Call, contact_id: str) -> dict[str, Any]:
    return dict(body_of(call("GET", f"/contacts/{contact_id}"))["contact"])


def pay(call: Call, vendor_id: str, amount: float, applied: list[tuple[str, float]],
        **fields: Any) -> dict[str, Any]:
    body = {
        "vendor_id": vendor_id,
        "amount": amount,
        "bills": [{"bill_id": b, "amount_applied": a} for b, a in applied],
        **fields,
    }
    response = call("POST", "/vendorpayments", body=body)
    assert response.status == 201
    assert body_of(response)["message"] == "The payment made to the vendor has been recorded."
    return dict(body_of(response)["vendorpayment"])


def get_bill(call: Call, bill_id: str) -> dict[str, Any]:
    return dict(body_of(call("GET", f"/bills/{bill_id}"))["bill"])


# --- bills: money -------------------------------------------------------------------------
def test_bill_totals_with_two_taxes_and_a_quantity(call: Call, ledger: Ledger) -> None:
    vat = tax(call, "VAT", 10)
    levy = tax(call, "Levy", 2.5)
    office = account_id(ledger, "Office Supplies")
    travel = account_id(ledger, "Travel Expense")
    vid = vendor(call)
    created = bill(call, ledger, vid, lines=[
        {"account_id": office, "rate": 40, "quantity": 3, "tax_id": vat},  # 120 + 12
        {"account_id": travel, "rate": 80.4, "quantity": 1, "tax_id": levy},  # 80.40 + 2.01
        {"account_id": office, "rate": 19.99, "quantity": 2},  # 39.98, no tax
    ], adjustment=-0.39)
    assert created["sub_total"] == 240.38
    assert created["tax_total"] == 14.01
    assert {t["tax_name"]: t["tax_amount"] for t in created["taxes"]} == {"VAT": 12.0,
                                                                          "Levy": 2.01}
    assert created["total"] == 254.0  # 240.38 + 14.01 - 0.39
    assert created["balance"] == 254.0
    assert created["payment_made"] == 0
    assert created["status"] == "open"
    assert [line["account_name"] for line in created["line_items"]] == [
        "Office Supplies", "Travel Expense", "Office Supplies"]
    assert all(line["line_item_id"].isdigit() for line in created["line_items"])
    assert contact(call, vid)["outstanding_payable_amount"] == 254.0


def test_item_lines_take_the_purchase_rate_and_default_to_cost_of_goods(
    call: Call, ledger: Ledger
) -> None:
    item = body_of(call("POST", "/items", body={"name": "Widget", "rate": 50,
                                                "purchase_rate": 30}))["item"]
    created = bill(call, ledger, vendor(call), lines=[{"item_id": item["item_id"],
                                                        "quantity": 4}])
    line = created["line_items"][0]
    assert (line["rate"], line["item_total"], line["name"]) == (30.0, 120.0, "Widget")
    assert line["account_name"] == (
        coa.get_account(ledger, line["account_id"])["account_name"]
    )
    assert created["total"] == 120.0


def test_bill_line_needs_an_item_or_an_expense_account(call: Call, ledger: Ledger) -> None:
    vid = vendor(call)
    err = api_error(call, "POST", "/bills", body={
        "vendor_id": vid, "bill_number": "X1", "line_items": [{"name": "Free text", "rate": 5}]})
    assert (err.status, err.code) == (400, 4)
    bank = account_id(ledger, "Business Checking")
    err = api_error(call, "POST", "/bills", body={
        "vendor_id": vid, "bill_number": "X1",
        "line_items": [{"account_id": bank, "rate": 5}]})
    assert (err.status, err.code, err.message) == (400, 4, "Invalid value passed for account_id")


def test_bill_requires_vendor_and_number(call: Call, ledger: Ledger) -> None:
    office = account_id(ledger, "Office Supplies")
    lines = [{"account_id": office, "rate": 1}]
    err = api_error(call, "POST", "/bills", body={"bill_number": "A", "line_items": lines})
    assert (err.status, err.code, err.message) == (400, 4, "Invalid value passed for vendor_id")
    err = api_error(call, "POST", "/bills", body={"vendor_id": vendor(call), "line_items": lines})
    assert err.message == "Invalid value passed for bill_number"


def test_bill_number_is_unique_per_vendor_only(call: Call, ledger: Ledger) -> None:
    first, second = vendor(call, "First Vendor"), vendor(call, "Second Vendor")
    bill(call, ledger, first, number="INV-7")
    bill(call, ledger, second, number="INV-7")  # another vendor's paper may say the same
    err = api_error(call, "POST", "/bills", body={
        "vendor_id": first, "bill_number": "INV-7",
        "line_items": [{"account_id": account_id(ledger, "Office Supplies"), "rate": 3}]})
    assert (err.status, err.code) == (400, 1001)
    assert "INV-7" in err.message


def test_update_replaces_lines_keeping_echoed_ids(call: Call, ledger: Ledger) -> None:
    office = account_id(ledger, "Office Supplies")
    created = bill(call, ledger, vendor(call), lines=[
        {"account_id": office, "rate": 10}, {"account_id": office, "rate": 20}])
    kept = created["line_items"][1]["line_item_id"]
    response = call("PUT", f"/bills/{created['bill_id']}", body={"line_items": [
        {"line_item_id": kept, "rate": 25}, {"account_id": office, "rate": 5}]})
    body = body_of(response)
    assert body["message"] == "Bill information has been updated."
    lines = body["bill"]["line_items"]
    assert lines[0]["line_item_id"] == kept and lines[0]["account_id"] == office
    assert lines[1]["line_item_id"] not in {kept, created["line_items"][0]["line_item_id"]}
    assert body["bill"]["total"] == 30.0


# --- bills: statuses ----------------------------------------------------------------------
def test_open_bill_reads_overdue_once_the_clock_passes_its_due_date(
    call: Call, ledger: Ledger
) -> None:
    today = ledger.today()
    created = bill(call, ledger, vendor(call), payment_terms=15, date=today)
    assert created["due_date"] > today and created["payment_terms_label"] == "Net 15"
    bill_id = created["bill_id"]

    def listed(**query: str) -> list[str]:
        return [b["bill_id"] for b in body_of(call("GET", "/bills", query=query))["bills"]]

    assert listed(filter_by="Status.Open") == [bill_id]
    assert listed(filter_by="Status.Overdue") == []
    ledger.clock.advance(16 * DAY)
    assert get_bill(call, bill_id)["status"] == "overdue"
    assert get_bill(call, bill_id)["due_by_days"].startswith("Overdue by 1 day")
    assert listed(filter_by="Status.Overdue") == [bill_id]
    assert listed(status="overdue") == [bill_id]
    assert listed(filter_by="Status.Open") == []
    assert listed(filter_by="Status.Unpaid") == [bill_id]
    # Paid in full it is no longer overdue.
    pay(call, created["vendor_id"], 100, [(bill_id, 100)])
    assert get_bill(call, bill_id)["status"] == "paid"
    assert listed(filter_by="Status.Overdue") == []


def test_draft_bill_is_opened_with_zohos_exact_message(call: Call, ledger: Ledger) -> None:
    vid = vendor(call)
    created = bill(call, ledger, vid, status="draft")
    assert created["status"] == "draft"
    assert contact(call, vid)["outstanding_payable_amount"] == 0
    err = api_error(call, "POST", "/vendorpayments", body={
        "vendor_id": vid, "amount": 10, "bills": [{"bill_id": created["bill_id"],
                                                   "amount_applied": 10}]})
    assert err.status == 400
    response = call("POST", f"/bills/{created['bill_id']}/status/open")
    assert (response.status, body_of(response)["message"]) == (
        201, "The status of the bill has been chaged to open.")
    assert get_bill(call, created["bill_id"])["status"] == "open"
    assert contact(call, vid)["outstanding_payable_amount"] == 100.0


# --- vendor payments ----------------------------------------------------------------------
def test_partial_then_full_payment_moves_bill_and_vendor_balances(
    call: Call, ledger: Ledger
) -> None:
    vid = vendor(call)
    first = bill(call, ledger, vid, number="B-1")
    second = bill(call, ledger, vid, number="B-2")
    assert contact(call, vid)["outstanding_payable_amount"] == 200.0

    partial = pay(call, vid, 60, [(first["bill_id"], 60)], reference_number="CHK-1")
    assert partial["payment_number"] == 1
    assert (partial["amount"], partial["balance"]) == (60.0, 0.0)
    after = get_bill(call, first["bill_id"])
    assert (after["status"], after["payment_made"], after["balance"]) == (
        "partially_paid", 60.0, 40.0)
    assert contact(call, vid)["outstanding_payable_amount"] == 140.0

    # 150 pays the rest of B-1 and B-2 in full and leaves 10 unused.
    full = pay(call, vid, 150, [(first["bill_id"], 40), (second["bill_id"], 100)])
    assert full["payment_number"] == 2
    assert full["balance"] == 10.0 and full["unused_amount"] == 10.0
    assert [b["balance"] for b in full["bills"]] == [0.0, 0.0]
    for paid in (first, second):
        state = get_bill(call, paid["bill_id"])
        assert (state["status"], state["balance"]) == ("paid", 0.0)
    vendor_now = contact(call, vid)
    assert vendor_now["outstanding_payable_amount"] == 0.0
    assert vendor_now["unused_credits_payable_amount"] == 10.0

    payments = body_of(call("GET", f"/bills/{first['bill_id']}/payments"))["payments"]
    assert [(p["payment_id"], p["amount"]) for p in payments] == [
        (partial["payment_id"], 60.0), (full["payment_id"], 40.0)]
    assert payments[0]["paid_through"] == "Petty Cash"  # the default paid-through account
    listed = body_of(call("GET", "/vendorpayments", query={"bill_id": second["bill_id"]}))
    assert [p["payment_id"] for p in listed["vendorpayments"]] == [full["payment_id"]]


@pytest.mark.parametrize(
    ("amount", "applied", "fragment"),
    [
        (50, 60, "more than the amount paid"),
        (500, 120, "exceeds its balance"),
        (0, 0, "Invalid value passed for amount"),
    ],
)
def test_payment_rules(call: Call, ledger: Ledger, amount: float, applied: float,
                       fragment: str) -> None:
    vid = vendor(call)
    target = bill(call, ledger, vid)
    err = api_error(call, "POST", "/vendorpayments", body={
        "vendor_id": vid, "amount": amount,
        "bills": [{"bill_id": target["bill_id"], "amount_applied": applied}]})
    assert err.status == 400 and fragment in err.message
    assert get_bill(call, target["bill_id"])["balance"] == 100.0  # nothing half-applied


def test_another_vendors_bill_cannot_be_paid(call: Call, ledger: Ledger) -> None:
    theirs = bill(call, ledger, vendor(call, "Theirs"))
    err = api_error(call, "POST", "/vendorpayments", body={
        "vendor_id": vendor(call, "Mine"), "amount": 10,
        "bills": [{"bill_id": theirs["bill_id"], "amount_applied": 10}]})
    assert err.status == 400 and "does not belong" in err.message


def test_update_and_delete_payment_restore_the_bill(call: Call, ledger: Ledger) -> None:
    vid = vendor(call)
    target = bill(call, ledger, vid)
    payment = pay(call, vid, 100, [(target["bill_id"], 100)])
    link = payment["bills"][0]["bill_payment_id"]
    response = call("PUT", f"/vendorpayments/{payment['payment_id']}", body={
        "bills": [{"bill_id": target["bill_id"], "amount_applied": 30}]})
    body = body_of(response)
    assert body["message"] == "The details of the payment made to the vendor has been updated"
    assert body["vendorpayment"]["bills"][0]["bill_payment_id"] == link
    assert body["vendorpayment"]["unused_amount"] == 70.0
    assert get_bill(call, target["bill_id"])["balance"] == 70.0
    assert contact(call, vid)["unused_credits_payable_amount"] == 70.0

    response = call("DELETE", f"/vendorpayments/{payment['payment_id']}")
    assert body_of(response)["message"] == "The payment has been deleted."
    restored = get_bill(call, target["bill_id"])
    assert (restored["status"], restored["balance"], restored["payment_made"]) == (
        "open", 100.0, 0.0)
    assert restored["payments"] == []
    vendor_now = contact(call, vid)
    assert (vendor_now["outstanding_payable_amount"],
            vendor_now["unused_credits_payable_amount"]) == (100.0, 0.0)
    assert api_error(call, "GET", f"/vendorpayments/{payment['payment_id']}").status == 404


def test_void_releases_payments_as_unused_credit(call: Call, ledger: Ledger) -> None:
    vid = vendor(call)
    target = bill(call, ledger, vid)
    payment = pay(call, vid, 80, [(target["bill_id"], 80)])
    response = call("POST", f"/bills/{target['bill_id']}/status/void")
    assert (response.status, body_of(response)["message"]) == (
        201, "The bill has been marked as void.")
    voided = get_bill(call, target["bill_id"])
    assert (voided["status"], voided["payment_made"]) == ("void", 0.0)
    released = body_of(call("GET", f"/vendorpayments/{payment['payment_id']}"))["vendorpayment"]
    assert (released["bills"], released["unused_amount"]) == ([], 80.0)
    vendor_now = contact(call, vid)
    assert vendor_now["outstanding_payable_amount"] == 0.0
    assert vendor_now["unused_credits_payable_amount"] == 80.0
    err = api_error(call, "PUT", f"/bills/{target['bill_id']}", body={"notes": "x"})
    assert err.status == 400


def test_one_bill_payment_can_be_removed(call: Call, ledger: Ledger) -> None:
    vid = vendor(call)
    target = bill(call, ledger, vid)
    payment = pay(call, vid, 100, [(target["bill_id"], 100)])
    link = payment["bills"][0]["bill_payment_id"]
    err = api_error(call, "DELETE", f"/bills/{target['bill_id']}")
    assert err.status == 400  # a bill with payments cannot be deleted
    response = call("DELETE", f"/bills/{target['bill_id']}/payments/{link}")
    assert body_of(response)["message"] == "The payment has been deleted."
    assert get_bill(call, target["bill_id"])["status"] == "open"
    kept = body_of(call("GET", f"/vendorpayments/{payment['payment_id']}"))["vendorpayment"]
    assert kept["unused_amount"] == 100.0
    assert body_of(call("DELETE", f"/bills/{target['bill_id']}"))["message"] == (
        "The bill has been deleted.")


def test_payment_through_a_bank_account_lowers_its_balance(call: Call, ledger: Ledger) -> None:
    bank = body_of(call("POST", "/bankaccounts", body={"account_name": "Ops",
                                                       "account_type": "bank"}))["bankaccount"]
    call("POST", "/banktransactions", body={"transaction_type": "deposit", "amount": 500,
                                            "to_account_id": bank["account_id"]})
    vid = vendor(call)
    target = bill(call, ledger, vid)
    pay(call, vid, 100, [(target["bill_id"], 100)], paid_through_account_id=bank["account_id"])
    now = body_of(call("GET", f"/bankaccounts/{bank['account_id']}"))["bankaccount"]
    assert now["balance"] == 400.0


# --- purchase orders ----------------------------------------------------------------------
def test_purchase_orders_are_numbered_and_move_through_their_statuses(
    call: Call, ledger: Ledger
) -> None:
    vid = vendor(call)
    office = account_id(ledger, "Office Supplies")
    lines = [{"account_id": office, "rate": 12.5, "quantity": 4}]
    made = []
    for _ in range(2):
        response = call("POST", "/purchaseorders", body={"vendor_id": vid, "line_items": lines})
        assert (response.status, body_of(response)["message"]) == (
            201, "Purchase Order has been added.")
        made.append(body_of(response)["purchaseorder"])
    assert [m["purchaseorder_number"] for m in made] == ["PO-00001", "PO-00002"]
    assert made[0]["total"] == 50.0 and made[0]["status"] == "draft"
    first, second = (m["purchaseorder_id"] for m in made)

    err = api_error(call, "POST", f"/purchaseorders/{first}/status/billed")
    assert err.status == 400  # a draft has not been issued yet
    response = call("POST", f"/purchaseorders/{first}/status/open")
    assert (response.status, body_of(response)["message"]) == (
        201, "The purchase order has been marked as open.")
    response = call("POST", f"/purchaseorders/{first}/status/billed")
    assert body_of(response)["message"] == "The purchase order has been marked as billed."
    err = api_error(call, "POST", f"/purchaseorders/{first}/status/cancelled")
    assert err.status == 400
    assert api_error(call, "PUT", f"/purchaseorders/{first}", body={"notes": "x"}).status == 400

    response = call("POST", f"/purchaseorders/{second}/status/cancelled")
    assert body_of(response)["message"] == "The purchase order has been cancelled."
    statuses = {
        p["purchaseorder_id"]: p["status"]
        for p in body_of(call("GET", "/purchaseorders"))["purchaseorders"]
    }
    assert statuses == {first: "billed", second: "cancelled"}
    billed = body_of(call("GET", "/purchaseorders", query={"filter_by": "Status.Billed"}))
    assert [p["purchaseorder_id"] for p in billed["purchaseorders"]] == [first]


def test_purchase_order_number_needs_the_flag(call: Call, ledger: Ledger) -> None:
    vid = vendor(call)
    lines = [{"account_id": account_id(ledger, "Office Supplies"), "rate": 1}]
    body = {"vendor_id": vid, "purchaseorder_number": "CUSTOM-9", "line_items": lines}
    assert api_error(call, "POST", "/purchaseorders", body=body).status == 400
    made = body_of(call("POST", "/purchaseorders", body=body,
                        query={"ignore_auto_number_generation": "true"}))["purchaseorder"]
    assert made["purchaseorder_number"] == "CUSTOM-9"


def test_bill_made_from_a_purchase_order_marks_it_billed(call: Call, ledger: Ledger) -> None:
    vid = vendor(call)
    lines = [{"account_id": account_id(ledger, "Office Supplies"), "rate": 9}]
    order = body_of(call("POST", "/purchaseorders", body={
        "vendor_id": vid, "line_items": lines}))["purchaseorder"]
    call("POST", f"/purchaseorders/{order['purchaseorder_id']}/status/open")
    created = bill(call, ledger, vid, purchaseorder_ids=[order["purchaseorder_id"]])
    assert created["purchaseorders"][0]["purchaseorder_number"] == "PO-00001"
    fetched = body_of(call("GET", f"/purchaseorders/{order['purchaseorder_id']}"))
    assert fetched["purchaseorder"]["status"] == "billed"


# --- expenses -------------------------------------------------------------------------------
def test_expense_with_tax_added_on_top_and_included(call: Call, ledger: Ledger) -> None:
    vat = tax(call, "VAT", 20)
    body = {"account_id": account_id(ledger, "Travel Expense"),
            "paid_through_account_id": account_id(ledger, "Petty Cash"),
            "amount": 120, "tax_id": vat, "date": "2026-03-01"}
    response = call("POST", "/expenses", body=body)
    assert (response.status, body_of(response)["message"]) == (
        200, "The expense has been recorded.")
    added = body_of(response)["expense"]
    assert (added["sub_total"], added["tax_amount"], added["total"]) == (120.0, 24.0, 144.0)
    assert added["status"] == "nonbillable" and added["tax_name"] == "VAT"
    included = body_of(call("POST", "/expenses", body={**body, "is_inclusive_tax": True}))
    expense = included["expense"]
    assert (expense["sub_total"], expense["tax_amount"], expense["total"]) == (
        100.0, 20.0, 120.0)
    assert expense["paid_through_account_name"] == "Petty Cash"


def test_expense_validation(call: Call, ledger: Ledger) -> None:
    office = account_id(ledger, "Office Supplies")
    cash = account_id(ledger, "Petty Cash")
    for missing in ("account_id", "paid_through_account_id", "amount"):
        body = {"account_id": office, "paid_through_account_id": cash, "amount": 5}
        del body[missing]
        err = api_error(call, "POST", "/expenses", body=body)
        assert (err.status, err.code, err.message) == (
            400, 4, f"Invalid value passed for {missing}")
    err = api_error(call, "POST", "/expenses", body={
        "account_id": office, "paid_through_account_id": cash, "amount": 5, "is_billable": True})
    assert err.message == "Invalid value passed for customer_id"


def test_billable_expenses_filter_update_and_delete(call: Call, ledger: Ledger) -> None:
    customer = body_of(call("POST", "/contacts", body={"contact_name": "Client"}))["contact"]
    base = {"account_id": account_id(ledger, "Lodging"),
            "paid_through_account_id": account_id(ledger, "Petty Cash"), "amount": 80}
    billable = body_of(call("POST", "/expenses", body={
        **base, "is_billable": True, "customer_id": customer["contact_id"]}))["expense"]
    plain = body_of(call("POST", "/expenses", body=base))["expense"]
    assert billable["status"] == "unbilled" and billable["customer_name"] == "Client"

    def listed(filter_by: str) -> list[str]:
        rows = body_of(call("GET", "/expenses", query={"filter_by": filter_by}))["expenses"]
        return [e["expense_id"] for e in rows]

    assert listed("Status.Billable") == [billable["expense_id"]]
    assert listed("Status.Nonbillable") == [plain["expense_id"]]
    assert sorted(listed("Status.All")) == sorted([billable["expense_id"], plain["expense_id"]])
    response = call("PUT", f"/expenses/{plain['expense_id']}", body={"amount": 95})
    assert body_of(response)["message"] == "Expense information has been updated."
    assert body_of(response)["expense"]["total"] == 95.0
    response = call("DELETE", f"/expenses/{plain['expense_id']}")
    assert body_of(response)["message"] == "The expense has been deleted."
    assert listed("Status.All") == [billable["expense_id"]]


# --- seeding ------------------------------------------------------------------------------------
def _seeded_org() -> Ledger:
    db = Database(":memory:")
    org = create_organization(db, name="Seed Org", owner_user_id="u9")
    return Ledger(db=db, clock=Clock(), org_id=org["organization_id"])


def _snapshot(ledger: Ledger, module: str, *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(r.get(f) for f in fields) for r in ledger.store.find(module, [])]


def test_purchase_seeders_are_deterministic_and_consistent() -> None:
    from zbooks.sandbox.books.registry import load_routes

    load_routes()
    runs = []
    for _ in range(2):
        ledger = _seeded_org()
        rng = random.Random(7)
        for module, count in (("bills", 40), ("vendorpayments", 15), ("purchaseorders", 10),
                              ("expenses", 12)):
            assert len(SEEDERS[module](ledger, count, rng)) == count
        runs.append((
            _snapshot(ledger, "bills", "bill_number", "total", "balance", "status"),
            _snapshot(ledger, "vendorpayments", "amount", "unused_amount"),
            _snapshot(ledger, "purchaseorders", "purchaseorder_number", "status", "total"),
            _snapshot(ledger, "expenses", "total", "status"),
        ))
        bills = ledger.store.find("bills", [])
        assert {b["status"] for b in bills} >= {"open", "paid"}
        for record in bills:  # each bill agrees with the payments that point at it
            applied = sum(
                e["amount_applied"]
                for p in ledger.store.find("vendorpayments",
                                           [Filter("$.bills", "contains", record["bill_id"])])
                for e in p["bills"] if e["bill_id"] == record["bill_id"]
            )
            assert round(applied, 2) == record["payment_made"]
        for vendor_record in ledger.store.find("contacts", [Filter("contact_type", "eq",
                                                                   "vendor")]):
            owed = sum(b["balance"] for b in bills if b["vendor_id"] == vendor_record[
                "contact_id"] and b["status"] in ("open", "partially_paid"))
            assert vendor_record.get("outstanding_payable_amount", 0) == round(owed, 2)
        ledger.db.close()
    assert runs[0] == runs[1]
