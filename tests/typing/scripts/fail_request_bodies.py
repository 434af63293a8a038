"""Mistakes mypy --strict must catch.

A trailing comment ``E: <fragment>`` says mypy reports an error on that line whose message holds the
fragment (``DICT_BODY`` stands for the message of a dict literal that does not fit
``body=``); ``tests/typing/test_typing.py`` checks both ways."""

from __future__ import annotations

from datetime import date
from typing import Any

import zbooks
from zbooks.models import invoices as m


def misspelt(client: zbooks.Client, c: str, item_id: str) -> None:
    client.invoices.create(body={"customer_id": c, "line_itemz": []})  # E: DICT_BODY
    # Annotated with the twin, the message names the key:
    body: m.CreateInvoiceRequestDict = {"customer_id": c, "line_itemz": []}  # E: "line_itemz"
    client.invoices.create(body=body)
    m.CreateInvoiceRequestLineItem(item_id=item_id, quantty=2)  # E: "quantty"


def missing(client: zbooks.Client, item_id: str) -> None:
    client.invoices.create(body={"line_items": [{"item_id": item_id}]})  # E: DICT_BODY
    body: m.CreateInvoiceRequestDict = {"line_items": []}  # E: Missing key "customer_id"
    client.invoices.create(body=body)
    m.CreateInvoiceRequest(line_items=[])  # E: Missing named argument "customer_id"


def wrong_type(client: zbooks.Client, customer_id: str) -> None:
    m.CreateInvoiceRequest(customer_id=customer_id, line_items=[], date=20260131)  # E: "date"
    m.CreateInvoiceRequestLineItem(quantity=[2])  # E: Argument "quantity"
    m.CreateInvoiceRequestLineItem(rate=date(2026, 1, 1))  # E: Argument "rate"
    body: m.CreateInvoiceRequestDict = {
        "customer_id": customer_id,
        "line_items": [],
        "due_date": 20260131,  # E: TypedDict item "due_date"
    }
    client.invoices.create(body=body)


def looser_than_typed(client: zbooks.Client, loose: dict[str, Any]) -> None:
    client.invoices.create(body=loose)  # E: DICT_BODY
