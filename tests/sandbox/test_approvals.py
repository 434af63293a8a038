"""Approval workflow of sales and purchase documents: submit -> approve / reject.

Each module is created as a draft through its own route, then moved through the shared
state machine (``ledger.approvals``) via the routes of ``books/approvals.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from tests.sandbox.conftest import Call
from tests.sandbox.oas import requires_oas
from tests.sandbox.test_oas_conformance import (
    CUSTOMER,
    DAY,
    EXPENSE_ACCOUNT,
    ITEM,
    VENDOR,
    Scenario,
    Step,
    run_scenario,
)
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.contacts import get_contact

Ids = dict[str, str]
# A due date a month past the sandbox's today: an approved bill is open, not overdue,
# whatever day the suite runs on.
DUE = (Clock().today() + timedelta(days=30)).isoformat()


@pytest.fixture
def ids(call: Call) -> Ids:
    """A customer, a vendor, an item and an expense account to build documents from."""
    customer = call("POST", "/contacts", body={"contact_name": "Ann", "contact_type": "customer"})
    vendor = call("POST", "/contacts", body={"contact_name": "Vic", "contact_type": "vendor"})
    item = call("POST", "/items", body={"name": "Widget", "rate": 10, "purchase_rate": 6})
    account = call(
        "POST", "/chartofaccounts", body={"account_name": "Supplies", "account_type": "expense"}
    )
    assert customer.body and vendor.body and item.body and account.body
    return {
        "customer_id": customer.body["contact"]["contact_id"],
        "vendor_id": vendor.body["contact"]["contact_id"],
        "item_id": item.body["item"]["item_id"],
        "account_id": account.body["chart_of_account"]["account_id"],
    }


def _sales(ids: Ids) -> dict[str, Any]:
    return {
        "customer_id": ids["customer_id"],
        "date": DAY,
        "line_items": [{"item_id": ids["item_id"], "rate": 10, "quantity": 2}],
    }


def _purchase_order(ids: Ids) -> dict[str, Any]:
    return {
        "vendor_id": ids["vendor_id"],
        "date": DAY,
        "line_items": [{"item_id": ids["item_id"], "rate": 6, "quantity": 2}],
    }


def _bill(ids: Ids) -> dict[str, Any]:
    return {
        "vendor_id": ids["vendor_id"],
        "bill_number": "B-1",
        "date": DAY,
        "due_date": DUE,
        "status": "draft",
        "line_items": [{"account_id": ids["account_id"], "rate": 10, "quantity": 2}],
    }


@dataclass(frozen=True)
class Case:
    collection: str
    key: str  # singular response key
    id_field: str
    body: Callable[[Ids], dict[str, Any]]
    approved: str = "approved"
    created_open: bool = False  # credit notes are created open; status/draft first


CASES = (
    Case("invoices", "invoice", "invoice_id", _sales),
    Case("estimates", "estimate", "estimate_id", _sales),
    Case("salesorders", "salesorder", "salesorder_id", _sales),
    Case("purchaseorders", "purchaseorder", "purchaseorder_id", _purchase_order),
    Case("creditnotes", "creditnote", "creditnote_id", _sales, created_open=True),
    Case("bills", "bill", "bill_id", _bill, approved="open"),
)
BY_NAME = {case.collection: case for case in CASES}


def _create(call: Call, case: Case, ids: Ids) -> str:
    response = call("POST", f"/{case.collection}", body=case.body(ids))
    assert response.body is not None
    doc_id = str(response.body[case.key][case.id_field])
    if case.created_open:
        call("POST", f"/{case.collection}/{doc_id}/status/draft")
    assert _get(call, case, doc_id)["status"] == "draft"
    return doc_id


def _get(call: Call, case: Case, doc_id: str) -> dict[str, Any]:
    response = call("GET", f"/{case.collection}/{doc_id}")
    assert response.body is not None
    doc: dict[str, Any] = response.body[case.key]
    return doc


def _refused(call: Call, path: str, query: dict[str, str] | None = None) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call("POST", path, query=query)
    return caught.value


@pytest.mark.parametrize("case", CASES, ids=[c.collection for c in CASES])
def test_draft_is_submitted_then_approved(call: Call, ledger: Ledger, ids: Ids, case: Case) -> None:
    doc_id = _create(call, case, ids)
    created = _get(call, case, doc_id)

    ledger.clock.advance(60)
    submitted = call("POST", f"/{case.collection}/{doc_id}/submit")
    assert submitted.status == 200 and submitted.body and submitted.body["code"] == 0
    pending = _get(call, case, doc_id)
    assert pending["status"] == "pending_approval"
    assert pending["last_modified_time"] > created["last_modified_time"]

    ledger.clock.advance(60)
    approved = call("POST", f"/{case.collection}/{doc_id}/approve")
    assert approved.status == 200
    done = _get(call, case, doc_id)
    assert done["status"] == case.approved
    assert done["last_modified_time"] > pending["last_modified_time"]
    assert done["total"] == created["total"]


@pytest.mark.parametrize("case", CASES, ids=[c.collection for c in CASES])
def test_wrong_state_is_refused_and_changes_nothing(
    call: Call, ledger: Ledger, ids: Ids, case: Case
) -> None:
    doc_id = _create(call, case, ids)
    before = ledger.store.get(case.collection, doc_id)

    error = _refused(call, f"/{case.collection}/{doc_id}/approve")
    assert (error.status, error.code) == (400, 4)
    assert "pending approval" in error.message
    assert ledger.store.get(case.collection, doc_id) == before

    call("POST", f"/{case.collection}/{doc_id}/submit")
    pending = ledger.store.get(case.collection, doc_id)
    error = _refused(call, f"/{case.collection}/{doc_id}/submit")
    assert (error.status, error.code) == (400, 4)
    assert "draft" in error.message
    assert ledger.store.get(case.collection, doc_id) == pending

    call("POST", f"/{case.collection}/{doc_id}/approve")
    approved = ledger.store.get(case.collection, doc_id)
    for action in ("submit", "approve"):
        _refused(call, f"/{case.collection}/{doc_id}/{action}")
    assert ledger.store.get(case.collection, doc_id) == approved


@pytest.mark.parametrize("case", CASES, ids=[c.collection for c in CASES])
def test_unknown_document_is_404(call: Call, ids: Ids, case: Case) -> None:
    error = _refused(call, f"/{case.collection}/999999/submit")
    assert (error.status, error.code) == (404, 1002)


@pytest.mark.parametrize("name", ["invoices", "creditnotes", "purchaseorders"])
def test_reject_returns_the_document_to_draft_for_resubmission(
    call: Call, ledger: Ledger, ids: Ids, name: str
) -> None:
    case = BY_NAME[name]
    doc_id = _create(call, case, ids)
    error = _refused(call, f"/{name}/{doc_id}/reject")
    assert error.status == 400

    call("POST", f"/{name}/{doc_id}/submit")
    rejected = call("POST", f"/{name}/{doc_id}/reject", query={"reason": "Wrong rate"})
    assert rejected.status == (201 if name == "purchaseorders" else 200)
    assert _get(call, case, doc_id)["status"] == "draft"
    record = ledger.store.get(name, doc_id)
    assert record is not None
    assert record["_comments"][-1]["description"].endswith("rejected: Wrong rate")

    call("POST", f"/{name}/{doc_id}/submit")
    assert _get(call, case, doc_id)["status"] == "pending_approval"


def test_reject_reason_longer_than_500_characters_is_refused(call: Call, ids: Ids) -> None:
    doc_id = _create(call, BY_NAME["invoices"], ids)
    call("POST", f"/invoices/{doc_id}/submit")
    error = _refused(call, f"/invoices/{doc_id}/reject", query={"reason": "x" * 501})
    assert (error.status, error.code) == (400, 15)
    assert _get(call, BY_NAME["invoices"], doc_id)["status"] == "pending_approval"


@pytest.mark.parametrize("name", ["invoices", "creditnotes"])
def test_final_approval_approves_a_pending_document(call: Call, ids: Ids, name: str) -> None:
    case = BY_NAME[name]
    doc_id = _create(call, case, ids)
    assert _refused(call, f"/{name}/{doc_id}/approve/final").status == 400
    call("POST", f"/{name}/{doc_id}/submit")
    response = call("POST", f"/{name}/{doc_id}/approve/final")
    assert response.body and response.body["message"].endswith("has been approved.")
    assert _get(call, case, doc_id)["status"] == "approved"


@pytest.mark.parametrize(
    ("name", "param"), [("invoices", "invoice_ids"), ("creditnotes", "creditnote_ids")]
)
def test_bulk_submit_and_approve(call: Call, ids: Ids, name: str, param: str) -> None:
    case = BY_NAME[name]
    first, second = _create(call, case, ids), _create(call, case, ids)
    both = {param: f"{first},{second}"}
    call("POST", f"/{name}/submit", query=both)
    assert {_get(call, case, i)["status"] for i in (first, second)} == {"pending_approval"}
    call("POST", f"/{name}/approve", query=both)
    assert {_get(call, case, i)["status"] for i in (first, second)} == {"approved"}


def test_bulk_is_all_or_nothing(call: Call, ledger: Ledger, ids: Ids) -> None:
    case = BY_NAME["invoices"]
    draft, pending = _create(call, case, ids), _create(call, case, ids)
    call("POST", f"/invoices/{pending}/submit")
    before = {i: ledger.store.get("invoices", i) for i in (draft, pending)}

    error = _refused(call, "/invoices/submit", query={"invoice_ids": f"{draft},{pending}"})
    assert error.status == 400
    assert {i: ledger.store.get("invoices", i) for i in (draft, pending)} == before


@pytest.mark.parametrize("raw", ["", "12,abc", ",".join(str(n) for n in range(1, 27))])
def test_bulk_ids_are_validated(call: Call, raw: str) -> None:
    error = _refused(call, "/invoices/approve", query={"invoice_ids": raw})
    assert (error.status, error.code) == (400, 4)


def test_approved_bill_becomes_payable_and_can_go_overdue(
    call: Call, ledger: Ledger, ids: Ids
) -> None:
    today = date.fromisoformat(ledger.today())
    body = {
        **_bill(ids),
        "date": today.isoformat(),
        "due_date": (today + timedelta(days=5)).isoformat(),
    }
    bill = call("POST", "/bills", body=body).body
    assert bill is not None
    bill_id = bill["bill"]["bill_id"]
    call("POST", f"/bills/{bill_id}/submit")
    assert get_contact(ledger, ids["vendor_id"])["outstanding_payable_amount"] == 0

    call("POST", f"/bills/{bill_id}/approve")
    opened = _get(call, BY_NAME["bills"], bill_id)
    assert opened["status"] == "open"
    assert opened["balance"] == opened["total"] == 20
    assert get_contact(ledger, ids["vendor_id"])["outstanding_payable_amount"] == 20

    ledger.clock.advance(6 * 86400)
    assert _get(call, BY_NAME["bills"], bill_id)["status"] == "overdue"


def test_pending_documents_are_not_receivable(call: Call, ledger: Ledger, ids: Ids) -> None:
    doc_id = _create(call, BY_NAME["invoices"], ids)
    call("POST", f"/invoices/{doc_id}/submit")
    call("POST", f"/invoices/{doc_id}/approve")
    customer = get_contact(ledger, ids["customer_id"])
    assert customer["outstanding_receivable_amount"] == 0


def test_an_edit_leaves_an_invoice_awaiting_approval_where_it_was(call: Call, ids: Ids) -> None:
    doc_id = _create(call, BY_NAME["invoices"], ids)
    call("POST", f"/invoices/{doc_id}/submit")
    call("PUT", f"/invoices/{doc_id}", body={"reference_number": "PO-9"})
    assert _get(call, BY_NAME["invoices"], doc_id)["status"] == "pending_approval"


def test_a_pending_invoice_can_be_neither_sent_nor_paid(call: Call, ids: Ids) -> None:
    doc_id = _create(call, BY_NAME["invoices"], ids)
    call("POST", f"/invoices/{doc_id}/submit")
    with pytest.raises(ApiError) as sent:
        call("POST", f"/invoices/{doc_id}/status/sent")
    assert sent.value.code == 4
    payment = {
        "customer_id": ids["customer_id"],
        "payment_mode": "cash",
        "amount": 5,
        "date": DAY,
        "invoices": [{"invoice_id": doc_id, "amount_applied": 5}],
    }
    with pytest.raises(ApiError):
        call("POST", "/customerpayments", body=payment)
    assert _get(call, BY_NAME["invoices"], doc_id)["balance"] == 20


def test_an_approved_invoice_is_sent_and_receivable(call: Call, ledger: Ledger, ids: Ids) -> None:
    doc_id = _create(call, BY_NAME["invoices"], ids)
    call("POST", f"/invoices/{doc_id}/submit")
    call("POST", f"/invoices/{doc_id}/approve")
    call("POST", f"/invoices/{doc_id}/status/sent")
    # Dated DAY and due on receipt: overdue once the real date is past DAY.
    assert _get(call, BY_NAME["invoices"], doc_id)["status"] in ("sent", "overdue")
    assert get_contact(ledger, ids["customer_id"])["outstanding_receivable_amount"] == 20


@pytest.mark.parametrize(
    ("name", "action", "after"),
    [
        ("estimates", "status/sent", "sent"),
        ("purchaseorders", "status/open", "open"),
        ("salesorders", "status/open", "open"),
        ("creditnotes", "status/open", "open"),
    ],
)
def test_only_an_approved_document_is_issued(
    call: Call, ids: Ids, name: str, action: str, after: str
) -> None:
    case = BY_NAME[name]
    doc_id = _create(call, case, ids)
    call("POST", f"/{name}/{doc_id}/submit")
    if name in ("salesorders", "creditnotes"):  # these used to let a pending one skip approval
        with pytest.raises(ApiError):
            call("POST", f"/{name}/{doc_id}/{action}")
        assert _get(call, case, doc_id)["status"] == "pending_approval"
    call("POST", f"/{name}/{doc_id}/approve")
    call("POST", f"/{name}/{doc_id}/{action}")
    assert _get(call, case, doc_id)["status"] == after


# --- OAS conformance of every new response -------------------------------------------------
def _doc_step(
    collection: str, key: str, id_field: str, body: dict[str, Any], name: str = ""
) -> Step:
    """Create a document and save its id as ``name`` (default: the id field)."""
    return Step("POST", f"/{collection}", body=body, save={name or id_field: f"{key}.{id_field}"})


_LINE = [{"item_id": "{item_id}", "rate": 10, "quantity": 2}]
_SALES_BODY = {"customer_id": "{customer_id}", "date": DAY, "line_items": _LINE}
_PO_BODY = {"vendor_id": "{vendor_id}", "date": DAY, "line_items": _LINE}
_BILL_BODY = {
    "vendor_id": "{vendor_id}",
    "bill_number": "BILL-{n}",
    "date": DAY,
    "due_date": DUE,
    "status": "draft",
    "line_items": [{"account_id": "{expense_account_id}", "rate": 10, "quantity": 2}],
}


def _flow(collection: str, id_field: str, *extra: Step) -> tuple[Step, ...]:
    one = f"/{collection}/{{{id_field}}}"
    return (Step("POST", f"{one}/submit"), Step("POST", f"{one}/approve"), *extra)


APPROVAL_SCENARIOS = (
    Scenario(
        "invoice approvals",
        ("POST", "/invoices/{invoice_id}/submit"),
        (
            CUSTOMER,
            ITEM,
            _doc_step("invoices", "invoice", "invoice_id", _SALES_BODY),
            *_flow("invoices", "invoice_id"),
            _doc_step("invoices", "invoice", "invoice_id", _SALES_BODY, "second_id"),
            Step("POST", "/invoices/submit", query={"invoice_ids": "{second_id}"}),
            Step("POST", "/invoices/{second_id}/reject", query={"reason": "no"}),
            Step("POST", "/invoices/submit", query={"invoice_ids": "{second_id}"}),
            Step("POST", "/invoices/{second_id}/approve/final"),
            _doc_step("invoices", "invoice", "invoice_id", _SALES_BODY, "third_id"),
            Step("POST", "/invoices/submit", query={"invoice_ids": "{third_id}"}),
            Step("POST", "/invoices/approve", query={"invoice_ids": "{third_id}"}),
        ),
    ),
    Scenario(
        "estimate approvals",
        ("POST", "/estimates/{estimate_id}/submit"),
        (
            CUSTOMER,
            ITEM,
            _doc_step("estimates", "estimate", "estimate_id", _SALES_BODY),
            *_flow("estimates", "estimate_id"),
        ),
    ),
    Scenario(
        "salesorder approvals",
        ("POST", "/salesorders/{salesorder_id}/submit"),
        (
            CUSTOMER,
            ITEM,
            _doc_step("salesorders", "salesorder", "salesorder_id", _SALES_BODY),
            *_flow("salesorders", "salesorder_id"),
        ),
    ),
    Scenario(
        "purchaseorder approvals",
        ("POST", "/purchaseorders/{purchaseorder_id}/submit"),
        (
            VENDOR,
            ITEM,
            _doc_step("purchaseorders", "purchaseorder", "purchaseorder_id", _PO_BODY),
            Step("POST", "/purchaseorders/{purchaseorder_id}/submit"),
            Step("POST", "/purchaseorders/{purchaseorder_id}/reject"),
            *_flow("purchaseorders", "purchaseorder_id"),
        ),
    ),
    Scenario(
        "creditnote approvals",
        ("POST", "/creditnotes/{creditnote_id}/submit"),
        (
            CUSTOMER,
            ITEM,
            _doc_step("creditnotes", "creditnote", "creditnote_id", _SALES_BODY),
            Step("POST", "/creditnotes/{creditnote_id}/status/draft"),
            Step("POST", "/creditnotes/submit", query={"creditnote_ids": "{creditnote_id}"}),
            Step("POST", "/creditnotes/{creditnote_id}/reject", query={"reason": "no"}),
            Step("POST", "/creditnotes/{creditnote_id}/submit"),
            Step("POST", "/creditnotes/{creditnote_id}/approve/final"),
            _doc_step("creditnotes", "creditnote", "creditnote_id", _SALES_BODY, "second_id"),
            Step("POST", "/creditnotes/{second_id}/status/draft"),
            Step("POST", "/creditnotes/submit", query={"creditnote_ids": "{second_id}"}),
            Step("POST", "/creditnotes/approve", query={"creditnote_ids": "{second_id}"}),
        ),
    ),
    Scenario(
        "bill approvals",
        ("POST", "/bills/{bill_id}/submit"),
        (
            VENDOR,
            EXPENSE_ACCOUNT,
            _doc_step("bills", "bill", "bill_id", _BILL_BODY),
            *_flow("bills", "bill_id"),
        ),
    ),
)


@requires_oas
@pytest.mark.parametrize("scenario", APPROVAL_SCENARIOS, ids=[s.name for s in APPROVAL_SCENARIOS])
def test_approval_responses_conform_to_the_oas(
    call: Call, ledger: Ledger, scenario: Scenario
) -> None:
    validated, problems = run_scenario(call, ledger, scenario)
    assert problems == [], "\n".join(problems)
    assert validated == len(scenario.steps)
