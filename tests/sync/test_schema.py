"""Tables, typed values, hashes and upserts, on SQLite in memory."""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from zbooks.sync.database import make_engine, normalise_url
from zbooks.sync.modules import MODULES
from zbooks.sync.schema import (
    SyncSchema,
    canonical_json,
    child_rows,
    convert,
    delete_children,
    module_row,
    record_hash,
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
