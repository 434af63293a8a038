"""Tables, typed values, hashes and upserts, on SQLite in memory."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from zbooks.sync.database import make_engine, normalise_url
from zbooks.sync.modules import MODULES
from zbooks.sync.schema import (
    EncodedJSON,
    SyncSchema,
    canonical_json,
    child_rows,
    convert,
    delete_children,
    document,
    module_row,
    record_hash,
    replace_records,
    upsert,
)

NOW = datetime(2026, 11, 24, 10, 0)


def invoice(lines: int, total: float = 118.0, **extra: object) -> dict[str, object]:
    return {
        "invoice_id": "460000000000101",
        "invoice_number": "INV-000101",
        "status": "sent",
        "date": "2026-11-20",
        "total": total,
        "exchange_rate": 1,
        "last_modified_time": "2026-11-24T15:30:00+0530",
        "line_items": [
            {"line_item_id": f"7{n}", "name": f"Line {n}", "rate": 10.5, "quantity": 2,
             "discount": "10%", "item_order": n}
            for n in range(lines)
        ],
        **extra,
    }


def test_typed_values_and_tolerance_for_odd_ones() -> None:
    assert convert("money", 10.5) == Decimal("10.5")
    assert convert("money", "") is None and convert("money", "abc") is None
    assert convert("money", True) is None
    assert convert("int", "30") == 30 and convert("int", True) is None
    assert convert("bool", "true") is True and convert("bool", False) is False
    assert convert("date", "2026-11-20") == date(2026, 11, 20)
    assert convert("date", "20/11/2026") is None
    assert convert("timestamp", "2026-11-24T15:30:00+0530") == datetime(2026, 11, 24, 10, 0)
    assert convert("text", 12) == "12"
    assert convert("text", {"b": 1, "a": 2}) == '{"a": 2, "b": 1}'


def test_hash_is_independent_of_key_order_and_sensitive_to_values() -> None:
    a = {"x": 1, "y": [1, {"b": "é", "a": None}]}
    b = {"y": [1, {"a": None, "b": "é"}], "x": 1}
    assert record_hash(a) == record_hash(b)
    assert record_hash(a) != record_hash({**a, "x": 2})
    assert canonical_json(a) == '{"x":1,"y":[1,{"a":null,"b":"é"}]}'


def test_upsert_replaces_the_row_and_its_children() -> None:
    engine = make_engine("sqlite://")
    schema = SyncSchema([MODULES["invoices"]])
    schema.create_all(engine)
    tables = schema.modules["invoices"]
    lines = tables.children[0]
    assert lines.table.name == "invoices_line_items" and lines.parent_column == "invoice_id"

    def save(record: dict[str, object]) -> None:
        row = module_row(tables, "org1", record, NOW)
        with engine.begin() as conn:
            upsert(conn, tables.table, [row])
            delete_children(conn, lines, "org1", [row["id"]])
            upsert(conn, lines.table, child_rows(lines, "org1", row["id"], record))

    save(invoice(3))
    save(invoice(2, total=99.95, reference_number="PO-1"))
    with engine.connect() as conn:
        row = conn.execute(sa.select(tables.table)).one()
        kids = conn.execute(sa.select(lines.table).order_by(lines.table.c.position)).all()
    assert row.total == Decimal("99.95") and row.exchange_rate == Decimal("1")
    assert row.date == date(2026, 11, 20) and row.last_modified_time == NOW
    assert row.source_modified == "2026-11-24T15:30:00+0530"
    assert row.data["reference_number"] == "PO-1" and row.deleted_at is None
    assert row.row_hash == record_hash(invoice(2, total=99.95, reference_number="PO-1"))
    assert [k.line_item_id for k in kids] == ["70", "71"]
    assert kids[0].discount == "10%" and kids[1].quantity == Decimal("2")
    assert kids[1].data["name"] == "Line 1"


def test_children_without_ids_and_a_table_prefix() -> None:
    schema = SyncSchema([MODULES["bills"]], prefix="zoho_")
    tables = schema.modules["bills"]
    assert tables.table.name == "zoho_bills"
    assert [c.table.name for c in tables.children] == ["zoho_bills_line_items",
                                                       "zoho_bills_payments"]
    assert schema.state.name == "zoho_zbooks_sync_state"
    payments = tables.children[1]
    rows = child_rows(payments, "o", "9", {"payments": [{"amount": 5}, "junk", {"amount": 7}]})
    assert [(r["position"], r["bill_payment_id"], r["amount"]) for r in rows] == [
        (0, None, Decimal("5")), (1, None, Decimal("7"))]
    assert child_rows(payments, "o", "9", {"payments": None}) == []


def test_a_memory_database_is_shared_by_threads() -> None:
    engine = make_engine("sqlite://")
    schema = SyncSchema([MODULES["taxes"]])
    schema.create_all(engine)  # in the main thread ...

    def count() -> None:
        with engine.connect() as conn:  # ... visible from another
            found.append(conn.execute(sa.select(sa.func.count()).select_from(
                schema.modules["taxes"].table)).scalar())

    found: list[object] = []
    worker = threading.Thread(target=count)
    worker.start()
    worker.join()
    assert found == [0]


def test_file_databases_use_wal_and_postgres_urls_get_psycopg(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.sqlite")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg2://u@h/db").drivername == "postgresql+psycopg2"
    assert make_engine(engine) is engine


# --- canonical JSON through orjson: the same text as the standard library's -------------
_json_scalars = (
    st.none() | st.booleans() | st.text()
    | st.integers(min_value=-(2**70), max_value=2**70)  # beyond 64 bits: orjson refuses
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e-05, 1.5e-07, 0.0001, 1e16, 1e-300, -0.0, 0.00001234])
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(), _json_values, max_size=6))
def test_canonical_json_is_the_standard_librarys_text(record: dict[str, object]) -> None:
    expected = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(record) == expected


def test_canonical_json_of_text_that_looks_like_a_small_float() -> None:
    record = {"notes": "ref 1e-5, 0.00001", "rate": 1e-05, "big": 2**80, "odd": "\ud800"}
    assert canonical_json(record) == json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_child_rows_carry_their_json_text_once() -> None:
    lines = SyncSchema([MODULES["invoices"]]).modules["invoices"].children[0]
    rows = child_rows(lines, "o", "1", {"line_items": [{"name": "é", "rate": 2.5}]})
    assert isinstance(rows[0]["data"], EncodedJSON)
    assert rows[0]["data"] == '{"name":"é","rate":2.5}'
    assert document(rows[0]) == {"name": "é", "rate": 2.5}


@pytest.mark.parametrize("target", ["sqlite", "duckdb"])
def test_replace_records_replaces_rows_and_exactly_their_children(
    target: str, tmp_path: Path
) -> None:
    """The DuckDB shape (delete by the batch's ids, then insert) and the upsert shape give
    the same tables: replaced rows, their old child rows gone, other records untouched,
    money exact."""
    url = "sqlite://" if target == "sqlite" else f"duckdb:///{tmp_path}/r.duckdb"
    engine = make_engine(url)
    schema = SyncSchema([MODULES["invoices"]])
    schema.create_all(engine)
    tables = schema.modules["invoices"]
    lines = tables.children[0]

    def record(rid: str, n: int, total: float) -> dict[str, object]:
        return {**invoice(n, total=total), "invoice_id": rid}

    first = [record(str(i), 3, 10.1 + i) for i in range(25)]  # more than one Arrow batch
    with engine.begin() as conn:
        replace_records(conn, tables, "org1", [module_row(tables, "org1", r, NOW)
                                               for r in first])
        replace_records(conn, tables, "org2", [module_row(tables, "org2", first[0], NOW)])
    again = [record("3", 1, 0.1), record("4", 0, 0.2), record("99", 2, 0.3)]
    with engine.begin() as conn:
        replace_records(conn, tables, "org1", [module_row(tables, "org1", r, NOW)
                                               for r in again])
    with engine.connect() as conn:
        rows = {(r.organization_id, r.id): r for r in conn.execute(sa.select(tables.table))}
        kids = conn.execute(sa.select(lines.table.c.organization_id, lines.table.c.invoice_id,
                                      sa.func.count()).group_by(
            lines.table.c.organization_id, lines.table.c.invoice_id)).all()
        total = conn.execute(sa.select(sa.func.sum(tables.table.c.total)).where(
            tables.table.c.organization_id == "org1")).scalar()
    assert len(rows) == 27
    assert rows[("org1", "3")].total == Decimal("0.1")
    assert rows[("org1", "99")].data["invoice_id"] == "99"
    counts = {(o, i): n for o, i, n in kids}
    assert counts[("org1", "3")] == 1 and ("org1", "4") not in counts
    assert counts[("org1", "99")] == 2 and counts[("org1", "5")] == 3
    assert counts[("org2", "0")] == 3  # another organization's children are its own
    expected = sum((Decimal(str(10.1 + i)) for i in range(25) if i not in (3, 4)),
                   Decimal("0.1") + Decimal("0.2") + Decimal("0.3"))
    assert total == expected  # exact: DECIMAL(28,8) in DuckDB, integer millionths in SQLite
