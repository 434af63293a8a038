"""The generic store: documented operations without a stateful module still behave like
Zoho (status, message, key, round trips, 404 code 1002) and match the OAS schemas."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import Call
from tests.sandbox.oas import concrete_path, load_oas, requires_oas
from zbooks.sandbox.books.generic import ID_FIELDS, ORGANIZATIONS, module_for
from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, load_routes
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.spec_table import OPERATIONS, SpecOp


def _ok(response: Any, status: int, message: str) -> dict[str, Any]:
    assert response.status == status, response.body
    body = _body(response)
    assert body["code"] == 0
    assert body["message"] == message
    return body


def _body(response: BooksResponse) -> dict[str, Any]:
    assert response.body is not None
    return response.body


def _error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


def test_project_round_trip(call: Call) -> None:
    body = _ok(
        call("POST", "/projects", body={"project_name": "Audit", "customer_id": "7"}),
        201,
        "The project has been created.",
    )
    project = body["project"]
    project_id = project["project_id"]
    assert project_id.isdigit() and project["project_name"] == "Audit"

    got = _ok(call("GET", f"/projects/{project_id}"), 200, "success")["project"]
    assert got == project

    listed = _ok(call("GET", "/projects"), 200, "success")
    assert [p["project_id"] for p in listed["projects"]] == [project_id]
    assert listed["page_context"]["has_more_page"] is False

    updated = _ok(
        call(
            "PUT", f"/projects/{project_id}", body={"project_name": "Audit 2026", "project_id": "1"}
        ),
        200,
        "The project information has been updated.",
    )["project"]
    assert updated["project_name"] == "Audit 2026"
    assert updated["project_id"] == project_id  # the id in the body cannot move the record
    assert updated["customer_id"] == "7"  # fields not sent are kept

    _ok(call("DELETE", f"/projects/{project_id}"), 200, "The project has been deleted.")
    error = _error(call, "GET", f"/projects/{project_id}")
    assert (error.status, error.code, error.message) == (404, 1002, "Project does not exist.")


def test_tasks_belong_to_their_project(call: Call) -> None:
    first = _body(call("POST", "/projects", body={"project_name": "A"}))["project"]["project_id"]
    second = _body(call("POST", "/projects", body={"project_name": "B"}))["project"]["project_id"]
    created = _ok(
        call("POST", f"/projects/{first}/tasks", body={"task_name": "Fieldwork"}),
        201,
        "The project information has been updated.",
    )["task"]
    task_id = created["task_id"]
    assert created["project_id"] == first
    call("POST", f"/projects/{second}/tasks", body={"task_name": "Other"})

    tasks = _ok(call("GET", f"/projects/{first}/tasks"), 200, "success")["tasks"]
    assert [t["task_id"] for t in tasks] == [task_id]

    # A task seen through the wrong project does not exist.
    error = _error(call, "GET", f"/projects/{second}/tasks/{task_id}")
    assert (error.status, error.code) == (404, 1002)
    # An unknown parent is reported as such, for reads and writes alike.
    for method in ("GET", "POST"):
        error = _error(call, method, "/projects/460000000099999/tasks", body={"task_name": "x"})
        assert (error.status, error.code, error.message) == (404, 1002, "Project does not exist.")

    put = _body(call("PUT", f"/projects/{first}/tasks/{task_id}", body={"task_name": "Review"}))
    assert put["task"]["task_name"] == "Review"
    _ok(
        call("DELETE", f"/projects/{first}/tasks/{task_id}"),
        200,
        "The project task has been deleted successfully.",
    )
    assert _body(call("GET", f"/projects/{first}/tasks"))["tasks"] == []


def test_recurring_invoice_round_trip_and_status_actions(call: Call) -> None:
    created = _ok(
        call(
            "POST",
            "/recurringinvoices",
            body={
                "recurrence_name": "Monthly",
                "customer_id": "9",
                "recurrence_frequency": "months",
            },
        ),
        201,
        "The recurring invoice has been created.",
    )["recurring_invoice"]
    rid = created["recurring_invoice_id"]
    _ok(
        call("POST", f"/recurringinvoices/{rid}/status/stop"),
        201,
        "The recurring invoice has been stopped.",
    )
    got = _body(call("GET", f"/recurringinvoices/{rid}"))["recurring_invoice"]
    assert got["status"] == "stop"
    _ok(
        call("POST", f"/recurringinvoices/{rid}/status/resume"),
        201,
        "The recurring invoice has been resumed.",
    )
    assert (
        _body(call("GET", f"/recurringinvoices/{rid}"))["recurring_invoice"]["status"] == "resume"
    )
    error = _error(call, "POST", "/recurringinvoices/460000000099999/status/stop")
    assert (error.status, error.code) == (404, 1002)

    listed = _body(call("GET", "/recurringinvoices", query={"customer_id": "9"}))
    assert [r["recurring_invoice_id"] for r in listed["recurring_invoices"]] == [rid]
    assert (
        _body(call("GET", "/recurringinvoices", query={"customer_id": "8"}))["recurring_invoices"]
        == []
    )
    _ok(
        call("DELETE", f"/recurringinvoices/{rid}"),
        200,
        "The recurring invoice is deleted successfully.",
    )


def test_generic_comments_hang_off_a_stateful_document(call: Call) -> None:
    """Comments are generic, their parent (a vendor credit) is stateful: the generic store
    must find the parent in the stateful module's records, and refuse unknown parents."""
    vendor = _body(
        call("POST", "/contacts", body={"contact_name": "Vic", "contact_type": "vendor"})
    )["contact"]["contact_id"]
    account = _body(
        call("POST", "/chartofaccounts", body={"account_name": "Stock", "account_type": "expense"})
    )["chart_of_account"]["account_id"]
    credit = _ok(
        call(
            "POST",
            "/vendorcredits",
            body={
                "vendor_id": vendor,
                "date": "2026-11-01",
                "line_items": [{"account_id": account, "rate": 10.5, "quantity": 1}],
            },
        ),
        201,
        "Vendor credit has been created.",
    )["vendor_credit"]
    vcid = credit["vendor_credit_id"]
    _ok(
        call("POST", f"/vendorcredits/{vcid}/comments", body={"description": "hi"}),
        201,
        "Comments added.",
    )
    comments = _body(call("GET", f"/vendorcredits/{vcid}/comments"))["comments"]
    assert [c["description"] for c in comments] == ["hi"]
    with pytest.raises(ApiError) as missing:
        call("POST", "/vendorcredits/999999/comments", body={"description": "lost"})
    assert missing.value.status == 404


def test_list_paging_sorting_and_filters(call: Call) -> None:
    for name in ("c", "a", "b"):
        call("POST", "/locations", body={"location_name": name, "type": "general"})
    names = [
        loc["location_name"]
        for loc in _body(
            call("GET", "/locations", query={"sort_column": "location_name", "sort_order": "A"})
        )["locations"]
    ]
    assert names == ["a", "b", "c"]
    page = _body(call("GET", "/locations", query={"per_page": "2", "page": "1"}))
    assert len(page["locations"]) == 2 and page["page_context"]["has_more_page"] is True
    page2 = _body(call("GET", "/locations", query={"per_page": "2", "page": "2"}))
    assert len(page2["locations"]) == 1 and page2["page_context"]["has_more_page"] is False
    found = _body(call("GET", "/locations", query={"location_name_startswith": "b"}))["locations"]
    assert [loc["location_name"] for loc in found] == ["b"]
    for bad in ({"sort_column": "x'); drop"}, {"per_page": "zero"}, {"search_text": "x" * 101}):
        error = _error(call, "GET", "/locations", query=bad)
        assert error.status == 400


def test_custom_module_records(call: Call) -> None:
    created = _ok(
        call("POST", "/cm_debtor", body={"cf_name": "Zylker"}),
        200,
        "debtor is created successfully",
    )["module_record"]
    assert isinstance(created, list)  # the OAS types module_record as an array
    module_id = created[0]["module_id"]
    got = _body(call("GET", f"/cm_debtor/{module_id}"))["module_record"]
    assert got["cf_name"] == "Zylker"
    assert _body(call("GET", "/cm_other"))["module_record"] == []  # modules are separate
    error = _error(call, "GET", f"/not_custom/{module_id}")
    assert (error.status, error.code) == (404, 5)
    error = _error(call, "POST", f"/cm_debtor/{module_id}")
    assert (error.status, error.code) == (405, 37)
    _ok(call("DELETE", "/cm_debtor", query={"module_ids": module_id}), 200, "Module record deleted")
    assert _error(call, "GET", f"/cm_debtor/{module_id}").code == 1002


def test_bulk_delete_is_all_or_nothing(call: Call) -> None:
    ids = [
        _body(call("POST", "/tasks", body={"task_name": str(n)}))["task"]["task_id"]
        for n in range(3)
    ]
    error = _error(call, "DELETE", "/tasks", query={"task_ids": f"{ids[0]},460000000099999"})
    assert (error.status, error.code) == (404, 1002)
    assert len(_body(call("GET", "/tasks"))["tasks"]) == 3
    assert _error(call, "DELETE", "/tasks").status == 400
    _ok(call("DELETE", "/tasks", query={"task_ids": ",".join(ids[:2])}), 200, "Task deleted")
    assert [t["task_id"] for t in _body(call("GET", "/tasks"))["tasks"]] == [ids[2]]


def test_upsert_by_unique_identifier(call: Call, ledger: Ledger) -> None:
    route, params = load_routes().match("PUT", "/projects")

    def upsert(body: dict[str, Any], upsert: bool) -> Any:
        headers = {"x-unique-identifier-key": "cf_ref", "x-unique-identifier-value": "R-1"}
        if upsert:
            headers["X-Upsert"] = "true"
        request = BooksRequest("PUT", "/projects", params, {}, body, ledger, headers=headers)
        return route.handler(request)

    with pytest.raises(ApiError) as caught:
        upsert({"project_name": "Ghost"}, upsert=False)
    assert caught.value.code == 1002
    created = _body(upsert({"project_name": "New", "cf_ref": "R-1"}, upsert=True))["project"]
    updated = _body(upsert({"project_name": "Renamed"}, upsert=False))["project"]
    assert updated["project_id"] == created["project_id"]
    assert updated["project_name"] == "Renamed"
    assert len(_body(call("GET", "/projects"))["projects"]) == 1
    assert _error(call, "PUT", "/projects", body={}).status == 400  # no identifier headers


def test_singleton_settings(call: Call) -> None:
    assert _body(call("GET", "/transactionlock"))["transaction_lock"] == {}
    put = _body(call("PUT", "/transactionlock", body={"lock_date": "2026-06-30"}))
    assert put["message"] == "Transaction lock has been updated."
    assert _body(call("GET", "/transactionlock"))["transaction_lock"]["lock_date"] == "2026-06-30"
    _ok(call("DELETE", "/transactionlock"), 200, "The transaction lock has been deleted.")
    assert _body(call("GET", "/transactionlock"))["transaction_lock"] == {}


def test_actions_on_stateful_parents_check_the_parent(call: Call) -> None:
    """A comment on an unknown invoice is 404, wherever invoices are implemented."""
    error = _error(call, "POST", "/invoices/460000000099999/comments", body={"description": "x"})
    assert (error.status, error.code, error.message) == (404, 1002, "Invoice does not exist.")


SWEEP_ID = "460000000009999"


def _generic_rows() -> list[SpecOp]:
    """Rows the generic store serves; deletes last and deepest first, so that they do
    not remove the records that later rows need."""
    registry = load_routes()
    rows = []
    for op in OPERATIONS:
        route, _params = registry.match(op.method, concrete_path(op.path))
        if route.handler.__module__.endswith(".generic") and route.template == op.path:
            rows.append(op)
    return sorted(rows, key=lambda op: (op.method == "DELETE", -op.path.count("/")))


def _seed_every_collection(ledger: Ledger) -> None:
    """One record with ``SWEEP_ID`` in every collection, so parent checks pass."""
    for collection, id_field in ID_FIELDS.items():
        if collection == ORGANIZATIONS:
            continue
        module = module_for(collection, {"module_name": "cm_debtor"})
        if ledger.store.get(module, SWEEP_ID) is None:
            ledger.store.insert(module, SWEEP_ID, {id_field: SWEEP_ID}, ledger.now())


@requires_oas
def test_every_generic_operation_answers_with_a_documented_envelope(
    call: Call, ledger: Ledger
) -> None:
    """Sweep: each generic row gives its documented status and message and a body valid
    against its OAS schema, or a 4xx that is not 'Invalid URL Passed'."""
    _seed_every_collection(ledger)
    index = load_oas()
    answered: list[str] = []
    rejected: list[SpecOp] = []
    problems: list[str] = []
    for op in _generic_rows():
        concrete = concrete_path(op.path, {"organization_id": ledger.org_id})
        try:
            response = call(op.method, concrete)
        except ApiError as error:
            assert 400 <= error.status < 500 and error.code != 5, (op, error.body())
            rejected.append(op)
            continue
        answered.append(f"{op.method} {op.path}")
        assert response.status == op.status, (op.method, op.path)
        assert _body(response)["message"] == op.message, (op.method, op.path)
        problems += index.validate(op.method, concrete, response.body)
    print(f"\ngeneric sweep: {len(answered)} answered, {len(rejected)} rejected with a 4xx")
    assert problems == []
    # Only rows that need input an empty request lacks may refuse: upserts want the
    # X-Unique-Identifier headers, bulk deletes want ?<x>_ids=.
    assert {op.kind for op in rejected} <= {"upsert", "bulk_delete"}, rejected
    assert len(answered) > 10 * len(rejected)
