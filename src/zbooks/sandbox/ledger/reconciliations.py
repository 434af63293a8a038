"""Bank reconciliations: a statement period of one bank account checked against the books.

A reconciliation covers ``start_date..end_date`` and the statement's ``closing_balance``.
Its transactions are the account's general-ledger postings dated in the period (one row
per source transaction). The opening balance is what the books held before the period;
the selected ("cleared") transactions must bring it exactly to the closing balance before
the reconciliation can be completed. A completed reconciliation locks its transactions
(``banking.ensure_unreconciled``); deleting it, or saving it back to draft, unlocks them.

Snapshot semantics: the rows, opening balance and difference are computed when the
reconciliation is saved, since reconciled transactions cannot change afterwards anyway.
Zoho documents no response fields for these operations; names here are UNCONFIRMED.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger import accounts_chart as coa
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger.banking import RECONCILIATION_MODULE, get_bank_account
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import ListSpec
from zbooks.sandbox.ledger.store import Filter

MODULE = RECONCILIATION_MODULE
SAVE_OPTIONS = ("reconcile", "draft")


def get_reconciliation(ledger: Ledger, account_id: str, reconciliation_id: str) -> dict[str, Any]:
    get_bank_account(ledger, account_id)
    record = ledger.store.get(MODULE, str(reconciliation_id))
    if record is None or str(record.get("account_id")) != account_id:
        raise not_found("Reconciliation")
    return record


def _sign(account: Mapping[str, Any]) -> int:
    """Credit-card balances are what is owed, so postings count the other way round."""
    return -1 if account.get("account_type") in coa.LIABILITY_TYPES else 1


def _rows(
    ledger: Ledger, account: Mapping[str, Any], start: str, end: str
) -> tuple[Decimal, dict[str, dict[str, Any]]]:
    """(balance before ``start``, period rows by transaction id, in posting order)."""
    sign = _sign(account)
    opening = Decimal(0)
    rows: dict[str, dict[str, Any]] = {}
    for posting in coa.postings(ledger, str(account["account_id"])):
        day = str(posting["transaction_date"])
        amount = sign * (posting["debit_amount"] - posting["credit_amount"])
        if day < start:
            opening += amount
            continue
        if day > end:
            continue
        row = rows.setdefault(
            str(posting["transaction_id"]),
            {
                "transaction_id": str(posting["transaction_id"]),
                "transaction_type": posting["transaction_type"],
                "date": day,
                "reference_number": posting["reference_number"],
                "payee": posting["payee"],
                "_net": Decimal(0),
            },
        )
        row["_net"] += amount  # a journal may touch the account on several lines
    return opening, rows


def _taken(ledger: Ledger, account_id: str, except_id: str) -> set[str]:
    """Transactions already locked by another completed reconciliation of the account."""
    done = ledger.store.find(
        MODULE, [Filter("account_id", "eq", account_id), Filter("status", "eq", "reconciled")]
    )
    return {
        str(tid)
        for rec in done
        if str(rec["reconciliation_id"]) != except_id
        for tid in rec.get("_transaction_ids") or []
    }


def _selection(raw: Any, rows: Mapping[str, Any], taken: set[str]) -> list[str]:
    """The cleared transactions: the body's list, else every free row of the period."""
    if raw is None:
        return [tid for tid in rows if tid not in taken]
    if not isinstance(raw, list):
        raise invalid_value("transactions_to_be_reconciled")
    chosen: list[str] = []
    for item in raw:
        tid = str(item.get("transaction_id") or "") if isinstance(item, dict) else ""
        if tid not in rows or tid in chosen:
            raise invalid_value("transaction_id")
        if tid in taken:
            raise rule_violation("The transaction has already been reconciled.")
        chosen.append(tid)
    return chosen


def _overlaps(ledger: Ledger, record: Mapping[str, Any]) -> bool:
    done = ledger.store.find(
        MODULE,
        [Filter("account_id", "eq", record["account_id"]), Filter("status", "eq", "reconciled")],
    )
    return any(
        str(other["reconciliation_id"]) != record["reconciliation_id"]
        and other["start_date"] <= record["end_date"]
        and record["start_date"] <= other["end_date"]
        for other in done
    )


def _fill(
    ledger: Ledger, record: dict[str, Any], body: Mapping[str, Any], save_option: str
) -> None:
    """Validate the period and selection, recompute the balances, apply ``save_option``."""
    if save_option not in SAVE_OPTIONS:
        raise invalid_value("save_option")
    start = docs.parse_date(body.get("start_date") or record.get("start_date"), "start_date")
    end = docs.parse_date(body.get("end_date") or record.get("end_date"), "end_date")
    if not start:
        raise invalid_value("start_date")
    if not end or end < start:
        raise invalid_value("end_date")
    raw_closing = body.get("closing_balance", record.get("closing_balance"))
    if raw_closing in (None, ""):
        raise invalid_value("closing_balance")
    closing = docs.dec(raw_closing, "closing_balance")
    account = get_bank_account(ledger, str(record["account_id"]))
    opening, rows = _rows(ledger, account, start, end)
    taken = _taken(ledger, str(record["account_id"]), str(record["reconciliation_id"]))
    raw = body.get("transactions_to_be_reconciled")
    if raw is None and "_transaction_ids" in record and "start_date" not in body:
        raw = [{"transaction_id": tid} for tid in record["_transaction_ids"] if tid in rows]
    chosen = _selection(raw, rows, taken)
    cleared = opening + sum((rows[tid]["_net"] for tid in chosen), Decimal(0))
    difference = closing - cleared
    record.update(
        start_date=start,
        end_date=end,
        closing_balance=ledger.money(closing),
        opening_balance=ledger.money(opening),
        cleared_balance=ledger.money(cleared),
        difference=ledger.money(difference),
        status="reconciled" if save_option == "reconcile" else "draft",
        _transaction_ids=chosen,
    )
    record["transactions"] = [
        _row_view(ledger, row, tid in chosen, tid in taken, record) for tid, row in rows.items()
    ]
    if save_option == "reconcile":
        if ledger.money(difference) != 0:
            # Wording UNCONFIRMED.
            raise rule_violation(
                "The closing balance does not match the cleared balance of the selected "
                "transactions."
            )
        if _overlaps(ledger, record):
            raise rule_violation("The period overlaps another reconciliation of this account.")


def _row_view(
    ledger: Ledger, row: Mapping[str, Any], chosen: bool, taken: bool, record: Mapping[str, Any]
) -> dict[str, Any]:
    net: Decimal = row["_net"]
    if taken or (chosen and record["status"] == "reconciled"):
        status = "reconciled"
    else:
        status = "cleared" if chosen else "unreconciled"
    shaped = {k: v for k, v in row.items() if not k.startswith("_")}
    shaped.update(
        debit_or_credit="debit" if net >= 0 else "credit",
        amount=ledger.money(abs(net)),
        reconcile_status=status,
    )
    return shaped


def _save_option(body: Mapping[str, Any], default: str = "reconcile") -> str:
    return str(body.get("save_option") or default).strip().lower()


def create_reconciliation(
    ledger: Ledger, account_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    account = get_bank_account(ledger, account_id)
    record: dict[str, Any] = {
        "reconciliation_id": ledger.store.new_id(),
        "account_id": account_id,
        "account_name": account.get("account_name", ""),
        "currency_code": account.get("currency_code", ""),
    }
    with ledger.db.transaction():
        _fill(ledger, record, body, _save_option(body))
        ledger.store.insert(MODULE, record["reconciliation_id"], record, ledger.now())
    return record


def update_reconciliation(
    ledger: Ledger,
    account_id: str,
    reconciliation_id: str,
    body: Mapping[str, Any],
    save_option: str = "",
) -> dict[str, Any]:
    """PUT (``save_option`` from the body, default reconcile) or ``/draft`` (forced)."""
    record = get_reconciliation(ledger, account_id, reconciliation_id)
    with ledger.db.transaction():
        _fill(ledger, record, body, save_option or _save_option(body))
        ledger.store.update(MODULE, reconciliation_id, record, ledger.now())
    return record


def delete_reconciliation(ledger: Ledger, account_id: str, reconciliation_id: str) -> None:
    """Undo: the transactions it locked become editable again."""
    get_reconciliation(ledger, account_id, reconciliation_id)
    ledger.store.delete(MODULE, reconciliation_id)


def present_reconciliation(ledger: Ledger, record: Mapping[str, Any]) -> dict[str, Any]:
    return docs.strip_private(record)


def present_row(ledger: Ledger, record: dict[str, Any]) -> dict[str, Any]:
    shaped = docs.strip_private(record)
    shaped.pop("transactions", None)
    return shaped


LIST_SPEC = ListSpec(
    module=MODULE,
    list_key="reconciliations",
    report_name="Reconciliations",
    sort_columns=frozenset({"start_date", "end_date", "created_time", "last_modified_time"}),
    default_sort="end_date",
    date_fields=("end_date",),
    present=present_row,
)


def list_spec(account_id: str) -> ListSpec:
    """The list of one account's reconciliations (``filter_by`` Status.Draft|Reconciled)."""
    mine = [Filter("account_id", "eq", account_id)]
    return replace(
        LIST_SPEC,
        filter_by={
            "Status.All": lambda ledger: list(mine),
            "Status.Draft": lambda ledger: [*mine, Filter("status", "eq", "draft")],
            "Status.Reconciled": lambda ledger: [*mine, Filter("status", "eq", "reconciled")],
        },
    )
