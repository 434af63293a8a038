"""Tables of the sync database (SQLAlchemy 2 Core), and the rows that fill them.

One table per module: ``organization_id`` + ``id`` as the primary key, typed columns for
the fields people filter and sum on, and the full record as JSON in ``data`` (nothing is
lost when Zoho adds a field). Nested arrays (line items, applied payments ...) get child
tables keyed by (organization_id, <parent id>, position). ``row_hash`` is a SHA-256 of
the record's canonical JSON: it tells an unchanged record from a changed one without
comparing documents, and makes "does my copy match Zoho?" a cheap query.

``zbooks_sync_state`` holds one cursor per (organization, module); the engine updates it
in the same transaction as the rows it describes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    and_,
    delete,
    insert,
    inspect,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from zbooks.errors import ConfigurationError
from zbooks.sync import timeutil
from zbooks.sync.modules import ChildSpec, Col, ColumnType, ModuleSpec

try:  # the ``sync`` extra installs it; without it JSON goes through the standard library
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None  # type: ignore[assignment]

STATE_TABLE = "zbooks_sync_state"
META_COLUMNS = ("organization_id", "id", "data", "row_hash", "source_modified", "synced_at",
                "detail_synced_at", "deleted_at")
ID_LENGTH = 64


# SQLite has no exact decimal type: money is stored there as an INTEGER count of
# millionths (``total`` = 12.34 is stored as 12340000), so ``sum(total)`` is an exact
# integer and ``sum(total) / 1e6`` the amount. Zoho rounds amounts to the currency's
# precision (0 to 3 decimals) and rates rarely carry more than 6; a value with more
# decimals is rounded half-even to 6 (the JSON ``data`` keeps the original).
SQLITE_MONEY_SCALE = 6
_SQLITE_QUANTUM = Decimal(1).scaleb(-SQLITE_MONEY_SCALE)


class Money(TypeDecorator[Decimal]):
    """Exact money in every target: ``NUMERIC(28,8)`` in PostgreSQL, ``DECIMAL(28,8)`` in
    DuckDB, integer millionths in SQLite (see ``SQLITE_MONEY_SCALE``). Reads always give
    ``Decimal``."""

    impl = Numeric(28, 8)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(28, 8, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return _sqlite_millionths(value)
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-SQLITE_MONEY_SCALE)
        return Decimal(str(value))


def _sqlite_millionths(value: Any) -> int | None:
    """Money as SQLite stores it: integer millionths, rounded half-even."""
    if value is None:
        return None
    exact = value if value.__class__ is Decimal else Decimal(str(value))
    return int(exact.quantize(_SQLITE_QUANTUM, rounding=ROUND_HALF_EVEN)
               .scaleb(SQLITE_MONEY_SCALE))


class EncodedJSON(str):
    """A record's canonical JSON text (what its row hash is taken of), carrying the record
    itself in ``value``: the row is written with this text instead of encoding the record
    a second time (JSON encoding was the largest share of a sync's own CPU)."""

    value: Mapping[str, Any]

    def __new__(cls, value: Mapping[str, Any]) -> EncodedJSON:
        encoded = super().__new__(cls, canonical_json(value))
        encoded.value = value
        return encoded


class Document(TypeDecorator[Any]):
    """A JSON column (JSONB in PostgreSQL) that takes ``EncodedJSON`` as the text it
    already is where JSON is stored as text (SQLite, DuckDB). PostgreSQL gets the value:
    its driver encodes JSONB parameters itself."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(JSON())

    def bind_processor(self, dialect: Dialect) -> Any:
        inner = self.load_dialect_impl(dialect).bind_processor(dialect)
        as_text = dialect.name != "postgresql"

        def process(value: Any) -> Any:
            if isinstance(value, EncodedJSON):
                if as_text:
                    return str(value)
                value = value.value
            return inner(value) if inner is not None else value

        return process


def _json_type() -> TypeEngine[Any]:
    return Document()


def _sql_type(kind: ColumnType) -> TypeEngine[Any]:
    if kind == "money":
        return Money()
    if kind == "int":
        return BigInteger()
    if kind == "bool":
        return Boolean()
    if kind == "date":
        return Date()
    if kind == "timestamp":
        return DateTime(timezone=False)  # UTC
    return Text()


TypedPlan = tuple[tuple[str, ColumnType], ...]


def _typed_plan(columns: Sequence[Col], skip: Set[str]) -> TypedPlan:
    """Each typed column's name and type, worked out once per table (a row is built per
    record; looking them up per value was a share of building it)."""
    return tuple((c.name, c.type) for c in columns if c.name not in skip)


@dataclass(frozen=True)
class ChildTable:
    spec: ChildSpec
    table: Table
    parent_column: str
    typed: TypedPlan = field(init=False)

    def __post_init__(self) -> None:
        fixed = {"organization_id", self.parent_column, "position", "data"}
        if self.spec.id_field:
            fixed.add(self.spec.id_field)
        object.__setattr__(self, "typed", _typed_plan(self.spec.columns, fixed))


@dataclass(frozen=True)
class ModuleTables:
    spec: ModuleSpec
    table: Table
    children: tuple[ChildTable, ...]
    typed: TypedPlan = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "typed", _typed_plan(self.spec.columns, set(META_COLUMNS)))


class SyncSchema:
    """The tables for a set of modules; ``prefix`` namespaces them (``zoho_invoices``)."""

    def __init__(self, specs: Iterable[ModuleSpec], *, prefix: str = "") -> None:
        self.metadata = MetaData()
        self.prefix = prefix
        self.modules: dict[str, ModuleTables] = {}
        self.state = Table(
            prefix + STATE_TABLE,
            self.metadata,
            Column("organization_id", String(ID_LENGTH), primary_key=True),
            Column("module", String(64), primary_key=True),
            Column("strategy", String(16)),
            Column("cursor", String(40)),  # Zoho timestamp: next run reads from here
            Column("resume_since", String(40)),  # an interrupted scan's position ...
            Column("resume_page", Integer),  # ... (None: no scan in progress)
            Column("resume_max", String(40)),  # latest modification seen by that scan
            Column("resume_full", Boolean),  # the interrupted scan was a full refresh
            Column("run_upper", String(40)),
            Column("last_success_at", DateTime(timezone=False)),
            Column("updated_at", DateTime(timezone=False)),
        )
        for spec in specs:
            self.modules[spec.name] = self._module_tables(spec)

    def _module_tables(self, spec: ModuleSpec) -> ModuleTables:
        name = self.prefix + spec.name
        typed = [c for c in spec.columns if c.name not in META_COLUMNS]
        table = Table(
            name,
            self.metadata,
            Column("organization_id", String(ID_LENGTH), primary_key=True),
            Column("id", String(ID_LENGTH), primary_key=True),
            *(Column(c.name, _sql_type(c.type)) for c in typed),
            Column("data", _json_type(), nullable=False),
            Column("row_hash", String(64), nullable=False),
            Column("source_modified", String(40)),
            Column("synced_at", DateTime(timezone=False), nullable=False),
            # When the full record (GET /<module>/{id}) was stored; NULL: the row holds
            # only the list row (``details="none"``) and a run with details fills it.
            Column("detail_synced_at", DateTime(timezone=False)),
            Column("deleted_at", DateTime(timezone=False)),
        )
        children = []
        parent_column = spec.id_field
        for child in spec.children:
            fixed = {"organization_id", parent_column, "position", "data"}
            cols = [c for c in child.columns if c.name not in fixed and c.name != child.id_field]
            id_cols = [Column(child.id_field, String(ID_LENGTH))] if child.id_field else []
            child_table = Table(
                child.table_name(name),
                self.metadata,
                Column("organization_id", String(ID_LENGTH), primary_key=True),
                Column(parent_column, String(ID_LENGTH), primary_key=True),
                Column("position", Integer, primary_key=True, autoincrement=False),
                *id_cols,
                *(Column(c.name, _sql_type(c.type)) for c in cols),
                Column("data", _json_type(), nullable=False),
            )
            children.append(ChildTable(child, child_table, parent_column))
        return ModuleTables(spec, table, tuple(children))

    def create_all(self, engine: Engine) -> None:
        """Create missing tables; tables of an older zbooks get ``detail_synced_at`` (their
        rows were full records) and SQLite money stored as REAL is refused."""
        existing = set(inspect(engine).get_table_names())
        self.metadata.create_all(engine)
        for tables in self.modules.values():
            table = tables.table
            if table.name not in existing:
                continue
            with engine.connect() as conn:  # (duckdb-engine's inspector cannot list them)
                columns = set(conn.exec_driver_sql(f'SELECT * FROM "{table.name}" LIMIT 0').keys())
                declared = ({str(r[1]): str(r[2]).upper() for r in conn.exec_driver_sql(
                    f'PRAGMA table_info("{table.name}")')}
                    if engine.dialect.name == "sqlite" else {})
            money = [c.name for c in table.columns if isinstance(c.type, Money)]
            if any(declared.get(m, "") in ("REAL", "FLOAT", "DOUBLE") for m in money):
                raise ConfigurationError(
                    f"Table {table.name} was made by an older zbooks that stored money as "
                    "REAL (inexact).",
                    hint="Sync into a new database file (money is now exact), or drop the "
                    "sync tables and run again.",
                )
            if "detail_synced_at" not in columns:
                with engine.begin() as conn:
                    conn.execute(text(
                        f'ALTER TABLE "{table.name}" ADD COLUMN detail_synced_at TIMESTAMP'))
                    conn.execute(update(table).values(detail_synced_at=table.c.synced_at))


# --- values -----------------------------------------------------------------------------
def _canonical_stdlib(record: Mapping[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Where orjson's text can differ from the standard library's: small floats (orjson
# writes 1e-05 as 0.00001 and 1.5e-07 as 1.5e-7). Either token in its output sends the
# record to the standard library, so the text (and the row hash) stays what it was.
_ORJSON_DIFFERS = re.compile(rb"0\.0000|[0-9]e-[0-9]")


def _orjson_may_differ(encoded: bytes) -> bool:
    """``_ORJSON_DIFFERS.search(encoded)``, with substring scans first: the regex alone
    cost more than orjson's encoding of a 4 kB invoice."""
    return (b"0.0000" in encoded or b"e-" in encoded) and bool(
        _ORJSON_DIFFERS.search(encoded))


def canonical_json(record: Mapping[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the text a row hash is taken of. The same
    text as ``json.dumps(record, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, five times faster through orjson where orjson writes the same
    (everything JSON from Zoho holds, except the floats ``_ORJSON_DIFFERS`` catches;
    integers beyond 64 bits and lone surrogates orjson refuses go the slow way too).
    NaN and infinities, which JSON from Zoho cannot hold, are where they differ."""
    if _orjson is None:
        return _canonical_stdlib(record)
    try:
        encoded = _orjson.dumps(record, option=_orjson.OPT_SORT_KEYS)
    except (TypeError, _orjson.JSONEncodeError):
        return _canonical_stdlib(record)
    if _orjson_may_differ(encoded):
        return _canonical_stdlib(record)
    return encoded.decode()


def record_hash(record: Mapping[str, Any] | EncodedJSON) -> str:
    """SHA-256 of the canonical JSON: equal records, equal hashes, in any database."""
    text = record if isinstance(record, EncodedJSON) else canonical_json(record)
    return hashlib.sha256(text.encode()).hexdigest()


def document(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """The record a row built by ``module_row`` holds."""
    data = row["data"]
    return data.value if isinstance(data, EncodedJSON) else data


def convert(kind: ColumnType, value: Any) -> Any:
    """A field's value for its typed column; anything unparsable becomes NULL (the JSON
    copy keeps the original, so a surprising value never fails a sync)."""
    if value is None or value == "":
        return None
    if kind == "text" and value.__class__ is str:  # the usual case, first
        return value
    try:
        if kind == "money":
            if isinstance(value, bool):
                return None
            return Decimal(str(value))
        if kind == "int":
            return None if isinstance(value, bool) else int(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in ("true", "1", "yes")
        if kind == "date":
            return date.fromisoformat(str(value)[:10])
        if kind == "timestamp":
            return timeutil.to_utc_naive(value)
    except (ValueError, TypeError, InvalidOperation):
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _typed(plan: TypedPlan, record: Mapping[str, Any]) -> dict[str, Any]:
    get = record.get
    return {name: convert(kind, get(name)) for name, kind in plan}


def module_row(
    tables: ModuleTables, org_id: str, record: Mapping[str, Any], now: datetime,
    *, detailed: bool = True,
) -> dict[str, Any]:
    """The row for ``record``; ``detailed`` says it is the full record (stamps
    ``detail_synced_at``) rather than a list row."""
    spec = tables.spec
    modified = record.get("last_modified_time")
    encoded = EncodedJSON(record)
    row = {
        "organization_id": org_id,
        "id": str(record[spec.id_field]),
        **_typed(tables.typed, record),
        "data": encoded,
        "row_hash": record_hash(encoded),
        "source_modified": modified if isinstance(modified, str) and modified else None,
        "synced_at": now,
        "detail_synced_at": now if detailed else None,
        "deleted_at": None,
    }
    return row


def child_rows(
    child: ChildTable, org_id: str, parent_id: str, record: Mapping[str, Any]
) -> list[dict[str, Any]]:
    elements = record.get(child.spec.key)
    if not isinstance(elements, list):
        return []
    id_field = child.spec.id_field
    rows = []
    for position, element in enumerate(e for e in elements if isinstance(e, dict)):
        row: dict[str, Any] = {
            "organization_id": org_id,
            child.parent_column: parent_id,
            "position": position,
        }
        if id_field:
            value = element.get(id_field)
            row[id_field] = None if value in (None, "") else str(value)
        row.update(_typed(child.typed, element))
        # Encoded once here (orjson): the JSON column takes the text as it is.
        row["data"] = EncodedJSON(element)
        rows.append(row)
    return rows


# --- writes -----------------------------------------------------------------------------
def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert or replace on the primary key: native ``ON CONFLICT`` for SQLite and
    PostgreSQL, delete-then-insert elsewhere (inside the caller's transaction)."""
    if not rows:
        return
    keys = [c.name for c in table.primary_key.columns]
    dialect = conn.dialect.name
    if dialect == "duckdb" and len(rows) > 2:  # (a state row: the plain path is quicker)
        _duckdb_upsert(conn, table, rows, keys)
        return
    if dialect == "sqlite":
        sql, binds = _sqlite_upsert_plan(table, conn.dialect)
        conn.exec_driver_sql(sql, [
            tuple([r.get(name) if bind is None else bind(r.get(name)) for name, bind in binds])
            for r in rows
        ])
        return
    if dialect in ("postgresql", "duckdb"):
        conn.execute(_upsert_statement(dialect, table), list(rows))
        return
    key_cols = [table.c[k] for k in keys]
    conn.execute(delete(table).where(tuple_(*key_cols).in_([tuple(r[k] for k in keys)
                                                            for r in rows])))
    conn.execute(insert(table), list(rows))


@functools.lru_cache(maxsize=256)
def _upsert_statement(dialect: str, table: Table) -> Any:
    """``INSERT ... ON CONFLICT (key) DO UPDATE`` for ``table``, built once: building it
    (an alias of every column for ``excluded``) was a tenth of a SQLite sync's CPU. DuckDB
    speaks PostgreSQL's form."""
    keys = [c.name for c in table.primary_key.columns]
    stmt = (sqlite if dialect == "sqlite" else postgresql).insert(table)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=updates)


@functools.lru_cache(maxsize=256)
def _sqlite_upsert_plan(table: Table, dialect: Dialect
                        ) -> tuple[str, tuple[tuple[str, Callable[[Any], Any] | None], ...]]:
    """The upsert's SQL for SQLite and, per parameter, its column and the type's own bind
    processor (money to integer millionths, dates and timestamps to SQLAlchemy's text
    forms, JSON text as it is): rows go to the driver's ``executemany`` as tuples.
    SQLAlchemy's per-row parameter processing was a fifth of a SQLite sync's CPU."""
    compiled = _upsert_statement("sqlite", table).compile(dialect=dialect)
    names = compiled.positiontup or []
    binds = tuple(
        # Money straight to its millionths: through the type's own processor it was two
        # wrappers and an isinstance per value, a tenth of a SQLite commit.
        (name, _sqlite_millionths if isinstance(table.c[name].type, Money)
         else table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in names
    )
    return str(compiled), binds


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _arrow_batch(table: Table, rows: Sequence[Mapping[str, Any]]) -> Any:
    """``rows`` as one Arrow table in ``table``'s column order. Values keep their exact
    types: money as exact text (DuckDB casts it to DECIMAL(28,8) on insert; converting
    to Arrow decimals took more time than the rest of the batch), dates, timestamps,
    JSON as text."""
    import pyarrow as pa

    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON | Document)}
    money = {c.name for c in table.columns if isinstance(c.type, Money)}
    data: dict[str, list[Any]] = {}
    for column in table.columns:
        name = column.name
        values = [r.get(name) for r in rows]
        if name in json_columns:
            values = [None if v is None else str(v) if isinstance(v, EncodedJSON)
                      else json.dumps(v) for v in values]
        elif name in money:
            values = [None if v is None else format(v, "f") for v in values]
        data[name] = values
    return pa.table(data)


def _native(conn: Connection) -> Any:
    native = conn.connection.driver_connection
    assert native is not None
    return native


@functools.lru_cache(maxsize=256)
def _column_list(table: Table) -> str:
    return ", ".join(_quote(c.name) for c in table.columns)


def _insert_arrow(native: Any, table: Table, rows: Sequence[Mapping[str, Any]],
                  suffix: str = "") -> None:
    """``INSERT INTO table SELECT ... FROM`` an Arrow batch of ``rows``, columns by name
    (a table an older zbooks migrated has ``detail_synced_at`` last). DuckDB finds the
    batch by the local variable's name (its replacement scan): registering it as a view
    and dropping the view again cost about 1 ms of CPU per batch, a catalog change each."""
    zbooks_arrow_batch = _arrow_batch(table, rows)  # noqa: F841 (read by name, below)
    names = _column_list(table)
    native.execute(f"INSERT INTO {_quote(table.name)} ({names}) SELECT {names} "
                   f"FROM zbooks_arrow_batch{suffix}")


def _delete_by_ids(native: Any, table: Table, column: str, org_id: str,
                   ids: Sequence[str]) -> None:
    """Delete ``table``'s rows of ``org_id`` whose ``column`` is one of ``ids`` (bound
    parameters, a single statement)."""
    if not ids:
        return
    marks = ", ".join("?" * len(ids))
    native.execute(f"DELETE FROM {_quote(table.name)} WHERE organization_id = ? "
                   f"AND {_quote(column)} IN ({marks})", [org_id, *ids])


def _duckdb_upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]],
                   keys: list[str]) -> None:
    """DuckDB binds parameters one by one (about 700 rows/s through SQLAlchemy, measured
    in ``benchmarks/sync_details.py``); an Arrow batch handed to its native API is ten
    times faster, inside the same transaction."""
    updates = ", ".join(f"{_quote(c.name)} = excluded.{_quote(c.name)}" for c in table.columns
                        if c.name not in keys)
    _insert_arrow(_native(conn), table, rows,
                  f" ON CONFLICT ({', '.join(_quote(k) for k in keys)}) DO UPDATE SET {updates}")


def replace_records(conn: Connection, tables: ModuleTables, org_id: str,
                    rows: Sequence[Mapping[str, Any]], *, present: Set[str] | None = None,
                    with_children: Set[str] | None = None) -> None:
    """Write rows built by ``module_row``; each row's child rows replace the ones it had
    (inside the caller's transaction).

    ``present`` and ``with_children``, when the caller read them with the rows' state,
    are the ids that already have a row and the ids that have child rows (None: any may).
    Nothing is deleted for a row that has none: each statement skipped is 2-3 ms of a
    DuckDB commit's CPU, and most commits of a first sync need none. A row wrongly left
    out of ``present`` fails the transaction on the primary key."""
    if not rows:
        return
    if conn.dialect.name == "duckdb":
        _duckdb_replace(conn, tables, org_id, rows, present, with_children)
        return
    upsert(conn, tables.table, rows)
    ids = [r["id"] for r in rows]
    old = [i for i in ids if with_children is None or i in with_children]
    for child in tables.children:
        delete_children(conn, child, org_id, old)
        kids = [k for r in rows for k in child_rows(child, org_id, r["id"], document(r))]
        if kids:
            upsert(conn, child.table, kids)


def _duckdb_replace(conn: Connection, tables: ModuleTables, org_id: str,
                    rows: Sequence[Mapping[str, Any]], present: Set[str] | None,
                    with_children: Set[str] | None) -> None:
    """DuckDB's shape of ``replace_records``: the rows' old versions and child rows are
    deleted by the batch's ids (only those that have any), then all of it is plain
    ``INSERT ... SELECT`` from Arrow: at most four native statements per commit, two on
    a first sync's rows. ``ON CONFLICT DO UPDATE`` (and ``INSERT OR REPLACE``) cost
    about twice the CPU of delete + insert; an ``IN (SELECT id FROM <Arrow view>)``
    more than bound ids."""
    native = _native(conn)
    ids = [r["id"] for r in rows]
    old = ids if present is None else [i for i in ids if i in present]
    for child in tables.children:
        parents = old if with_children is None else [i for i in old if i in with_children]
        _delete_by_ids(native, child.table, child.parent_column, org_id, parents)
    _delete_by_ids(native, tables.table, "id", org_id, old)
    _insert_arrow(native, tables.table, rows)
    for child in tables.children:
        kids = [k for r in rows for k in child_rows(child, org_id, r["id"], document(r))]
        if kids:
            _insert_arrow(native, child.table, kids)


def delete_children(
    conn: Connection, child: ChildTable, org_id: str, parent_ids: Sequence[str]
) -> None:
    if not parent_ids:
        return
    table = child.table
    conn.execute(
        delete(table).where(
            and_(
                table.c.organization_id == org_id,
                table.c[child.parent_column].in_(list(parent_ids)),
            )
        )
    )
