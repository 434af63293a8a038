"""Bank reconciliations: the period's transactions, the opening/cleared balance rule,
locking of reconciled transactions, drafts, undo (delete), overlaps, and the OAS."""

from __future__ import annotations

from typing import Any

from tests.oasfiles import requires_oas
from tests.sandbox.conftest import Call
from tests.sandbox.test_accounting_modules import api_error, bank, body_of, txn
from tests.sandbox.test_bank_matching import customer_with_sent_invoice, feed
from tests.sandbox.test_oas_conformance import DAY, Scenario, Step, run_scenario
from zbooks.sandbox.ledger.base import Ledger

MARCH = {"start_date": "2026-03-01", "end_date": "2026-03-31"}


def book(call: Call, checking: str) -> dict[str, str]:
    """A deposit before March, three transactions in March and one after."""
    ids = {}
    for name, kind, side, amount, day in (
        ("opening", "owner_contribution", "to_account_id", 1000, "2026-02-20"),
        ("sale", "deposit", "to_account_id", 500, "2026-03-05"),
        ("drawing", "owner_drawings", "from_account_id", 200, "2026-03-10"),
        ("late", "deposit", "to_account_id", 50, "2026-03-25"),
        ("april", "deposit", "to_account_id", 999, "2026-04-02"),
    ):
        ids[name] = txn(call, transaction_type=kind, amount=amount, date=day,
                        **{side: checking})["transaction_id"]
    return ids


def reconcile(call: Call, checking: str, closing: float, *txn_ids: str, **extra: Any) -> Any:
    return call("POST", f"/bankaccounts/{checking}/reconciliations", body={
        **MARCH, "closing_balance": closing, **extra,
        "transactions_to_be_reconciled": [{"transaction_id": t} for t in txn_ids]})


def test_completed_reconciliation_balances_and_locks_its_transactions(call: Call) -> None:
    checking = bank(call, "Checking")
    ids = book(call, checking)
    error = api_error(call, "POST", f"/bankaccounts/{checking}/reconciliations", body={
        **MARCH, "closing_balance": 1350,
        "transactions_to_be_reconciled": [{"transaction_id": ids["sale"]},
                                          {"transaction_id": ids["drawing"]}]})
    assert error.status == 400  # 1000 + 500 - 200 is 1300, not 1350
    assert body_of(call("GET", f"/bankaccounts/{checking}/reconciliations"))[
        "reconciliations"] == []

    response = reconcile(call, checking, 1300, ids["sale"], ids["drawing"])
    assert (response.status, body_of(response)["message"]) == (
        200, "The reconciliation has been created.")
    record = body_of(response)["reconciliation"]
    assert (record["status"], record["opening_balance"], record["cleared_balance"],
            record["difference"]) == ("reconciled", 1000, 1300, 0)
    rows = {r["transaction_id"]: r for r in record["transactions"]}
    assert set(rows) == {ids["sale"], ids["drawing"], ids["late"]}
    assert {i: rows[i]["reconcile_status"] for i in rows} == {
        ids["sale"]: "reconciled", ids["drawing"]: "reconciled", ids["late"]: "unreconciled"}
    assert (rows[ids["drawing"]]["debit_or_credit"], rows[ids["drawing"]]["amount"]) == (
        "credit", 200)

    for method, body in (("DELETE", None), ("PUT", {"amount": 600})):
        assert api_error(call, method, f"/banktransactions/{ids['sale']}",
                         body=body).status == 400
    call("DELETE", f"/banktransactions/{ids['late']}")  # not reconciled: free to go

    rec_path = f"/bankaccounts/{checking}/reconciliations/{record['reconciliation_id']}"
    assert body_of(call("DELETE", rec_path))["message"] == "The reconciliation has been deleted."
    assert api_error(call, "GET", rec_path).status == 404
    call("DELETE", f"/banktransactions/{ids['sale']}")  # unlocked by the undo


def test_default_selection_drafts_and_overlaps(call: Call) -> None:
    checking = bank(call, "Checking")
    ids = book(call, checking)
    base = f"/bankaccounts/{checking}/reconciliations"
    draft = body_of(call("POST", base, body={
        **MARCH, "closing_balance": 1000, "save_option": "draft"}))["reconciliation"]
    # Without a list every transaction of the period is cleared: 1000 + 500 - 200 + 50.
    assert (draft["status"], draft["cleared_balance"], draft["difference"]) == (
        "draft", 1350, -350)
    call("PUT", f"/banktransactions/{ids['late']}", body={"amount": 60})  # drafts lock nothing
    path = f"{base}/{draft['reconciliation_id']}"
    assert api_error(call, "PUT", path, body={"closing_balance": 1000}).status == 400
    response = call("PUT", path, body={"closing_balance": 1360})
    assert (response.status, body_of(response)["message"]) == (
        200, "The reconciliation has been updated.")
    assert body_of(response)["reconciliation"]["status"] == "reconciled"
    listed = body_of(call("GET", base, query={"filter_by": "Status.Reconciled"}))
    assert [r["reconciliation_id"] for r in listed["reconciliations"]] == [
        draft["reconciliation_id"]]

    error = api_error(call, "POST", base, body={
        "start_date": "2026-03-20", "end_date": "2026-04-30", "closing_balance": 2359,
        "transactions_to_be_reconciled": [{"transaction_id": ids["april"]}]})
    assert error.status == 400  # overlaps the completed March reconciliation

    response = call("PUT", f"{path}/draft", body={"closing_balance": 1360})
    assert body_of(response)["message"] == "The reconciliation draft has been saved."
    assert body_of(response)["reconciliation"]["status"] == "draft"
    call("DELETE", f"/banktransactions/{ids['late']}")  # back to draft: unlocked


def test_reconciled_statement_line_cannot_be_uncategorized(call: Call, ledger: Ledger) -> None:
    checking = bank(call, "Checking")
    customer, invoice = customer_with_sent_invoice(call, 75)
    (line,) = feed(call, checking, ("2026-03-15", "debit", 75))
    call("POST", f"/banktransactions/uncategorized/{line}/categorize/customerpayments",
         body={"customer_id": customer,
               "invoices": [{"invoice_id": invoice, "amount_applied": 75}]})
    record = body_of(call("POST", f"/bankaccounts/{checking}/reconciliations", body={
        **MARCH, "closing_balance": 75}))["reconciliation"]
    (row,) = record["transactions"]
    assert (row["transaction_type"], row["reconcile_status"]) == ("customer_payment",
                                                                 "reconciled")
    assert api_error(call, "POST", f"/banktransactions/{line}/uncategorize").status == 400
    assert api_error(call, "DELETE", f"/banktransactions/{line}").status == 400
    call("DELETE", f"/bankaccounts/{checking}/reconciliations/{record['reconciliation_id']}")
    call("POST", f"/banktransactions/{line}/uncategorize")
    assert body_of(call("GET", f"/banktransactions/{line}"))["banktransaction"][
        "status"] == "uncategorized"


def test_unknown_account_period_and_selection_are_rejected(call: Call) -> None:
    checking = bank(call, "Checking")
    ids = book(call, checking)
    base = f"/bankaccounts/{checking}/reconciliations"
    assert api_error(call, "GET", "/bankaccounts/460000000999999/reconciliations").status == 404
    for body in (
        {"start_date": "2026-03-31", "end_date": "2026-03-01", "closing_balance": 0},
        {**MARCH},
        {**MARCH, "closing_balance": 1000, "save_option": "later"},
        {**MARCH, "closing_balance": 1999,
         "transactions_to_be_reconciled": [{"transaction_id": ids["april"]}]},
    ):
        assert api_error(call, "POST", base, body=body).status == 400


RECONCILIATION = Scenario("bank reconciliations", ("POST", "/bankaccounts"), (
    Step("POST", "/bankaccounts", body={"account_name": "Recon Bank", "account_type": "bank"},
         save={"bank_id": "bankaccount.account_id"}),
    Step("POST", "/banktransactions", body={
        "transaction_type": "deposit", "to_account_id": "{bank_id}", "amount": 300, "date": DAY},
        save={"txn_id": "banktransaction.transaction_id"}),
    Step("POST", "/bankaccounts/{bank_id}/reconciliations", body={
        "start_date": "2026-11-01", "end_date": "2026-11-30", "closing_balance": 300,
        "save_option": "draft"}, save={"rec_id": "reconciliation.reconciliation_id"}),
    Step("GET", "/bankaccounts/{bank_id}/reconciliations"),
    Step("GET", "/bankaccounts/{bank_id}/reconciliations/{rec_id}"),
    Step("PUT", "/bankaccounts/{bank_id}/reconciliations/{rec_id}/draft",
         body={"closing_balance": 250}),
    Step("PUT", "/bankaccounts/{bank_id}/reconciliations/{rec_id}", body={
        "closing_balance": 300, "save_option": "reconcile",
        "transactions_to_be_reconciled": [{"transaction_id": "{txn_id}"}]}),
    Step("DELETE", "/bankaccounts/{bank_id}/reconciliations/{rec_id}"),
))


@requires_oas
def test_every_reconciliation_response_conforms_to_the_oas(call: Call, ledger: Ledger) -> None:
    validated, problems = run_scenario(call, ledger, RECONCILIATION)
    assert problems == [], "\n".join(problems)
    assert validated == len(RECONCILIATION.steps)
