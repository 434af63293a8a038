"""List pages validated straight from the response bytes (issue 15): the same models as
``json.loads`` + record parsing, exact money, and the lenient path for a page that
does not validate, that page alone."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zbooks.models.parse as parse_module
from zbooks import AsyncClient, Client
from zbooks.errors import APIError
from zbooks.models import Invoice
from zbooks.models.invoices import InvoiceStatus
from zbooks.models.parse import ParsedPage, page_decoder, parse_records


def _page(items: list[Any], number: int, more: bool) -> dict[str, Any]:
    return {
        "code": 0,
        "message": "success",
        "invoices": items,
        "page_context": {"page": number, "per_page": 200, "has_more_page": more},
    }


def _answer(pages: list[bytes]) -> httpx2.MockTransport:
    def answer(request: httpx2.Request) -> httpx2.Response:
        number = int(request.url.params.get("page", "1"))
        headers = {"content-type": "application/json;charset=UTF-8"}
        return httpx2.Response(200, content=pages[number - 1], headers=headers)

    return httpx2.MockTransport(answer)


def _client(pages: list[bytes]) -> Client:
    return Client(
        access_token="1000.token",
        organization_id="10234695",
        api_url="https://books.test/books/v3",
        rate_limiter=False,
        transport=_answer(pages),
        env={},
    )


def _invoice(n: int) -> dict[str, Any]:
    return {
        "invoice_id": str(460000000000000 + n),
        "customer_name": f"Customer {n} Ltd",
        "status": "overdue" if n % 2 else "in_dispute",  # a status Zoho added later
        "date": "2026-10-01",
        "due_date": "",
        "created_time": "2026-10-01T10:00:00+0000",
        "last_modified_time": "2026-10-02T11:30:00-0800",
        "total": 5118.47 + n,
        "balance": 0.0,
        "exchange_rate": 1.10,
        "is_emailed": True,
        "reminders_sent": 0,
        "custom_fields": [],
        "tags": [{"tag_id": "1", "tag_option_name": "x"}],
        "cf_project": f"P-{n}",  # not in the OpenAPI files: kept
    }


def test_a_page_from_bytes_equals_json_loads_and_record_parsing() -> None:
    body = json.dumps(_page([_invoice(n) for n in range(50)], 1, False)).encode()
    decoded = page_decoder(Invoice, "invoices")(body)
    assert isinstance(decoded, ParsedPage)
    assert decoded.items == parse_records(Invoice, json.loads(body)["invoices"])
    assert decoded.page_context == {"page": 1, "per_page": 200, "has_more_page": False}
    first, second = decoded.items[:2]
    assert first.status == "in_dispute" and second.status is InvoiceStatus.OVERDUE
    assert type(first.date) is date and first.due_date is None
    assert isinstance(first.last_modified_time, datetime)
    assert first.total == Decimal("5118.47") and isinstance(first.total, Decimal)
    assert first.model_extra == {"cf_project": "P-0"}
    assert json.loads(first.to_json())["cf_project"] == "P-0"


# Zoho's amounts: up to 15 significant digits (totals below 10**13 with 2 decimals,
# rates and exchange rates with up to 6), written as JSON numbers.
_AMOUNTS = st.builds(
    lambda digits, places, negative: (
        Decimal(digits).scaleb(-places).copy_sign(Decimal(-1 if negative else 1))
    ),
    st.integers(min_value=0, max_value=10**15 - 1),
    st.integers(min_value=0, max_value=6),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_AMOUNTS, min_size=1, max_size=8))
def test_money_from_bytes_is_the_decimal_of_the_json_text(amounts: list[Decimal]) -> None:
    texts = [format(a, "f") for a in amounts]  # the JSON number text Zoho sends
    items = ",".join(
        f'{{"invoice_id":"{i}","total":{t},"balance":{t},"exchange_rate":{t}}}'
        for i, t in enumerate(texts)
    )
    body = f'{{"code":0,"message":"success","invoices":[{items}]}}'.encode()
    decoded = page_decoder(Invoice, "invoices")(body)
    assert decoded is not None
    for invoice, text in zip(decoded.items, texts, strict=True):
        assert isinstance(invoice.total, Decimal)
        assert invoice.total == invoice.balance == invoice.exchange_rate == Decimal(text)


def test_not_a_success_page_is_left_to_the_usual_path() -> None:
    decode = page_decoder(Invoice, "invoices")
    assert decode(b'{"code": 1002, "message": "Invoice does not exist."}') is None
    assert decode(b'{"code": 0, "contacts": []}') is None  # not the documented key
    assert decode(b"<html>proxy error</html>") is None
    assert (
        decode(json.dumps(_page([{"invoice_id": "1", "date": "31/12/2025"}], 1, False)).encode())
        is None
    )


def test_only_the_page_that_does_not_validate_takes_the_lenient_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    odd = {**_invoice(99), "date": "31/12/2025", "total": "n/a"}
    pages = [
        json.dumps(_page([_invoice(1), _invoice(2)], 1, True)).encode(),
        json.dumps(_page([_invoice(3), odd], 2, True)).encode(),
        json.dumps(_page([_invoice(4)], 3, False)).encode(),
    ]
    lenient_pages: list[list[Any]] = []
    original = parse_module.parse_records

    def spy(model: type[Invoice], items: list[Any]) -> list[Invoice]:
        lenient_pages.append(items)
        return original(model, items)

    monkeypatch.setattr(parse_module, "parse_records", spy)
    with _client(pages) as client:
        listed = list(client.invoices.list())
    assert [i.invoice_id for i in listed] == [str(460000000000000 + n) for n in (1, 2, 3, 99, 4)]
    assert [[item["invoice_id"] for item in page] for page in lenient_pages] == [
        [str(460000000000003), str(460000000000099)]
    ]
    kept = listed[3]
    assert kept.date == "31/12/2025" and kept.total == "n/a"  # as Zoho sent them
    assert kept.balance == Decimal("0.0") and kept.model_extra == {"cf_project": "P-99"}
    assert listed[2].date == date(2026, 10, 1)


def test_an_error_sent_with_http_200_still_raises() -> None:
    pages = [json.dumps({"code": 1002, "message": "Invoice does not exist."}).encode()]
    with _client(pages) as client, pytest.raises(APIError) as caught:
        list(client.invoices.list())
    assert caught.value.code == 1002


def test_async_pages_come_from_bytes_too() -> None:
    pages = [
        json.dumps(_page([_invoice(1)], 1, True)).encode(),
        json.dumps(_page([{**_invoice(2), "date": "soon"}], 2, False)).encode(),
    ]

    async def read() -> list[Invoice]:
        async with AsyncClient(
            access_token="1000.token",
            organization_id="10234695",
            api_url="https://books.test/books/v3",
            rate_limiter=False,
            transport=_answer(pages),
            env={},
        ) as client:
            return [invoice async for invoice in client.invoices.list()]

    listed = asyncio.run(read())
    assert listed[0].date == date(2026, 10, 1) and listed[0].model_extra == {"cf_project": "P-1"}
    assert listed[1].date == "soon"


def test_values_of_a_page_are_not_kept_in_a_process_wide_string_cache() -> None:
    """pydantic-core would keep up to 16,384 short strings it has read (about 1 MiB once a
    long listing has seen enough names and ids); a page's values are its own."""
    decode = page_decoder(Invoice, "invoices")
    row = {"invoice_id": "1", "customer_name": "Northwind Traders", "status": "sent"}
    body = json.dumps(_page([row], 1, False)).encode()
    first, second = decode(body), decode(body)
    assert first is not None and second is not None
    one, other = first.items[0], second.items[0]
    assert one.customer_name == other.customer_name == "Northwind Traders"
    assert one.customer_name is not other.customer_name


def test_a_null_body_is_not_a_page() -> None:
    assert page_decoder(Invoice, "invoices")(b"null") is None
