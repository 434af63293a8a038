"""Per-module commands built from the resource registry: invoices end to end, every
output format, and the command builder itself."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.cli.conftest import Login, Runner
from zbooks.cli.resources import module_names, normalize, specs_for
from zbooks.resources import modules


def _customer_id(cli: Runner) -> str:
    result = cli("contacts", "list", "--contact-type", "customer", "--limit", "1")
    assert result.code == 0, result.err
    return str(json.loads(result.out)[0]["contact_id"])


def test_invoices_list_filters_by_status(cli: Runner, logged_in: Login) -> None:
    result = cli("invoices", "list", "--status", "overdue")
    assert result.code == 0, result.err
    invoices = json.loads(result.out)
    assert invoices and {i["status"] for i in invoices} == {"overdue"}
    # A parameter the registry does not document (sort_order) is sent only through -q.
    ascending = cli("invoices", "list", "--sort-column", "invoice_number", "-q", "sort_order=A")
    numbers = [i["invoice_number"] for i in json.loads(ascending.out)]
    assert numbers == sorted(numbers)
    descending = cli(
        "invoices", "list", "--sort-column", "invoice_number", "--query", "sort_order=D"
    )
    assert [i["invoice_number"] for i in json.loads(descending.out)] == numbers[::-1]


def test_invoices_list_pages_and_limit(cli: Runner, logged_in: Login) -> None:
    first = cli("invoices", "list", "--per-page", "2")
    assert len(json.loads(first.out)) == 2
    assert "--page 2" in first.err  # tells the user there is more
    everything = json.loads(cli("invoices", "list", "--all", "--per-page", "5").out)
    one_page = json.loads(cli("invoices", "list").out)
    assert [i["invoice_id"] for i in everything] == [i["invoice_id"] for i in one_page]
    limited = json.loads(cli("invoices", "list", "--all", "--per-page", "2", "--limit", "3").out)
    assert [i["invoice_id"] for i in limited] == [i["invoice_id"] for i in one_page[:3]]


def test_invoice_create_get_pdf_and_delete(cli: Runner, logged_in: Login, tmp_path: Path) -> None:
    data = tmp_path / "invoice.json"
    data.write_text(
        json.dumps(
            {
                "customer_id": _customer_id(cli),
                "line_items": [{"name": "CLI consulting", "rate": 120.5, "quantity": 2}],
            }
        )
    )
    created = cli("invoices", "create", "--data", f"@{data}", "-f", "reference_number=CLI-1")
    assert created.code == 0, created.err
    invoice = json.loads(created.out)
    assert invoice["total"] == 241.0 and invoice["reference_number"] == "CLI-1"
    assert "created" in created.err.lower()

    got = cli("invoices", "get", invoice["invoice_id"])
    assert got.code == 0, got.err
    assert json.loads(got.out)["invoice_number"] == invoice["invoice_number"]

    target = tmp_path / "invoice.pdf"
    pdf = cli("invoices", "pdf", invoice["invoice_id"], "-o", str(target))
    assert pdf.code == 0, pdf.err
    assert target.read_bytes().startswith(b"%PDF")
    assert f"Wrote {target}" in pdf.err

    sent = cli("invoices", "mark-sent", invoice["invoice_id"])
    assert sent.code == 0, sent.err
    assert json.loads(cli("invoices", "get", invoice["invoice_id"]).out)["status"] in (
        "sent",
        "overdue",
    )
    assert cli("invoices", "void", invoice["invoice_id"], "--yes").code == 0
    assert cli("invoices", "delete", invoice["invoice_id"], "--yes").code == 0
    missing = cli("invoices", "get", invoice["invoice_id"])
    assert missing.code == 3 and "Invoice does not exist" in missing.err


def test_invoice_create_validation_error_exit_code(cli: Runner, logged_in: Login) -> None:
    result = cli("invoices", "create", "--data", '{"customer_id": "1", "line_items": []}')
    assert result.code in (3, 6)
    lines = result.err.splitlines()
    assert lines[0].startswith("Error: [HTTP 4") and lines[1].startswith("Hint: ")
    assert "Traceback" not in result.err


def test_every_output_format(cli: Runner, logged_in: Login) -> None:
    base = ("contacts", "list", "--per-page", "3")
    as_json = json.loads(cli(*base, "--output", "json").out)
    assert len(as_json) == 3
    ids = [c["contact_id"] for c in as_json]

    ndjson = cli(*base, "--output", "ndjson").out.splitlines()
    assert [json.loads(line)["contact_id"] for line in ndjson] == ids

    rows = list(csv.DictReader(io.StringIO(cli(*base, "--output", "csv").out)))
    assert [r["contact_id"] for r in rows] == ids
    assert set(as_json[0]) == set(rows[0])  # every field, nested ones as JSON text

    table = cli(*base, "--output", "table").out
    assert all(i in table for i in ids) and "contact_name" in table and "3 records" in table

    record = cli("contacts", "get", ids[0], "--output", "table").out
    assert "contact_name" in record and ids[0] in record

    bad = cli(*base, "--output", "yaml")
    assert bad.code == 1 and "json, ndjson, csv, table" in bad.err


def test_default_output_is_json_when_piped(cli: Runner, logged_in: Login) -> None:
    assert isinstance(json.loads(cli("contacts", "list", "--per-page", "1").out), list)


def test_unknown_module_and_missing_argument_are_usage_errors(cli: Runner) -> None:
    assert cli("nosuchmodule", "list").code == 1
    result = cli("invoices", "get")
    assert result.code == 1 and "INVOICE_ID" in result.err


def test_module_names_match_the_registry_without_importing_it() -> None:
    assert [normalize(n) for n in module_names()] == [normalize(m) for m in modules()]


def test_specs_cover_every_operation_and_add_pdf() -> None:
    from zbooks.resources import operations

    invoices = {s.name: s for s in specs_for("invoices")}
    assert {"list", "get", "create", "update", "delete", "pdf"} <= set(invoices)
    assert invoices["pdf"].accept_pdf and invoices["pdf"].path == "/invoices/{invoice_id}"
    assert invoices["list"].paginated and "status" in invoices["list"].query_options
    assert "page" not in invoices["list"].query_options  # our own --page
    assert specs_for("sales-orders") == specs_for("salesorders") == specs_for("sales_orders")
    total = sum(len([s for s in specs_for(m) if not s.accept_pdf]) for m in modules())
    assert total == len({(o.module, o.method) for o in operations()})


@pytest.mark.parametrize("module", ["estimates", "credit-notes", "sales-orders"])
def test_documents_with_a_pdf_form_get_a_pdf_command(module: str) -> None:
    assert "pdf" in {s.name for s in specs_for(module)}
