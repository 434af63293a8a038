"""Property over real HTTP: whatever schemathesis generates from Zoho's OpenAPI files for
the six busiest modules, sent with a valid token to a sandbox on loopback, is never
answered with a 5xx.

Unlike ``tests/sandbox/test_property.py`` (handlers called directly), every request here
goes through uvicorn, the dispatcher's body parsing and the boundary checks, which is
where hostile numbers, text and nesting used to turn into 500s. The example count is
bounded for CI (``ZBOOKS_HTTP_PROPERTY_EXAMPLES`` per module, default 40); a longer run
uses the same test with a bigger number (see docs/sandbox.md).
"""

from __future__ import annotations

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


def _send(http: httpx2.Client, org_id: str, case: Any) -> httpx2.Response:
    """One generated case over HTTP, with the organization a real client would name."""
    query = {k: str(v) for k, v in (case.query or {}).items()}
    query["organization_id"] = org_id
    path = case.formatted_path
    kwargs: dict[str, Any] = {"params": query}
    headers = {k: str(v) for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    body = case.body
    if case.method.upper() in ("POST", "PUT") and isinstance(body, (dict, list, str, int, float)):
        kwargs["json"] = body
    return http.request(case.method.upper(), path, headers=headers, **kwargs)


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
        response = _send(target.http, target.org_id, case)
        SENT[module] = SENT.get(module, 0) + 1
        STATUSES.setdefault(module, Counter())[response.status_code] += 1
        if response.status_code >= 500:
            SERVER_ERRORS.setdefault(module, []).append(
                f"{case.method} {case.formatted_path} -> {response.status_code} {response.text}"
            )
        assert response.status_code < 500, SERVER_ERRORS[module][-1]
        assert response.headers["content-type"].startswith("application/json")

    run()
    statuses = dict(sorted(STATUSES.get(module, Counter()).items()))
    print(f"\n{module}: {SENT.get(module, 0)} requests, 0 answered 5xx; statuses {statuses}")
