"""Native parsing first, the lenient Python parsers only for what pydantic-core refuses,
and a listing that survives a value Zoho got wrong (issue 15)."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from pydantic import ValidationError

from zbooks import Client
from zbooks.models import Invoice
from zbooks.models.invoices import InvoiceLineItem, InvoiceStatus
from zbooks.models.parse import parse_record, parse_records


def _client(pages: list[dict[str, Any]]) -> Client:
    def answer(request: httpx2.Request) -> httpx2.Response:
        number = int(request.url.params.get("page", "1"))
        return httpx2.Response(200, json=pages[number - 1])

    return Client(
        access_token="1000.token",
        organization_id="10234695",
        api_url="https://books.test/books/v3",
        rate_limiter=False,
        transport=httpx2.MockTransport(answer),
        env={},
    )


def _page(items: list[dict[str, Any]], number: int, more: bool) -> dict[str, Any]:
    return {
        "code": 0,
        "message": "success",
        "invoices": items,
        "page_context": {"page": number, "per_page": 200, "has_more_page": more},
    }


def test_lenient_spellings_still_parse_where_native_parsing_refuses() -> None:
    invoice = Invoice.model_validate(
        {
            "invoice_id": 982000000567114,
            "total": "1,234.50",
            "balance": " 12.5 ",
            "adjustment": "",
            "date": "2024-02-29T10:11:12+0530",
            "due_date": "   ",
            "created_time": "",
            "is_emailed": "YES",
            "has_attachment": 2,
            "reminders_sent": "",
            "customer_id": True,
            "discount": " 10% ",
        }
    )
    assert invoice.invoice_id == "982000000567114"
    assert invoice.total == Decimal("1234.50")
    assert invoice.balance == Decimal("12.5")
    assert invoice.adjustment is None
    assert invoice.date == date(2024, 2, 29)
    assert invoice.due_date is None
    assert invoice.created_time is None
    assert invoice.is_emailed is True and invoice.has_attachment is True
    assert invoice.reminders_sent is None
    assert invoice.customer_id == "true"
    assert invoice.discount == "10%"


def test_native_values_keep_their_types_and_round_trip() -> None:
    invoice = Invoice.model_validate(
        {
            "invoice_id": "7",
            "total": 0.1,
            "date": "2024-02-29",
            "last_modified_time": "2023-11-18T02:02:51-0800",
            "reminders_sent": "3",
            "status": "sent",
        }
    )
    assert invoice.total == Decimal("0.1") and isinstance(invoice.total, Decimal)
    assert type(invoice.date) is date
    stamp = invoice.last_modified_time
    assert isinstance(stamp, datetime) and stamp.utcoffset() == timedelta(hours=-8)
    assert invoice.reminders_sent == 3
    assert invoice.status is InvoiceStatus.SENT
    out = json.loads(invoice.to_json())
    assert out["last_modified_time"] == "2023-11-18T02:02:51-0800"
    assert out["total"] == 0.1 and out["date"] == "2024-02-29"


def test_values_neither_parser_accepts_still_fail_model_validate() -> None:
    for field, value in (("date", "29/02/2024"), ("total", "ten"), ("reminders_sent", "x")):
        with pytest.raises(ValidationError):
            Invoice.model_validate({"invoice_id": "1", field: value})


def test_a_malformed_value_does_not_fail_a_listing(caplog: pytest.LogCaptureFixture) -> None:
    good = [{"invoice_id": str(n), "total": n, "date": "2026-01-02"} for n in range(1, 4)]
    odd = {
        "invoice_id": "99",
        "total": 12.5,
        "date": "31/12/2025",
        "line_items": [{"line_item_id": "5", "rate": "n/a"}],
        "cf_new": "kept",
    }
    pages = [_page(good, 1, True), _page([odd, {"total": 1}], 2, False)]
    with caplog.at_level(logging.WARNING, logger="zbooks.models"), _client(pages) as client:
        listed = list(client.invoices.list())
    assert [i.invoice_id for i in listed[:4]] == ["1", "2", "3", "99"]
    assert all(isinstance(i, Invoice) for i in listed)
    assert listed[0].total == Decimal("1") and listed[0].date == date(2026, 1, 2)
    kept = listed[3]
    assert kept.total == Decimal("12.5")  # the rest of the record is typed
    assert kept.date == "31/12/2025"  # the odd value as Zoho sent it
    assert kept.line_items == [{"line_item_id": "5", "rate": "n/a"}]
    assert kept.model_extra == {"cf_new": "kept"}
    assert json.loads(kept.to_json())["date"] == "31/12/2025"
    assert listed[4].to_dict() == {"total": 1}  # no id at all: raw
    assert "date" in caplog.text and "31/12/2025" not in caplog.text


def test_parse_records_matches_one_by_one_parsing() -> None:
    items = [
        {"invoice_id": "1", "total": "3.10", "due_date": "", "status": "in_dispute"},
        {"invoice_id": 2, "total": 4, "line_items": [{"rate": 1.5, "discount": "5%"}]},
    ]
    together = parse_records(Invoice, items)
    assert together == [parse_record(Invoice, item) for item in items]
    assert together[0].status == "in_dispute" and together[0].due_date is None
    line = together[1].line_items[0] if together[1].line_items else None
    assert isinstance(line, InvoiceLineItem) and line.discount == "5%"
