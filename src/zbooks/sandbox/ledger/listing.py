"""List endpoints, done once: pagination, sorting, filter_by, search_text, field
operators, date ranges and ``last_modified_time`` (api-facts §2.4).

A module describes its list with a ``ListSpec``; ``list_page`` turns the request's
query parameters into store filters and returns the page plus ``page_context``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zbooks.sandbox.clock import format_zoho_time, parse_zoho_time
from zbooks.sandbox.errors import invalid_value, too_long
from zbooks.sandbox.ledger import rows
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.store import Filter

FilterFactory = Callable[[Ledger], list[Filter]]
Presenter = Callable[[Ledger, dict[str, Any]], dict[str, Any]]

_NUMBER_OPS = {
    "_less_than": "lt",
    "_less_equals": "le",
    "_greater_than": "gt",
    "_greater_equals": "ge",
}
_DATE_OPS = {"_start": "ge", "_end": "le", "_before": "lt", "_after": "gt"}
MAX_PER_PAGE = 200
MAX_SEARCH_TEXT = 100


@dataclass(frozen=True)
class ListSpec:
    """How one module's list endpoint filters and sorts.

    ``filter_by`` maps Zoho's constants (``Status.Sent``) to filters; ``statuses`` maps
    the ``status=`` query values the same way (defaults to equality on ``status``).
    ``present`` shapes each stored record for the list (derived status, fewer fields).
    ``row_keys``: every top-level record key ``present`` reads, when that is a fixed set;
    the store then keeps each record's projection onto them (``ledger.rows``) and list
    pages present those instead of parsing whole documents.
    """

    module: str
    list_key: str
    report_name: str
    sort_columns: frozenset[str] = frozenset({"created_time", "last_modified_time"})
    default_sort: str = "created_time"
    filter_by: Mapping[str, FilterFactory] = field(default_factory=dict)
    default_filter: str = "Status.All"
    statuses: Mapping[str, FilterFactory] = field(default_factory=dict)
    search_fields: tuple[str, ...] = ()
    text_fields: tuple[str, ...] = ()
    exact_fields: tuple[str, ...] = ()
    date_fields: tuple[str, ...] = ("date",)
    number_fields: tuple[str, ...] = ()
    present: Presenter | None = None
    # ``response_option=2`` answers only the number of matching records. Documented for
    # invoices only (OAS); other modules ignore the parameter, as Zoho's docs suggest.
    counts: bool = False
    row_keys: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.row_keys is not None:
            rows.register(self.module, self.row_keys)


def status_in(*statuses: str) -> FilterFactory:
    """The filter factory for "stored status is one of ``statuses``"."""
    return lambda ledger: [Filter("status", "in", list(statuses))]


@dataclass
class ListResult:
    records: list[dict[str, Any]]
    page_context: dict[str, Any]


COUNT_ONLY = "2"  # response_option: "Includes only the number of invoices"
MAX_PAGE_NUMBER = (2**63 - 1) // 200  # UNCONFIRMED bound; see _int_param


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_value(name) from None
    if value < 1 or value > MAX_PAGE_NUMBER:
        # Zoho answers 400 code 4 for a page past a 64-bit integer; so do we, a little
        # earlier, where the row offset (page x per_page) would overflow SQLite's integer.
        raise invalid_value(name)
    return value


def list_page(ledger: Ledger, query: Mapping[str, str], spec: ListSpec) -> ListResult:
    page = _int_param(query, "page", 1)
    # UNCONFIRMED whether Zoho rejects per_page > 200; we clamp, as api-facts advises.
    per_page = min(_int_param(query, "per_page", MAX_PER_PAGE), MAX_PER_PAGE)

    filters: list[Filter] = []
    any_of: list[list[Filter]] = []

    filter_by = query.get("filter_by", "") or spec.default_filter
    if filter_by != spec.default_filter or filter_by in spec.filter_by:
        factory = spec.filter_by.get(filter_by)
        if factory is None and filter_by != "Status.All":
            raise invalid_value("filter_by")
        if factory is not None:
            filters.extend(factory(ledger))

    status = query.get("status", "")
    if status:
        factory = spec.statuses.get(status.lower())
        filters.extend(factory(ledger) if factory else [Filter("status", "eq", status.lower())])

    search = query.get("search_text", "")
    if search:
        if len(search) > MAX_SEARCH_TEXT:
            raise too_long("search_text", MAX_SEARCH_TEXT)
        if spec.search_fields:
            any_of.append([Filter(f, "contains", search) for f in spec.search_fields])

    for name in spec.text_fields:
        if query.get(f"{name}_startswith"):
            filters.append(Filter(name, "startswith", query[f"{name}_startswith"]))
        if query.get(f"{name}_contains"):
            filters.append(Filter(name, "contains", query[f"{name}_contains"]))
        if query.get(name) and name not in spec.exact_fields:
            filters.append(Filter(name, "eq", query[name]))
    for name in spec.exact_fields:
        if query.get(name):
            filters.append(Filter(name, "eq", query[name]))
    for name in spec.number_fields:
        for suffix, op in _NUMBER_OPS.items():
            raw = query.get(name + suffix, "")
            if raw:
                try:
                    filters.append(Filter(name, op, float(raw)))  # type: ignore[arg-type]
                except ValueError:
                    raise invalid_value(name + suffix) from None
    for name in spec.date_fields:
        if query.get(name):
            filters.append(Filter(name, "eq", _date(query[name], name)))
        for suffix, op in _DATE_OPS.items():
            raw = query.get(name + suffix, "")
            if raw:
                filters.append(Filter(name, op, _date(raw, name + suffix)))  # type: ignore[arg-type]

    modified = query.get("last_modified_time", "")
    if modified:
        try:
            since = parse_zoho_time(modified)
        except ValueError:
            raise invalid_value("last_modified_time") from None
        local = since.astimezone(ledger.clock.now().tzinfo)
        filters.append(Filter("last_modified_time", "ge", format_zoho_time(local)))

    sort_column = query.get("sort_column", "") or spec.default_sort
    if sort_column not in spec.sort_columns and sort_column != spec.default_sort:
        raise invalid_value("sort_column")
    sort_order = (query.get("sort_order", "") or "D").upper()
    if sort_order not in ("A", "D"):
        raise invalid_value("sort_order")
    sort = None if sort_column == "created_time" else sort_column

    if spec.counts and query.get("response_option", "") == COUNT_ONLY:
        # UNCONFIRMED shape: the count in page_context as ``total`` (and ``total_pages``),
        # with an empty list, the form Zoho's list answers take with response_option.
        total = ledger.store.count(spec.module, filters, any_of=any_of)
        return ListResult(
            [],
            {
                "page": 1,
                "per_page": per_page,
                "has_more_page": False,
                "report_name": spec.report_name,
                "applied_filter": filter_by,
                "total": total,
                "total_pages": -(-total // per_page),
            },
        )

    result = ledger.store.query(
        spec.module,
        filters,
        any_of=any_of,
        sort=sort,
        descending=sort_order == "D",
        page=page,
        per_page=per_page,
        projected=spec.row_keys is not None,
    )
    records = result.records
    if spec.present is not None:
        records = [spec.present(ledger, r) for r in records]
    context = {
        "page": page,
        "per_page": per_page,
        "has_more_page": result.has_more_page,
        "report_name": spec.report_name,
        "applied_filter": filter_by,
        "sort_column": sort_column,
        "sort_order": sort_order,
        "search_criteria": _criteria(query),
    }
    return ListResult(records, context)


def _date(raw: str, name: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise invalid_value(name) from None


def _criteria(query: Mapping[str, str]) -> list[dict[str, Any]]:
    skip = {"page", "per_page", "sort_column", "sort_order", "organization_id", "filter_by"}
    return [
        {"column_name": key, "search_text": value, "comparator": "equal"}
        for key, value in query.items()
        if key not in skip and value
    ]
