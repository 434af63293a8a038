"""Routes of ``/settings/taxes`` and ``/settings/taxgroups`` (scope settings).

OAS taxes.yml types the single ``tax`` key as an array; like the other record keys
the OAS types that way (``salesorder``, ``contact_person``) it holds one object, as the
task brief and the project's OAS oracle (tests/sandbox/oas.py) expect.
"""

from __future__ import annotations

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import taxes as ledger_taxes
from zbooks.sandbox.ledger.listing import ListSpec, list_page

SCOPE = "settings"

LIST_SPEC = ListSpec(
    module=ledger_taxes.MODULE,
    list_key="taxes",
    report_name="Taxes",
    sort_columns=frozenset({"tax_name", "tax_percentage", "created_time", "last_modified_time"}),
    search_fields=("tax_name",),
    text_fields=("tax_name",),
    exact_fields=("tax_type",),
    date_fields=(),
    present=ledger_taxes.present_tax,
)


@REGISTRY.route("POST", "/settings/taxes", scope=SCOPE)
def create_tax(request: BooksRequest) -> BooksResponse:
    tax = ledger_taxes.create_tax(request.ledger, request.body)
    shaped = ledger_taxes.present_tax(request.ledger, tax)
    return ok("The tax has been added.", status=201, tax=shaped)


@REGISTRY.route("GET", "/settings/taxes", scope=SCOPE)
def list_taxes(request: BooksRequest) -> BooksResponse:
    result = list_page(request.ledger, request.query, LIST_SPEC)
    return ok(taxes=result.records, page_context=result.page_context)


@REGISTRY.route("GET", "/settings/taxes/{tax_id}", scope=SCOPE)
def get_tax(request: BooksRequest) -> BooksResponse:
    tax = ledger_taxes.get_tax(request.ledger, request.path_params["tax_id"])
    return ok(tax=ledger_taxes.present_tax(request.ledger, tax))


@REGISTRY.route("PUT", "/settings/taxes/{tax_id}", scope=SCOPE)
def update_tax(request: BooksRequest) -> BooksResponse:
    tax = ledger_taxes.update_tax(request.ledger, request.path_params["tax_id"], request.body)
    shaped = ledger_taxes.present_tax(request.ledger, tax)
    return ok("Tax information has been saved.", tax=shaped)


@REGISTRY.route("DELETE", "/settings/taxes/{tax_id}", scope=SCOPE)
def delete_tax(request: BooksRequest) -> BooksResponse:
    ledger_taxes.delete_tax(request.ledger, request.path_params["tax_id"])
    return ok("The record has been deleted.")


@REGISTRY.route("POST", "/settings/taxgroups", scope=SCOPE)
def create_tax_group(request: BooksRequest) -> BooksResponse:
    group = ledger_taxes.create_tax_group(request.ledger, request.body)
    # OAS taxes.yml: 201 with the plain "success" message.
    return ok(status=201, tax_group=ledger_taxes.present_tax_group(request.ledger, group))


@REGISTRY.route("GET", "/settings/taxgroups/{tax_group_id}", scope=SCOPE)
def get_tax_group(request: BooksRequest) -> BooksResponse:
    group = ledger_taxes.get_tax_group(request.ledger, request.path_params["tax_group_id"])
    return ok(tax_group=ledger_taxes.present_tax_group(request.ledger, group))


@REGISTRY.route("PUT", "/settings/taxgroups/{tax_group_id}", scope=SCOPE)
def update_tax_group(request: BooksRequest) -> BooksResponse:
    group = ledger_taxes.update_tax_group(
        request.ledger, request.path_params["tax_group_id"], request.body
    )
    return ok(tax_group=ledger_taxes.present_tax_group(request.ledger, group))


@REGISTRY.route("DELETE", "/settings/taxgroups/{tax_group_id}", scope=SCOPE)
def delete_tax_group(request: BooksRequest) -> BooksResponse:
    ledger_taxes.delete_tax_group(request.ledger, request.path_params["tax_group_id"])
    return ok("The tax group has been deleted.")
