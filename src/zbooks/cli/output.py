"""Printing results: rich tables for people, JSON / NDJSON / CSV for programs.

The default follows the reader: a table when stdout is a terminal, JSON when it is a
pipe or a file, so ``zbooks invoices list | jq`` works without a flag. Progress for
long paginated reads goes to stderr, and only when stderr is a terminal, so it never
mixes into data.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, TextIO

ENVELOPE_KEYS = ("code", "message", "page_context")
MAX_AUTO_COLUMNS = 8
MAX_CELL = 60

# Columns a person wants first when listing a module; anything absent is skipped.
PREFERRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "invoices": (
        "invoice_id",
        "invoice_number",
        "customer_name",
        "status",
        "date",
        "due_date",
        "total",
        "balance",
    ),
    "estimates": ("estimate_id", "estimate_number", "customer_name", "status", "date", "total"),
    "salesorders": (
        "salesorder_id",
        "salesorder_number",
        "customer_name",
        "status",
        "date",
        "total",
    ),
    "creditnotes": (
        "creditnote_id",
        "creditnote_number",
        "customer_name",
        "status",
        "date",
        "total",
        "balance",
    ),
    "customerpayments": (
        "payment_id",
        "payment_number",
        "customer_name",
        "date",
        "amount",
        "unused_amount",
    ),
    "bills": ("bill_id", "bill_number", "vendor_name", "status", "date", "due_date", "total"),
    "vendorpayments": ("payment_id", "payment_number", "vendor_name", "date", "amount"),
    "purchaseorders": (
        "purchaseorder_id",
        "purchaseorder_number",
        "vendor_name",
        "status",
        "date",
        "total",
    ),
    "expenses": ("expense_id", "date", "account_name", "vendor_name", "status", "total"),
    "contacts": (
        "contact_id",
        "contact_name",
        "contact_type",
        "status",
        "email",
        "outstanding_receivable_amount",
    ),
    "items": ("item_id", "name", "sku", "status", "rate", "unit"),
    "organizations": ("organization_id", "name", "is_default_org", "plan_name", "currency_code"),
    "journals": ("journal_id", "entry_number", "journal_date", "status", "total"),
    "chartofaccounts": ("account_id", "account_name", "account_type", "is_active"),
    "taxes": ("tax_id", "tax_name", "tax_percentage", "tax_type"),
    "users": ("user_id", "name", "email", "role_name", "status"),
}


class Format(StrEnum):
    json = "json"
    ndjson = "ndjson"
    csv = "csv"
    table = "table"


def resolve_format(requested: str | None, stream: TextIO | None = None) -> Format:
    """The explicit choice (the command's ``--output``, else the global one), else
    ``ZBOOKS_OUTPUT``, else table on a TTY and JSON otherwise."""
    from zbooks.cli.session import GLOBALS

    choice = requested or GLOBALS.output or os.environ.get("ZBOOKS_OUTPUT") or None
    if choice:
        try:
            return Format(choice.lower())
        except ValueError:
            from zbooks.cli.errors import CliError

            raise CliError(
                f"Unknown output format {choice!r}.",
                hint="Use one of: json, ndjson, csv, table.",
            ) from None
    out = stream or sys.stdout
    return Format.table if _isatty(out) else Format.json


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def unwrap(envelope: Mapping[str, Any]) -> Any:
    """The payload of a Zoho envelope: the one record or list beside code/message."""
    keys = [k for k in envelope if k not in ENVELOPE_KEYS]
    if len(keys) == 1:
        return envelope[keys[0]]
    return {k: v for k, v in envelope.items() if k not in ("code",)}


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def columns_for(items: list[Mapping[str, Any]], module: str | None = None) -> list[str]:
    """Preferred columns of the module when present, else the first scalar keys seen."""
    seen: dict[str, None] = {}
    for item in items:
        for key, value in item.items():
            if _scalar(value):
                seen.setdefault(key, None)
    key = (module or "").replace("_", "").replace("-", "").lower()
    preferred = [c for c in PREFERRED_COLUMNS.get(key, ()) if c in seen]
    if preferred:
        return preferred
    return list(seen)[:MAX_AUTO_COLUMNS]


# Columns holding money: shown with the organization's precision in tables (0.00, not
# 0.0). Rates of exchange and percentages keep their own digits.
_MONEY_SUFFIXES = ("total", "balance", "amount", "rate", "price", "credits", "payment_made")
_NOT_MONEY = ("exchange_rate", "percentage", "tax_percentage")


def is_money(column: str) -> bool:
    name = column.lower()
    return name.endswith(_MONEY_SUFFIXES) and not name.endswith(_NOT_MONEY)


def _cell(value: Any, precision: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if precision is not None and isinstance(value, int | float):
        return f"{value:.{precision}f}"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Printer:
    """Writes records in one format to one stream."""

    def __init__(
        self,
        fmt: Format,
        *,
        module: str | None = None,
        stream: TextIO | None = None,
        columns: list[str] | None = None,
        precision: int | None = None,
    ) -> None:
        self.format = fmt
        self.precision = precision  # the organization's money precision, for tables
        self.module = module
        self.stream = stream or sys.stdout
        self.columns = columns  # table columns; default: the module's preferred ones

    # single values ------------------------------------------------------------------
    def value(self, data: Any) -> None:
        """A record, a list of records or any JSON value."""
        if isinstance(data, list):
            self.records(data)
        elif isinstance(data, Mapping):
            self.record(data)
        else:
            self.stream.write(json.dumps(data, ensure_ascii=False) + "\n")

    def record(self, record: Mapping[str, Any]) -> None:
        if self.format is Format.table:
            self._key_value_table(record)
        elif self.format is Format.json:
            self._json(record)
        elif self.format is Format.ndjson:
            self._ndjson_line(record)
        else:
            self._csv([record])

    def records(self, items: Iterable[Mapping[str, Any]]) -> None:
        """A list; NDJSON streams item by item, the other formats need the whole list."""
        if self.format is Format.ndjson:
            for item in items:
                self._ndjson_line(item)
            return
        collected = list(items)
        if self.format is Format.json:
            self._json(collected)
        elif self.format is Format.csv:
            self._csv(collected)
        else:
            self._table(collected)

    # formats ------------------------------------------------------------------------
    def _json(self, data: Any) -> None:
        self.stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def _ndjson_line(self, item: Any) -> None:
        self.stream.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.stream.flush()

    def _csv(self, items: list[Mapping[str, Any]]) -> None:
        header: dict[str, None] = {}
        for item in items:
            for key in item:
                header.setdefault(key, None)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(list(header))
        for item in items:
            writer.writerow([_csv_value(item.get(k)) for k in header])
        self.stream.write(buffer.getvalue())

    def _console(self) -> Any:
        from rich.console import Console

        # Off a terminal (an explicit --output table into a file or pipe) there is no
        # width to respect; a wide canvas keeps rows on one line and easy to grep.
        width = None if _isatty(self.stream) else 240
        return Console(file=self.stream, soft_wrap=False, highlight=False, width=width)

    def _table(self, items: list[Mapping[str, Any]]) -> None:
        from rich.table import Table

        console = self._console()
        if not items:
            console.print("(no records)")
            return
        columns = self.columns or columns_for(items, self.module)
        table = Table(show_lines=False, header_style="bold")
        for name in columns:
            table.add_column(name, overflow="fold", min_width=min(len(name), 14))
        digits = [self.precision if is_money(c) else None for c in columns]
        for item in items:
            table.add_row(*[_cell(item.get(c), d) for c, d in zip(columns, digits, strict=True)])
        console.print(table)
        console.print(f"{len(items)} record{'s' if len(items) != 1 else ''}")

    def _key_value_table(self, record: Mapping[str, Any]) -> None:
        from rich.table import Table

        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for key, value in record.items():
            if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                table.add_row(key, f"[{len(value)} entries; use --output json for details]")
            else:
                table.add_row(key, _cell(value, self.precision if is_money(key) else None))
        self._console().print(table)


ProgressCallback = Callable[[int, int], None]


@contextmanager
def progress(label: str, *, enabled: bool | None = None) -> Iterator[ProgressCallback]:
    """A spinner with pages and records fetched, on stderr, when stderr is a terminal.

    Zoho lists carry no total count, so this counts up instead of filling a bar.
    """
    show = _isatty(sys.stderr) if enabled is None else enabled
    if not show:
        yield lambda pages, records: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    with bar:
        task = bar.add_task(f"{label}: starting")

        def update(pages: int, records: int) -> None:
            bar.update(task, description=f"{label}: {pages} pages, {records} records")

        yield update
