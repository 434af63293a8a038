"""Items: validation, tax embedding, delete protection, list filters/sorting, line
defaults for documents, bulk details and seeding."""

from __future__ import annotations

import random
from typing import Any

import pytest

from zbooks.sandbox.books.registry import BooksResponse
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger import items
from zbooks.sandbox.ledger.base import SEEDERS, Ledger

from .conftest import Call
from .oas import load_oas, requires_oas


def body_of(response: BooksResponse) -> dict[str, Any]:
    assert response.body is not None
    return response.body


def new_item(
    call: Call, name: str = "Hard Drive", rate: Any = 120, **fields: Any
) -> dict[str, Any]:
    response = call("POST", "/items", body={"name": name, "rate": rate, **fields})
    assert response.status == 201
    item: dict[str, Any] = body_of(response)["item"]
    return item


def new_tax(call: Call, name: str = "Sales Tax", percentage: float = 10) -> str:
    body = body_of(
        call("POST", "/settings/taxes", body={"tax_name": name, "tax_percentage": percentage})
    )
    return str(body["tax"]["tax_id"])


def api_error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


def test_create_returns_every_field(call: Call) -> None:
    response = call(
        "POST", "/items", body={"name": "Hard Drive", "rate": "120.5", "sku": "s1", "unit": "Nos"}
    )
    body = body_of(response)
    assert (response.status, body["message"]) == (201, "The item has been added.")
    item = body["item"]
    assert item["item_id"].isdigit()
    assert (item["name"], item["rate"], item["status"]) == ("Hard Drive", 120.5, "active")
    assert (item["sku"], item["unit"], item["product_type"]) == ("s1", "Nos", "goods")
    for field in ("tax_id", "tax_name", "purchase_tax_rule_id", "hsn_or_sac"):
        assert item[field] == ""
    assert item["tax_percentage"] == 0
    assert item["item_tax_preferences"] == [] and item["locations"] == []
    assert body_of(call("GET", f"/items/{item['item_id']}"))["item"] == item


def test_name_and_rate_are_required(call: Call) -> None:
    assert api_error(call, "POST", "/items", body={"rate": 1}).message == (
        "Invalid value passed for name"
    )
    assert api_error(call, "POST", "/items", body={"name": "X"}).message == (
        "Invalid value passed for rate"
    )
    assert api_error(call, "POST", "/items", body={"name": "X", "rate": "abc"}).code == 4
    assert api_error(call, "POST", "/items", body={"name": "X", "rate": -1}).code == 4
    error = api_error(call, "POST", "/items", body={"name": "X", "rate": 1, "product_type": "x"})
    assert error.message == "Invalid value passed for product_type"


def test_duplicate_name_is_rejected(call: Call) -> None:
    new_item(call, "Hard Drive")
    error = api_error(call, "POST", "/items", body={"name": "hard drive", "rate": 1})
    assert (error.status, error.code) == (400, 1001)
    other = new_item(call, "SSD")
    error = api_error(call, "PUT", f"/items/{other['item_id']}", body={"name": "HARD DRIVE"})
    assert error.code == 1001


def test_tax_fields_come_from_the_tax(call: Call) -> None:
    tax_id = new_tax(call, "Sales Tax", 8.25)
    item = new_item(call, tax_id=tax_id)
    assert (item["tax_id"], item["tax_name"], item["tax_type"]) == (tax_id, "Sales Tax", "tax")
    assert item["tax_percentage"] == 8.25
    error = api_error(call, "POST", "/items", body={"name": "B", "rate": 1, "tax_id": "999"})
    assert error.message == "Invalid value passed for tax_id"
    cleared = body_of(call("PUT", f"/items/{item['item_id']}", body={"tax_id": ""}))["item"]
    assert (cleared["tax_id"], cleared["tax_name"], cleared["tax_percentage"]) == ("", "", 0)


def test_update_is_partial(call: Call, ledger: Ledger) -> None:
    item = new_item(call, description="500GB", sku="s1")
    ledger.clock.advance(10)
    body = body_of(call("PUT", f"/items/{item['item_id']}", body={"rate": 99}))
    assert body["message"] == "Item details have been saved."
    updated = body["item"]
    assert (updated["rate"], updated["description"], updated["sku"]) == (99, "500GB", "s1")
    assert updated["last_modified_time"] > item["last_modified_time"]
    error = api_error(call, "PUT", "/items/460000000099999", body={"rate": 1})
    assert (error.status, error.code, error.message) == (404, 1002, "Item does not exist.")


def test_item_used_by_a_document_cannot_be_deleted(call: Call, ledger: Ledger) -> None:
    used = new_item(call, "Used")
    free = new_item(call, "Free")
    ledger.store.insert(
        "bills",
        ledger.store.new_id(),
        {"line_items": [{"item_id": "other"}, {"item_id": used["item_id"], "rate": 1}]},
        ledger.now(),
    )
    error = api_error(call, "DELETE", f"/items/{used['item_id']}")
    assert (error.status, error.code) == (400, 4)
    assert items.get_item(ledger, used["item_id"])["name"] == "Used"
    response = call("DELETE", f"/items/{free['item_id']}")
    assert body_of(response)["message"] == "The item has been deleted."
    assert api_error(call, "GET", f"/items/{free['item_id']}").status == 404


def test_status_actions_and_list_filters(call: Call) -> None:
    a = new_item(call, "Alpha", 30)
    new_item(call, "Beta", 10)
    new_item(call, "Gamma", 20, description="gigabit router")
    response = call("POST", f"/items/{a['item_id']}/inactive")
    assert body_of(response)["message"] == "The item has been marked as inactive."

    def names(query: dict[str, str]) -> list[str]:
        return [i["name"] for i in body_of(call("GET", "/items", query=query))["items"]]

    assert names({"filter_by": "Status.Inactive"}) == ["Alpha"]
    assert names({"filter_by": "Status.Active"}) == ["Beta", "Gamma"]
    assert names({}) == ["Alpha", "Beta", "Gamma"]  # name, A to Z, by default
    assert names({"sort_column": "rate", "sort_order": "A"}) == ["Beta", "Gamma", "Alpha"]
    assert names({"sort_column": "rate", "sort_order": "D"}) == ["Alpha", "Gamma", "Beta"]
    assert names({"name_startswith": "GA"}) == ["Gamma"]
    assert names({"name_contains": "ET"}) == ["Beta"]
    assert names({"search_text": "router"}) == ["Gamma"]
    assert names({"rate_greater_than": "15"}) == ["Alpha", "Gamma"]
    response = call("POST", f"/items/{a['item_id']}/active")
    assert body_of(response)["message"] == "The item has been marked as active."
    assert names({"filter_by": "Status.Inactive"}) == []
    body = body_of(call("GET", "/items", query={"per_page": "1"}))
    assert body["page_context"]["has_more_page"] is True
    assert body["page_context"]["sort_column"] == "name"
    assert set(body["items"][0]) >= {"item_id", "tax_percentage", "sku", "product_type"}
    assert api_error(call, "GET", "/items", query={"sort_column": "sku_x"}).code == 4


def test_sort_by_tax_name(call: Call) -> None:
    vat = new_tax(call, "VAT", 20)
    gst = new_tax(call, "GST", 5)
    new_item(call, "One", tax_id=vat)
    new_item(call, "Two", tax_id=gst)
    body = body_of(call("GET", "/items", query={"sort_column": "tax_name", "sort_order": "A"}))
    assert [i["name"] for i in body["items"]] == ["Two", "One"]


def test_line_defaults_fill_only_missing_fields(call: Call, ledger: Ledger) -> None:
    tax_id = new_tax(call)
    item = new_item(call, "Widget", 25, description="Blue", unit="pcs", tax_id=tax_id)
    filled = items.line_defaults(ledger, {"item_id": item["item_id"], "quantity": 2})
    assert (filled["name"], filled["description"], filled["rate"]) == ("Widget", "Blue", 25)
    assert (filled["unit"], filled["tax_id"], filled["product_type"]) == ("pcs", tax_id, "goods")
    assert filled["quantity"] == 2
    own = items.line_defaults(
        ledger,
        {"item_id": item["item_id"], "rate": 0, "description": "Custom", "tax_id": ""},
    )
    assert (own["rate"], own["description"], own["tax_id"]) == (0, "Custom", "")
    free = {"name": "Free text", "rate": 3}
    assert items.line_defaults(ledger, free) == free
    with pytest.raises(ApiError) as caught:
        items.line_defaults(ledger, {"item_id": "460000000099999"})
    assert caught.value.message == "Item does not exist."


def test_item_details_and_unknown_ids(call: Call) -> None:
    a = new_item(call, "A")
    b = new_item(call, "B")
    body = body_of(
        call("GET", "/itemdetails", query={"item_ids": f"{b['item_id']},{a['item_id']}"})
    )
    assert [i["name"] for i in body["items"]] == ["B", "A"]
    assert api_error(call, "GET", "/itemdetails", query={"item_ids": "1"}).status == 404
    assert api_error(call, "GET", "/itemdetails").code == 4


def test_seeder_makes_unique_taxed_items(ledger: Ledger) -> None:
    SEEDERS["taxes"](ledger, 4, random.Random(1))
    ids = SEEDERS["items"](ledger, 400, random.Random(2))
    assert len(ids) == 400
    stored = ledger.store.find("items", [])
    assert len({i["name"].casefold() for i in stored}) == 400
    tax_ids = set(ledger.store.ids("taxes"))
    taxed = [i for i in stored if i["tax_id"]]
    assert taxed and all(i["tax_id"] in tax_ids for i in taxed)
    assert {i["product_type"] for i in stored} == {"goods", "service"}
    assert all(i["rate"] > 0 for i in stored)
    more = SEEDERS["items"](ledger, 10, random.Random(2))
    assert len({i["name"] for i in ledger.store.find("items", [])}) == 410
    assert len(more) == 10


@requires_oas
def test_every_item_operation_matches_the_oas(call: Call) -> None:
    """Documented status and a body valid against Zoho's OAS for each item operation."""
    index = load_oas()
    problems: list[str] = []

    def checked(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = call(method, path, **kwargs)
        op = index.find(method, path)
        assert op is not None, (method, path)
        assert response.status == op.status, (method, path, response.status)
        problems.extend(index.validate(method, path, response.body))
        return body_of(response)

    tax_id = new_tax(call)
    item = checked("POST", "/items", body={"name": "Hard Drive", "rate": 120, "tax_id": tax_id})
    iid = item["item"]["item_id"]
    checked("GET", f"/items/{iid}")
    checked("GET", "/items")
    checked("GET", "/itemdetails", query={"item_ids": iid})
    checked("PUT", f"/items/{iid}", body={"rate": 99.5})
    checked("POST", f"/items/{iid}/inactive")
    checked("POST", f"/items/{iid}/active")
    checked("DELETE", f"/items/{iid}")
    assert problems == []
