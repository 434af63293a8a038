"""Request bodies at run time: required fields, wide inputs held exactly, ``extra_body``,
and Decimal amounts on the wire with their own digits (issue 19)."""

from __future__ import annotations

import inspect
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pydantic
import pytest

from zbooks import Client
from zbooks.core.jsonwire import decimal_literal, dumps
from zbooks.models import customer_payments as payments
from zbooks.models import invoices as m
from zbooks.resources import operations

from .fakes import FakeZoho, envelope
from .test_pipeline import make_client


def test_jsonwire_keeps_every_digit_where_json_dumps_rounds() -> None:
    amount = Decimal("12345678901234.5678")
    text = dumps({"amount": amount, "rate": Decimal("0.10"), "qty": Decimal("2")})
    assert text == '{"amount": 12345678901234.5678, "rate": 0.10, "qty": 2}'
    # float would have lost the tail: the digits below are not representable.
    assert str(float(amount)) != "12345678901234.5678"
    assert json.loads(text, parse_float=Decimal)["amount"] == amount


def test_jsonwire_matches_json_dumps_for_everything_else() -> None:
    value: dict[str, Any] = {
        "text": 'quote " and \u00e9 and \n',
        "n": 3,
        "f": 0.5,
        "flag": True,
        "none": None,
        "list": [1, "a", {"k": False}],
        "tuple": (1, 2),
    }
    assert dumps(value) == json.dumps(value)
    assert dumps(value, separators=(",", ":")) == json.dumps(value, separators=(",", ":"))
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-8)))
    assert dumps([date(2026, 1, 2), stamp]) == '["2026-01-02", "2026-01-02T03:04:05-0800"]'


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.00"), "-0.00"),
        (Decimal("-0"), "0"),
        (Decimal("1.5E-7"), "0.00000015"),
    ],
)
def test_decimal_literals_are_plain_json_numbers(value: Decimal, literal: str) -> None:
    assert decimal_literal(value) == literal
    assert Decimal(json.loads(literal, parse_float=Decimal, parse_int=Decimal)) == value


def test_non_finite_decimals_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="finite"):
        dumps({"amount": Decimal("NaN")})


def test_request_models_hold_wide_inputs_as_decimal_and_date() -> None:
    line = m.CreateInvoiceRequestLineItem(item_id="1", quantity=2, rate="12.50", discount="5%")
    assert line.quantity == Decimal("2") and isinstance(line.quantity, Decimal)
    assert line.rate == Decimal("12.50") and isinstance(line.rate, Decimal)
    assert line.discount == "5%"
    request = m.CreateInvoiceRequest(customer_id="9", line_items=[line], date="2026-01-31")
    assert request.date == date(2026, 1, 31)
    assert request.to_json() == (
        '{"customer_id":"9","line_items":[{"discount":"5%","item_id":"1","quantity":2,'
        '"rate":12.50}],"date":"2026-01-31"}'
    )


def test_required_fields_are_required_at_run_time_too() -> None:
    assert m.CreateInvoiceRequest.required_fields == ("customer_id", "line_items")
    with pytest.raises(pydantic.ValidationError, match="customer_id"):
        m.CreateInvoiceRequest.model_validate({"line_items": []})
    # Updates are partial (api-facts: omitted fields stay as they are).
    assert m.UpdateInvoiceRequest.required_fields == ()
    assert m.UpdateInvoiceRequest(reference_number="PO-7").to_dict() == {"reference_number": "PO-7"}


def test_reviewed_requirements_reach_nested_models_and_the_catalog() -> None:
    # The OAS lists invoice_id/amount_applied at the top of a payment; they belong to
    # each invoices[] entry.
    top = payments.CreateCustomerPaymentRequest.required_fields
    assert "invoice_id" not in top and {"customer_id", "invoices", "amount"} <= set(top)
    nested = payments.CreateCustomerPaymentRequestInvoice.required_fields
    assert set(nested) == {"invoice_id", "amount_applied"}
    create = next(o for o in operations("invoices") if o.method == "create")
    assert create.body_required == ("customer_id", "line_items")


def _sent(fake: FakeZoho, method: str, path: str) -> bytes:
    return bytes(fake.calls(method, path)[0].content)


def test_extra_body_is_merged_last_and_decimals_travel_exactly() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices", envelope(201, invoice={"invoice_id": "5"}))
    client: Client
    with make_client(fake) as client:
        client.invoices.create(
            body={
                "customer_id": "9",
                "notes": "typed",
                "line_items": [{"name": "Fee", "rate": Decimal("0.1000000000000000055511")}],
            },
            extra_body={"notes": "wins", "undocumented_flag": True},
        )
    raw = _sent(fake, "POST", "/invoices")
    assert b'"rate": 0.1000000000000000055511' in raw
    sent = json.loads(raw, parse_float=Decimal)
    assert sent["notes"] == "wins" and sent["undocumented_flag"] is True
    assert sent["line_items"][0]["rate"] == Decimal("0.1000000000000000055511")


def test_extra_body_alone_is_a_body() -> None:
    fake = FakeZoho()
    fake.on("PUT", "/invoices/5", envelope(invoice={"invoice_id": "5"}))
    with make_client(fake) as client:
        client.invoices.update("5", extra_body={"x_new_field": "1"})
    assert json.loads(_sent(fake, "PUT", "/invoices/5")) == {"x_new_field": "1"}


def test_generated_methods_name_every_parameter_in_their_docstring() -> None:
    import importlib

    from zbooks.resources._catalog import MODULES

    checked = 0
    for attr, (_, sync_name, async_name, _) in MODULES.items():
        module = importlib.import_module(f"zbooks.resources.{attr}")
        for cls in (getattr(module, sync_name), getattr(module, async_name)):
            for name, method in vars(cls).items():
                if name.startswith("_") or not callable(method):
                    continue
                doc = method.__doc__ or ""
                for param in inspect.signature(method).parameters:
                    if param != "self":
                        assert f"    {param}: " in doc, f"{cls.__name__}.{name}: {param}"
                        checked += 1
    assert checked > 5000


def test_clients_document_every_argument() -> None:
    from zbooks import AsyncClient

    for cls in (Client, AsyncClient):
        doc = cls.__doc__ or ""
        for name in inspect.signature(cls.__init__).parameters:
            if name != "self":
                assert f"    {name}: " in doc, f"{cls.__name__}: {name}"
