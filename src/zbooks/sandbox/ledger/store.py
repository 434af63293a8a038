"""Generic record storage: every Books record is a JSON document in the ``records`` table.

Filters and sorts run in SQL through ``json_extract`` so that lists over 100,000
invoices never load them all into Python. Modules keep their rules elsewhere and use
this as their only persistence API.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from zbooks.sandbox import jsonfast
from zbooks.sandbox.db import Change, Database
from zbooks.sandbox.ledger import details
from zbooks.sandbox.ledger import rows as row_projections

Op = Literal["eq", "ne", "in", "startswith", "contains", "lt", "le", "gt", "ge", "isnull"]

_SQL_OPS = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
ID_BASE = 460000000000000  # Zoho ids are 15-19 digit strings; ours start at 15 digits.


@dataclass(frozen=True)
class Filter:
    """``field`` is a top-level JSON key of the record (or a ``$.path`` expression)."""

    field: str
    op: Op
    value: Any = None


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    page: int
    per_page: int
    has_more_page: bool


def dumps(data: object) -> str:
    return json.dumps(data, default=jsonfast.decimal_as_float, separators=(",", ":"))


def _path(field: str) -> str:
    return field if field.startswith("$") else f"$.{field}"


_PUT_ROW = "INSERT OR REPLACE INTO record_rows(org_id, module, record_id, data) VALUES (?, ?, ?, ?)"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _json_expr(field: str) -> tuple[str, list[Any]]:
    """SQL for a record field. Plain identifiers are inlined (``'$.customer_id'``) so
    SQLite can use expression indexes on them; anything else is bound as a parameter."""
    if _IDENTIFIER.match(field):
        return f"json_extract(data, '$.{field}')", []
    return "json_extract(data, ?)", [_path(field)]


class RecordStore:
    """Records of one organization."""

    def __init__(self, db: Database, org_id: str) -> None:
        self.db = db
        self.org_id = org_id

    # ids and numbers -------------------------------------------------------------
    def new_id(self) -> str:
        return str(ID_BASE + self.db.next_counter("global", "record_id"))

    def reserve_ids(self, count: int) -> list[str]:
        """``count`` fresh ids in one counter update (bulk seeding)."""
        if count <= 0:
            return []
        first = self.db.reserve_counter("global", "record_id", count)
        return [str(ID_BASE + first + i) for i in range(count)]

    def next_number(self, series: str, prefix: str, width: int = 6) -> str:
        """Auto-number such as ``INV-000001``; one series per (organization, series)."""
        value = self.db.next_counter(f"org:{self.org_id}", f"number:{series}")
        return f"{prefix}{value:0{width}d}"

    # single records ---------------------------------------------------------------
    def insert(self, module: str, record_id: str, data: dict[str, Any], now: str) -> None:
        """Store a new record; ``created_time``/``last_modified_time`` are set here so the
        JSON and the indexed columns can never disagree."""
        data.setdefault("created_time", now)
        data["last_modified_time"] = now
        text = dumps(data)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO records(org_id, module, record_id, data, created_time, "
                "last_modified_time) VALUES (?, ?, ?, ?, ?, ?)",
                (self.org_id, module, record_id, text, data["created_time"], now),
            )
            self._put_row(conn, module, record_id, data)
            details.write(conn, self.org_id, module, record_id, text)
            self.db.record_change(Change(self.org_id, module, record_id, "add", None, data))

    def insert_many(self, module: str, rows: Iterable[tuple[str, dict[str, Any], str]]) -> int:
        """Bulk insert ``(record_id, data, now)`` rows in one transaction (seeding)."""
        keys = row_projections.ROW_KEYS.get(module)
        detail = details.SPECS.get(module)
        projections: list[tuple[str, str, str, str]] = []
        rendered: list[tuple[str, str, str, bytes, str]] = []

        def params() -> Iterable[tuple[str, str, str, str, str, str]]:
            for rid, data, now in rows:
                stamped = _stamped(data, now)
                if keys is not None:
                    projections.append(
                        (self.org_id, module, rid, row_projections.project(keys, stamped))
                    )
                text = dumps(stamped)
                if detail is not None and (made := details.project(detail, text)) is not None:
                    rendered.append((self.org_id, module, rid, *made))
                yield (self.org_id, module, rid, text, data["created_time"], now)

        with self.db.transaction() as conn:
            cursor = conn.executemany(
                "INSERT INTO records(org_id, module, record_id, data, created_time, "
                "last_modified_time) VALUES (?, ?, ?, ?, ?, ?)",
                params(),
            )
            if projections:
                conn.executemany(_PUT_ROW, projections)
            if rendered:
                conn.executemany(details.PUT, rendered)
            return cursor.rowcount

    def get(self, module: str, record_id: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT data FROM records WHERE org_id=? AND module=? AND record_id=?",
                (self.org_id, module, record_id),
            ).fetchone()
        return None if row is None else _as_record(jsonfast.loads(row["data"]))

    def update(
        self, module: str, record_id: str, data: dict[str, Any], now: str, *, touch: bool = True
    ) -> None:
        """Replace a record. ``touch=False`` keeps ``last_modified_time`` (derived fields
        such as a contact's outstanding balance change without the user editing it)."""
        if touch:
            data["last_modified_time"] = now
        text = dumps(data)
        with self.db.transaction() as conn:
            if touch:
                before = self._load(conn, module, record_id)
                cursor = conn.execute(
                    "UPDATE records SET data=?, last_modified_time=? "
                    "WHERE org_id=? AND module=? AND record_id=?",
                    (text, now, self.org_id, module, record_id),
                )
                self.db.record_change(Change(self.org_id, module, record_id, "edit", before, data))
            else:
                cursor = conn.execute(
                    "UPDATE records SET data=? WHERE org_id=? AND module=? AND record_id=?",
                    (text, self.org_id, module, record_id),
                )
            if cursor.rowcount:
                # The edit triggers have just dropped the old projections.
                self._put_row(conn, module, record_id, data)
                details.write(conn, self.org_id, module, record_id, text)

    def delete(self, module: str, record_id: str) -> bool:
        with self.db.transaction() as conn:
            before = self._load(conn, module, record_id)
            cursor = conn.execute(
                "DELETE FROM records WHERE org_id=? AND module=? AND record_id=?",
                (self.org_id, module, record_id),
            )
            if cursor.rowcount:
                self.db.record_change(
                    Change(self.org_id, module, record_id, "delete", before, None)
                )
            return cursor.rowcount > 0

    def _put_row(
        self, conn: sqlite3.Connection, module: str, record_id: str, data: dict[str, Any]
    ) -> None:
        text = row_projections.projection_of(module, data)
        if text is not None:
            conn.execute(_PUT_ROW, (self.org_id, module, record_id, text))

    def _load(self, conn: sqlite3.Connection, module: str, record_id: str) -> dict[str, Any] | None:
        """The stored record, read only when someone listens for changes."""
        if not self.db.has_listeners:
            return None
        row = conn.execute(
            "SELECT data FROM records WHERE org_id=? AND module=? AND record_id=?",
            (self.org_id, module, record_id),
        ).fetchone()
        return None if row is None else dict(jsonfast.loads(row["data"]))

    # queries ----------------------------------------------------------------------
    def _where(self, module: str, filters: Sequence[Filter]) -> tuple[str, list[Any]]:
        clauses = ["org_id=?", "module=?"]
        params: list[Any] = [self.org_id, module]
        for flt in filters:
            clause, clause_params = _clause(flt)
            clauses.append(clause)
            params.extend(clause_params)
        return " AND ".join(clauses), params

    def _where_any(
        self, module: str, filters: Sequence[Filter], any_of: Sequence[Sequence[Filter]]
    ) -> tuple[str, list[Any]]:
        """``_where`` plus OR-groups (each group must match one of its filters)."""
        where, params = self._where(module, filters)
        for group in any_of:
            ors = []
            for flt in group:
                clause, clause_params = _clause(flt)
                ors.append(clause)
                params.extend(clause_params)
            where += " AND (" + (" OR ".join(ors) or "0") + ")"
        return where, params

    def query(
        self,
        module: str,
        filters: Sequence[Filter] = (),
        *,
        any_of: Sequence[Sequence[Filter]] = (),
        sort: str | None = None,
        descending: bool = True,
        page: int = 1,
        per_page: int = 200,
        projected: bool = False,
    ) -> Page:
        """One page of records. ``any_of`` adds OR-groups (e.g. search_text over fields).

        Without ``sort`` the order is creation order, newest first (Zoho's default).
        With ``projected`` (list pages of a module that declares list-row keys), each
        record is its stored list-row projection (``ledger.rows``) where it has one.
        """
        where, params = self._where_any(module, filters, any_of)
        direction = "DESC" if descending else "ASC"
        if sort is None:
            order = f"rowid {direction}"
        elif sort in ("created_time", "last_modified_time"):
            order = f"{sort} {direction}, rowid {direction}"
        else:
            # Text sorts ignore case ("beta" before "Gamma"), as people expect of names.
            expr, path = _json_expr(sort)
            order = f"{expr} COLLATE NOCASE {direction}, rowid {direction}"
            params.extend(path)
        offset = (max(page, 1) - 1) * per_page
        params.extend([per_page + 1, offset])
        if projected and row_projections.ensure(self.db, module):
            sql = f"SELECT record_id FROM records WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
            with self.db.read() as conn:
                ids = [str(r[0]) for r in conn.execute(sql, params).fetchall()]
                records = self._projected(conn, module, ids[:per_page])
            return Page(records, page, per_page, len(ids) > per_page)
        sql = f"SELECT data FROM records WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        with self.db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        records = [_as_record(jsonfast.loads(r["data"])) for r in rows[:per_page]]
        return Page(records, page, per_page, len(rows) > per_page)

    def _projected(
        self, conn: sqlite3.Connection, module: str, ids: list[str]
    ) -> list[dict[str, Any]]:
        """The list-row projections of ``ids`` in that order; a record without one (none
        written yet, or dropped by an edit from elsewhere) is read whole instead."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        texts: dict[str, str] = {
            str(r[0]): r[1]
            for r in conn.execute(
                f"SELECT record_id, data FROM record_rows "
                f"WHERE org_id=? AND module=? AND record_id IN ({marks})",
                (self.org_id, module, *ids),
            )
        }
        if len(texts) < len(ids):
            missing = [i for i in ids if i not in texts]
            marks = ",".join("?" * len(missing))
            texts.update(
                (str(r[0]), r[1])
                for r in conn.execute(
                    f"SELECT record_id, data FROM records "
                    f"WHERE org_id=? AND module=? AND record_id IN ({marks})",
                    (self.org_id, module, *missing),
                )
            )
        return [_as_record(jsonfast.loads(texts[i])) for i in ids if i in texts]

    def find(self, module: str, filters: Sequence[Filter]) -> list[dict[str, Any]]:
        """Every matching record (for rules that need them all, e.g. balances)."""
        where, params = self._where(module, filters)
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT data FROM records WHERE {where} ORDER BY rowid", params
            ).fetchall()
        return [dict(jsonfast.loads(r["data"])) for r in rows]

    def find_one(self, module: str, field: str, value: Any) -> dict[str, Any] | None:
        found = self.query(module, [Filter(field, "eq", value)], per_page=1).records
        return found[0] if found else None

    def count(
        self,
        module: str,
        filters: Sequence[Filter] = (),
        *,
        any_of: Sequence[Sequence[Filter]] = (),
    ) -> int:
        where, params = self._where_any(module, filters, any_of)
        with self.db.read() as conn:
            row: sqlite3.Row = conn.execute(
                f"SELECT count(*) AS n FROM records WHERE {where}", params
            ).fetchone()
        return int(row["n"])

    def ids(self, module: str) -> list[str]:
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT record_id FROM records WHERE org_id=? AND module=? ORDER BY rowid",
                (self.org_id, module),
            ).fetchall()
        return [str(r["record_id"]) for r in rows]


_COLUMNS = ("created_time", "last_modified_time")


def _clause(flt: Filter) -> tuple[str, list[Any]]:
    """SQL for one filter over the JSON document (timestamps use their indexed columns)."""
    if flt.field in _COLUMNS and flt.op in _SQL_OPS:
        return f"{flt.field} {_SQL_OPS[flt.op]} ?", [flt.value]
    expr, path = _json_expr(flt.field)
    if flt.op in _SQL_OPS:
        return f"{expr} {_SQL_OPS[flt.op]} ?", [*path, flt.value]
    if flt.op == "in":
        values = list(flt.value)
        if not values:
            return "0", []
        return f"{expr} IN ({','.join('?' * len(values))})", [*path, *values]
    if flt.op == "startswith":
        pattern = _like_escape(str(flt.value).lower()) + "%"
        return f"lower({expr}) LIKE ? ESCAPE '\\'", [*path, pattern]
    if flt.op == "contains":
        pattern = "%" + _like_escape(str(flt.value).lower()) + "%"
        return f"lower({expr}) LIKE ? ESCAPE '\\'", [*path, pattern]
    if flt.op == "isnull":
        return f"{expr} IS NULL", path
    raise ValueError(f"unknown filter op {flt.op}")


def _stamped(data: dict[str, Any], now: str) -> dict[str, Any]:
    data.setdefault("created_time", now)
    data["last_modified_time"] = now
    return data


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _as_record(parsed: Any) -> dict[str, Any]:
    """A freshly parsed record is already a private dict: copying it again cost a
    measurable share of every read by id."""
    return parsed if isinstance(parsed, dict) else dict(parsed)
