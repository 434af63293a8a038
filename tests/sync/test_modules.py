"""The module table against Zoho's official OpenAPI files: each claim the incremental
logic relies on (list path, detail path, ``last_modified_time`` filter and sort) is
either documented there or recorded as OBSERVED in api-facts §2.4."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.oasfiles import OAS_DIR, requires_oas
from zbooks.sync.modules import MODULES, ModuleSpec, resolve_modules

OAS_FILE = {
    "currencies": "currency",
    "taxes": "taxes",
    "users": "users",
    "chartofaccounts": "chart-of-accounts",
    "bankaccounts": "bank-accounts",
    "items": "items",
    "contacts": "contacts",
    "invoices": "invoices",
    "estimates": "estimates",
    "salesorders": "sales-order",
    "creditnotes": "credit-notes",
    "customerpayments": "customer-payments",
    "bills": "bills",
    "vendorpayments": "vendor-payments",
    "purchaseorders": "purchase-order",
    "expenses": "expenses",
    "journals": "journals",
    "banktransactions": "bank-transactions",
}
# api-facts §2.4: accepted in practice though the OAS does not list them.
OBSERVED_FILTER = {"contacts", "items"}
OBSERVED_SORT = {"invoices"}


@cache
def _doc(stem: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((OAS_DIR / f"{stem}.yml").read_text())
    return loaded


def _parameters(spec: ModuleSpec) -> dict[str, dict[str, Any]]:
    doc = _doc(OAS_FILE[spec.name])
    operation = doc["paths"][spec.path]["get"]
    out = {}
    for param in operation.get("parameters", []):
        if "$ref" in param:
            name = param["$ref"].rsplit("/", 1)[1]
            param = doc["components"]["parameters"][name]
        out[param["name"]] = param
    return out


def _detail_template(spec: ModuleSpec) -> str | None:
    doc = _doc(OAS_FILE[spec.name])
    for path, item in doc["paths"].items():
        rest = path.removeprefix(spec.path + "/")
        if path.startswith(spec.path + "/") and rest.startswith("{") and "/" not in rest:
            return path if "get" in item else None
    return None


@requires_oas
def test_every_module_is_in_the_table_once_with_a_documented_list() -> None:
    assert set(OAS_FILE) == set(MODULES)
    for spec in MODULES.values():
        assert spec.path in _doc(OAS_FILE[spec.name])["paths"], spec.name


@requires_oas
@pytest.mark.parametrize("name", sorted(MODULES))
def test_modified_time_claims_match_the_documentation(name: str) -> None:
    spec = MODULES[name]
    params = _parameters(spec)
    documented_filter = "last_modified_time" in params
    if name in OBSERVED_FILTER:
        assert spec.filter_modified and not documented_filter
    else:
        assert spec.filter_modified == documented_filter
    sort_text = str(params.get("sort_column", {}).get("description", ""))
    documented_sort = "last_modified_time" in sort_text
    if name in OBSERVED_SORT:
        assert spec.sort_modified and not documented_sort
    else:
        assert spec.sort_modified == documented_sort
    if spec.stable_sort is not None and spec.stable_sort[0] != "created_time":
        assert spec.stable_sort[0] in sort_text, "the fallback order must be documented"


@requires_oas
@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_can_fetch_one_record(name: str) -> None:
    # Detail GETs fetch changed records, and reconciling confirms a deletion with a 404.
    assert _detail_template(MODULES[name]) is not None


def test_strategies_follow_the_flags() -> None:
    assert MODULES["invoices"].strategy == "keyset"
    assert MODULES["bills"].strategy == "filtered"
    assert MODULES["customerpayments"].strategy == "full"
    assert not MODULES["currencies"].has_modified_time


def test_resolve_modules_keeps_dependency_order_and_rejects_unknown_names() -> None:
    names = [s.name for s in resolve_modules("invoices, contacts")]
    assert names == ["contacts", "invoices"]
    assert [s.name for s in resolve_modules(["taxes"])] == ["taxes"]
    assert len(resolve_modules(None)) == len(MODULES)
    with pytest.raises(ValueError, match="unknown module"):
        resolve_modules("invoices,invoicez")
    with pytest.raises(ValueError, match="no modules"):
        resolve_modules(" , ")


DOC = Path(__file__).resolve().parents[2] / "docs" / "sync.md"


def test_the_guide_names_every_table_and_flag() -> None:
    from zbooks.sync.schema import SyncSchema

    text = DOC.read_text(encoding="utf-8")
    schema = SyncSchema(MODULES.values())
    for tables in schema.modules.values():
        assert f"`{tables.table.name}`" in text
        for child in tables.children:
            assert f"`{child.table.name}`" in text
    for column in schema.state.columns:
        assert column.name in text
    for flag in (
        "--db",
        "--modules",
        "--org",
        "--all-orgs",
        "--full-refresh",
        "--reconcile-deletes",
        "--dry-run",
    ):
        assert f"`{flag}" in text
