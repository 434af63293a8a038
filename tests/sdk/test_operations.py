"""The operation registry: every operation of Zoho's 2026-07 OpenAPI files maps to exactly
one generated method, names are the short predictable ones, and the registry agrees
with the generated classes.

Also home of the small OAS-reading helpers the other generated-layer tests import.
"""

from __future__ import annotations

import importlib
import inspect
from collections import Counter
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.oasfiles import BOOKS_OAS, OAS_DIR, requires_oas
from zbooks.resources import Operation, modules, operations, resource_class

PRIMARY = OAS_DIR
HTTP_METHODS = ("get", "post", "put", "delete")


# --- OAS helpers (imported by test_models and test_generated_fresh) --------------------


@cache
def load_oas(source: str) -> dict[str, Any]:
    """``source`` is relative to ``zoho-books/``, e.g. ``2026-07/invoices.yml``."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc: dict[str, Any] = yaml.load((BOOKS_OAS / source).read_text("utf-8"), Loader=loader)
    return doc


def resolve(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in str(node["$ref"]).lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def primary_operations() -> list[tuple[str, str, str]]:
    """Every (source, METHOD, path) of the 2026-07 files."""
    found = []
    for file in sorted(PRIMARY.glob("*.yml")):
        doc = load_oas(f"2026-07/{file.name}")
        for path, item in doc.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    found.append((f"2026-07/{file.name}", method.upper(), path))
    return found


def _json_like(value: Any) -> Any:
    """YAML turns unquoted timestamps into datetime objects; JSON carries text."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S%z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_like(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_like(v) for v in value]
    return value


def schema_example(doc: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """A schema's documented example: its own ``example``, else one assembled from its
    properties' examples (``None`` when it documents no example value at all)."""
    schema = resolve(doc, schema)
    if not isinstance(schema, dict) or depth > 15:
        return None
    if "example" in schema:
        return _json_like(schema["example"])
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or ():
        props.update(resolve(doc, part).get("properties") or {})
    if props:
        built = {}
        for key, sub in props.items():
            value = schema_example(doc, sub, depth + 1)
            if value is not None:
                built[key] = value
        return built or None
    if "items" in schema:
        value = schema_example(doc, schema["items"], depth + 1)
        return [] if value is None else [value]
    return None


def response_example(op: Operation) -> dict[str, Any] | None:
    """The example JSON envelope of an operation's documented success response."""
    doc = load_oas(op.source)
    operation = doc["paths"][op.oas_path][op.http_method.lower()]
    status = next(c for c in sorted(operation["responses"]) if str(c).startswith("2"))
    response = resolve(doc, operation["responses"][status])
    media = (response.get("content") or {}).get("application/json")
    if not media:
        return None
    built = schema_example(doc, media.get("schema") or {})
    return built if isinstance(built, dict) else None


# --- coverage ------------------------------------------------------------------------------


@requires_oas
def test_every_2026_07_operation_maps_to_exactly_one_method() -> None:
    documented = primary_operations()
    registry = Counter((op.source, op.http_method, op.oas_path) for op in operations())
    missing = [key for key in documented if registry[key] == 0]
    doubled = [key for key in documented if registry[key] > 1]
    assert not missing, f"operations without a method: {missing[:10]}"
    assert not doubled, f"operations with several methods: {doubled[:10]}"
    pairs = {(method, path) for _, method, path in documented}
    covered = {(op.http_method, op.oas_path) for op in operations()}
    assert pairs <= covered
    print(
        f"\n{len(documented)} operations of the 2026-07 OpenAPI files "
        f"({len(pairs)} distinct method+path pairs) -> {len(documented)} methods; "
        f"{len(operations())} methods in all with the 2026-04-only modules"
    )
    assert len(documented) == 849  # SOURCE.md: 849 operations in 42 files


@requires_oas
def test_registry_has_nothing_the_oas_does_not_document() -> None:
    for op in operations():
        doc = load_oas(op.source)
        assert op.http_method.lower() in doc["paths"][op.oas_path], op


@requires_oas
def test_modules_only_in_2026_04_come_from_there() -> None:
    newer = {p.stem for p in PRIMARY.glob("*.yml")}
    older_only = {op.source for op in operations() if op.source.startswith("2026-04/")}
    assert older_only, "2026-04-only modules (webhooks, workflows, ...) are missing"
    for source in older_only:
        assert Path(source).stem not in newer, source
    assert {"webhooks", "workflows", "custom_fields", "custom_views"} <= set(modules())


def test_method_names_are_unique_per_module() -> None:
    names = Counter((op.module, op.method) for op in operations())
    assert [key for key, n in names.items() if n > 1] == []


# --- names -----------------------------------------------------------------------------------


def _op(module: str, method: str) -> Operation:
    found = [op for op in operations(module) if op.method == method]
    assert len(found) == 1, f"{module}.{method} not generated"
    return found[0]


@pytest.mark.parametrize(
    ("module", "method", "http", "path"),
    [
        ("invoices", "list", "GET", "/invoices"),
        ("invoices", "create", "POST", "/invoices"),
        ("invoices", "get", "GET", "/invoices/{invoice_id}"),
        ("invoices", "update", "PUT", "/invoices/{invoice_id}"),
        ("invoices", "delete", "DELETE", "/invoices/{invoice_id}"),
        ("invoices", "bulk_delete", "DELETE", "/invoices"),
        ("invoices", "upsert", "PUT", "/invoices"),
        ("invoices", "mark_sent", "POST", "/invoices/{invoice_id}/status/sent"),
        ("invoices", "void", "POST", "/invoices/{invoice_id}/status/void"),
        ("invoices", "mark_draft", "POST", "/invoices/{invoice_id}/status/draft"),
        ("invoices", "email", "POST", "/invoices/{invoice_id}/email"),
        ("invoices", "get_email_content", "GET", "/invoices/{invoice_id}/email"),
        ("invoices", "bulk_email", "POST", "/invoices/email"),
        ("invoices", "bulk_pdf", "GET", "/invoices/pdf"),
        ("invoices", "write_off", "POST", "/invoices/{invoice_id}/writeoff"),
        ("invoices", "cancel_write_off", "POST", "/invoices/{invoice_id}/writeoff/cancel"),
        ("invoices", "list_payments", "GET", "/invoices/{invoice_id}/payments"),
        ("invoices", "apply_credits", "POST", "/invoices/{invoice_id}/credits"),
        ("invoices", "list_comments", "GET", "/invoices/{invoice_id}/comments"),
        ("invoices", "add_comment", "POST", "/invoices/{invoice_id}/comments"),
        ("invoices", "delete_comment", "DELETE", "/invoices/{invoice_id}/comments/{comment_id}"),
        ("invoices", "update_custom_fields", "PUT", "/invoice/{invoice_id}/customfields"),
        ("contacts", "mark_active", "POST", "/contacts/{contact_id}/active"),
        ("estimates", "mark_accepted", "POST", "/estimates/{estimate_id}/status/accepted"),
        ("estimates", "add_comment", "POST", "/estimates/{estimate_id}/comments"),
        (
            "recurring_invoices",
            "stop",
            "POST",
            "/recurringinvoices/{recurring_invoice_id}/status/stop",
        ),
        ("customer_payments", "list", "GET", "/customerpayments"),
        ("chart_of_accounts", "list", "GET", "/chartofaccounts"),
        ("taxes", "get_group", "GET", "/settings/taxgroups/{tax_group_id}"),
        ("expenses", "list_employees", "GET", "/employees"),
        (
            "time_entries",
            "start_timer",
            "POST",
            "/projects/timeentries/{time_entry_id}/timer/start",
        ),
    ],
)
def test_short_predictable_names(module: str, method: str, http: str, path: str) -> None:
    op = _op(module, method)
    assert (op.http_method, op.oas_path) == (http, path)


def test_expected_modules_exist() -> None:
    expected = {
        "invoices", "contacts", "items", "customer_payments", "credit_notes", "estimates",
        "bills", "vendor_payments", "expenses", "sales_orders", "purchase_orders", "journals",
        "chart_of_accounts", "bank_accounts", "bank_transactions", "taxes", "currencies",
        "users", "organizations", "projects", "time_entries",
    }  # fmt: skip
    assert expected <= set(modules())


@pytest.mark.parametrize(
    ("module", "noun"),
    [
        ("invoices", "invoice"),
        ("invoices", "invoices"),
        ("contacts", "contact"),
        ("items", "item"),
        ("bills", "bill"),
        ("estimates", "estimate"),
        ("credit_notes", "note"),
        ("customer_payments", "payment"),
        ("sales_orders", "salesorder"),
        ("expenses", "expense"),
    ],
)
def test_names_do_not_repeat_the_module(module: str, noun: str) -> None:
    """``client.invoices.mark_sent``, not the raw ``mark_invoice_sent``."""
    # "contact_person" is another resource that contacts also serves, not a repetition.
    names = [op.method.replace("contact_person", "person") for op in operations(module)]
    repeated = [name for name in names if noun in name.split("_")]
    assert repeated == []


def test_return_kinds_of_core_operations() -> None:
    assert _op("invoices", "list").returns == "paginator"
    assert _op("invoices", "get").returns == "model"
    assert _op("invoices", "get").model == "Invoice"
    assert _op("invoices", "get").pdf_variant
    assert _op("invoices", "mark_sent").returns == "envelope"
    assert _op("invoices", "bulk_pdf").returns == "bytes"
    assert _op("invoices", "list_payments").returns == "models"
    # The OAS names the list key customer_payments; the API sends customerpayments.
    assert _op("customer_payments", "list").keys == ("customerpayments", "customer_payments")


def test_required_flags_carry_over() -> None:
    create = _op("invoices", "create")
    assert create.body_model == "CreateInvoiceRequest"
    assert "customer_id" in create.body_required
    bulk_pdf = _op("invoices", "bulk_pdf")
    ids = next(p for p in bulk_pdf.params if p.name == "invoice_ids")
    assert ids.required and ids.location == "query"
    get = _op("invoices", "get")
    assert [p.name for p in get.path_params] == ["invoice_id"]
    assert all(p.required for p in get.path_params)


def test_enums_carry_over_to_parameters() -> None:
    listing = _op("bills", "list")
    status = next(p for p in listing.params if p.name == "status")
    assert status.kind == "enum"
    assert {"paid", "open", "overdue", "void"} <= set(status.enum)


# --- registry vs generated classes -------------------------------------------------------------


def _generated_classes(module: str) -> tuple[type[Any], type[Any]]:
    generated = importlib.import_module(f"zbooks.resources.{module}")
    name = "".join(part.title() for part in module.split("_"))
    return getattr(generated, name), getattr(generated, "Async" + name)


@pytest.mark.parametrize("module", modules())
def test_client_classes_are_the_generated_ones_or_subclasses(module: str) -> None:
    sync_cls, async_cls = _generated_classes(module)
    assert issubclass(resource_class(module), sync_cls)
    assert issubclass(resource_class(module, asynchronous=True), async_cls)


@pytest.mark.parametrize("module", modules())
def test_registry_matches_generated_classes(module: str) -> None:
    sync_cls, async_cls = _generated_classes(module)
    public = {n for n, v in vars(sync_cls).items() if callable(v) and not n.startswith("_")}
    ops = operations(module)
    expected = {op.method for op in ops} | ({"pdf"} if any(op.pdf_variant for op in ops) else set())
    assert public == expected
    for op in ops:
        for cls in (sync_cls, async_cls):
            signature = inspect.signature(getattr(cls, op.method))
            positional = [
                p.name
                for p in signature.parameters.values()
                if p.kind is not inspect.Parameter.KEYWORD_ONLY and p.name != "self"
            ]
            assert positional == [p.python_name for p in op.path_params]
            for param in op.params:
                skipped = (op.paginated and param.name in ("page", "per_page")) or (
                    op.pdf_variant and param.name == "accept"
                )
                if param.location != "path" and not skipped:
                    assert param.python_name in signature.parameters, (op.method, param)
            assert ("body" in signature.parameters) == op.accepts_body
        is_coroutine = inspect.iscoroutinefunction(getattr(async_cls, op.method))
        assert is_coroutine == (not op.paginated), op.method
