"""zbooks.preview: the exact request for an operation, the diff, masked secrets."""

from __future__ import annotations

import pytest

from zbooks.mcp.catalog import find
from zbooks.preview import (
    ArgumentError,
    build_request,
    diff,
    mask_secrets,
    reader_for,
    record_of,
)


def test_update_request_fills_path_converts_query_and_keeps_body() -> None:
    op = find("invoices.update")
    request = build_request(
        op,
        {
            "invoice_id": "46/0",
            "ignore_auto_number_generation": True,
            "body": {"notes": "n", "line_items": [{"item_id": "1", "rate": 2}]},
        },
    )
    assert request.method == "PUT"
    assert request.path == "/invoices/46%2F0"  # one path segment, escaped
    assert request.params == {"ignore_auto_number_generation": "true"}
    assert request.json == {"notes": "n", "line_items": [{"item_id": "1", "rate": 2}]}
    shown = request.describe(api_url="https://books.example/books/v3", organization_id="42")
    assert shown["url"] == (
        "https://books.example/books/v3/invoices/46%2F0"
        "?ignore_auto_number_generation=true&organization_id=42"
    )
    assert shown["headers"]["Authorization"] == "Zoho-oauthtoken ***"
    assert request.request_kwargs() == {
        "method": "PUT",
        "path": "/invoices/46%2F0",
        "params": {"ignore_auto_number_generation": "true"},
        "json": request.json,
        "headers": None,
    }


def test_unknown_parameter_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ArgumentError) as info:
        build_request(find("invoices.list"), {"stauts": "overdue"})
    assert "stauts" in info.value.message
    assert "Did you mean status?" in info.value.hint


def test_missing_path_parameter_and_body_on_get_are_refused() -> None:
    with pytest.raises(ArgumentError, match="needs invoice_id"):
        build_request(find("invoices.get"), {})
    with pytest.raises(ArgumentError, match="takes no body"):
        build_request(find("invoices.get"), {"invoice_id": "1", "body": {"x": 1}})
    with pytest.raises(ArgumentError, match="needs a body with"):
        build_request(find("contacts.create"), {})


def test_reader_of_an_update_is_the_get_on_the_same_path() -> None:
    reader = reader_for(find("contacts.update"))
    assert reader is not None and (reader.module, reader.method) == ("contacts", "get")
    assert reader_for(find("contacts.create")) is None
    assert record_of(reader, {"code": 0, "contact": {"contact_id": "1"}}) == {"contact_id": "1"}


def test_diff_reports_only_changed_fields_nested_by_path() -> None:
    current = {
        "contact_name": "Acme",
        "payment_terms": 30,
        "billing_address": {"city": "Austin", "zip": "73301"},
        "notes": "",
    }
    change = {
        "contact_name": "Acme",
        "payment_terms": "30",  # Zoho reads "30" and 30 alike: no change
        "billing_address": {"city": "Dallas"},
        "notes": "VIP",
    }
    assert diff(current, change) == [
        {"field": "billing_address.city", "before": "Austin", "after": "Dallas"},
        {"field": "notes", "before": "", "after": "VIP"},
    ]


def test_secrets_are_masked_everywhere_they_appear() -> None:
    masked = mask_secrets(
        {"refresh_token": "1000.abc", "nested": [{"client_secret": "s3"}], "name": "x"}
    )
    assert masked == {"refresh_token": "***", "nested": [{"client_secret": "***"}], "name": "x"}
    request = build_request(
        find("contacts.create"), {"body": {"contact_name": "A", "password": "p"}}
    )
    assert request.describe()["json"] == {"contact_name": "A", "password": "***"}
    assert request.json["password"] == "p"  # only the preview is masked, not what is sent


def test_header_parameters_travel_as_headers_and_files_are_refused() -> None:
    op = find("contacts.upsert")
    names = {p.name: p.python_name for p in op.header_params}
    request = build_request(
        op,
        {
            names["X-Unique-Identifier-Key"]: "cf_ref",
            names["X-Unique-Identifier-Value"]: "A-1",
            "body": {"contact_name": "A"},
        },
    )
    assert request.headers == {
        "X-Unique-Identifier-Key": "cf_ref",
        "X-Unique-Identifier-Value": "A-1",
    }
    assert request.params == {}
    assert request.request_kwargs()["headers"] == request.headers
    assert request.describe()["headers"]["X-Unique-Identifier-Key"] == "cf_ref"
    with pytest.raises(ArgumentError, match="uploads attachment as a file"):
        build_request(find("bills.add_attachment"), {"bill_id": "1", "attachment": "x"})
