"""Generated models: every documented response example parses, and values round-trip to
the JSON Zoho expects (exact amounts, ``yyyy-mm-dd`` dates, ``-0800`` timestamps)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from pydantic import ValidationError

from zbooks import Client
from zbooks.models import Contact, Invoice, ZohoEnum, ZohoModel
from zbooks.models.bills import BillStatus
from zbooks.models.invoices import CreateInvoiceRequest, InvoiceLineItem, InvoiceStatus
from zbooks.resources import Operation, bind, operations

from .test_operations import requires_oas, response_example

PST = timezone(timedelta(hours=-8))


# --- (b) every documented example parses --------------------------------------------------


def _call_with(op: Operation, envelope: dict[str, Any]) -> Any:
    """Run the generated method against a transport that answers with ``envelope``."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=envelope)

    client = Client(
        access_token="1000.token",
        organization_id="10234695",
        api_url="https://books.test/books/v3",
        rate_limiter=False,
        transport=httpx2.MockTransport(answer),
        env={},
    )
    method = getattr(bind(client, op.module), op.method)
    args = ["982000000567114"] * len(op.path_params)
    dummy = {"int": 1, "bool": True, "number": 1}
    kwargs = {
        p.python_name: dummy.get(p.kind, "1")
        for p in op.params
        if p.required and p.location in ("query", "header")
    }
    result = method(*args, **kwargs)
    return list(result) if op.paginated else result


def _documented_object(op: Operation, envelope: dict[str, Any]) -> bool:
    """Whether the example documents an object (or list of objects) to parse."""
    if op.returns == "record":
        return True
    value = next((envelope[k] for k in op.keys if k in envelope), None)
    if value is None and op.returns == "model":
        value = {k: v for k, v in envelope.items() if k not in ("code", "message")} or None
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, dict) for v in value)
    return isinstance(value, dict)


@requires_oas
def test_every_documented_response_example_parses_into_its_model() -> None:
    checked = 0
    for op in operations():
        if op.returns in ("envelope", "bytes"):
            continue
        envelope = response_example(op)
        if envelope is None or not _documented_object(op, envelope):
            continue
        envelope = {**envelope, "code": 0, "message": "success"}
        result = _call_with(op, envelope)
        parsed = result if isinstance(result, list) else [result]
        assert all(isinstance(item, ZohoModel) for item in parsed), op.method
        assert type(parsed[0]).__name__ == op.model if parsed else True
        checked += 1
    print(f"\n{checked} documented response examples parsed into their models")
    assert checked > 350


@requires_oas
def test_invoice_example_keeps_documented_values() -> None:
    (get,) = [op for op in operations("invoices") if op.method == "get"]
    envelope = response_example(get)
    assert envelope is not None
    invoice = _call_with(get, {**envelope, "code": 0})
    documented = envelope["invoice"]
    assert invoice.invoice_id == str(documented["invoice_id"])
    assert invoice.total == Decimal(str(documented["total"]))
    assert isinstance(invoice.date, date)
    assert isinstance(invoice.line_items[0], InvoiceLineItem)


# --- (e) round trips -------------------------------------------------------------------------


def test_money_is_decimal_without_float_noise() -> None:
    invoice = Invoice.model_validate(
        {"invoice_id": "1", "total": 0.1, "balance": "12.50", "sub_total": 1e-07}
    )
    assert invoice.total == Decimal("0.1")
    assert invoice.balance == Decimal("12.50")
    assert invoice.sub_total == Decimal("1E-7")
    out = json.loads(invoice.to_json())
    assert out["total"] == 0.1 and out["balance"] == 12.5
    assert isinstance(out["total"], float)  # a JSON number, never a quoted string


def test_money_survives_dict_and_json_round_trip_exactly() -> None:
    amounts = ["0.1", "0.2", "1234567.89", "99.995", "-40.60", "0"]
    for amount in amounts:
        source = {"invoice_id": "1", "total": float(amount)}
        invoice = Invoice.model_validate(source)
        assert invoice.total == Decimal(amount)
        again = Invoice.model_validate_json(invoice.to_json())
        assert again.total == Decimal(amount)
    assert Invoice.model_validate({"invoice_id": "1", "total": 12}).to_dict()["total"] == 12


def test_zoho_timestamp_with_offset_is_aware_and_written_back_the_same() -> None:
    stamp = "2023-11-18T02:02:51-0800"
    invoice = Invoice.model_validate({"invoice_id": "1", "last_modified_time": stamp})
    assert invoice.last_modified_time == datetime(2023, 11, 18, 2, 2, 51, tzinfo=PST)
    assert invoice.last_modified_time is not None
    assert invoice.last_modified_time.utcoffset() == timedelta(hours=-8)
    assert json.loads(invoice.to_json())["last_modified_time"] == stamp
    assert invoice.model_dump(mode="json")["last_modified_time"] == stamp
    assert Invoice.model_validate_json(invoice.to_json()).last_modified_time == (
        invoice.last_modified_time
    )


def test_other_timestamp_spellings_parse() -> None:
    for text in ("2013-11-18T00:00:00Z", "2013-11-18T00:00:00+00:00", "2013-11-18 00:00:00+0000"):
        parsed = Invoice.model_validate({"invoice_id": "1", "created_time": text}).created_time
        assert parsed == datetime(2013, 11, 18, tzinfo=UTC), text


def test_dates_parse_and_serialise_as_yyyy_mm_dd() -> None:
    invoice = Invoice.model_validate({"invoice_id": "1", "date": "2024-02-29", "due_date": ""})
    assert invoice.date == date(2024, 2, 29)
    assert invoice.due_date is None  # Zoho sends "" for "no date"
    assert json.loads(invoice.to_json())["date"] == "2024-02-29"
    with pytest.raises(ValidationError):
        Invoice.model_validate({"invoice_id": "1", "date": "29/02/2024"})


def test_ids_are_strings_even_from_integers() -> None:
    invoice = Invoice.model_validate(
        {"invoice_id": 982000000567114, "customer_id": 460000000026049}
    )
    assert invoice.invoice_id == "982000000567114"
    assert invoice.customer_id == "460000000026049"


def test_main_model_requires_its_id_other_fields_are_optional() -> None:
    with pytest.raises(ValidationError):
        Invoice.model_validate({"total": 1})
    assert Invoice.model_validate({"invoice_id": "1"}).total is None
    assert Contact.model_validate({"contact_id": "2"}).contact_name is None


def test_unknown_fields_are_kept_and_round_trip() -> None:
    invoice = Invoice.model_validate({"invoice_id": "1", "cf_brand_new_field": {"x": [1, 2]}})
    assert invoice.model_extra == {"cf_brand_new_field": {"x": [1, 2]}}
    assert invoice.to_dict()["cf_brand_new_field"] == {"x": [1, 2]}


def test_status_enums_tolerate_values_zoho_adds_later() -> None:
    known = Invoice.model_validate({"invoice_id": "1", "status": "partially_paid"})
    assert known.status is InvoiceStatus.PARTIALLY_PAID
    assert isinstance(known.status, ZohoEnum)
    novel = Invoice.model_validate({"invoice_id": "1", "status": "in_dispute"})
    assert novel.status == "in_dispute"
    assert json.loads(novel.to_json())["status"] == "in_dispute"
    assert json.loads(known.to_json())["status"] == "partially_paid"
    assert BillStatus("overdue") == "overdue"


def test_percentage_discounts_stay_text_and_amounts_stay_numbers() -> None:
    line = InvoiceLineItem.model_validate({"discount": "10%", "rate": "99.5"})
    assert line.discount == "10%"
    assert line.rate == Decimal("99.5")
    flat = InvoiceLineItem.model_validate({"discount": 5})
    assert flat.discount == Decimal("5")
    assert json.loads(flat.to_json()) == {"discount": 5}


def test_request_model_serialises_only_what_was_set_by_zoho_names() -> None:
    body = CreateInvoiceRequest.model_validate(
        {
            "customer_id": "460000000026049",
            "date": date(2024, 3, 1),
            "line_items": [{"item_id": 982000000030049, "rate": Decimal("10.10"), "quantity": 3}],
        }
    )
    assert body.to_dict() == {
        "customer_id": "460000000026049",
        "date": date(2024, 3, 1),
        "line_items": [{"item_id": "982000000030049", "rate": Decimal("10.10"), "quantity": 3}],
    }
    assert json.loads(body.to_json()) == {
        "customer_id": "460000000026049",
        "date": "2024-03-01",
        "line_items": [{"item_id": "982000000030049", "rate": 10.1, "quantity": 3}],
    }
    assert "customer_id" in CreateInvoiceRequest.required_fields


def test_repr_shows_only_set_fields() -> None:
    text = repr(Invoice.model_validate({"invoice_id": "7", "total": 1}))
    assert text == "Invoice(invoice_id='7', total=Decimal('1'))"


def test_package_exports_main_models_lazily() -> None:
    import zbooks.models as models

    assert models.Invoice is Invoice
    assert models.CustomerPayment.__module__ == "zbooks.models.customer_payments"
    with pytest.raises(AttributeError):
        _ = models.NoSuchModel


def test_building_every_model_leaves_the_shared_field_schemas_as_they_were() -> None:
    """Each alias (``Money``, ``Str``, ...) generates its core schema once and every field
    gets a shallow copy; if pydantic ever edited a nested part of one field's schema,
    every other field of that alias would change with it. Fresh process: the aliases'
    schemas are generated here, snapshotted, then every model of every module is built."""
    code = """
import copy, importlib, inspect, pkgutil, typing
from pydantic import BaseModel, TypeAdapter
import zbooks.models as package
from zbooks.models import types
from zbooks.models.base import ZohoModel

aliases = {n: getattr(types, n) for n in ("Money", "Discount", "ZohoDate", "ZohoDateTime",
                                          "Bool", "Int", "Str", "Id")}
class Probe(BaseModel):
    __annotations__ = {name.lower(): alias for name, alias in aliases.items()}
TypeAdapter(Probe)
once = {n: a.__metadata__[0] for n, a in aliases.items()}
before = {n: copy.deepcopy(o.schema) for n, o in once.items()}
assert all(before.values()), before
built = 0
for info in pkgutil.iter_modules(package.__path__):
    skip = info.name in ("types", "base", "parse", "wire", "lazy")
    if skip or info.name.startswith(("_dicts", "_index")):
        continue
    module = importlib.import_module(f"zbooks.models.{info.name}")
    for cls in vars(module).values():
        ours = inspect.isclass(cls) and cls.__module__ == module.__name__
        if ours and issubclass(cls, ZohoModel):
            TypeAdapter(list[cls])
            built += 1
assert built > 1000, built
changed = [n for n, o in once.items() if o.schema != before[n]]
assert not changed, changed
"""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", code], check=True)
