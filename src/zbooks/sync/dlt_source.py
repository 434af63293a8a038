"""A dlt source for Zoho Books: the same module table and incremental scan as
``zbooks sync``, loading into any dlt destination (DuckDB, BigQuery, Snowflake ...).

    import dlt, zbooks
    from zbooks.dlt import zoho_books_source

    pipeline = dlt.pipeline("zoho", destination="duckdb", dataset_name="zoho_books")
    with zbooks.Client() as client:
        pipeline.run(zoho_books_source(client, modules="invoices,contacts"))

One resource per module, merged on (organization_id, <id field>); nested arrays become
dlt child tables (``invoices__line_items``) whose rows carry the parent's key
(``organization_id`` and ``invoice_id``) besides dlt's ``_dlt_parent_id``.

Typed, so destinations get exact figures: the module table's money columns are
``decimal`` (precision 28; scale = the organization's ``price_precision`` for amounts, 8
for rates, quantities and percentages), dates are ``date`` and timestamps
``timestamp`` (UTC), in the top-level tables and in the child tables.

The cursor lives in dlt's resource state,
which dlt commits with the load, so a failed run simply repeats from the last loaded
cursor (merging makes that idempotent). Each record also carries ``row_hash``, the same
SHA-256 ``zbooks sync`` stores, so the two copies can be compared row by row.

Detail GETs are skipped for records already loaded with the same ``last_modified_time``:
for scanned-by-time modules the state remembers the records within the lookback window
of the cursor; for modules Zoho cannot filter by time, it remembers every record's
modification time (a few dozen bytes per record).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import dlt
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource

from zbooks.core.client import Client
from zbooks.errors import APIError, NotFoundError
from zbooks.sync import organizations_to_sync, timeutil
from zbooks.sync.engine import DEFAULT_LOOKBACK
from zbooks.sync.modules import Col, ModuleSpec, resolve_modules
from zbooks.sync.scan import ListScan, Position
from zbooks.sync.schema import record_hash

__all__ = ["zoho_books_source"]


def zoho_books_source(
    client: Client,
    modules: str | Sequence[str] | None = None,
    *,
    organization_id: str | None = None,
    all_orgs: bool = False,
    full_refresh: bool = False,
    lookback: timedelta = DEFAULT_LOOKBACK,
    detail_workers: int | None = None,
    now: Callable[[], datetime] | None = None,
) -> DltSource:
    specs = resolve_modules(
        modules if modules is None or isinstance(modules, str) else list(modules)
    )
    orgs = organizations_to_sync(client, organization_id, all_orgs)
    limiter = client.rate_limiter
    workers = detail_workers or (limiter.concurrency if limiter is not None else 4)
    clock = now or timeutil.utc_now
    options = _Options(lookback, full_refresh, workers, clock)
    options.precision = max(_org_precision(client, org) for org in orgs)

    def zoho_books() -> list[DltResource]:
        return [_resource(client, spec, orgs, options) for spec in specs]

    source: DltSource = dlt.source(zoho_books, name="zoho_books")()
    return source


class _Options:
    def __init__(
        self, lookback: timedelta, full_refresh: bool, workers: int, clock: Callable[[], datetime]
    ) -> None:
        self.lookback = lookback
        self.full_refresh = full_refresh
        self.workers = workers
        self.clock = clock
        self.precision = DEFAULT_PRECISION


DEFAULT_PRECISION = 2  # Zoho's usual price_precision (api-facts §2.5)
MONEY_PRECISION = 28
RATE_SCALE = 8
# Money-typed fields that are rates, quantities or percentages, not amounts: they keep
# more decimals than the currency's precision.
RATE_FIELDS = frozenset({"rate", "purchase_rate", "quantity", "exchange_rate", "tax_percentage"})


def _org_precision(client: Client, org: str) -> int:
    """The organization's ``price_precision`` (decimals of its amounts)."""
    try:
        body = client.request("GET", f"/organizations/{org}", organization_id=org)
    except APIError:
        return DEFAULT_PRECISION
    value = (
        body.get("organization", {}).get("price_precision") if isinstance(body, Mapping) else None
    )
    return value if isinstance(value, int) and 0 <= value <= 8 else DEFAULT_PRECISION


def _scale(col: Col, precision: int) -> int:
    return RATE_SCALE if col.name in RATE_FIELDS else precision


def _hints(columns: Sequence[Col], precision: int) -> Any:
    """dlt column hints (``TColumnSchema``s) for the typed columns of a module or child
    table."""
    hints: dict[str, dict[str, Any]] = {}
    for col in columns:
        if col.type == "money":
            hints[col.name] = {
                "data_type": "decimal",
                "precision": MONEY_PRECISION,
                "scale": _scale(col, precision),
                "nullable": True,
            }
        elif col.type == "date":
            hints[col.name] = {"data_type": "date", "nullable": True}
        elif col.type == "timestamp":
            hints[col.name] = {"data_type": "timestamp", "nullable": True}
        elif col.type == "int":
            hints[col.name] = {"data_type": "bigint", "nullable": True}
        elif col.type == "bool":
            hints[col.name] = {"data_type": "bool", "nullable": True}
        else:  # declared even when a load has no value for it, like the SQL tables
            hints[col.name] = {"data_type": "text", "nullable": True}
    return hints


def _value(col: Col, value: Any, precision: int) -> Any:
    """A field's value as the Python type dlt maps to the hinted column type."""
    if value is None or value == "":
        return None
    try:
        if col.type == "money":
            if isinstance(value, bool):
                return None
            quantum = Decimal(1).scaleb(-_scale(col, precision))
            return Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_EVEN)
        if col.type == "date":
            return date.fromisoformat(str(value)[:10])
        if col.type == "timestamp":
            parsed = timeutil.parse_or_none(value)
            return parsed.astimezone(UTC) if parsed is not None else None
        if col.type == "int":
            return None if isinstance(value, bool) else int(value)
        if col.type == "text" and not isinstance(value, str):
            return json.dumps(value) if isinstance(value, dict | list) else str(value)
    except (ValueError, TypeError, InvalidOperation):
        return None
    return value


def typed_record(
    spec: ModuleSpec, record: Mapping[str, Any], org: str, precision: int
) -> dict[str, Any]:
    """The record with typed values, and child rows that carry the parent's key."""
    out = dict(record)
    for col in spec.columns:
        if col.name in out:
            out[col.name] = _value(col, out[col.name], precision)
    record_id = str(record.get(spec.id_field, ""))
    for child in spec.children:
        elements = record.get(child.key)
        if not isinstance(elements, list):
            continue
        rows = []
        for element in elements:
            if not isinstance(element, dict):
                continue
            row = dict(element)
            for col in child.columns:
                if col.name in row:
                    row[col.name] = _value(col, row[col.name], precision)
            row["organization_id"] = org
            row[spec.id_field] = record_id
            rows.append(row)
        out[child.key] = rows
    out["organization_id"] = org
    return out


def _resource(client: Client, spec: ModuleSpec, orgs: list[str], options: _Options) -> DltResource:
    def records() -> Iterator[list[dict[str, Any]]]:
        state = dlt.current.resource_state()
        upper = timeutil.format_zoho(options.clock())
        with ThreadPoolExecutor(options.workers) as pool:
            for org in orgs:
                org_state = state.setdefault(org, {})
                yield from _org_records(client, spec, org, org_state, upper, pool, options)

    nested: dict[str, Any] = {
        child.key: dlt.mark.make_nested_hints(columns=_hints(child.columns, options.precision))
        for child in spec.children
    }
    hints: dict[str, Any] = {
        "columns": _hints(spec.columns, options.precision),
        "nested_hints": nested or None,
    }
    resource: DltResource = dlt.resource(
        records,
        name=spec.name,
        primary_key=("organization_id", spec.id_field),
        write_disposition="merge",
        **hints,
    )
    return resource


def _org_records(
    client: Client,
    spec: ModuleSpec,
    org: str,
    state: dict[str, Any],
    upper: str,
    pool: ThreadPoolExecutor,
    options: _Options,
) -> Iterator[list[dict[str, Any]]]:
    strategy = spec.strategy
    cursor = None if options.full_refresh else state.get("cursor")
    since = None
    if strategy != "full" and cursor:
        since = timeutil.minus(cursor, options.lookback)
    # id -> last_modified_time of records loaded before (see the module docstring).
    known: dict[str, str] = {} if options.full_refresh else dict(state.get("known", {}))

    def fetch(params: dict[str, Any]) -> Any:
        return client.request("GET", spec.path, params=params, organization_id=org)

    def detail(record_id: str) -> dict[str, Any] | None:
        assert spec.detail_key is not None
        try:
            body = client.request("GET", spec.detail_path(record_id), organization_id=org)
        except NotFoundError:
            return None
        record = body.get(spec.detail_key)
        return record if isinstance(record, dict) else None

    seen_max: str | None = None
    loaded: dict[str, str] = {}
    scan = ListScan(spec, strategy, fetch, Position(since, 1))
    for page in scan:
        seen_max = timeutil.later(seen_max, page.max_modified)
        rows = {str(r[spec.id_field]): r for r in page.rows if r.get(spec.id_field)}
        if spec.detail_key is None:
            records = list(rows.values())
        else:
            wanted = [
                rid
                for rid, row in rows.items()
                if known.get(rid) is None or known.get(rid) != row.get("last_modified_time")
            ]
            fetched = list(pool.map(detail, wanted))
            records = [r for r in fetched if r is not None]
        out = []
        for record in records:
            modified = record.get("last_modified_time")
            if isinstance(modified, str):
                loaded[str(record[spec.id_field])] = modified
            out.append(
                {
                    **typed_record(spec, record, org, options.precision),
                    "row_hash": record_hash(record),
                }
            )
        if out:
            yield out
    if seen_max is not None:
        state["cursor"] = timeutil.earlier(seen_max, upper)
    known.update(loaded)
    if spec.detail_key is None:
        state.pop("known", None)  # list rows are loaded whole; nothing to remember
    elif strategy == "full":
        state["known"] = known
    elif state.get("cursor"):
        floor = timeutil.parse(timeutil.minus(state["cursor"], options.lookback))
        state["known"] = {
            rid: ts
            for rid, ts in known.items()
            if (parsed := timeutil.parse_or_none(ts)) is not None and parsed >= floor
        }
