"""Property over real HTTP: whatever schemathesis generates from Zoho's OpenAPI files for
the six busiest modules, sent with a valid token to a sandbox on loopback, is never
answered with a 5xx.

Unlike ``tests/sandbox/test_property.py`` (handlers called directly), every request here
goes through uvicorn, the dispatcher's body parsing and the boundary checks, which is
where hostile numbers, text and nesting used to turn into 500s. The example count is
bounded for CI (``ZBOOKS_HTTP_PROPERTY_EXAMPLES`` per module, default 40); a longer run
uses the same test with a bigger number (see docs/sandbox.md). Half of the cases carry
one hostile value (a number no amount can be, a lone surrogate, 5,000-deep nesting, a page
past 2**63) spliced into the generated request.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.oasfiles import OAS_DIR, requires_oas
from zbooks.auth.login import code_login
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.server import SandboxServer

from .conftest import Sandbox

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = int(os.environ.get("ZBOOKS_HTTP_PROPERTY_EXAMPLES", "40"))
MODULES = ("invoices", "contacts", "items", "customer-payments", "bills", "expenses")
SERVER_ERRORS: dict[str, list[str]] = {}
SENT: dict[str, int] = {}
STATUSES: dict[str, Counter[int]] = {}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    config = SandboxConfig(port=0, auto_approve=True, seed="demo", rate_limit=1_000_000)
    with SandboxServer(config) as server:
        yield Sandbox(server, config)


# Path parameters that name demo records: (list path, id field of its rows).
ID_SOURCES = {
    "invoice_id": ("/invoices", "invoice_id"),
    "contact_id": ("/contacts", "contact_id"),
    "item_id": ("/items", "item_id"),
    "payment_id": ("/customerpayments", "payment_id"),
    "customer_payment_id": ("/customerpayments", "payment_id"),
    "bill_id": ("/bills", "bill_id"),
    "expense_id": ("/expenses", "expense_id"),
    "customer_id": ("/contacts?contact_type=customer", "contact_id"),
    "vendor_id": ("/contacts?contact_type=vendor", "contact_id"),
    "account_id": ("/chartofaccounts", "account_id"),
    "paid_through_account_id": ("/chartofaccounts", "account_id"),
}


@dataclass
class Target:
    http: httpx2.Client
    org_id: str
    ids: dict[str, list[str]]  # path parameter -> ids of real demo records


@pytest.fixture(scope="module")
def target(sandbox: Sandbox) -> Iterator[Target]:
    client_id, secret, code = sandbox.self_client()
    token = code_login(
        code, accounts_url=sandbox.base_url, client_id=client_id, client_secret=secret
    ).token.access_token
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    with httpx2.Client(base_url=sandbox.api_url, headers=headers, timeout=60) as http:
        ids: dict[str, list[str]] = {}
        for param, (path, field) in ID_SOURCES.items():
            body = http.get(path).json()
            rows = next(v for v in body.values() if isinstance(v, list))
            ids[param] = [str(row[field]) for row in rows]
        yield Target(http, sandbox.server.app.demo.org_id, ids)


def _strategy(module: str) -> st.SearchStrategy[Any]:
    """Cases of every operation of the module, both as the OAS describes them (positive)
    and deliberately violating it (negative: wrong types, out-of-range values...)."""
    schema = schemathesis.openapi.from_path(str(OAS_DIR / f"{module}.yml"))
    operations = [result.ok() for result in schema.get_all_operations()]
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    return st.one_of(*(op.as_strategy(generation_mode=mode) for op in operations for mode in modes))


# What clients were seen sending that no Zoho field can hold (issue 13, point 4). JSON
# text, spliced into an otherwise generated body in place of one of its values.
DEEP = "[" * 5000 + "]" * 5000
HOSTILE_JSON = (
    "1e300", "1e308", "-1e308", "1" + "0" * 400, "1e999", '"1e999"', '"-1e999"', "NaN",
    "Infinity", '"\\ud800"', '"x\\udfff"', DEEP, "-0.0000000000000000000001", "-1",
    "0", "null", "[]", "{}",
)  # fmt: skip
HOSTILE_QUERY = (str(2**63), str(2**64), "9" * 40, "-1", "0", "1e3", "")
_SLOT = "__hostile_value__"


@dataclass
class Wire:
    """A case as it goes on the wire: query and raw JSON text (maybe made hostile)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    content: bytes | None


def _leaves(value: Any, trail: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every value of a JSON document (containers included)."""
    found: list[tuple[Any, ...]] = [trail] if trail else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _leaves(item, (*trail, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _leaves(item, (*trail, index))
    return found


def _replace(document: Any, trail: tuple[Any, ...], new: Any) -> Any:
    if not trail:
        return new
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[trail[0]] = _replace(document[trail[0]], trail[1:], new)
    return copy


def _with_real_ids(value: Any, ids: dict[str, list[str]], data: st.DataObject) -> Any:
    """Body fields that name records (``customer_id``, ``account_id``...) mostly name real
    ones, so that validation passes and the values around them reach the ledger."""
    if isinstance(value, list):
        return [_with_real_ids(item, ids, data) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    for key, item in value.items():
        known = ids.get(key)
        if known and data.draw(st.integers(0, 3), label=f"real {key}"):
            result[key] = data.draw(st.sampled_from(known), label=key)
        else:
            result[key] = _with_real_ids(item, ids, data)
    return result


def _wire(case: Any, target: Target, data: st.DataObject) -> Wire:
    """The case with the organization a real client names and, half of the time, one
    hostile value: in the body (numbers past any amount, lone surrogates, deep nesting)
    or in ``page``/``per_page``."""
    query = {k: str(v) for k, v in (case.query or {}).items()}
    query["organization_id"] = target.org_id
    headers = {k: str(v) for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    method = case.method.upper()
    body = _with_real_ids(case.body, target.ids, data)
    has_body = method in ("POST", "PUT") and isinstance(body, (dict, list, str, int, float))
    content = json.dumps(body).encode() if has_body else None
    if data.draw(st.booleans(), label="hostile"):
        where = _leaves(body) if has_body else []
        if where and data.draw(st.booleans(), label="in body"):
            trail = data.draw(st.sampled_from(where), label="value")
            raw = data.draw(st.sampled_from(HOSTILE_JSON), label="hostile json")
            text = json.dumps(_replace(body, trail, _SLOT))
            content = text.replace(json.dumps(_SLOT), raw).encode()
        else:
            name = data.draw(st.sampled_from(("page", "per_page")), label="query name")
            query[name] = data.draw(st.sampled_from(HOSTILE_QUERY), label="query value")
    if content is not None:
        headers["content-type"] = "application/json"
    return Wire(method, case.formatted_path, query, headers, content)


def _send(http: httpx2.Client, wire: Wire) -> httpx2.Response:
    return http.request(
        wire.method, wire.path, params=wire.query, headers=wire.headers, content=wire.content
    )


@requires_oas
@pytest.mark.parametrize("module", MODULES)
def test_no_generated_request_gets_a_5xx(target: Target, module: str) -> None:

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(module), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        # Most of the time a path id names a real record, so handlers get past lookups.
        for name in list(case.path_parameters or {}):
            known = target.ids.get(name)
            if known and data.draw(st.integers(0, 3), label=f"real {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(known), label=name)
        wire = _wire(case, target, data)
        response = _send(target.http, wire)
        SENT[module] = SENT.get(module, 0) + 1
        STATUSES.setdefault(module, Counter())[response.status_code] += 1
        if response.status_code >= 500:
            SERVER_ERRORS.setdefault(module, []).append(
                f"{wire.method} {wire.path} {wire.query} {(wire.content or b'')[:300]!r} -> "
                f"{response.status_code} {response.text}"
            )
        assert response.status_code < 500, SERVER_ERRORS[module][-1]
        assert response.headers["content-type"].startswith("application/json")

    run()
    statuses = dict(sorted(STATUSES.get(module, Counter()).items()))
    print(f"\n{module}: {SENT.get(module, 0)} requests, 0 answered 5xx; statuses {statuses}")
