"""Taxes, tax groups (and the rate table documents use), currencies and exchange rates."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from zbooks.sandbox.books.registry import BooksResponse
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger import currencies, taxes
from zbooks.sandbox.ledger.base import SEEDERS, Ledger
from zbooks.sandbox.ledger.organizations import get_organization
from zbooks.sandbox.ledger.totals import compute_totals

from .conftest import Call
from .oas import load_oas, requires_oas


def body_of(response: BooksResponse) -> dict[str, Any]:
    assert response.body is not None
    return response.body


def api_error(call: Call, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call(method, path, **kwargs)
    return caught.value


def new_tax(call: Call, name: str, percentage: Any, tax_type: str = "tax") -> dict[str, Any]:
    response = call(
        "POST",
        "/settings/taxes",
        body={"tax_name": name, "tax_percentage": percentage, "tax_type": tax_type},
    )
    assert response.status == 201
    tax: dict[str, Any] = body_of(response)["tax"]
    return tax


def new_group(call: Call, name: str, member_ids: str) -> dict[str, Any]:
    response = call(
        "POST", "/settings/taxgroups", body={"tax_group_name": name, "taxes": member_ids}
    )
    assert response.status == 201
    group: dict[str, Any] = body_of(response)["tax_group"]
    return group


# taxes -----------------------------------------------------------------------------------
def test_tax_crud(call: Call) -> None:
    response = call("POST", "/settings/taxes", body={"tax_name": "VAT", "tax_percentage": 20})
    body = body_of(response)
    assert (response.status, body["message"]) == (201, "The tax has been added.")
    tax = body["tax"]
    assert (tax["tax_name"], tax["tax_percentage"], tax["tax_type"]) == ("VAT", 20, "tax")
    assert (tax["tax_factor"], tax["tax_authority_name"], tax["is_value_added"]) == (
        "rate",
        "",
        False,
    )
    tax_id = tax["tax_id"]
    assert body_of(call("GET", f"/settings/taxes/{tax_id}"))["tax"]["tax_name"] == "VAT"
    updated = body_of(call("PUT", f"/settings/taxes/{tax_id}", body={"tax_percentage": 17.5}))
    assert updated["message"] == "Tax information has been saved."
    assert (updated["tax"]["tax_name"], updated["tax"]["tax_percentage"]) == ("VAT", 17.5)
    assert body_of(call("DELETE", f"/settings/taxes/{tax_id}"))["message"] == (
        "The record has been deleted."
    )
    error = api_error(call, "GET", f"/settings/taxes/{tax_id}")
    assert (error.status, error.code, error.message) == (404, 1002, "Tax does not exist.")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tax_percentage": 5}, "tax_name"),
        ({"tax_name": "T"}, "tax_percentage"),
        ({"tax_name": "T", "tax_percentage": "ten"}, "tax_percentage"),
        ({"tax_name": "T", "tax_percentage": 101}, "tax_percentage"),
        ({"tax_name": "T", "tax_percentage": -1}, "tax_percentage"),
        ({"tax_name": "T", "tax_percentage": 5, "tax_type": "vat"}, "tax_type"),
    ],
)
def test_tax_validation(call: Call, body: dict[str, Any], field: str) -> None:
    error = api_error(call, "POST", "/settings/taxes", body=body)
    assert (error.status, error.code, error.message) == (
        400,
        4,
        f"Invalid value passed for {field}",
    )


def test_duplicate_tax_name(call: Call) -> None:
    new_tax(call, "GST", 10)
    assert (
        api_error(
            call, "POST", "/settings/taxes", body={"tax_name": "gst", "tax_percentage": 5}
        ).code
        == 1001
    )


def test_tax_group_rates_members_and_compound(call: Call, ledger: Ledger) -> None:
    state = new_tax(call, "State", 6)
    city = new_tax(call, "City", 2)
    luxury = new_tax(call, "Luxury", 10, "compound_tax")
    group = new_group(call, "Combined", f"{state['tax_id']}, {city['tax_id']}")
    assert group["tax_group_name"] == "Combined"
    assert group["tax_group_percentage"] == 8
    assert [m["tax_name"] for m in group["taxes"]] == ["State", "City"]

    rates = taxes.tax_rates(ledger)
    assert set(rates) == {state["tax_id"], city["tax_id"], luxury["tax_id"], group["tax_group_id"]}
    combined = rates[group["tax_group_id"]]
    assert combined.percentage == Decimal(8)
    assert [m.tax_id for m in combined.members] == [state["tax_id"], city["tax_id"]]
    assert rates[luxury["tax_id"]].compound is True
    assert rates[state["tax_id"]].members == ()

    # The group's rate follows its members.
    call("PUT", f"/settings/taxes/{city['tax_id']}", body={"tax_percentage": 3})
    assert taxes.tax_rates(ledger)[group["tax_group_id"]].percentage == Decimal(9)
    fetched = body_of(call("GET", f"/settings/taxgroups/{group['tax_group_id']}"))["tax_group"]
    assert fetched["tax_group_percentage"] == 9

    # Documents compute with it: 100 at 6% + 3% -> 9 tax.
    doc = {"line_items": [{"rate": 100, "quantity": 1, "tax_id": group["tax_group_id"]}]}
    totals = compute_totals(doc, taxes.tax_rates(ledger), 2)
    assert (totals.tax_total, totals.total) == (Decimal("9.00"), Decimal("109.00"))
    assert {t["tax_name"] for t in totals.taxes} == {"State", "City"}


def test_tax_list_includes_groups(call: Call) -> None:
    a = new_tax(call, "A", 1)
    b = new_tax(call, "B", 2)
    new_group(call, "AB", f"{a['tax_id']},{b['tax_id']}")
    body = body_of(call("GET", "/settings/taxes"))
    rows = {t["tax_name"]: t for t in body["taxes"]}
    assert set(rows) == {"A", "B", "AB"}
    assert (rows["AB"]["tax_type"], rows["AB"]["tax_percentage"]) == ("tax_group", 3)
    assert body["page_context"]["report_name"] == "Taxes"
    only = body_of(call("GET", "/settings/taxes", query={"tax_type": "tax_group"}))["taxes"]
    assert [t["tax_name"] for t in only] == ["AB"]


def test_tax_group_validation_and_update(call: Call) -> None:
    a = new_tax(call, "A", 1)
    b = new_tax(call, "B", 2)
    for members in ("", "999", f"{a['tax_id']},{a['tax_id']}"):
        error = api_error(
            call, "POST", "/settings/taxgroups", body={"tax_group_name": "G", "taxes": members}
        )
        assert error.message == "Invalid value passed for taxes"
    group = new_group(call, "G", a["tax_id"])
    nested = api_error(
        call,
        "POST",
        "/settings/taxgroups",
        body={"tax_group_name": "G2", "taxes": group["tax_group_id"]},
    )
    assert nested.code == 4  # a group cannot contain a group
    updated = body_of(
        call(
            "PUT",
            f"/settings/taxgroups/{group['tax_group_id']}",
            body={"taxes": f"{a['tax_id']},{b['tax_id']}"},
        )
    )["tax_group"]
    assert (updated["tax_group_name"], updated["tax_group_percentage"]) == ("G", 3)
    assert api_error(call, "GET", f"/settings/taxgroups/{a['tax_id']}").status == 404


def test_tax_in_use_cannot_be_deleted(call: Call, ledger: Ledger) -> None:
    a = new_tax(call, "A", 1)
    b = new_tax(call, "B", 2)
    c = new_tax(call, "C", 3)
    group = new_group(call, "G", a["tax_id"])
    assert api_error(call, "DELETE", f"/settings/taxes/{a['tax_id']}").status == 400
    call("POST", "/items", body={"name": "Taxed", "rate": 1, "tax_id": b["tax_id"]})
    assert api_error(call, "DELETE", f"/settings/taxes/{b['tax_id']}").status == 400
    ledger.store.insert(
        "invoices",
        ledger.store.new_id(),
        {"line_items": [{"tax_id": c["tax_id"]}]},
        ledger.now(),
    )
    assert api_error(call, "DELETE", f"/settings/taxes/{c['tax_id']}").status == 400
    response = call("DELETE", f"/settings/taxgroups/{group['tax_group_id']}")
    assert body_of(response)["message"] == "The tax group has been deleted."
    call("DELETE", f"/settings/taxes/{a['tax_id']}")
    assert a["tax_id"] not in taxes.tax_rates(ledger)


def test_tax_seeder(ledger: Ledger) -> None:
    ids = SEEDERS["taxes"](ledger, 5, random.Random(3))
    assert len(ids) == 5
    rates = taxes.tax_rates(ledger)
    groups = [r for r in rates.values() if r.members]
    assert len(groups) == 1 and len(groups[0].members) == 2
    again = SEEDERS["taxes"](ledger, 3, random.Random(3))
    names = [t["tax_name"] for t in ledger.store.find("taxes", [])]
    assert len(again) == 3 and len(set(names)) == 8


# currencies ------------------------------------------------------------------------------
def test_base_currency_is_created_lazily(call: Call, ledger: Ledger) -> None:
    assert ledger.store.count("currencies") == 0
    body = body_of(call("GET", "/settings/currencies"))
    assert [c["currency_code"] for c in body["currencies"]] == ["USD"]
    base = body["currencies"][0]
    assert base["is_base_currency"] is True
    assert (base["currency_name"], base["exchange_rate"]) == ("USD- US Dollar", 1.0)
    org = get_organization(ledger.db, ledger.org_id)
    assert org is not None and org["currency_id"] == base["currency_id"]
    body_of(call("GET", "/settings/currencies"))
    assert ledger.store.count("currencies") == 1  # created once


def test_currency_crud_and_rules(call: Call, ledger: Ledger) -> None:
    response = call(
        "POST",
        "/settings/currencies",
        body={"currency_code": "eur", "currency_format": "1.234.567,89", "price_precision": 2},
    )
    body = body_of(response)
    assert (response.status, body["message"]) == (201, "The currency has been added.")
    eur = body["currency"]
    assert (eur["currency_code"], eur["currency_name"], eur["is_base_currency"]) == (
        "EUR",
        "EUR- Euro",
        False,
    )
    assert (
        api_error(
            call,
            "POST",
            "/settings/currencies",
            body={"currency_code": "EUR", "currency_format": "1,234,567.89"},
        ).code
        == 1001
    )
    assert (
        api_error(
            call,
            "POST",
            "/settings/currencies",
            body={"currency_code": "XYZ", "currency_format": "1,234,567.89"},
        ).message
        == "Invalid value passed for currency_code"
    )
    assert (
        api_error(call, "POST", "/settings/currencies", body={"currency_code": "GBP"}).message
        == "Invalid value passed for currency_format"
    )

    updated = body_of(
        call("PUT", f"/settings/currencies/{eur['currency_id']}", body={"currency_symbol": "EUR"})
    )
    assert updated["message"] == "Currency information has been saved."
    assert updated["currency"]["currency_symbol"] == "EUR"

    base_id = currencies.ensure_base_currency(ledger)["currency_id"]
    assert api_error(call, "DELETE", f"/settings/currencies/{base_id}").status == 400
    assert (
        api_error(
            call, "PUT", f"/settings/currencies/{base_id}", body={"currency_code": "GBP"}
        ).status
        == 400
    )
    excluded = body_of(
        call(
            "GET",
            "/settings/currencies",
            query={"filter_by": "Currencies.ExcludeBaseCurrency"},
        )
    )["currencies"]
    assert [c["currency_code"] for c in excluded] == ["EUR"]

    call("POST", "/contacts", body={"contact_name": "Euro", "currency_id": eur["currency_id"]})
    assert api_error(call, "DELETE", f"/settings/currencies/{eur['currency_id']}").status == 400
    gbp = body_of(
        call(
            "POST",
            "/settings/currencies",
            body={"currency_code": "GBP", "currency_format": "1,234,567.89"},
        )
    )["currency"]
    response = call("DELETE", f"/settings/currencies/{gbp['currency_id']}")
    assert body_of(response)["message"] == "The currency has been deleted."
    error = api_error(call, "GET", f"/settings/currencies/{gbp['currency_id']}")
    assert (error.status, error.message) == (404, "Currency does not exist.")


def test_exchange_rates(call: Call, ledger: Ledger) -> None:
    cad = body_of(
        call(
            "POST",
            "/settings/currencies",
            body={"currency_code": "CAD", "currency_format": "1,234,567.89"},
        )
    )["currency"]
    base = f"/settings/currencies/{cad['currency_id']}/exchangerates"
    today = date.fromisoformat(ledger.today())
    last_month = (today - timedelta(days=30)).isoformat()
    tomorrow = (today + timedelta(days=1)).isoformat()
    response = call("POST", base, body={"effective_date": last_month, "rate": 0.7})
    assert (response.status, body_of(response)["message"]) == (
        201,
        "The exchange rate has been added.",
    )
    old = body_of(response)["exchange_rate"]
    future = body_of(call("POST", base, body={"effective_date": tomorrow, "rate": 0.9}))[
        "exchange_rate"
    ]
    listed = body_of(call("GET", base))["exchange_rates"]
    assert [r["rate"] for r in listed] == [0.9, 0.7]  # latest effective date first
    current = body_of(call("GET", base, query={"is_current_date": "true"}))["exchange_rates"]
    assert [r["exchange_rate_id"] for r in current] == [old["exchange_rate_id"]]

    assert currencies.exchange_rate_on(ledger, cad["currency_id"]) == Decimal("0.7")
    assert currencies.exchange_rate_on(ledger, cad["currency_id"], tomorrow) == Decimal("0.9")
    row = next(
        c
        for c in body_of(call("GET", "/settings/currencies"))["currencies"]
        if c["currency_code"] == "CAD"
    )
    assert (row["exchange_rate"], row["effective_date"]) == (0.7, last_month)

    one = f"{base}/{old['exchange_rate_id']}"
    assert body_of(call("GET", one))["exchange_rate"]["rate"] == 0.7
    response = call("PUT", one, body={"rate": 0.72})
    assert body_of(response)["message"] == "The exchange rate has been updated."
    assert currencies.exchange_rate_on(ledger, cad["currency_id"]) == Decimal("0.72")
    response = call("DELETE", f"{base}/{future['exchange_rate_id']}")
    assert body_of(response)["message"] == "Exchange rate successfully deleted"
    assert len(body_of(call("GET", base))["exchange_rates"]) == 1

    assert api_error(call, "POST", base, body={"effective_date": "soon", "rate": 1}).code == 4
    assert api_error(call, "POST", base, body={"effective_date": last_month, "rate": 0}).code == 4
    usd = currencies.ensure_base_currency(ledger)["currency_id"]
    assert currencies.exchange_rate_on(ledger, usd) == Decimal(1)
    error = api_error(
        call,
        "POST",
        f"/settings/currencies/{usd}/exchangerates",
        body={"effective_date": last_month, "rate": 2},
    )
    assert error.status == 400


def test_currency_seeder(ledger: Ledger) -> None:
    ids = SEEDERS["currencies"](ledger, 3, random.Random(5))
    codes = [c["currency_code"] for c in ledger.store.find("currencies", [])]
    assert codes == ["USD", "EUR", "GBP", "CAD"]
    assert len(ids) == 3
    for currency_id in ids:
        rate = currencies.exchange_rate_on(ledger, currency_id)
        assert Decimal("0.5") < rate < Decimal("1.5")
    SEEDERS["currencies"](ledger, 2, random.Random(5))
    assert ledger.store.count("currencies") == 6


@requires_oas
def test_every_tax_and_currency_operation_matches_the_oas(call: Call, ledger: Ledger) -> None:
    """Documented status and a body valid against Zoho's OAS for each operation."""
    index = load_oas()
    problems: list[str] = []

    def checked(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = call(method, path, **kwargs)
        op = index.find(method, path)
        assert op is not None, (method, path)
        assert response.status == op.status, (method, path, response.status)
        problems.extend(index.validate(method, path, response.body))
        return body_of(response)

    tax = checked("POST", "/settings/taxes", body={"tax_name": "VAT", "tax_percentage": 20})
    tid = tax["tax"]["tax_id"]
    checked("GET", "/settings/taxes")
    checked("GET", f"/settings/taxes/{tid}")
    checked("PUT", f"/settings/taxes/{tid}", body={"tax_percentage": 19})
    group = checked("POST", "/settings/taxgroups", body={"tax_group_name": "G", "taxes": tid})
    gid = group["tax_group"]["tax_group_id"]
    checked("GET", "/settings/taxes")
    checked("GET", f"/settings/taxgroups/{gid}")
    checked("PUT", f"/settings/taxgroups/{gid}", body={"tax_group_name": "G2"})
    checked("DELETE", f"/settings/taxgroups/{gid}")
    checked("DELETE", f"/settings/taxes/{tid}")

    checked("GET", "/settings/currencies")
    eur = checked(
        "POST",
        "/settings/currencies",
        body={"currency_code": "EUR", "currency_format": "1,234,567.89"},
    )["currency"]
    base = f"/settings/currencies/{eur['currency_id']}"
    checked("GET", base)
    checked("PUT", base, body={"price_precision": 3})
    rate = checked(
        "POST", f"{base}/exchangerates", body={"effective_date": ledger.today(), "rate": 1.1}
    )["exchange_rate"]
    checked("GET", f"{base}/exchangerates")
    checked("GET", f"{base}/exchangerates/{rate['exchange_rate_id']}")
    checked("PUT", f"{base}/exchangerates/{rate['exchange_rate_id']}", body={"rate": 1.2})
    checked("DELETE", f"{base}/exchangerates/{rate['exchange_rate_id']}")
    checked("GET", "/settings/currencies")
    checked("DELETE", base)
    assert problems == []
