"""Stateful modules against Zoho's OpenAPI files: a scripted scenario per module
(create -> get -> list -> update -> actions -> delete), every response checked for the
documented HTTP status and validated against the operation's 2xx schema.

Data-driven: a scenario runs only when its module is implemented by a stateful route
module (not the generic store), so modules still being written join by themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.sandbox.conftest import Call
from tests.sandbox.oas import load_oas, requires_oas
from zbooks.sandbox.books.registry import load_routes
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.ledger.base import Ledger

DAY = "2026-11-02"


@dataclass(frozen=True)
class Step:
    """One request. ``{name}`` in the path, the query or string body values is filled
    from what earlier steps saved; ``save`` maps a name to dotted paths into the
    response body (alternatives separated by ``|``; a list step takes element 0)."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None
    query: Mapping[str, str] | None = None
    save: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    owner: tuple[str, str]  # the route whose stateful implementation enables the scenario
    steps: tuple[Step, ...]


def _line(item: str = "{item_id}", rate: float = 10.0, quantity: float = 2) -> dict[str, Any]:
    return {"item_id": item, "rate": rate, "quantity": quantity}


CUSTOMER = Step(
    "POST",
    "/contacts",
    body={"contact_name": "Conformance Customer {n}", "contact_type": "customer"},
    save={"customer_id": "contact.contact_id"},
)
VENDOR = Step(
    "POST",
    "/contacts",
    body={"contact_name": "Conformance Vendor {n}", "contact_type": "vendor"},
    save={"vendor_id": "contact.contact_id"},
)
ITEM = Step(
    "POST",
    "/items",
    body={"name": "Conformance Widget {n}", "rate": 10, "purchase_rate": 6},
    save={"item_id": "item.item_id"},
)
EXPENSE_ACCOUNT = Step(
    "POST",
    "/chartofaccounts",
    body={"account_name": "Conformance Expense {n}", "account_type": "expense"},
    save={"expense_account_id": "chart_of_account.account_id"},
)
CASH_ACCOUNT = Step(
    "POST",
    "/chartofaccounts",
    body={"account_name": "Conformance Cash {n}", "account_type": "cash"},
    save={"cash_account_id": "chart_of_account.account_id"},
)
INVOICE = Step(
    "POST",
    "/invoices",
    body={"customer_id": "{customer_id}", "date": DAY, "line_items": [_line()]},
    save={"invoice_id": "invoice.invoice_id"},
)
BILL = Step(
    "POST",
    "/bills",
    body={
        "vendor_id": "{vendor_id}",
        "bill_number": "BILL-{n}",
        "date": DAY,
        "due_date": "2026-12-02",
        "line_items": [{"account_id": "{expense_account_id}", "rate": 10, "quantity": 2}],
    },
    save={"bill_id": "bill.bill_id"},
)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "contacts",
        ("POST", "/contacts"),
        (
            CUSTOMER,
            Step("GET", "/contacts/{customer_id}"),
            Step("GET", "/contacts"),
            Step(
                "GET",
                "/contacts",
                query={"filter_by": "Status.Active", "sort_column": "contact_name"},
            ),
            Step("PUT", "/contacts/{customer_id}", body={"notes": "updated"}),
            Step("POST", "/contacts/{customer_id}/inactive"),
            Step("POST", "/contacts/{customer_id}/active"),
            Step(
                "POST",
                "/contacts/{customer_id}/address",
                body={"address": "1 Main St", "city": "Chennai", "country": "India"},
                save={"address_id": "address_info.address_id"},
            ),
            Step("GET", "/contacts/{customer_id}/address"),
            Step("PUT", "/contacts/{customer_id}/address/{address_id}", body={"city": "Austin"}),
            Step("DELETE", "/contacts/{customer_id}/address/{address_id}"),
            Step("DELETE", "/contacts/{customer_id}"),
        ),
    ),
    Scenario(
        "contactpersons",
        ("POST", "/contacts/contactpersons"),
        (
            CUSTOMER,
            Step(
                "POST",
                "/contacts/contactpersons",
                body={
                    "contact_id": "{customer_id}",
                    "first_name": "Ann",
                    "email": "ann@example.com",
                },
                save={"person_id": "contact_person.contact_person_id"},
            ),
            Step("GET", "/contacts/{customer_id}/contactpersons"),
            Step("GET", "/contacts/{customer_id}/contactpersons/{person_id}"),
            Step(
                "PUT",
                "/contacts/contactpersons/{person_id}",
                body={"contact_id": "{customer_id}", "first_name": "Anne"},
            ),
            Step("POST", "/contacts/contactpersons/{person_id}/primary"),
            Step("DELETE", "/contacts/contactpersons/{person_id}"),
        ),
    ),
    Scenario(
        "items",
        ("POST", "/items"),
        (
            ITEM,
            Step("GET", "/items/{item_id}"),
            Step("GET", "/items"),
            Step("GET", "/itemdetails", query={"item_ids": "{item_id}"}),
            Step("PUT", "/items/{item_id}", body={"rate": 12.5}),
            Step("POST", "/items/{item_id}/inactive"),
            Step("POST", "/items/{item_id}/active"),
            Step("DELETE", "/items/{item_id}"),
        ),
    ),
    Scenario(
        "taxes",
        ("POST", "/settings/taxes"),
        (
            Step(
                "POST",
                "/settings/taxes",
                body={"tax_name": "Conf State {n}", "tax_percentage": 4.5, "tax_type": "tax"},
                save={"tax_id": "tax.tax_id"},
            ),
            Step(
                "POST",
                "/settings/taxes",
                body={"tax_name": "Conf City {n}", "tax_percentage": 1.25, "tax_type": "tax"},
                save={"tax2_id": "tax.tax_id"},
            ),
            Step("GET", "/settings/taxes/{tax_id}"),
            Step("GET", "/settings/taxes"),
            Step("PUT", "/settings/taxes/{tax_id}", body={"tax_percentage": 5}),
            Step(
                "POST",
                "/settings/taxgroups",
                body={"tax_group_name": "Conf Group {n}", "taxes": "{tax_id},{tax2_id}"},
                save={"group_id": "tax_group.tax_group_id"},
            ),
            Step("GET", "/settings/taxgroups/{group_id}"),
            Step(
                "PUT",
                "/settings/taxgroups/{group_id}",
                body={"tax_group_name": "Conf Group B {n}", "taxes": "{tax_id},{tax2_id}"},
            ),
            Step("DELETE", "/settings/taxgroups/{group_id}"),
            Step("DELETE", "/settings/taxes/{tax2_id}"),
        ),
    ),
    Scenario(
        "currencies",
        ("POST", "/settings/currencies"),
        (
            Step(
                "POST",
                "/settings/currencies",
                body={
                    "currency_code": "EUR",
                    "currency_symbol": "€",
                    "currency_format": "1,234,567.89",
                },
                save={"currency_id": "currency.currency_id"},
            ),
            Step("GET", "/settings/currencies/{currency_id}"),
            Step("GET", "/settings/currencies"),
            Step("PUT", "/settings/currencies/{currency_id}", body={"price_precision": 2}),
            Step(
                "POST",
                "/settings/currencies/{currency_id}/exchangerates",
                body={"effective_date": DAY, "rate": 1.08},
                save={"rate_id": "exchange_rate.exchange_rate_id"},
            ),
            Step("GET", "/settings/currencies/{currency_id}/exchangerates"),
            Step("GET", "/settings/currencies/{currency_id}/exchangerates/{rate_id}"),
            Step(
                "PUT",
                "/settings/currencies/{currency_id}/exchangerates/{rate_id}",
                body={"effective_date": DAY, "rate": 1.1},
            ),
            Step("DELETE", "/settings/currencies/{currency_id}/exchangerates/{rate_id}"),
            Step("DELETE", "/settings/currencies/{currency_id}"),
        ),
    ),
    Scenario(
        "invoices",
        ("POST", "/invoices"),
        (
            CUSTOMER,
            ITEM,
            INVOICE,
            Step("GET", "/invoices/{invoice_id}"),
            Step("GET", "/invoices"),
            Step(
                "GET",
                "/invoices",
                query={"filter_by": "Status.Draft", "customer_id": "{customer_id}"},
            ),
            Step(
                "PUT",
                "/invoices/{invoice_id}",
                body={"reference_number": "REF-1", "line_items": [_line(rate=12)]},
            ),
            Step("POST", "/invoices/{invoice_id}/status/sent"),
            Step("POST", "/invoices/{invoice_id}/comments", body={"description": "checked"}),
            Step("GET", "/invoices/{invoice_id}/comments"),
            Step("POST", "/invoices/{invoice_id}/status/void"),
            Step("POST", "/invoices/{invoice_id}/status/draft"),
            Step("DELETE", "/invoices/{invoice_id}"),
        ),
    ),
    Scenario(
        "estimates",
        ("POST", "/estimates"),
        (
            CUSTOMER,
            ITEM,
            Step(
                "POST",
                "/estimates",
                body={"customer_id": "{customer_id}", "date": DAY, "line_items": [_line()]},
                save={"estimate_id": "estimate.estimate_id"},
            ),
            Step("GET", "/estimates/{estimate_id}"),
            Step("GET", "/estimates"),
            Step("PUT", "/estimates/{estimate_id}", body={"line_items": [_line(quantity=3)]}),
            Step("POST", "/estimates/{estimate_id}/status/sent"),
            Step("POST", "/estimates/{estimate_id}/status/accepted"),
            Step("DELETE", "/estimates/{estimate_id}"),
        ),
    ),
    Scenario(
        "salesorders",
        ("POST", "/salesorders"),
        (
            CUSTOMER,
            ITEM,
            Step(
                "POST",
                "/salesorders",
                body={"customer_id": "{customer_id}", "date": DAY, "line_items": [_line()]},
                save={"salesorder_id": "salesorder.salesorder_id"},
            ),
            Step("GET", "/salesorders/{salesorder_id}"),
            Step("GET", "/salesorders"),
            Step("PUT", "/salesorders/{salesorder_id}", body={"line_items": [_line(quantity=5)]}),
            Step("POST", "/salesorders/{salesorder_id}/status/open"),
            Step("POST", "/salesorders/{salesorder_id}/status/void"),
            Step("DELETE", "/salesorders/{salesorder_id}"),
        ),
    ),
    Scenario(
        "customerpayments",
        ("POST", "/customerpayments"),
        (
            CUSTOMER,
            ITEM,
            INVOICE,
            Step("POST", "/invoices/{invoice_id}/status/sent"),
            Step(
                "POST",
                "/customerpayments",
                body={
                    "customer_id": "{customer_id}",
                    "payment_mode": "cash",
                    "amount": 20,
                    "date": DAY,
                    "invoices": [{"invoice_id": "{invoice_id}", "amount_applied": 20}],
                },
                save={"payment_id": "payment.payment_id"},
            ),
            Step("GET", "/customerpayments/{payment_id}"),
            Step("GET", "/customerpayments"),
            Step(
                "PUT",
                "/customerpayments/{payment_id}",
                body={
                    "customer_id": "{customer_id}",
                    "payment_mode": "cash",
                    "amount": 20,
                    "date": DAY,
                    "reference_number": "R-7",
                    "invoices": [{"invoice_id": "{invoice_id}", "amount_applied": 20}],
                },
            ),
            Step("GET", "/invoices/{invoice_id}"),
            Step("DELETE", "/customerpayments/{payment_id}"),
        ),
    ),
    Scenario(
        "creditnotes",
        ("POST", "/creditnotes"),
        (
            CUSTOMER,
            ITEM,
            Step(
                "POST",
                "/creditnotes",
                body={"customer_id": "{customer_id}", "date": DAY, "line_items": [_line()]},
                save={"creditnote_id": "creditnote.creditnote_id"},
            ),
            Step("GET", "/creditnotes/{creditnote_id}"),
            Step("GET", "/creditnotes"),
            Step("PUT", "/creditnotes/{creditnote_id}", body={"reference_number": "CN-REF"}),
            Step("POST", "/creditnotes/{creditnote_id}/status/open"),
            Step("POST", "/creditnotes/{creditnote_id}/status/void"),
            Step("DELETE", "/creditnotes/{creditnote_id}"),
        ),
    ),
    Scenario(
        "chartofaccounts",
        ("POST", "/chartofaccounts"),
        (
            EXPENSE_ACCOUNT,
            Step("GET", "/chartofaccounts/{expense_account_id}"),
            Step("GET", "/chartofaccounts"),
            Step("GET", "/chartofaccounts", query={"filter_by": "AccountType.Expense"}),
            Step(
                "PUT",
                "/chartofaccounts/{expense_account_id}",
                body={"account_name": "Conformance Expense B {n}", "account_type": "expense"},
            ),
            Step("POST", "/chartofaccounts/{expense_account_id}/inactive"),
            Step("POST", "/chartofaccounts/{expense_account_id}/active"),
            Step("DELETE", "/chartofaccounts/{expense_account_id}"),
        ),
    ),
    Scenario(
        "bills",
        ("POST", "/bills"),
        (
            VENDOR,
            EXPENSE_ACCOUNT,
            BILL,
            Step("GET", "/bills/{bill_id}"),
            Step("GET", "/bills"),
            Step("PUT", "/bills/{bill_id}", body={"reference_number": "B-REF"}),
            Step("POST", "/bills/{bill_id}/status/void"),
            Step("POST", "/bills/{bill_id}/status/open"),
            Step("DELETE", "/bills/{bill_id}"),
        ),
    ),
    Scenario(
        "vendorpayments",
        ("POST", "/vendorpayments"),
        (
            VENDOR,
            EXPENSE_ACCOUNT,
            CASH_ACCOUNT,
            BILL,
            Step(
                "POST",
                "/vendorpayments",
                body={
                    "vendor_id": "{vendor_id}",
                    "amount": 20,
                    "date": DAY,
                    "payment_mode": "cash",
                    "paid_through_account_id": "{cash_account_id}",
                    "bills": [{"bill_id": "{bill_id}", "amount_applied": 20}],
                },
                save={"vendor_payment_id": "vendorpayment.payment_id"},
            ),
            Step("GET", "/vendorpayments/{vendor_payment_id}"),
            Step("GET", "/vendorpayments"),
            Step("PUT", "/vendorpayments/{vendor_payment_id}", body={"reference_number": "VP-1"}),
            Step("DELETE", "/vendorpayments/{vendor_payment_id}"),
        ),
    ),
    Scenario(
        "purchaseorders",
        ("POST", "/purchaseorders"),
        (
            VENDOR,
            ITEM,
            Step(
                "POST",
                "/purchaseorders",
                body={"vendor_id": "{vendor_id}", "date": DAY, "line_items": [_line()]},
                save={"purchaseorder_id": "purchaseorder.purchaseorder_id"},
            ),
            Step("GET", "/purchaseorders/{purchaseorder_id}"),
            Step("GET", "/purchaseorders"),
            Step(
                "PUT",
                "/purchaseorders/{purchaseorder_id}",
                body={"line_items": [_line(quantity=4)]},
            ),
            Step("POST", "/purchaseorders/{purchaseorder_id}/status/open"),
            Step("POST", "/purchaseorders/{purchaseorder_id}/status/cancelled"),
            Step("DELETE", "/purchaseorders/{purchaseorder_id}"),
        ),
    ),
    Scenario(
        "expenses",
        ("POST", "/expenses"),
        (
            EXPENSE_ACCOUNT,
            CASH_ACCOUNT,
            Step(
                "POST",
                "/expenses",
                body={
                    "account_id": "{expense_account_id}",
                    "paid_through_account_id": "{cash_account_id}",
                    "date": DAY,
                    "amount": 25.5,
                },
                save={"expense_id": "expense.expense_id"},
            ),
            Step("GET", "/expenses/{expense_id}"),
            Step("GET", "/expenses"),
            Step("PUT", "/expenses/{expense_id}", body={"amount": 30}),
            Step("DELETE", "/expenses/{expense_id}"),
        ),
    ),
    Scenario(
        "journals",
        ("POST", "/journals"),
        (
            EXPENSE_ACCOUNT,
            CASH_ACCOUNT,
            Step(
                "POST",
                "/journals",
                body={
                    "journal_date": DAY,
                    "reference_number": "J-{n}",
                    "line_items": [
                        {
                            "account_id": "{expense_account_id}",
                            "debit_or_credit": "debit",
                            "amount": 40,
                        },
                        {
                            "account_id": "{cash_account_id}",
                            "debit_or_credit": "credit",
                            "amount": 40,
                        },
                    ],
                },
                save={"journal_id": "journal.journal_id"},
            ),
            Step("GET", "/journals/{journal_id}"),
            Step("GET", "/journals"),
            Step("PUT", "/journals/{journal_id}", body={"notes": "adjusted"}),
            Step("POST", "/journals/{journal_id}/status/publish"),
            Step("DELETE", "/journals/{journal_id}"),
        ),
    ),
    Scenario(
        "bankaccounts",
        ("POST", "/bankaccounts"),
        (
            Step(
                "POST",
                "/bankaccounts",
                body={"account_name": "Conformance Bank {n}", "account_type": "bank"},
                save={"bank_id": "bankaccount.account_id"},
            ),
            Step("GET", "/bankaccounts/{bank_id}"),
            Step("GET", "/bankaccounts"),
            Step("PUT", "/bankaccounts/{bank_id}", body={"account_name": "Conformance Bank B {n}"}),
            Step("POST", "/bankaccounts/{bank_id}/inactive"),
            Step("POST", "/bankaccounts/{bank_id}/active"),
            Step("DELETE", "/bankaccounts/{bank_id}"),
        ),
    ),
    Scenario(
        "banktransactions",
        ("POST", "/banktransactions"),
        (
            Step(
                "POST",
                "/bankaccounts",
                body={"account_name": "Conformance From {n}", "account_type": "bank"},
                save={"from_id": "bankaccount.account_id"},
            ),
            Step(
                "POST",
                "/bankaccounts",
                body={"account_name": "Conformance To {n}", "account_type": "bank"},
                save={"to_id": "bankaccount.account_id"},
            ),
            Step(
                "POST",
                "/banktransactions",
                body={
                    "from_account_id": "{from_id}",
                    "to_account_id": "{to_id}",
                    "transaction_type": "transfer_fund",
                    "amount": 15,
                    "date": DAY,
                },
                save={
                    "txn_id": "banktransaction.transaction_id|banktransaction.bank_transaction_id"
                },
            ),
            Step("GET", "/banktransactions/{txn_id}"),
            Step("GET", "/banktransactions", query={"account_id": "{from_id}"}),
            Step(
                "PUT",
                "/banktransactions/{txn_id}",
                body={
                    "from_account_id": "{from_id}",
                    "to_account_id": "{to_id}",
                    "transaction_type": "transfer_fund",
                    "amount": 16,
                    "date": DAY,
                },
            ),
            Step("DELETE", "/banktransactions/{txn_id}"),
        ),
    ),
    Scenario(
        "organizations",
        ("GET", "/organizations/{organization_id}"),
        (
            Step("GET", "/organizations"),
            Step("GET", "/organizations/{org_id}"),
            Step("PUT", "/organizations/{org_id}", body={"name": "Conformance Org {n}"}),
        ),
    ),
    Scenario(
        "users",
        ("POST", "/users"),
        (
            Step(
                "POST", "/users", body={"name": "Conformance User", "email": "conf{n}@example.com"}
            ),
            Step("GET", "/users", save={"user_id": "users.0.user_id"}),
            Step("GET", "/users/{user_id}"),
            Step("PUT", "/users/{user_id}", body={"name": "Conformance User B"}),
            Step("POST", "/users/{user_id}/inactive"),
            Step("POST", "/users/{user_id}/active"),
            Step("GET", "/users/me"),
            Step("DELETE", "/users/{user_id}"),
        ),
    ),
)


def is_stateful(method: str, template: str) -> bool:
    registry = load_routes()
    route = next(
        (r for r in registry.routes() if r.method == method and r.template == template), None
    )
    if route is None:  # the same operation under another parameter spelling
        matches = [
            r
            for r in registry.routes()
            if r.method == method and _shape(r.template) == _shape(template)
        ]
        route = matches[0] if matches else None
    return route is not None and not route.handler.__module__.endswith(".generic")


def _shape(template: str) -> tuple[str, ...]:
    return tuple("{}" if s.startswith("{") else s for s in template.strip("/").split("/"))


ACTIVE = [s for s in SCENARIOS if is_stateful(*s.owner)]
WAITING = [s.name for s in SCENARIOS if s not in ACTIVE]

_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")


def _fill(value: Any, context: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: context.get(m.group(1), m.group(0)), value)
    if isinstance(value, Mapping):
        return {k: _fill(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, context) for v in value]
    return value


def _pick(body: Any, paths: str) -> str | None:
    for dotted in paths.split("|"):
        node = body
        for part in dotted.split("."):
            if isinstance(node, list):
                if part.isdigit():
                    node = node[int(part)] if int(part) < len(node) else None
                    continue
                node = node[0] if node else None
            if not isinstance(node, Mapping) or part not in node:
                node = None
                break
            node = node[part]
        if node not in (None, ""):
            return str(node)
    return None


def run_scenario(call: Call, ledger: Ledger, scenario: Scenario) -> tuple[int, list[str]]:
    """Run every step; returns (responses validated, problems)."""
    index = load_oas()
    context = {"org_id": ledger.org_id, "organization_id": ledger.org_id, "n": scenario.name}
    problems: list[str] = []
    validated = 0
    for number, step in enumerate(scenario.steps, 1):
        path = _fill(step.path, context)
        label = f"{scenario.name} step {number} {step.method} {step.path}"
        unfilled = _PLACEHOLDER.findall(path)
        if unfilled:
            problems.append(f"{label}: skipped, no value for {unfilled}")
            continue
        try:
            response = call(
                step.method,
                path,
                query=_fill(dict(step.query or {}), context),
                body=_fill(dict(step.body or {}), context),
            )
        except ApiError as error:
            problems.append(f"{label}: {error.status} {error.body()}")
            continue
        op = index.find(step.method, path)
        if op is None:
            problems.append(f"{label}: not a documented operation")
            continue
        if response.status != op.status:
            problems.append(f"{label}: HTTP {response.status}, OAS documents {op.status}")
        if response.body is None:
            continue
        if response.body.get("code") != 0:
            problems.append(f"{label}: code {response.body.get('code')}")
        problems += [f"{label}: {p}" for p in index.validate(step.method, path, response.body)]
        validated += 1
        for name, paths in step.save.items():
            value = _pick(response.body, paths)
            if value is None:
                problems.append(f"{label}: nothing at {paths} to save as {name}")
            else:
                context[name] = value
    return validated, problems


def test_scenarios_cover_every_stateful_module_named_in_the_brief() -> None:
    names = {s.name for s in SCENARIOS}
    assert len(names) == len(SCENARIOS)
    print(f"\nactive scenarios: {[s.name for s in ACTIVE]}\nwaiting for modules: {WAITING}")
    assert ACTIVE, "no stateful module is registered at all"


@requires_oas
@pytest.mark.parametrize("scenario", ACTIVE, ids=[s.name for s in ACTIVE])
def test_stateful_module_conforms_to_the_oas(
    call: Call, ledger: Ledger, scenario: Scenario
) -> None:
    validated, problems = run_scenario(call, ledger, scenario)
    assert problems == [], "\n".join(problems)
    assert validated == len(scenario.steps)
