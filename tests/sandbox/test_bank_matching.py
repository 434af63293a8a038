"""Statement lines matched with book transactions, and categorized as customer payments,
vendor payments or expenses: candidates, the amount rule, round trips, direction rules,
the documents' balances and the bank balance (never counted twice)."""

from __future__ import annotations

from typing import Any

from tests.oasfiles import requires_oas
from tests.sandbox.conftest import Call
from tests.sandbox.test_accounting_modules import account_id, api_error, balance, bank, body_of, txn
from tests.sandbox.test_oas_conformance import (
    BILL,
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
from zbooks.sandbox.ledger.base import Ledger


def feed(call: Call, bank_id: str, *lines: tuple[str, str, float]) -> list[str]:
    """Import ``(date, debit_or_credit, amount)`` lines; their ids in the given order."""
    call("POST", "/bankstatements", body={"account_id": bank_id, "transactions": [
        {"date": day, "debit_or_credit": way, "amount": amount, "reference_number": f"L{n}"}
        for n, (day, way, amount) in enumerate(lines)]})
    rows = body_of(call("GET", "/banktransactions", query={
        "account_id": bank_id, "filter_by": "Status.Uncategorized", "per_page": "200"}))
    by_ref = {r["reference_number"]: r["transaction_id"] for r in rows["banktransactions"]}
    return [by_ref[f"L{n}"] for n in range(len(lines))]


def get_txn(call: Call, transaction_id: str) -> dict[str, Any]:
    return dict(body_of(call("GET", f"/banktransactions/{transaction_id}"))["banktransaction"])


def candidates(call: Call, line_id: str, **query: str) -> list[dict[str, Any]]:
    response = call("GET", f"/banktransactions/uncategorized/{line_id}/match", query=query)
    assert response.status == 200
    return list(body_of(response)["matching_transactions"])


def match(call: Call, line_id: str, *book_ids: str) -> Any:
    return call("POST", f"/banktransactions/uncategorized/{line_id}/match", body={
        "transactions_to_be_matched": [{"transaction_id": b} for b in book_ids]})


def test_candidates_are_same_account_direction_amount_and_near_date(call: Call) -> None:
    checking, savings = bank(call, "Checking"), bank(call, "Savings")
    near = txn(call, transaction_type="deposit", to_account_id=checking, amount=500,
               date="2026-03-01", reference_number="DEP-1")["transaction_id"]
    far = txn(call, transaction_type="deposit", to_account_id=checking, amount=500,
              date="2026-06-01")["transaction_id"]
    small = txn(call, transaction_type="owner_contribution", to_account_id=checking,
                amount=200, date="2026-03-02")["transaction_id"]
    txn(call, transaction_type="owner_drawings", from_account_id=checking, amount=500,
        date="2026-03-02")  # money out: never a candidate for a deposit
    txn(call, transaction_type="deposit", to_account_id=savings, amount=500,
        date="2026-03-02")  # another account
    (line,) = feed(call, checking, ("2026-03-02", "debit", 500))

    (best,) = candidates(call, line)
    assert (best["transaction_id"], best["is_best_match"], best["amount"]) == (near, True, 500)
    assert (best["debit_or_credit"], best["reference_number"]) == ("debit", "DEP-1")
    every = candidates(call, line, show_all_transactions="true")
    assert [c["transaction_id"] for c in every] == [near, far, small]
    assert [c["is_best_match"] for c in every] == [True, False, False]
    ranged = candidates(call, line, amount_start="100", amount_end="250")
    assert [c["transaction_id"] for c in ranged] == [small]
    assert [c["transaction_id"] for c in candidates(
        call, line, date_after="2026-05-01")] == [far]


def test_match_and_unmatch_round_trip_never_counts_the_money_twice(call: Call) -> None:
    checking = bank(call, "Checking")
    book = txn(call, transaction_type="deposit", to_account_id=checking, amount=500,
               date="2026-03-01")["transaction_id"]
    other = txn(call, transaction_type="deposit", to_account_id=checking, amount=200,
                date="2026-03-01")["transaction_id"]
    line, spare = feed(call, checking, ("2026-03-02", "debit", 500),
                       ("2026-03-03", "debit", 500))
    assert balance(call, checking) == 700.0

    error = api_error(call, "POST", f"/banktransactions/uncategorized/{line}/match",
                      body={"transactions_to_be_matched": [{"transaction_id": other}]})
    assert error.status == 400  # 200 does not add up to 500
    assert get_txn(call, line)["status"] == "uncategorized"
    assert get_txn(call, other)["status"] == "manually_added"

    response = match(call, line, book)
    assert (response.status, body_of(response)["message"]) == (
        201, "The transaction has been matched.")
    assert get_txn(call, line)["status"] == "matched"
    booked = get_txn(call, book)
    assert booked["status"] == "matched"
    assert booked["imported_transactions"][0]["imported_transaction_id"] == line
    account = body_of(call("GET", f"/bankaccounts/{checking}"))["bankaccount"]
    assert (account["balance"], account["uncategorized_transactions"]) == (700.0, 1)
    # A book transaction is matched once: gone from the other line's candidates.
    assert book not in [c["transaction_id"] for c in candidates(
        call, spare, show_all_transactions="true")]
    assert api_error(call, "POST", f"/banktransactions/uncategorized/{spare}/match",
                     body={"transactions_to_be_matched": [{"transaction_id": book}]}
                     ).status == 400
    assert api_error(call, "POST", f"/banktransactions/uncategorized/{line}/match",
                     body={"transactions_to_be_matched": [{"transaction_id": other}]}
                     ).status == 400  # no longer uncategorized
    matched = body_of(call("GET", "/banktransactions", query={
        "account_id": checking, "filter_by": "Status.Matched"}))["banktransactions"]
    assert {r["transaction_id"]: r["debit_or_credit"] for r in matched} == {
        line: "debit", book: "debit"}

    response = call("POST", f"/banktransactions/{line}/unmatch")
    assert (response.status, body_of(response)["message"]) == (
        201, "The transaction has been unmatched.")
    assert get_txn(call, line)["status"] == "uncategorized"
    assert get_txn(call, line)["to_account_id"] == checking
    assert get_txn(call, book)["status"] == "manually_added"
    assert balance(call, checking) == 700.0
    assert api_error(call, "POST", f"/banktransactions/{line}/unmatch").status == 400
    assert book in [c["transaction_id"] for c in candidates(call, line)]


def test_one_line_matches_several_book_transactions_and_unlinks_from_either_side(
    call: Call, ledger: Ledger
) -> None:
    checking = bank(call, "Checking")
    first = txn(call, transaction_type="deposit", to_account_id=checking, amount=120,
                date="2026-03-01")["transaction_id"]
    second = txn(call, transaction_type="other_income", to_account_id=checking, amount=80,
                 date="2026-03-02")["transaction_id"]
    expense = body_of(call("POST", "/expenses", body={
        "account_id": account_id(ledger, "Office Supplies"),
        "paid_through_account_id": checking, "amount": 35, "date": "2026-03-04"}))
    expense_id = expense["expense"]["expense_id"]
    line, out = feed(call, checking, ("2026-03-03", "debit", 200),
                     ("2026-03-04", "credit", 35))

    assert match(call, line, first, second).status == 201
    assert {get_txn(call, first)["status"], get_txn(call, second)["status"]} == {"matched"}
    # Unmatching through a book transaction's id releases the whole line.
    call("POST", f"/banktransactions/{second}/unmatch")
    assert [get_txn(call, i)["status"] for i in (line, first, second)] == [
        "uncategorized", "manually_added", "manually_added"]

    (expense_row,) = candidates(call, out)
    assert (expense_row["transaction_id"], expense_row["transaction_type"]) == (
        expense_id, "expense")
    assert match(call, out, expense_id).status == 201
    assert balance(call, checking) == 165.0  # 120 + 80 - 35: the line adds nothing
    response = call("POST", f"/banktransactions/{out}/uncategorize")
    assert body_of(response)["message"] == "Transaction(s) have been uncategorized."
    assert get_txn(call, out)["status"] == "uncategorized"
    assert body_of(call("GET", f"/expenses/{expense_id}"))["expense"]["total"] == 35

    assert match(call, line, first, second).status == 201
    call("DELETE", f"/banktransactions/{first}")
    assert get_txn(call, line)["status"] == "uncategorized"
    assert get_txn(call, second)["status"] == "manually_added"


def customer_with_sent_invoice(call: Call, amount: float) -> tuple[str, str]:
    customer = body_of(call("POST", "/contacts", body={
        "contact_name": "Acme", "contact_type": "customer"}))["contact"]["contact_id"]
    invoice = body_of(call("POST", "/invoices", body={
        "customer_id": customer, "date": "2026-03-01",
        "line_items": [{"name": "Consulting", "rate": amount, "quantity": 1}]}))["invoice"]
    call("POST", f"/invoices/{invoice['invoice_id']}/status/sent")
    return customer, invoice["invoice_id"]


def invoice_state(call: Call, invoice_id: str) -> tuple[str, float]:
    """(paid or unpaid, balance): an unpaid March invoice may read sent or overdue."""
    invoice = body_of(call("GET", f"/invoices/{invoice_id}"))["invoice"]
    return ("paid" if invoice["status"] == "paid" else "unpaid"), invoice["balance"]


def test_categorize_as_customer_payment_pays_the_invoice_and_uncategorize_undoes_it(
    call: Call,
) -> None:
    checking = bank(call, "Checking")
    customer, invoice = customer_with_sent_invoice(call, 500)
    (line,) = feed(call, checking, ("2026-03-02", "debit", 500))
    path = f"/banktransactions/uncategorized/{line}/categorize/customerpayments"

    response = call("POST", path, body={
        "customer_id": customer, "invoices": [{"invoice_id": invoice, "amount_applied": 500}]})
    assert (response.status, body_of(response)["message"]) == (
        201, "The transaction(s) have been categorized.")
    assert invoice_state(call, invoice) == ("paid", 0)
    categorized = get_txn(call, line)
    assert (categorized["status"], categorized["transaction_type"]) == (
        "categorized", "customer_payment")
    payment = body_of(call("GET", f"/customerpayments/{categorized['categorized_transaction_id']}")
                      )["payment"]
    assert (payment["amount"], payment["date"], payment["account_id"]) == (
        500, "2026-03-02", checking)
    account = body_of(call("GET", f"/bankaccounts/{checking}"))["bankaccount"]
    assert (account["balance"], account["bank_balance"]) == (500.0, 500.0)
    assert api_error(call, "POST", path, body={"customer_id": customer}).status == 400

    call("POST", f"/banktransactions/{line}/uncategorize")
    assert invoice_state(call, invoice) == ("unpaid", 500)
    assert api_error(call, "GET",
                     f"/customerpayments/{categorized['categorized_transaction_id']}"
                     ).status == 404
    assert get_txn(call, line)["transaction_type"] == "deposit"
    assert balance(call, checking) == 0.0


def test_wrong_direction_or_amount_is_rejected_with_nothing_changed(
    call: Call, ledger: Ledger
) -> None:
    checking = bank(call, "Checking")
    customer, invoice = customer_with_sent_invoice(call, 42)
    vendor = body_of(call("POST", "/contacts", body={
        "contact_name": "Supplier", "contact_type": "vendor"}))["contact"]["contact_id"]
    deposit, withdrawal = feed(call, checking, ("2026-03-02", "debit", 42),
                               ("2026-03-03", "credit", 42))
    attempts = [
        (withdrawal, "customerpayments", {"customer_id": customer, "invoices": [
            {"invoice_id": invoice, "amount_applied": 42}]}),
        (deposit, "vendorpayments", {"vendor_id": vendor}),
        (deposit, "expenses", {"account_id": account_id(ledger, "Office Supplies")}),
        (deposit, "customerpayments", {"customer_id": customer, "amount": 40}),
        (deposit, "customerpayments", {"customer_id": customer,
                                       "account_id": account_id(ledger, "Petty Cash")}),
    ]
    for line, module, body in attempts:
        error = api_error(call, "POST",
                          f"/banktransactions/uncategorized/{line}/categorize/{module}",
                          body=body)
        assert error.status == 400, module
    assert invoice_state(call, invoice) == ("unpaid", 42)
    for module, key in (("customerpayments", "customerpayments"),
                        ("vendorpayments", "vendorpayments"), ("expenses", "expenses")):
        assert body_of(call("GET", f"/{module}"))[key] == []
    assert [get_txn(call, i)["status"] for i in (deposit, withdrawal)] == [
        "uncategorized", "uncategorized"]
    assert body_of(call("GET", f"/bankaccounts/{checking}"))["bankaccount"][
        "uncategorized_transactions"] == 2


def test_direction_error_names_both_sides(call: Call) -> None:
    checking = bank(call, "Checking")
    (deposit,) = feed(call, checking, ("2026-03-02", "debit", 10))
    error = api_error(call, "POST",
                      f"/banktransactions/uncategorized/{deposit}/categorize/vendorpayments",
                      body={})
    assert error.body()["message"] == "A deposit cannot be categorized as vendor payment."


def test_categorize_as_vendor_payment_and_expense(call: Call, ledger: Ledger) -> None:
    checking = bank(call, "Checking")
    vendor = body_of(call("POST", "/contacts", body={
        "contact_name": "Supplier", "contact_type": "vendor"}))["contact"]["contact_id"]
    supplies = account_id(ledger, "Office Supplies")
    bill = body_of(call("POST", "/bills", body={
        "vendor_id": vendor, "bill_number": "B-1", "date": "2026-03-01",
        "line_items": [{"account_id": supplies, "rate": 60, "quantity": 1}]}))["bill"]
    pay, spend = feed(call, checking, ("2026-03-05", "credit", 60),
                      ("2026-03-06", "credit", 25))

    call("POST", f"/banktransactions/uncategorized/{pay}/categorize/vendorpayments", body={
        "vendor_id": vendor, "bills": [{"bill_id": bill["bill_id"], "amount_applied": 60}]})
    paid = body_of(call("GET", f"/bills/{bill['bill_id']}"))["bill"]
    assert (paid["status"], paid["balance"]) == ("paid", 0)
    payment_id = get_txn(call, pay)["categorized_transaction_id"]
    payment = body_of(call("GET", f"/vendorpayments/{payment_id}"))["vendorpayment"]
    assert (payment["paid_through_account_id"], payment["amount"]) == (checking, 60)

    call("POST", f"/banktransactions/uncategorized/{spend}/categorize/expenses", body={
        "account_id": supplies, "description": "Paper"})
    expense_id = get_txn(call, spend)["categorized_transaction_id"]
    expense = body_of(call("GET", f"/expenses/{expense_id}"))["expense"]
    assert (expense["total"], expense["date"], expense["paid_through_account_id"]) == (
        25, "2026-03-06", checking)
    assert balance(call, checking) == -85.0
    # Deleting the categorized line takes the document with it.
    call("DELETE", f"/banktransactions/{pay}")
    paid = body_of(call("GET", f"/bills/{bill['bill_id']}"))["bill"]
    assert (paid["status"] in ("open", "overdue"), paid["balance"]) == (True, 60)
    assert balance(call, checking) == -25.0


def statement_step(*lines: tuple[str, float]) -> Step:
    return Step("POST", "/bankstatements", body={"account_id": "{bank_id}", "transactions": [
        {"date": DAY, "debit_or_credit": way, "amount": amount} for way, amount in lines]})


def pick_line(name: str, kind: str, order: str) -> Step:
    """Save the first uncategorized line of ``kind`` ordered by amount (A or D)."""
    return Step("GET", "/banktransactions", query={
        "account_id": "{bank_id}", "filter_by": "Status.Uncategorized",
        "transaction_type": kind, "sort_column": "amount", "sort_order": order},
        save={name: "banktransactions.transaction_id"})


MATCHING = Scenario("bank matching", ("POST", "/banktransactions"), (
    Step("POST", "/bankaccounts", body={"account_name": "Matching Bank", "account_type": "bank"},
         save={"bank_id": "bankaccount.account_id"}),
    Step("POST", "/banktransactions", body={
        "transaction_type": "deposit", "to_account_id": "{bank_id}", "amount": 500, "date": DAY},
        save={"book_id": "banktransaction.transaction_id"}),
    statement_step(("debit", 500), ("debit", 20), ("credit", 20), ("credit", 15)),
    pick_line("line_id", "deposit", "D"),
    Step("GET", "/banktransactions/uncategorized/{line_id}/match",
         query={"transaction_id": "{line_id}"}),
    Step("POST", "/banktransactions/uncategorized/{line_id}/match",
         query={"account_id": "{bank_id}"},
         body={"transactions_to_be_matched": [
             {"transaction_id": "{book_id}", "transaction_type": "deposit"}]}),
    Step("POST", "/banktransactions/{line_id}/unmatch", query={"account_id": "{bank_id}"}),
    CUSTOMER, ITEM, INVOICE, Step("POST", "/invoices/{invoice_id}/status/sent"),
    pick_line("small_in", "deposit", "A"),
    Step("POST", "/banktransactions/uncategorized/{small_in}/categorize/customerpayments",
         body={"customer_id": "{customer_id}", "payment_mode": "banktransfer",
               "invoices": [{"invoice_id": "{invoice_id}", "amount_applied": 20}]}),
    VENDOR, EXPENSE_ACCOUNT, BILL,
    pick_line("big_out", "expense", "D"),
    Step("POST", "/banktransactions/uncategorized/{big_out}/categorize/vendorpayments",
         body={"vendor_id": "{vendor_id}",
               "bills": [{"bill_id": "{bill_id}", "amount_applied": 20}]}),
    pick_line("small_out", "expense", "A"),
    Step("POST", "/banktransactions/uncategorized/{small_out}/categorize/expenses",
         body={"account_id": "{expense_account_id}"}),
    Step("GET", "/banktransactions/{small_out}"),
))


@requires_oas
def test_every_new_response_conforms_to_the_oas(call: Call, ledger: Ledger) -> None:
    validated, problems = run_scenario(call, ledger, MATCHING)
    assert problems == [], "\n".join(problems)
    assert validated == len(MATCHING.steps)
    invoice = body_of(call("GET", "/invoices"))["invoices"][0]
    bill = body_of(call("GET", "/bills"))["bills"][0]
    assert (invoice["balance"], bill["balance"]) == (0, 0)
