"""Estimates and sales orders: numbering, status machines, read-time expiry and the
conversions into invoices."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.sandbox.conftest import Call
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger.base import SEEDERS, Ledger
from zbooks.sandbox.ledger.contacts import create_contact
from zbooks.sandbox.ledger.taxes import create_tax

DAY = 86400


@pytest.fixture
def customer(ledger: Ledger) -> str:
    return str(
        create_contact(ledger, {"contact_name": "Bowman & Co", "contact_type": "customer"})[
            "contact_id"
        ]
    )


@pytest.fixture
def vat(ledger: Ledger) -> str:
    return str(create_tax(ledger, {"tax_name": "VAT", "tax_percentage": 20})["tax_id"])


def _error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


def _estimate(call: Call, customer: str, vat: str, **extra: Any) -> dict[str, Any]:
    response = call(
        "POST",
        "/estimates",
        body={
            "customer_id": customer,
            "line_items": [
                {"name": "Design", "rate": 400, "tax_id": vat},
                {"name": "Build", "rate": 250, "quantity": 2, "discount": "10%"},
            ],
            "discount": 50,
            "notes": "Valid for a month",
            **extra,
        },
    )
    assert (response.status, response.body["message"]) == (  # type: ignore[index]
        201,
        "The estimate has been created",
    )
    return dict(response.body["estimate"])  # type: ignore[index]


def _get(call: Call, kind: str, key: str, record_id: str) -> dict[str, Any]:
    body = call("GET", f"/{kind}/{record_id}").body
    assert body is not None
    return dict(body[key])


# --- estimates ---------------------------------------------------------------------
def test_estimate_create_and_status_machine(call: Call, customer: str, vat: str) -> None:
    estimate = _estimate(call, customer, vat)
    estimate_id = estimate["estimate_id"]
    assert (estimate["estimate_number"], estimate["status"]) == ("EST-000001", "draft")
    # 400 + 450 = 850 - 50 entity discount; VAT 20% on 400 x (800/850).
    assert (estimate["sub_total"], estimate["discount_amount"]) == (850.0, 50.0)
    assert (estimate["tax_total"], estimate["total"]) == (75.29, 875.29)

    refused = _error(call, "POST", f"/estimates/{estimate_id}/status/accepted")
    assert (refused.status, refused.code) == (400, 4)
    sent = call("POST", f"/estimates/{estimate_id}/status/sent")
    assert sent.body == {"code": 0, "message": "Estimate status has been changed to Sent"}
    declined = call("POST", f"/estimates/{estimate_id}/status/declined")
    assert declined.body == {"code": 0, "message": "Estimate status has been changed to Declined."}
    accepted = call("POST", f"/estimates/{estimate_id}/status/accepted")
    assert accepted.body == {"code": 0, "message": "Estimate status has been changed to Accepted."}
    after = _get(call, "estimates", "estimate", estimate_id)
    assert after["status"] == "accepted"
    assert after["accepted_date"] == after["declined_date"] != ""


def test_estimate_expires_by_the_clock(ledger: Ledger, call: Call, customer: str, vat: str) -> None:
    today = ledger.today()
    expiring = _estimate(call, customer, vat, expiry_date=today)
    open_ended = _estimate(call, customer, vat)
    for estimate in (expiring, open_ended):
        call("POST", f"/estimates/{estimate['estimate_id']}/status/sent")

    def ids(**query: str) -> set[str]:
        body = call("GET", "/estimates", query=query).body
        assert body is not None
        return {row["estimate_id"] for row in body["estimates"]}

    both = {expiring["estimate_id"], open_ended["estimate_id"]}
    assert ids(filter_by="Status.Sent") == both
    ledger.clock.advance(DAY)
    assert _get(call, "estimates", "estimate", expiring["estimate_id"])["status"] == "expired"
    assert _get(call, "estimates", "estimate", open_ended["estimate_id"])["status"] == "sent"
    assert ids(filter_by="Status.Expired") == {expiring["estimate_id"]}
    assert ids(status="expired") == {expiring["estimate_id"]}
    assert ids(filter_by="Status.Sent") == {open_ended["estimate_id"]}
    rows = call("GET", "/estimates", query={"filter_by": "Status.Expired"}).body["estimates"]  # type: ignore[index]
    assert rows[0]["status"] == "expired"
    bad = _error(
        call,
        "POST",
        "/estimates",
        body={
            "customer_id": customer,
            "date": "2026-05-10",
            "expiry_date": "2026-05-01",
            "line_items": [{"name": "x", "rate": 1}],
        },
    )
    assert bad.message == "Invalid value passed for expiry_date"


def test_convert_estimate_to_invoice_and_back(call: Call, customer: str, vat: str) -> None:
    estimate = _estimate(call, customer, vat)
    estimate_id = estimate["estimate_id"]
    call("POST", f"/estimates/{estimate_id}/status/sent")
    response = call("POST", "/invoices/fromestimates", query={"estimate_id": estimate_id})
    assert response.body["message"] == "The invoices have been created."  # type: ignore[index]
    invoice = response.body["invoice"]  # type: ignore[index]
    assert invoice["estimate_id"] == estimate_id
    assert invoice["status"] == "draft"
    assert [line["name"] for line in invoice["line_items"]] == ["Design", "Build"]
    assert invoice["total"] == estimate["total"] == 875.29
    assert invoice["notes"] == "Valid for a month"
    assert {line["line_item_id"] for line in invoice["line_items"]}.isdisjoint(
        line["line_item_id"] for line in estimate["line_items"]
    )
    converted = _get(call, "estimates", "estimate", estimate_id)
    assert (converted["status"], converted["invoice_id"], converted["invoice_ids"]) == (
        "invoiced",
        invoice["invoice_id"],
        [invoice["invoice_id"]],
    )
    again = _error(call, "POST", "/invoices/fromestimates", query={"estimate_ids": estimate_id})
    assert again.status == 400

    call("DELETE", f"/invoices/{invoice['invoice_id']}")
    restored = _get(call, "estimates", "estimate", estimate_id)
    assert (restored["status"], restored["invoice_ids"]) == ("sent", [])


def test_estimate_update_list_and_delete(call: Call, customer: str, vat: str) -> None:
    first = _estimate(call, customer, vat, reference_number="Q-1")
    second = _estimate(call, customer, vat)
    updated = call(
        "PUT",
        f"/estimates/{first['estimate_id']}",
        body={"line_items": [{"line_item_id": first["line_items"][0]["line_item_id"]}]},
    ).body
    assert updated["message"] == "Estimate information has been updated."  # type: ignore[index]
    lines = updated["estimate"]["line_items"]  # type: ignore[index]
    assert [line["name"] for line in lines] == ["Design"]
    rows = call("GET", "/estimates", query={"search_text": "q-1"}).body["estimates"]  # type: ignore[index]
    assert [r["estimate_id"] for r in rows] == [first["estimate_id"]]
    deleted = call("DELETE", f"/estimates/{second['estimate_id']}")
    assert deleted.body == {"code": 0, "message": "The estimate has been deleted."}
    missing = _error(call, "GET", f"/estimates/{second['estimate_id']}")
    assert (missing.status, missing.message) == (404, "Estimate does not exist.")


# --- sales orders ---------------------------------------------------------------------
def _order(call: Call, customer: str, **extra: Any) -> dict[str, Any]:
    response = call(
        "POST",
        "/salesorders",
        body={
            "customer_id": customer,
            "shipment_date": "2099-01-01",
            "line_items": [{"name": "Chair", "rate": 75, "quantity": 4}],
            **extra,
        },
    )
    assert (response.status, response.body["message"]) == (  # type: ignore[index]
        201,
        "Sales Order Created Successfully.",
    )
    return dict(response.body["salesorder"])  # type: ignore[index]


def test_sales_order_lifecycle_and_conversion(call: Call, customer: str) -> None:
    order = _order(call, customer)
    order_id = order["salesorder_id"]
    assert (order["salesorder_number"], order["status"], order["invoiced_status"]) == (
        "SO-00001",
        "draft",
        "not_invoiced",
    )
    assert order["total"] == 300.0
    opened = call("POST", f"/salesorders/{order_id}/status/open")
    assert (opened.status, opened.body) == (
        201,
        {"code": 0, "message": "Sales order status has been changed to Open."},
    )
    response = call("POST", "/invoices/fromsalesorder", query={"salesorder_id": order_id})
    assert (response.status, response.body["message"]) == (  # type: ignore[index]
        201,
        "The invoice has been created.",
    )
    invoice = response.body["invoice"]  # type: ignore[index]
    assert (invoice["salesorder_id"], invoice["total"]) == (order_id, 300.0)
    closed = _get(call, "salesorders", "salesorder", order_id)
    assert (closed["status"], closed["order_status"], closed["invoiced_status"]) == (
        "closed",
        "closed",
        "invoiced",
    )
    assert closed["invoices"][0]["invoice_id"] == invoice["invoice_id"]
    refused = _error(call, "POST", f"/salesorders/{order_id}/status/void")
    assert refused.status == 400
    again = _error(call, "POST", "/invoices/fromsalesorder", query={"salesorder_id": order_id})
    assert again.status == 400

    call("DELETE", f"/invoices/{invoice['invoice_id']}")
    reopened = _get(call, "salesorders", "salesorder", order_id)
    assert (reopened["status"], reopened["invoiced_status"]) == ("open", "not_invoiced")
    voided = call("POST", f"/salesorders/{order_id}/status/void")
    assert (voided.status, voided.body["message"]) == (  # type: ignore[index]
        201,
        "Sales order status has been changed to Void.",
    )
    void_edit = _error(call, "PUT", f"/salesorders/{order_id}", body={"notes": "x"})
    assert void_edit.status == 400
    void_convert = _error(
        call, "POST", "/invoices/fromsalesorder", query={"salesorder_id": order_id}
    )
    assert void_convert.status == 400


def test_sales_order_list_update_pdf_and_delete(call: Call, customer: str) -> None:
    draft = _order(call, customer, reference_number="PO-555")
    confirmed = _order(call, customer)
    call("POST", f"/salesorders/{confirmed['salesorder_id']}/status/open")
    call("POST", "/invoices/fromsalesorder", query={"salesorder_id": confirmed["salesorder_id"]})

    def ids(**query: str) -> list[str]:
        body = call("GET", "/salesorders", query=query).body
        assert body is not None
        return [row["salesorder_id"] for row in body["salesorders"]]

    assert ids(filter_by="Status.Draft") == [draft["salesorder_id"]]
    assert ids(filter_by="Status.Invoiced") == [confirmed["salesorder_id"]]
    assert ids(search_text="po-555") == [draft["salesorder_id"]]
    row = call("GET", "/salesorders").body["salesorders"][-1]  # type: ignore[index]
    assert row["shipment_days"] > 0 and row["bcy_total"] == 300.0

    updated = call(
        "PUT", f"/salesorders/{draft['salesorder_id']}", body={"delivery_method": "FedEx"}
    ).body
    assert updated["message"] == "Sales Order Updated Successfully."  # type: ignore[index]
    assert updated["salesorder"]["delivery_method"] == "FedEx"  # type: ignore[index]
    pdf = call("GET", f"/salesorders/{draft['salesorder_id']}", query={"accept": "pdf"})
    assert (pdf.content or b"").startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="SO-00001.pdf"'
    deleted = call("DELETE", f"/salesorders/{draft['salesorder_id']}")
    assert deleted.body == {"code": 0, "message": "Sales Order Deleted Successfully."}


# --- seeders ---------------------------------------------------------------------
def test_seeders_build_linked_documents(ledger: Ledger, call: Call) -> None:
    rng = random.Random(99)
    SEEDERS["invoices"](ledger, 120, rng)
    estimates = SEEDERS["estimates"](ledger, 150, rng)
    orders = SEEDERS["salesorders"](ledger, 150, rng)
    notes = SEEDERS["creditnotes"](ledger, 60, rng)
    payments = SEEDERS["customerpayments"](ledger, 60, rng)
    store = ledger.store
    assert (store.count("estimates"), store.count("salesorders")) == (150, 150)
    assert (len(notes), len(payments)) == (60, 60)
    for estimate_id in estimates:
        estimate = store.get("estimates", estimate_id)
        assert estimate is not None
        if estimate["status"] == "invoiced":
            invoice = store.get("invoices", estimate["invoice_id"])
            assert invoice is not None and invoice["estimate_id"] == estimate_id
    closed = [store.get("salesorders", i) for i in orders]
    linked = [o for o in closed if o and o["status"] == "closed"]
    assert linked and all(store.get("invoices", o["invoices"][0]["invoice_id"]) for o in linked)
    # Seeded records read through the API like any other.
    assert call("GET", f"/estimates/{estimates[0]}").body["estimate"]["estimate_id"]  # type: ignore[index]
    assert call("GET", "/customerpayments", query={"per_page": "5"}).body["customerpayments"]  # type: ignore[index]
