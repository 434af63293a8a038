"""Issue 16 point 5: the dlt source carries types into DuckDB and into Parquet (dlt's
filesystem destination): decimal money at the organization's precision, dates, UTC
timestamps, line items as child tables with the parent key, and exact sums."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from zbooks.sync.modules import MODULES

from .support import Credentials, SandboxProc, Truth, sandbox_now


@pytest.fixture
def expected(demo: SandboxProc) -> tuple[Decimal, Decimal, int]:
    truth = Truth(demo)
    try:
        records = truth.records(MODULES["invoices"])
    finally:
        truth.close()
    total = sum((Decimal(str(r["total"])) for r in records.values()), Decimal(0))
    lines = sum(
        (
            Decimal(str(li["item_total"]))
            for r in records.values()
            for li in r.get("line_items") or []
        ),
        Decimal(0),
    )
    return total, lines, len(records)


def _pipeline(tmp_path: Path, name: str, destination: object) -> object:
    import dlt

    return dlt.pipeline(
        pipeline_name=name,
        pipelines_dir=str(tmp_path / "pipelines"),
        destination=destination,
        dataset_name="zoho",
    )


def test_duckdb_gets_decimal_date_and_timestamp_columns_and_exact_sums(
    demo: SandboxProc,
    demo_creds: Credentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    expected: tuple[Decimal, Decimal, int],
) -> None:
    monkeypatch.setenv("RUNTIME__DLT_TELEMETRY", "false")
    import dlt
    import duckdb

    from zbooks.dlt import zoho_books_source

    path = str(tmp_path / "books.duckdb")
    pipeline = _pipeline(tmp_path, "types_duckdb", dlt.destinations.duckdb(path))
    with demo.client(demo_creds) as client:
        pipeline.run(zoho_books_source(client, modules="invoices", now=sandbox_now))  # type: ignore[attr-defined]
    db = duckdb.connect(path)
    try:
        types = dict(
            db.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'zoho' AND table_name = 'invoices'"
            ).fetchall()
        )
        assert types["total"] == "DECIMAL(28,2)"  # the demo organization: 2 decimals
        assert types["exchange_rate"] == "DECIMAL(28,8)"  # a rate keeps its decimals
        assert types["date"] == "DATE" and types["due_date"] == "DATE"
        assert types["last_modified_time"].startswith("TIMESTAMP")
        lines = dict(
            db.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'zoho' AND table_name = 'invoices__line_items'"
            ).fetchall()
        )
        assert lines["item_total"] == "DECIMAL(28,2)" and lines["rate"] == "DECIMAL(28,8)"
        assert "invoice_id" in lines and "organization_id" in lines  # the parent key
        total, count = db.execute("SELECT sum(total), count(*) FROM zoho.invoices").fetchone()
        line_sum = db.execute("SELECT sum(item_total) FROM zoho.invoices__line_items").fetchone()
        orphans = db.execute(
            "SELECT count(*) FROM zoho.invoices__line_items AS l LEFT JOIN zoho.invoices "
            "AS i ON i.invoice_id = l.invoice_id AND i.organization_id = l.organization_id "
            "WHERE i.invoice_id IS NULL"
        ).fetchone()
    finally:
        db.close()
    assert (total, line_sum[0], count) == expected
    assert orphans == (0,)


def test_parquet_files_carry_the_same_types_and_sums(
    demo: SandboxProc,
    demo_creds: Credentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    expected: tuple[Decimal, Decimal, int],
) -> None:
    monkeypatch.setenv("RUNTIME__DLT_TELEMETRY", "false")
    import dlt
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zbooks.dlt import zoho_books_source

    bucket = tmp_path / "lake"
    pipeline = _pipeline(
        tmp_path, "types_parquet", dlt.destinations.filesystem(bucket_url=bucket.as_uri())
    )
    with demo.client(demo_creds) as client:
        source = zoho_books_source(client, modules="invoices", now=sandbox_now)
        # The filesystem destination appends (it has no merge): load once.
        for resource in source.resources.values():
            resource.apply_hints(write_disposition="append")
        pipeline.run(source, loader_file_format="parquet")  # type: ignore[attr-defined]
    invoices = pa.concat_tables(
        pq.read_table(f) for f in (bucket / "zoho" / "invoices").glob("*.parquet")
    )
    lines = pa.concat_tables(
        pq.read_table(f) for f in (bucket / "zoho" / "invoices__line_items").glob("*.parquet")
    )
    schema = invoices.schema
    assert schema.field("total").type == pa.decimal128(28, 2)
    assert schema.field("exchange_rate").type == pa.decimal128(28, 8)
    assert schema.field("date").type == pa.date32()
    assert pa.types.is_timestamp(schema.field("last_modified_time").type)
    assert lines.schema.field("item_total").type == pa.decimal128(28, 2)
    assert "invoice_id" in lines.schema.names
    total = sum(invoices.column("total").to_pylist(), Decimal(0))
    line_sum = sum(lines.column("item_total").to_pylist(), Decimal(0))
    assert (total, line_sum, invoices.num_rows) == expected
