"""Property: whatever a client sends to a documented operation, the sandbox answers with a
Zoho envelope and never a 5xx or an unhandled exception (an ``ApiError`` below 500 is
a correct rejection).

Bodies and query strings come from hypothesis, shaped by the operation's OAS request
schema (documented fields with plausible and implausible values) and mixed with junk.
Path ids come from a pool of records that really exist, so handlers get past their
lookups, plus random ids and garbage. Bounded examples keep the run near a minute.
"""

from __future__ import annotations

import dataclasses
import json
import re
import string
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sandbox.conftest import Call
from tests.sandbox.oas import OasIndex, concrete_path, load_oas, requires_oas
from tests.sandbox.test_oas_conformance import ACTIVE, run_scenario
from zbooks.sandbox.books.generic import ID_FIELDS, module_for
from zbooks.sandbox.books.registry import BooksRequest, BooksResponse, Route, load_routes
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.db import Database
from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.http_books import render_json
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.organizations import create_organization
from zbooks.sandbox.spec_table import OPERATIONS, SpecOp

STATEFUL_EXAMPLES = 60  # per route module
GENERIC_EXAMPLES = 400  # over all generic operations together
_PARAM = re.compile(r"\{([^}]+)\}")

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
DATES = st.dates().map(lambda d: d.isoformat())
NUMBERS = st.one_of(
    st.integers(-1000, 10**6),
    st.floats(-1e6, 1e9, allow_nan=False, allow_infinity=False),
    st.decimals(-1000, 10**6, places=3, allow_nan=False).map(str),
)


# --- the world the properties run in ---------------------------------------------------


@dataclasses.dataclass
class World:
    ledger: Ledger
    index: OasIndex
    ids: list[str]
    routes: dict[tuple[str, str], Route]
    by_module: dict[str, list[str]]  # store module -> ids of its records
    by_field: dict[str, list[str]]  # id field (contact_id) -> ids of records it names

    def invoke(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> BooksResponse:
        route, params = load_routes().match(method, path)
        request = BooksRequest(
            method=method,
            path=path,
            path_params=params,
            query=query,
            body=body,
            ledger=self.ledger,
            user_id="u1",
        )
        return route.handler(request)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One organization seeded by every active conformance scenario (without its
    deletes) and a few bare records in every generic collection, so that path ids and
    body ids can name real contacts, invoices, projects..."""
    db = Database(":memory:")
    org = create_organization(db, name="Property Org", owner_user_id="u1")
    ledger = Ledger(db=db, clock=Clock(), org_id=org["organization_id"])
    registry = load_routes()

    def call(method: str, path: str, *, query: Any = None, body: Any = None) -> BooksResponse:
        route, params = registry.match(method, path)
        return route.handler(
            BooksRequest(method, path, params, query or {}, body or {}, ledger, user_id="u1")
        )

    seed: Call = call
    for scenario in ACTIVE:
        keep = tuple(s for s in scenario.steps if s.method != "DELETE")
        run_scenario(seed, ledger, dataclasses.replace(scenario, steps=keep))
    for collection, id_field in ID_FIELDS.items():
        module = module_for(collection, {"module_name": "cm_debtor"})
        # Stateful modules get real records from the scenarios, never bare ones.
        if module.startswith("generic:") and not ledger.store.count(module):
            for _ in range(3):  # a few, since generated deletes use some up
                record_id = ledger.store.new_id()
                ledger.store.insert(module, record_id, {id_field: record_id}, ledger.now())
    with db.read() as conn:
        rows = conn.execute(
            "SELECT module, record_id, data FROM records WHERE org_id=? ORDER BY rowid",
            (ledger.org_id,),
        ).fetchall()
    by_module: dict[str, list[str]] = {}
    by_field: dict[str, list[str]] = {"organization_id": [ledger.org_id]}
    for row in rows:
        record_id = str(row["record_id"])
        by_module.setdefault(str(row["module"]), []).append(record_id)
        for name, value in json.loads(row["data"]).items():
            if name.endswith("_id") and str(value) == record_id:
                by_field.setdefault(name, []).append(record_id)
    for alias in ("customer_id", "vendor_id"):
        by_field[alias] = by_field.get("contact_id", [])
    ids = [str(r["record_id"]) for r in rows] + [ledger.org_id]
    routes = {(r.method, r.template): r for r in registry.routes()}
    yield World(ledger, load_oas(), ids, routes, by_module, by_field)
    db.close()


# --- strategies ---------------------------------------------------------------------------


def id_values(world: World, known: list[str] | None = None) -> st.SearchStrategy[str]:
    """Mostly ids of records of the right kind (``known``), else any real id, a random
    digit string or garbage."""
    anything = st.one_of(
        st.sampled_from(world.ids),
        st.integers(1, 10**19).map(str),
        st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=12),
    )
    if not known:
        return anything
    right = st.sampled_from(known)
    return st.one_of(right, right, right, anything)


def from_schema(
    schema: dict[str, Any], world: World, name: str = "", depth: int = 0
) -> st.SearchStrategy[Any]:
    """Values for a documented field: the declared type most of the time, junk sometimes."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds] if kinds else []
    options: list[st.SearchStrategy[Any]] = []
    if depth < 3 and "object" in kinds:
        fields = {
            k: from_schema(v, world, k, depth + 1) for k, v in schema.get("properties", {}).items()
        }
        options.append(st.fixed_dictionaries({}, optional=fields))
    if depth < 3 and "array" in kinds:
        options.append(
            st.lists(from_schema(schema.get("items", {}), world, name, depth + 1), max_size=3)
        )
    if "string" in kinds:
        if name.endswith("_id") or name.endswith("_ids"):
            options.append(id_values(world, world.by_field.get(name.removesuffix("s"))))
        elif "date" in name:
            options.append(DATES)
        options.append(st.text(max_size=30))
    if "number" in kinds or "integer" in kinds:
        options.append(NUMBERS)
    if "boolean" in kinds:
        options.append(st.booleans())
    if not options:
        options.append(JSON_SCALARS)
    return st.one_of(*options, JSON_SCALARS) if depth else st.one_of(*options)


def query_values(name: str, schema: dict[str, Any], world: World) -> st.SearchStrategy[str]:
    typed = from_schema(schema, world, name, depth=3).map(
        lambda v: v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
    )
    common = st.sampled_from(["", "1", "0", "-1", "true", "Status.All", "2026-11-24", "x" * 101])
    return st.one_of(typed, common, st.text(max_size=15))


QUERY_EXTRAS = (
    "page",
    "per_page",
    "sort_column",
    "sort_order",
    "filter_by",
    "search_text",
    "last_modified_time",
    "date_start",
    "status",
)


def requests(
    world: World, ops: list[SpecOp]
) -> st.SearchStrategy[tuple[str, str, dict[str, str], dict[str, Any]]]:
    @st.composite
    def build(draw: Callable[..., Any]) -> tuple[str, str, dict[str, str], dict[str, Any]]:
        op = draw(st.sampled_from(ops))
        values = {}
        collections = {**dict(op.parents), op.id_param: op.collection}
        for param in _PARAM.findall(op.path):
            if param == "module_name":
                values[param] = draw(st.sampled_from(["cm_debtor", "cm_x", "nope"]))
                continue
            collection = collections.get(param)
            known = world.by_field.get(param, [])
            if collection:
                known = world.by_module.get(module_for(collection, values), []) or known
            values[param] = draw(id_values(world, known))
        path = concrete_path(op.path, values)
        documented = world.index.find(op.method, op.path.replace("{module_name}", "cm_x"))
        query_fields: dict[str, st.SearchStrategy[str]] = {
            name: query_values(name, {"type": "string"}, world) for name in QUERY_EXTRAS
        }
        body_strategy: st.SearchStrategy[Any] = st.dictionaries(
            st.text(max_size=10), JSON_VALUES, max_size=4
        )
        if documented is not None:
            for name, schema in world.index.query_parameters(documented).items():
                if name != "organization_id":
                    query_fields[name] = query_values(name, schema, world)
            request_schema = world.index.request_schema(documented)
            if request_schema:
                body_strategy = st.one_of(from_schema(request_schema, world), body_strategy)
        query = draw(st.fixed_dictionaries({}, optional=query_fields))
        body = draw(body_strategy) if op.method in ("POST", "PUT") else {}
        return op.method, path, query, body if isinstance(body, dict) else {"value": body}

    return build()


def check(
    world: World, method: str, path: str, query: dict[str, str], body: dict[str, Any]
) -> None:
    """The property itself."""
    try:
        response = world.invoke(method, path, query, body)
    except ApiError as error:
        assert error.status < 500, (method, path, query, body, error.body())
        assert isinstance(error.code, int) and error.code != 0
        return
    assert 200 <= response.status < 300, (method, path, response.status)
    if response.body is not None:
        assert response.body.get("code") == 0
        assert isinstance(response.body.get("message"), str)
        render_json(response.body)  # what the HTTP layer would send must serialise


# --- the properties -----------------------------------------------------------------------


def _stateful_groups() -> dict[str, list[SpecOp]]:
    registry = load_routes()
    groups: dict[str, list[SpecOp]] = {}
    for op in OPERATIONS:
        route, _params = registry.match(op.method, concrete_path(op.path))
        if not route.handler.__module__.endswith(".generic"):
            groups.setdefault(route.handler.__module__.rsplit(".", 1)[-1], []).append(op)
    return groups


STATEFUL = _stateful_groups()


@requires_oas
@pytest.mark.parametrize("module", sorted(STATEFUL))
def test_stateful_operations_never_answer_5xx(world: World, module: str) -> None:
    @settings(
        max_examples=STATEFUL_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests(world, STATEFUL[module]))
    def run(request: tuple[str, str, dict[str, str], dict[str, Any]]) -> None:
        check(world, *request)

    run()


@requires_oas
def test_generic_operations_never_answer_5xx(world: World) -> None:
    stateful = {(op.method, op.path) for ops in STATEFUL.values() for op in ops}
    generic = [op for op in OPERATIONS if (op.method, op.path) not in stateful]
    print(f"\n{len(generic)} generic operations, {sum(map(len, STATEFUL.values()))} stateful")

    @settings(
        max_examples=GENERIC_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests(world, generic))
    def run(request: tuple[str, str, dict[str, str], dict[str, Any]]) -> None:
        check(world, *request)

    run()
