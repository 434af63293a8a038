"""The accounting acceptance: money on sales documents, checked by hand.

Every expected number below is worked out in the comments, so a failure says which
rule (discount, tax, rounding, settlement, release on void) moved.
"""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from tests.sandbox.conftest import Call
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger.base import SEEDERS, Ledger
from zbooks.sandbox.ledger.contacts import create_contact, get_contact
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.taxes import create_tax

DAY = 86400


@pytest.fixture
def customer(ledger: Ledger) -> str:
    contact = create_contact(
        ledger, {"contact_name": "Bowman & Co", "contact_type": "customer", "payment_terms": 15}
    )
    return str(contact["contact_id"])


@pytest.fixture
def taxes(ledger: Ledger) -> tuple[str, str]:
    vat = create_tax(ledger, {"tax_name": "VAT", "tax_percentage": 10})
    city = create_tax(ledger, {"tax_name": "City", "tax_percentage": 5})
    return str(vat["tax_id"]), str(city["tax_id"])


def _invoice(call: Call, customer: str, taxes: tuple[str, str], **extra: Any) -> dict[str, Any]:
    vat, city = taxes
    body = {
        "customer_id": customer,
        "line_items": [
            {"name": "Hard Drive", "rate": 120, "quantity": 2, "discount": "10%", "tax_id": vat},
            {"name": "Labour", "rate": 50, "quantity": 3, "discount": 15, "tax_id": city},
            {"name": "Cable", "rate": 33.33, "quantity": 3},
        ],
        "discount": "10%",
        "is_discount_before_tax": True,
        "shipping_charge": 10,
        "adjustment": -0.5,
        **extra,
    }
    response = call("POST", "/invoices", body=body)
    assert response.status == 201
    assert response.body is not None
    return dict(response.body["invoice"])


def _get(call: Call, invoice_id: str) -> dict[str, Any]:
    body = call("GET", f"/invoices/{invoice_id}").body
    assert body is not None
    return dict(body["invoice"])


def _outstanding(ledger: Ledger, customer: str) -> float:
    return float(get_contact(ledger, customer)["outstanding_receivable_amount"])


def _unused_credits(ledger: Ledger, customer: str) -> float:
    return float(get_contact(ledger, customer)["unused_credits_receivable_amount"])


def _pay(call: Call, customer: str, invoice_id: str, amount: float) -> dict[str, Any]:
    body = call(
        "POST",
        "/customerpayments",
        body={
            "customer_id": customer,
            "payment_mode": "banktransfer",
            "amount": amount,
            "date": "2026-01-10",
            "invoices": [{"invoice_id": invoice_id, "amount_applied": amount}],
        },
    ).body
    assert body is not None
    return dict(body["payment"])


def _sent_invoice(call: Call, customer: str, taxes: tuple[str, str]) -> dict[str, Any]:
    invoice = _invoice(call, customer, taxes)
    call("POST", f"/invoices/{invoice['invoice_id']}/status/sent")
    return _get(call, invoice["invoice_id"])


def test_totals_with_line_and_entity_discounts_and_two_taxes(
    call: Call, customer: str, taxes: tuple[str, str]
) -> None:
    invoice = _invoice(call, customer, taxes)
    first, second, third = invoice["line_items"]
    # Hard Drive: 120 x 2 = 240, line discount 10% = 24 -> 216, VAT.
    assert (first["discount_amount"], first["item_total"]) == (24.0, 216.0)
    # Labour: 50 x 3 = 150, absolute line discount 15 -> 135, City tax.
    assert (second["discount_amount"], second["item_total"]) == (15.0, 135.0)
    # Cable: 33.33 x 3 = 99.99, untaxed.
    assert (third["item_total"], third["tax_amount"], third["tax_name"]) == (99.99, 0.0, "")
    # sub_total = 216 + 135 + 99.99
    assert invoice["sub_total"] == 450.99
    # Entity discount 10% of 450.99 = 45.099 -> 45.10; before tax, every taxable line
    # shrinks by the same 90%.
    assert invoice["discount_amount"] == 45.10
    # VAT = 216 x 0.9 x 10% = 19.44; City = 135 x 0.9 x 5% = 6.075 -> 6.08 (half up).
    assert first["tax_amount"] == 19.44
    assert second["tax_amount"] == 6.08
    assert {t["tax_name"]: t["tax_amount"] for t in invoice["taxes"]} == {
        "VAT": 19.44,
        "City": 6.08,
    }
    assert invoice["tax_total"] == 25.52
    # total = 450.99 - 45.10 + 25.52 + shipping 10 + adjustment -0.5
    assert invoice["total"] == 440.91
    assert invoice["balance"] == 440.91
    assert (invoice["payment_made"], invoice["credits_applied"]) == (0.0, 0.0)
    # Percentages come back in Zoho's two-decimal string form; amounts as numbers.
    assert (invoice["discount"], first["discount"], second["discount"]) == (
        "10.00%",
        "10.00%",
        15.0,
    )


def test_discount_after_tax_comes_off_the_taxed_amount(
    call: Call, customer: str, taxes: tuple[str, str]
) -> None:
    vat, _ = taxes
    invoice = call(
        "POST",
        "/invoices",
        body={
            "customer_id": customer,
            "line_items": [{"name": "Desk", "rate": 200, "tax_id": vat}],
            "discount": "10%",
            "is_discount_before_tax": False,
        },
    ).body["invoice"]  # type: ignore[index]
    # Tax on the full 200 = 20; then 10% of (200 + 20) = 22 comes off: 220 - 22.
    assert (invoice["tax_total"], invoice["discount_amount"], invoice["total"]) == (
        20.0,
        22.0,
        198.0,
    )


def test_partial_then_full_payment(
    ledger: Ledger, call: Call, customer: str, taxes: tuple[str, str]
) -> None:
    invoice = _invoice(call, customer, taxes)
    invoice_id = invoice["invoice_id"]
    assert _outstanding(ledger, customer) == 0.0  # a draft is not receivable yet
    call("POST", f"/invoices/{invoice_id}/status/sent")
    assert _outstanding(ledger, customer) == 440.91

    _pay(call, customer, invoice_id, 200)
    after_first = _get(call, invoice_id)
    assert after_first["status"] == "partially_paid"
    assert (after_first["payment_made"], after_first["balance"]) == (200.0, 240.91)
    assert _outstanding(ledger, customer) == 240.91

    _pay(call, customer, invoice_id, 240.91)
    after_second = _get(call, invoice_id)
    assert after_second["status"] == "paid"
    assert (after_second["payment_made"], after_second["balance"]) == (440.91, 0.0)
    assert after_second["last_payment_date"] == "2026-01-10"
    assert _outstanding(ledger, customer) == 0.0
    payments = call("GET", f"/invoices/{invoice_id}/payments").body["payments"]  # type: ignore[index]
    assert sorted(p["amount"] for p in payments) == [200.0, 240.91]


def test_credit_note_applied_to_an_invoice(
    ledger: Ledger, call: Call, customer: str, taxes: tuple[str, str]
) -> None:
    invoice = _sent_invoice(call, customer, taxes)
    note = call(
        "POST",
        "/creditnotes",
        body={"customer_id": customer, "line_items": [{"name": "Returned cable", "rate": 60}]},
    ).body["creditnote"]  # type: ignore[index]
    assert (note["status"], note["balance"]) == ("open", 60.0)
    assert _unused_credits(ledger, customer) == 60.0

    response = call(
        "POST",
        f"/creditnotes/{note['creditnote_id']}/invoices",
        body={"invoices": [{"invoice_id": invoice["invoice_id"], "amount_applied": 60}]},
    )
    assert response.body == {"code": 0, "message": "Credits have been applied to the invoice(s)."}
    credited = _get(call, invoice["invoice_id"])
    # 440.91 - 60 credited
    assert (credited["credits_applied"], credited["balance"]) == (60.0, 380.91)
    assert credited["status"] == "partially_paid"
    after = call("GET", f"/creditnotes/{note['creditnote_id']}").body["creditnote"]  # type: ignore[index]
    assert (after["status"], after["balance"]) == ("closed", 0.0)
    assert _unused_credits(ledger, customer) == 0.0
    assert _outstanding(ledger, customer) == 380.91


def test_void_releases_payments_as_unused_credit_and_credit_notes(
    ledger: Ledger, call: Call, customer: str, taxes: tuple[str, str]
) -> None:
    invoice = _sent_invoice(call, customer, taxes)
    invoice_id = invoice["invoice_id"]
    payment = _pay(call, customer, invoice_id, 100)
    note = call(
        "POST",
        "/creditnotes",
        query={"invoice_id": invoice_id},
        body={"customer_id": customer, "line_items": [{"name": "Goodwill", "rate": 30}]},
    ).body["creditnote"]  # type: ignore[index]
    assert note["balance"] == 0.0  # applied at once to the invoice
    assert _get(call, invoice_id)["balance"] == 310.91  # 440.91 - 100 - 30

    response = call("POST", f"/invoices/{invoice_id}/status/void")
    assert response.body == {"code": 0, "message": "Invoice status has been changed to Void."}
    voided = _get(call, invoice_id)
    assert voided["status"] == "void"
    assert (voided["payment_made"], voided["credits_applied"]) == (0.0, 0.0)
    released = call("GET", f"/customerpayments/{payment['payment_id']}").body["payment"]  # type: ignore[index]
    assert (released["unused_amount"], released["invoices"]) == (100.0, [])
    note_after = call("GET", f"/creditnotes/{note['creditnote_id']}").body["creditnote"]  # type: ignore[index]
    assert (note_after["status"], note_after["balance"]) == ("open", 30.0)
    assert _outstanding(ledger, customer) == 0.0
    assert _unused_credits(ledger, customer) == 130.0  # 100 excess payment + 30 credit


def test_draft_from_void_restores_the_balance(
    ledger: Ledger, call: Call, customer: str, taxes: tuple[str, str]
) -> None:
    invoice = _sent_invoice(call, customer, taxes)
    invoice_id = invoice["invoice_id"]
    with pytest.raises(ApiError) as not_void:
        call("POST", f"/invoices/{invoice_id}/status/draft")
    assert (not_void.value.status, not_void.value.code) == (400, 4)
    call("POST", f"/invoices/{invoice_id}/status/void")
    response = call("POST", f"/invoices/{invoice_id}/status/draft")
    assert response.body == {"code": 0, "message": "Status of invoice changed from void to draft"}
    draft = _get(call, invoice_id)
    assert (draft["status"], draft["balance"]) == ("draft", 440.91)
    call("POST", f"/invoices/{invoice_id}/status/sent")
    assert _outstanding(ledger, customer) == 440.91


def test_overdue_by_advancing_the_clock(
    ledger: Ledger, call: Call, customer: str, taxes: tuple[str, str]
) -> None:
    invoice = _sent_invoice(call, customer, taxes)  # due in 15 days (contact terms)
    partly = _sent_invoice(call, customer, taxes)
    _pay(call, customer, partly["invoice_id"], 40)
    settled = _sent_invoice(call, customer, taxes)
    _pay(call, customer, settled["invoice_id"], 440.91)
    assert _get(call, invoice["invoice_id"])["status"] == "sent"

    ledger.clock.advance(16 * DAY)
    assert _get(call, invoice["invoice_id"])["status"] == "overdue"
    assert _get(call, partly["invoice_id"])["status"] == "overdue"
    assert _get(call, settled["invoice_id"])["status"] == "paid"

    def listed(**query: str) -> set[str]:
        body = call("GET", "/invoices", query=query).body
        assert body is not None
        return {row["invoice_id"] for row in body["invoices"]}

    late = {invoice["invoice_id"], partly["invoice_id"]}
    assert listed(filter_by="Status.OverDue") == late
    assert listed(status="overdue") == late
    assert listed(filter_by="Status.Sent") == set()
    assert listed(filter_by="Status.PartiallyPaid") == set()
    assert listed(filter_by="Status.Unpaid") == late
    rows = call("GET", "/invoices", query={"filter_by": "Status.OverDue"}).body["invoices"]  # type: ignore[index]
    assert {r["status"] for r in rows} == {"overdue"}
    assert {r["due_days"] for r in rows} == {"Overdue by 1 day"}


def test_write_off_and_cancel(
    ledger: Ledger, call: Call, customer: str, taxes: tuple[str, str]
) -> None:
    invoice = _sent_invoice(call, customer, taxes)
    invoice_id = invoice["invoice_id"]
    _pay(call, customer, invoice_id, 400)
    response = call("POST", f"/invoices/{invoice_id}/writeoff")
    assert response.body == {"code": 0, "message": "Invoice has been written off"}
    written = _get(call, invoice_id)
    assert (written["status"], written["write_off_amount"], written["balance"]) == (
        "paid",
        40.91,
        0.0,
    )
    assert _outstanding(ledger, customer) == 0.0
    with pytest.raises(ApiError):
        call("POST", f"/invoices/{invoice_id}/writeoff")  # nothing left to write off

    response = call("POST", f"/invoices/{invoice_id}/writeoff/cancel")
    assert response.body == {
        "code": 0,
        "message": "The write off done for this invoice has been cancelled.",
    }
    restored = _get(call, invoice_id)
    assert (restored["status"], restored["write_off_amount"], restored["balance"]) == (
        "partially_paid",
        0.0,
        40.91,
    )
    assert _outstanding(ledger, customer) == 40.91
    with pytest.raises(ApiError):
        call("POST", f"/invoices/{invoice_id}/writeoff/cancel")


def test_delete_is_refused_while_money_is_applied(
    call: Call, customer: str, taxes: tuple[str, str]
) -> None:
    invoice = _sent_invoice(call, customer, taxes)
    invoice_id = invoice["invoice_id"]
    payment = _pay(call, customer, invoice_id, 10)
    with pytest.raises(ApiError) as refused:
        call("DELETE", f"/invoices/{invoice_id}")
    assert (refused.value.status, refused.value.code) == (400, 4)
    call("DELETE", f"/customerpayments/{payment['payment_id']}")
    assert _get(call, invoice_id)["status"] == "sent"

    note = call(
        "POST",
        "/creditnotes",
        query={"invoice_id": invoice_id},
        body={"customer_id": customer, "line_items": [{"name": "Credit", "rate": 5}]},
    ).body["creditnote"]  # type: ignore[index]
    with pytest.raises(ApiError):
        call("DELETE", f"/invoices/{invoice_id}")
    call("POST", f"/creditnotes/{note['creditnote_id']}/status/void")
    response = call("DELETE", f"/invoices/{invoice_id}")
    assert response.body == {"code": 0, "message": "The invoice has been deleted."}
    with pytest.raises(ApiError) as gone:
        call("GET", f"/invoices/{invoice_id}")
    assert (gone.value.status, gone.value.code, gone.value.message) == (
        404,
        1002,
        "Invoice does not exist.",
    )


def test_seeding_ten_thousand_invoices_is_consistent(ledger: Ledger) -> None:
    import zbooks.sandbox.books.invoices  # noqa: F401  (registers the seeders)

    rng = random.Random(20261124)
    created = SEEDERS["invoices"](ledger, 10_000, rng)
    store = ledger.store
    assert len(created) == len(set(created)) == 10_000
    assert store.count("invoices") == 10_000
    invoices = {r["invoice_id"]: r for r in store.find("invoices", [])}
    statuses = Counter(r["status"] for r in invoices.values())
    assert set(statuses) == {"draft", "sent", "partially_paid", "paid", "void"}
    numbers = {r["invoice_number"] for r in invoices.values()}
    assert len(numbers) == 10_000 and "INV-010000" in numbers
    for record in invoices.values():
        settled = sum(
            Decimal(str(record[k])) for k in ("payment_made", "credits_applied", "write_off_amount")
        )
        expected = (
            Decimal(0) if record["status"] == "void" else Decimal(str(record["total"])) - settled
        )
        assert Decimal(str(record["balance"])) == expected
    for payment in store.find("customerpayments", []):
        for entry in payment["invoices"]:
            mirror = invoices[entry["invoice_id"]]["_payments"]
            assert any(m["invoice_payment_id"] == entry["invoice_payment_id"] for m in mirror)
    # The next invoice created through the API continues the sequence without a gap.
    customer = store.find("contacts", [Filter("contact_type", "eq", "customer")])[0]
    from zbooks.sandbox.ledger.invoices import create_invoice

    invoice = create_invoice(
        ledger, {"customer_id": customer["contact_id"], "line_items": [{"name": "x", "rate": 1}]}
    )
    assert invoice["invoice_number"] == "INV-010001"
    # Contact balances were refreshed from the seeded documents.
    open_balance = sum(
        Decimal(str(r["balance"]))
        for r in invoices.values()
        if r["customer_id"] == customer["contact_id"] and r["status"] in ("sent", "partially_paid")
    )
    assert (
        Decimal(str(get_contact(ledger, customer["contact_id"])["outstanding_receivable_amount"]))
        == open_balance
    )
