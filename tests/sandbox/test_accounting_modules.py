"""Chart of accounts, journals, bank accounts and bank transactions through the route
handlers: the default chart, account rules, balanced journals, the general ledger and
bank balances that follow the transactions."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from zbooks.sandbox.books.registry import BooksResponse
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger.base import SEEDERS, Ledger

from .conftest import Call


def body_of(response: BooksResponse) -> dict[str, Any]:
    assert response.body is not None
    return response.body


def api_error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


def account_id(ledger: Ledger, name: str) -> str:
    found = coa.account_by_name(ledger, name)
    assert found is not None, name
    return str(found["account_id"])


def bank(call: Call, name: str = "Operating", kind: str = "bank") -> str:
    response = call("POST", "/bankaccounts", body={"account_name": name, "account_type": kind})
    assert (response.status, body_of(response)["message"]) == (
        201, "The account has been created.")
    return str(body_of(response)["bankaccount"]["account_id"])


def balance(call: Call, bank_id: str) -> float:
    return float(body_of(call("GET", f"/bankaccounts/{bank_id}"))["bankaccount"]["balance"])


def txn(call: Call, **body: Any) -> dict[str, Any]:
    response = call("POST", "/banktransactions", body=body)
    assert (response.status, body_of(response)["message"]) == (
        201, "The bank transaction has been recorded.")
    return dict(body_of(response)["banktransaction"])


def journal_lines(debit: str, credit: str, debit_amount: float,
                  credit_amount: float | None = None) -> list[dict[str, Any]]:
    return [
        {"account_id": debit, "debit_or_credit": "debit", "amount": debit_amount},
        {"account_id": credit, "debit_or_credit": "credit",
         "amount": debit_amount if credit_amount is None else credit_amount},
    ]


# --- chart of accounts ----------------------------------------------------------------------
def test_default_chart_is_created_once_with_the_usual_accounts(call: Call,
                                                               ledger: Ledger) -> None:
    rows = body_of(call("GET", "/chartofaccounts"))["chartofaccounts"]
    names = {r["account_name"]: r for r in rows}
    for wanted in ("Accounts Receivable", "Accounts Payable", "Undeposited Funds", "Petty Cash",
                   "Sales", "Cost of Goods Sold", "Office Supplies", "Travel Expense",
                   "Owner's Equity", "Business Checking"):
        assert wanted in names
    assert names["Accounts Payable"]["is_system_account"] is True
    assert names["Business Checking"]["account_type"] == "bank"
    listed = [r["account_name"] for r in rows]
    assert listed == sorted(listed, key=str.lower)  # by name, A to Z
    coa.ensure_default_accounts(ledger)  # idempotent
    assert len(body_of(call("GET", "/chartofaccounts"))["chartofaccounts"]) == len(rows)
    petty = coa.account_by_name(ledger, "Petty Cash")
    assert petty is not None and petty["account_id"] == names["Petty Cash"]["account_id"]


def test_account_crud_and_rules(call: Call, ledger: Ledger) -> None:
    response = call("POST", "/chartofaccounts", body={
        "account_name": "Software", "account_type": "expense", "account_code": "6100"})
    assert (response.status, body_of(response)["message"]) == (
        201, "The account has been created.")
    created = body_of(response)["chart_of_account"]
    assert created["is_user_created"] is True and created["account_code"] == "6100"
    acc = created["account_id"]

    fetched = body_of(call("GET", f"/chartofaccounts/{acc}"))
    # The OAS documents the object at the top level; the singular key is sent as well.
    assert fetched["account_name"] == fetched["chart_of_account"]["account_name"] == "Software"
    assert fetched["closing_balance"] == 0

    dup = api_error(call, "POST", "/chartofaccounts", body={
        "account_name": "Software", "account_type": "expense"})
    assert (dup.status, dup.code) == (400, 1001)
    bad = api_error(call, "POST", "/chartofaccounts", body={
        "account_name": "Odd", "account_type": "magic"})
    assert (bad.status, bad.message) == (400, "Invalid value passed for account_type")

    response = call("PUT", f"/chartofaccounts/{acc}", body={"account_name": "Software & SaaS"})
    assert body_of(response)["message"] == "The details of the account have been updated."
    assert body_of(response)["chart_of_account"]["account_name"] == "Software & SaaS"

    for action, message in (("inactive", "The account has been marked as inactive."),
                            ("active", "The account has been marked as active.")):
        response = call("POST", f"/chartofaccounts/{acc}/{action}")
        assert (response.status, body_of(response)["message"]) == (201, message)
    response = call("DELETE", f"/chartofaccounts/{acc}")
    assert body_of(response)["message"] == "The account has been deleted."
    assert api_error(call, "GET", f"/chartofaccounts/{acc}").code == 1002

    system = account_id(ledger, "Accounts Payable")
    assert api_error(call, "DELETE", f"/chartofaccounts/{system}").status == 400


def test_used_account_cannot_be_deleted(call: Call, ledger: Ledger) -> None:
    acc = body_of(call("POST", "/chartofaccounts", body={
        "account_name": "Consulting Fees", "account_type": "expense"}))["chart_of_account"]
    call("POST", "/journals", body={
        "journal_date": "2026-02-01",
        "line_items": journal_lines(acc["account_id"], account_id(ledger, "Petty Cash"), 10)})
    err = api_error(call, "DELETE", f"/chartofaccounts/{acc['account_id']}")
    assert err.status == 400 and "transactions" in err.message
    err = api_error(call, "PUT", f"/chartofaccounts/{acc['account_id']}",
                    body={"account_type": "income"})
    assert err.status == 400  # its postings were made as an expense account


def test_list_filters_by_account_type_and_status(call: Call, ledger: Ledger) -> None:
    def names(filter_by: str) -> set[str]:
        rows = body_of(call("GET", "/chartofaccounts", query={"filter_by": filter_by}))
        return {r["account_type"] for r in rows["chartofaccounts"]}

    assert names("AccountType.Expense") == {"expense", "cost_of_goods_sold", "other_expense"}
    assert names("AccountType.Income") == {"income", "other_income"}
    assert "accounts_payable" in names("AccountType.Liability")
    travel = account_id(ledger, "Travel Expense")
    call("POST", f"/chartofaccounts/{travel}/inactive")
    inactive = body_of(call("GET", "/chartofaccounts",
                            query={"filter_by": "AccountType.Inactive"}))["chartofaccounts"]
    assert [r["account_id"] for r in inactive] == [travel]
    bulk = call("POST", "/chartofaccounts/active", query={"account_ids": travel})
    assert body_of(bulk)["message"] == "The account has been marked as active."
    assert body_of(call("GET", "/chartofaccounts", query={
        "filter_by": "AccountType.Inactive"}))["chartofaccounts"] == []


# --- journals ---------------------------------------------------------------------------------
def test_unbalanced_journal_is_rejected(call: Call, ledger: Ledger) -> None:
    office, cash = account_id(ledger, "Office Supplies"), account_id(ledger, "Petty Cash")
    err = api_error(call, "POST", "/journals", body={
        "journal_date": "2026-02-01", "line_items": journal_lines(office, cash, 100, 99.99)})
    assert (err.status, err.code) == (400, 4)
    assert "debits must equal the total of credits" in err.message
    assert body_of(call("GET", "/journals"))["journals"] == []
    bad_side = [{"account_id": office, "debit_or_credit": "both", "amount": 5},
                {"account_id": cash, "debit_or_credit": "credit", "amount": 5}]
    err = api_error(call, "POST", "/journals", body={"journal_date": "2026-02-01",
                                                     "line_items": bad_side})
    assert err.message == "Invalid value passed for debit_or_credit"
    err = api_error(call, "POST", "/journals", body={"line_items": journal_lines(office, cash,
                                                                                 5)})
    assert err.message == "Invalid value passed for journal_date"


def test_balanced_journal_numbering_publishing_and_the_general_ledger(
    call: Call, ledger: Ledger
) -> None:
    office, cash = account_id(ledger, "Office Supplies"), account_id(ledger, "Petty Cash")
    split = [
        {"account_id": office, "debit_or_credit": "debit", "amount": 60.25},
        {"account_id": office, "debit_or_credit": "debit", "amount": 39.75},
        {"account_id": cash, "debit_or_credit": "credit", "amount": 100},
    ]
    response = call("POST", "/journals", body={"journal_date": "2026-02-01",
                                               "reference_number": "ADJ-1",
                                               "line_items": split})
    assert (response.status, body_of(response)["message"]) == (
        201, "The journal entry has been created.")
    first = body_of(response)["journal"]
    assert (first["entry_number"], first["status"], first["total"]) == ("1", "draft", 100.0)
    second = body_of(call("POST", "/journals", body={
        "journal_date": "2026-02-02", "status": "published",
        "line_items": journal_lines(cash, office, 30)}))["journal"]
    assert second["entry_number"] == "2"

    def gl(acc: str) -> list[tuple[str, float, float]]:
        rows = body_of(call("GET", "/chartofaccounts/accounttransactions",
                            query={"account_id": acc}))["transactions"]
        return [(r["transaction_id"], r["debit_amount"], r["credit_amount"]) for r in rows]

    assert gl(office) == [(second["journal_id"], 0.0, 30.0)]  # drafts do not post
    response = call("POST", f"/journals/{first['journal_id']}/status/publish")
    assert (response.status, body_of(response)["message"]) == (201, "Journal has been published.")
    assert gl(office) == [(first["journal_id"], 60.25, 0.0), (first["journal_id"], 39.75, 0.0),
                          (second["journal_id"], 0.0, 30.0)]
    assert coa.account_balance(ledger, office) == Decimal("70.00")
    assert coa.account_balance(ledger, cash) == Decimal("-70.00")

    rows = body_of(call("GET", "/journals", query={"account_id": office,
                                                   "sort_column": "entry_number",
                                                   "sort_order": "A"}))["journals"]
    assert [r["entry_number"] for r in rows] == ["1", "2"]


def test_journal_update_is_rebalanced_and_delete_removes_it(call: Call,
                                                           ledger: Ledger) -> None:
    office, cash = account_id(ledger, "Office Supplies"), account_id(ledger, "Petty Cash")
    made = body_of(call("POST", "/journals", body={
        "journal_date": "2026-02-02", "line_items": journal_lines(cash, office, 30)}))["journal"]
    err = api_error(call, "PUT", f"/journals/{made['journal_id']}",
                    body={"line_items": journal_lines(cash, office, 40, 41)})
    assert err.status == 400
    kept = made["line_items"][0]["line_id"]
    lines = journal_lines(cash, office, 45)
    lines[0]["line_id"] = kept
    response = call("PUT", f"/journals/{made['journal_id']}", body={"line_items": lines})
    assert body_of(response)["message"] == "The journal entry has been updated."
    updated = body_of(response)["journal"]
    assert updated["total"] == 45.0 and updated["line_items"][0]["line_id"] == kept
    response = call("DELETE", f"/journals/{made['journal_id']}")
    assert body_of(response)["message"] == "The selected journal entry has been deleted."
    assert api_error(call, "GET", f"/journals/{made['journal_id']}").status == 404


def test_journal_date_filters_follow_the_clock(call: Call, ledger: Ledger) -> None:
    office, cash = account_id(ledger, "Office Supplies"), account_id(ledger, "Petty Cash")
    today = ledger.today()
    call("POST", "/journals", body={"journal_date": today,
                                    "line_items": journal_lines(office, cash, 5)})
    call("POST", "/journals", body={"journal_date": "2020-01-15",
                                    "line_items": journal_lines(office, cash, 6)})

    def totals(**query: str) -> list[float]:
        return sorted(r["total"] for r in body_of(call("GET", "/journals",
                                                       query=query))["journals"])

    assert totals(filter_by="JournalDate.Today") == [5.0]
    assert totals(filter_by="JournalDate.ThisYear") == [5.0]
    assert totals(filter_by="JournalDate.All") == [5.0, 6.0]
    assert totals(date_before="2021-01-01") == [6.0]
    ledger.clock.advance(400 * 86400)
    assert totals(filter_by="JournalDate.Today") == []


# --- bank accounts and transactions ------------------------------------------------------------
def test_bank_balance_follows_transactions(call: Call, ledger: Ledger) -> None:
    checking = bank(call, "Checking")
    savings = bank(call, "Savings")
    card = bank(call, "Visa", "credit_card")
    txn(call, transaction_type="deposit", to_account_id=checking, amount=1000)
    txn(call, transaction_type="owner_contribution", to_account_id=checking, amount=250.5)
    drawn = txn(call, transaction_type="owner_drawings", from_account_id=checking, amount=100)
    assert drawn["to_account_name"] == "Drawings" and drawn["debit_or_credit"] == "credit"
    txn(call, transaction_type="transfer_fund", from_account_id=checking,
        to_account_id=savings, amount=300)
    txn(call, transaction_type="expense", from_account_id=card, amount=45)
    assert balance(call, checking) == 850.5
    assert balance(call, savings) == 300.0
    assert balance(call, card) == 45.0  # a card's balance is what is owed
    # Money spent elsewhere through the account moves it too.
    call("POST", "/expenses", body={"account_id": account_id(ledger, "Office Supplies"),
                                    "paid_through_account_id": checking, "amount": 50.5})
    assert balance(call, checking) == 800.0
    rows = body_of(call("GET", "/bankaccounts"))["bankaccounts"]
    assert {r["account_type"] for r in rows} == {"bank", "credit_card"}
    assert {r["account_name"]: r["balance"] for r in rows}["Savings"] == 300.0


def test_transfer_appears_on_both_accounts_from_each_side(call: Call) -> None:
    checking, savings = bank(call, "Checking"), bank(call, "Savings")
    moved = txn(call, transaction_type="transfer_fund", from_account_id=checking,
                to_account_id=savings, amount=75)

    def rows(acc: str) -> list[tuple[str, str]]:
        listed = body_of(call("GET", "/banktransactions", query={"account_id": acc}))
        return [(r["transaction_id"], r["debit_or_credit"]) for r in listed["banktransactions"]]

    assert rows(checking) == [(moved["transaction_id"], "credit")]
    assert rows(savings) == [(moved["transaction_id"], "debit")]
    assert "account_ids" not in moved
    response = call("PUT", f"/banktransactions/{moved['transaction_id']}", body={"amount": 80})
    assert body_of(response)["message"] == "The bank transaction has been updated."
    assert balance(call, savings) == 80.0
    response = call("DELETE", f"/banktransactions/{moved['transaction_id']}")
    assert body_of(response)["message"] == "The transaction has been deleted."
    assert (balance(call, checking), balance(call, savings)) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"transaction_type": "teleport", "amount": 5}, "transaction_type"),
        ({"transaction_type": "deposit", "amount": 0}, "amount"),
        ({"transaction_type": "deposit", "amount": 5}, "to_account_id"),
        ({"transaction_type": "transfer_fund", "amount": 5}, "from_account_id"),
    ],
)
def test_bank_transaction_validation(call: Call, body: dict[str, Any], message: str) -> None:
    err = api_error(call, "POST", "/banktransactions", body=body)
    assert (err.status, err.code, err.message) == (400, 4, f"Invalid value passed for {message}")


def test_deposit_into_a_non_bank_account_is_rejected(call: Call, ledger: Ledger) -> None:
    err = api_error(call, "POST", "/banktransactions", body={
        "transaction_type": "deposit", "amount": 5,
        "to_account_id": account_id(ledger, "Office Supplies")})
    assert err.message == "Invalid value passed for to_account_id"
    office = account_id(ledger, "Office Supplies")
    assert api_error(call, "GET", f"/bankaccounts/{office}").status == 404


def test_statement_feed_categorize_exclude_restore(call: Call) -> None:
    checking = bank(call, "Checking")
    response = call("POST", "/bankstatements", body={
        "account_id": checking, "start_date": "2026-03-01", "end_date": "2026-03-31",
        "transactions": [
            {"date": "2026-03-02", "debit_or_credit": "debit", "amount": 500,
             "payee": "Stripe payout"},
            {"date": "2026-03-05", "debit_or_credit": "credit", "amount": 42,
             "payee": "Coffee Co"},
            {"date": "2026-03-09", "debit_or_credit": "credit", "amount": 8, "payee": "Fee"},
        ]})
    assert (response.status, body_of(response)["message"]) == (
        201, "Your bank statement has been imported.")
    account = body_of(call("GET", f"/bankaccounts/{checking}"))["bankaccount"]
    assert (account["balance"], account["bank_balance"], account["uncategorized_transactions"]) \
        == (0.0, 450.0, 3)
    feed = body_of(call("GET", "/banktransactions", query={
        "account_id": checking, "filter_by": "Status.Uncategorized", "sort_column": "date",
        "sort_order": "A"}))["banktransactions"]
    deposit, coffee, fee = (row["transaction_id"] for row in feed)

    response = call("POST", f"/banktransactions/uncategorized/{deposit}/categorize",
                    body={"transaction_type": "sales_without_invoices"})
    assert (response.status, body_of(response)["message"]) == (
        201, "The transaction(s) have been categorized.")
    response = call("POST", f"/banktransactions/uncategorized/{coffee}/categorize",
                    body={"transaction_type": "expense",
                          "to_account_id": coa_id(call, "Meals and Entertainment")})
    assert balance(call, checking) == 458.0
    assert body_of(call("POST", f"/banktransactions/uncategorized/{fee}/exclude"))[
        "message"] == "The transaction has been excluded."
    account = body_of(call("GET", f"/bankaccounts/{checking}"))["bankaccount"]
    assert (account["bank_balance"], account["uncategorized_transactions"]) == (458.0, 0)
    excluded = body_of(call("GET", "/banktransactions",
                            query={"filter_by": "Status.Excluded"}))["banktransactions"]
    assert [row["transaction_id"] for row in excluded] == [fee]
    assert body_of(call("POST", f"/banktransactions/uncategorized/{fee}/restore"))[
        "message"] == "The excluded transaction(s) have been restored."
    assert api_error(call, "POST", f"/banktransactions/uncategorized/{deposit}/exclude"
                     ).status == 400
    response = call("POST", f"/banktransactions/{deposit}/uncategorize")
    assert body_of(response)["message"] == "Transaction(s) have been uncategorized."
    assert balance(call, checking) == -42.0

    statement = body_of(call("GET", f"/bankaccounts/{checking}/statement/lastimported"))
    (imported,) = statement["statement"]
    assert (imported["from_date"], len(imported["transactions"])) == ("2026-03-01", 3)
    response = call("DELETE",
                    f"/bankaccounts/{checking}/statement/{imported['statement_id']}")
    assert body_of(response)["message"] == (
        "You have successfully deleted the last imported statement.")
    left = body_of(call("GET", "/banktransactions", query={"account_id": checking}))
    assert [row["transaction_id"] for row in left["banktransactions"]] == [coffee]


def coa_id(call: Call, name: str) -> str:
    rows = body_of(call("GET", "/chartofaccounts", query={"account_name": name}))
    return str(rows["chartofaccounts"][0]["account_id"])


def test_bank_account_update_inactive_and_delete(call: Call) -> None:
    acc = bank(call, "Old Bank")
    response = call("PUT", f"/bankaccounts/{acc}", body={"account_name": "New Bank",
                                                         "bank_name": "First National",
                                                         "is_primary_account": True})
    assert body_of(response)["message"] == "The details of the account has been updated."
    assert body_of(response)["bankaccount"]["bank_name"] == "First National"
    primaries = [r["account_name"] for r in body_of(call("GET", "/bankaccounts"))["bankaccounts"]
                 if r["is_primary_account"]]
    assert primaries == ["New Bank"]
    response = call("POST", f"/bankaccounts/{acc}/inactive")
    assert (response.status, body_of(response)["message"]) == (
        201, "The account has been marked as inactive.")
    inactive = body_of(call("GET", "/bankaccounts", query={"filter_by": "Status.Inactive"}))
    assert [r["account_id"] for r in inactive["bankaccounts"]] == [acc]
    txn(call, transaction_type="deposit", to_account_id=acc, amount=5)
    assert api_error(call, "DELETE", f"/bankaccounts/{acc}").status == 400
    other = bank(call, "Spare")
    assert body_of(call("DELETE", f"/bankaccounts/{other}"))["message"] == (
        "The account has been deleted.")


# --- ledger consistency and seeding ------------------------------------------------------------
def test_sql_balance_agrees_with_the_posting_list(call: Call, ledger: Ledger) -> None:
    for module, count in (("bills", 20), ("vendorpayments", 8), ("expenses", 15),
                          ("journals", 15), ("bankaccounts", 3), ("banktransactions", 40)):
        assert len(SEEDERS[module](ledger, count, random.Random(3))) == count
    credit_nature = coa.LIABILITY_TYPES + coa.EQUITY_TYPES + coa.INCOME_TYPES
    moved = 0
    for record in ledger.store.find(coa.MODULE, []):
        acc = str(record["account_id"])
        net = sum((p["debit_amount"] - p["credit_amount"] for p in coa.postings(ledger, acc)),
                  Decimal(0)).quantize(Decimal("0.01"))
        expected = -net if record["account_type"] in credit_nature else net
        assert coa.account_balance(ledger, acc) == expected, record["account_name"]
        moved += bool(net)
    assert moved > 10  # the seeded data really touches many accounts


def test_seeded_journals_balance_and_bank_data_is_listed(call: Call, ledger: Ledger) -> None:
    SEEDERS["journals"](ledger, 30, random.Random(5))
    for journal in ledger.store.find("journals", []):
        sides = {"debit": Decimal(0), "credit": Decimal(0)}
        for line in journal["line_items"]:
            sides[line["debit_or_credit"]] += Decimal(str(line["amount"]))
        assert sides["debit"] == sides["credit"] == Decimal(str(journal["total"]))
    created = SEEDERS["bankaccounts"](ledger, 3, random.Random(5))
    SEEDERS["banktransactions"](ledger, 60, random.Random(5))
    listed = body_of(call("GET", "/bankaccounts"))["bankaccounts"]
    assert set(created) <= {r["account_id"] for r in listed}
    statuses = {t["status"] for t in ledger.store.find("banktransactions", [])}
    assert {"manually_added", "uncategorized"} <= statuses
