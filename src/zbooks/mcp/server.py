"""The MCP tools: three generic ones that reach every operation, seven curated ones.

``build_server`` returns an ``MCPServer`` (the official SDK's high-level server) whose
tools all go through one ``Books`` (budget, then the SDK's pipeline) and one
``Policy`` (read-only unless allowed). Every anticipated failure (a refused write, a
spent budget, a bad argument, a Zoho error with its hint) is raised as the SDK's
``ToolError``, which the client receives as a tool result with ``isError`` set and our
message as text: the agent reads why, and the person reads how to allow it.

Descriptions are short on purpose: the whole listing is measured by
``tool_listing_size``: descriptions stay under 8,000 characters
(tests/mcpserver/test_budget.py, and docs/mcp.md reports the numbers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from zbooks.errors import ZBooksError
from zbooks.mcp import catalog, lists
from zbooks.mcp.books import Books
from zbooks.mcp.budget import BudgetExhausted
from zbooks.mcp.policy import Policy, WriteRefused, kind_of
from zbooks.preview import (
    ArgumentError,
    PreparedRequest,
    build_request,
    diff,
    reader_for,
    record_of,
)
from zbooks.resources import Operation

T = TypeVar("T")

SERVER_NAME = "zbooks"
# Pages a summary may read (200 records each) before it answers with truncated=true.
SUMMARY_MAX_PAGES = 10
# zoho_books_call on a list operation without per_page: one page of this size.
CALL_DEFAULT_PER_PAGE = 50

_READ = ToolAnnotations(read_only_hint=True, open_world_hint=True)

Limit = Annotated[int, Field(ge=1, le=lists.MAX_LIMIT, description="Max records (1-200).")]
Cursor = Annotated[
    str | None, Field(description="next_cursor of the previous page; other filters then ignored.")
]
Fields = Annotated[
    str | None,
    Field(description="Comma-separated fields to return instead of the key ones; * for all."),
]
OnlyFields = Annotated[
    str | None, Field(description="Comma-separated fields to return (default: all).")
]


def session_key(ctx: Context) -> str:
    """The budget's key: the HTTP MCP session, or the one stdio session."""
    headers = ctx.headers
    if headers:
        sid = headers.get("mcp-session-id")
        if sid:
            return f"http:{sid}"
    return "stdio"


async def guard(call: Awaitable[T]) -> T:
    """Anticipated failures as tool errors with a hint; anything else is a bug."""
    try:
        return await call
    except ToolError:
        raise
    except (WriteRefused, BudgetExhausted, catalog.UnknownOperation) as exc:
        raise ToolError(str(exc)) from None
    except ArgumentError as exc:
        raise ToolError(f"{exc.message} Hint: {exc.hint}") from None
    except ZBooksError as exc:
        # str() of an SDK error is "message. Hint: what to do" with no token in it.
        raise ToolError(f"Zoho Books error: {exc}") from None
    except ValueError as exc:
        raise ToolError(str(exc)) from None


def build_server(books: Books, policy: Policy, *, label: str = "") -> MCPServer[Any]:
    """The MCP server for one ``Books`` connection under one ``Policy``."""
    where = f" ({label})" if label else ""
    server: MCPServer[Any] = MCPServer(
        SERVER_NAME,
        instructions=(
            f"Zoho Books{where}, {policy.summary()}. Use the curated tools for invoices, "
            "contacts, bills and balances; zoho_books_search + zoho_books_describe + "
            "zoho_books_call reach every other operation. Preview writes with dry_run=true. "
            f"This session may make {books.budget.max_calls} API calls."
        ),
        log_level="WARNING",
    )
    tools = _Tools(books, policy)
    for fn, description, hints in tools.registry():
        server.add_tool(fn, description=description, annotations=hints)
    return server


class _Tools:
    def __init__(self, books: Books, policy: Policy) -> None:
        self.books = books
        self.policy = policy

    def registry(self) -> list[tuple[Callable[..., Any], str, ToolAnnotations]]:
        write = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=True)
        return [
            (
                self.zoho_books_search,
                "Find Zoho Books API operations by words (module, action, summary). "
                "Returns operation ids such as invoices.list with one-line summaries and "
                "whether each is a read, write or destructive.",
                _READ,
            ),
            (
                self.zoho_books_describe,
                "Parameters and body fields (names and types) of one operation id from "
                "zoho_books_search, before calling it with zoho_books_call.",
                _READ,
            ),
            (
                self.zoho_books_call,
                "Run any operation by id. arguments: path and query parameters by name, "
                "the JSON body under 'body'. dry_run=true returns the exact request (and, "
                "for updates, the diff against the current record) without sending it. "
                f"Lists return one page (per_page defaults to {CALL_DEFAULT_PER_PAGE}).",
                write,
            ),
            (
                self.list_invoices,
                "List invoices, newest first, key fields only. Filters: status (draft, "
                "sent, overdue, partially_paid, paid, void, unpaid), customer_id, date "
                "range, search_text (number, reference or customer).",
                _READ,
            ),
            (self.get_invoice, "One invoice with its line items, by invoice_id.", _READ),
            (
                self.list_contacts,
                "List customers and vendors, key fields and outstanding balances. "
                "Filters: contact_type (customer, vendor), search_text.",
                _READ,
            ),
            (self.get_contact, "One contact (customer or vendor) by contact_id.", _READ),
            (
                self.receivables_summary,
                "What customers owe: open and overdue invoice balances by customer, "
                "largest first, with totals per currency.",
                _READ,
            ),
            (
                self.list_bills,
                "List vendor bills, newest first, key fields only. Filters: status (draft, "
                "open, overdue, partially_paid, paid, void, unpaid), vendor_id, date range, "
                "search_text.",
                _READ,
            ),
            (
                self.payables_summary,
                "What is owed to vendors: open and overdue bill balances by vendor, "
                "largest first, with totals per currency.",
                _READ,
            ),
        ]

    # ------------------------------------------------------------------ generic tools

    async def zoho_books_search(
        self,
        query: Annotated[str, Field(description="Words, e.g. 'void invoice'.")],
        ctx: Context,
    ) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            found = catalog.search(query)
            if not found:
                raise ToolError(
                    f"No operation matches {query!r}. Try a module name (invoices, bills, "
                    "contacts, items, journals) or an action (list, create, void)."
                )
            return {"operations": found}

        return await guard(run())

    async def zoho_books_describe(
        self,
        operation: Annotated[str, Field(description="Operation id, e.g. invoices.update.")],
        ctx: Context,
    ) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            op = catalog.find(operation)
            described = catalog.describe(op)
            try:
                self.policy.check(op)
            except WriteRefused as exc:
                described["allowed"] = False
                described["refusal"] = str(exc)
            else:
                described["allowed"] = True
            return described

        return await guard(run())

    async def zoho_books_call(
        self,
        operation: Annotated[str, Field(description="Operation id, e.g. invoices.get.")],
        ctx: Context,
        arguments: Annotated[
            dict[str, Any] | None,
            Field(description='e.g. {"invoice_id": "1", "body": {"notes": "x"}}.'),
        ] = None,
        dry_run: Annotated[bool, Field(description="Preview; send nothing.")] = False,
    ) -> dict[str, Any]:
        return await guard(self._call(operation, arguments or {}, dry_run, session_key(ctx)))

    async def _call(
        self, operation: str, arguments: Mapping[str, Any], dry_run: bool, session: str
    ) -> dict[str, Any]:
        op = catalog.find(operation)
        args = dict(arguments)
        if op.paginated and "per_page" not in args:
            args["per_page"] = CALL_DEFAULT_PER_PAGE
        request = build_request(op, args)
        if dry_run:
            return await self._preview(op, request, session)
        self.policy.check(op)
        result = await self.books.send(session, request)
        if isinstance(result, bytes | bytearray):
            return {"operation": request.operation, "bytes": len(result), "note": "binary body"}
        if not isinstance(result, Mapping):
            return {"operation": request.operation, "result": result}
        return {"operation": request.operation, **_strip_envelope(result)}

    async def _preview(
        self, op: Operation, request: PreparedRequest, session: str
    ) -> dict[str, Any]:
        org = await self.books.organization_id(session)
        preview: dict[str, Any] = {
            "dry_run": True,
            "operation": request.operation,
            "kind": kind_of(op).value,
            "request": request.describe(api_url=self.books.api_url, organization_id=org),
        }
        try:
            self.policy.check(op)
            preview["allowed"] = True
        except WriteRefused as exc:
            preview["allowed"] = False
            preview["refusal"] = str(exc)
        reader = reader_for(op)
        if reader is not None and isinstance(request.json, Mapping):
            read = PreparedRequest(
                operation=f"{reader.module}.{reader.method}", method="GET", path=request.path
            )
            envelope = await self.books.send(session, read)
            current = record_of(reader, envelope) if isinstance(envelope, Mapping) else None
            if current is not None:
                preview["diff"] = diff(current, request.json)
        return preview

    # ------------------------------------------------------------------ curated lists

    async def _list(
        self,
        tool: str,
        module: str,
        path: str,
        filters: Mapping[str, Any],
        limit: int,
        cursor: str | None,
        fields: str | None,
        session: str,
    ) -> dict[str, Any]:
        lists.check_limit(limit)
        if cursor:
            page, query = lists.decode_cursor(tool, cursor)
        else:
            page = 1
            query = {k: v for k, v in filters.items() if v not in (None, "")}
            query["per_page"] = limit
        envelope = await self.books.get(session, path, {**query, "page": page})
        return lists.page_result(
            tool=tool,
            module=module,
            envelope=envelope,
            page=page,
            query=query,
            fields=lists.split_fields(fields),
        )

    async def list_invoices(
        self,
        ctx: Context,
        status: Annotated[str | None, Field(description="Invoice status.")] = None,
        customer_id: str | None = None,
        date_start: Annotated[str | None, Field(description="yyyy-mm-dd")] = None,
        date_end: Annotated[str | None, Field(description="yyyy-mm-dd")] = None,
        search_text: str | None = None,
        limit: Limit = lists.DEFAULT_LIMIT,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> dict[str, Any]:
        filters = {
            "status": status,
            "customer_id": customer_id,
            "date_start": date_start,
            "date_end": date_end,
            "search_text": search_text,
            "sort_column": "date",
            "sort_order": "D",
        }
        return await guard(
            self._list(
                "list_invoices",
                "invoices",
                "/invoices",
                filters,
                limit,
                cursor,
                fields,
                session_key(ctx),
            )
        )

    async def list_bills(
        self,
        ctx: Context,
        status: Annotated[str | None, Field(description="Bill status.")] = None,
        vendor_id: str | None = None,
        date_start: Annotated[str | None, Field(description="yyyy-mm-dd")] = None,
        date_end: Annotated[str | None, Field(description="yyyy-mm-dd")] = None,
        search_text: str | None = None,
        limit: Limit = lists.DEFAULT_LIMIT,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> dict[str, Any]:
        filters = {
            "status": status,
            "vendor_id": vendor_id,
            "date_start": date_start,
            "date_end": date_end,
            "search_text": search_text,
            "sort_column": "date",
            "sort_order": "D",
        }
        return await guard(
            self._list(
                "list_bills", "bills", "/bills", filters, limit, cursor, fields, session_key(ctx)
            )
        )

    async def list_contacts(
        self,
        ctx: Context,
        contact_type: Annotated[str | None, Field(description="customer or vendor.")] = None,
        search_text: str | None = None,
        limit: Limit = lists.DEFAULT_LIMIT,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> dict[str, Any]:
        filters = {"contact_type": contact_type, "search_text": search_text}
        return await guard(
            self._list(
                "list_contacts",
                "contacts",
                "/contacts",
                filters,
                limit,
                cursor,
                fields,
                session_key(ctx),
            )
        )

    # ------------------------------------------------------------------ curated records

    async def _record(
        self, path: str, key: str, fields: str | None, session: str
    ) -> dict[str, Any]:
        envelope = await self.books.get(session, path, {})
        record = envelope.get(key) if isinstance(envelope, Mapping) else None
        if not isinstance(record, Mapping):
            raise ToolError(f"Zoho Books returned no {key} for {path}.")
        wanted = lists.split_fields(fields)
        return {key: lists.pick(record, wanted, key + "s") if wanted else dict(record)}

    async def get_invoice(
        self, invoice_id: str, ctx: Context, fields: OnlyFields = None
    ) -> dict[str, Any]:
        path = f"/invoices/{_segment(invoice_id)}"
        return await guard(self._record(path, "invoice", fields, session_key(ctx)))

    async def get_contact(
        self, contact_id: str, ctx: Context, fields: OnlyFields = None
    ) -> dict[str, Any]:
        path = f"/contacts/{_segment(contact_id)}"
        return await guard(self._record(path, "contact", fields, session_key(ctx)))

    # ------------------------------------------------------------------ summaries

    async def receivables_summary(
        self,
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=200, description="Max customers.")] = 20,
    ) -> dict[str, Any]:
        return await guard(
            self._summary("invoices", "/invoices", "customer", limit, session_key(ctx))
        )

    async def payables_summary(
        self,
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=200, description="Max vendors.")] = 20,
    ) -> dict[str, Any]:
        return await guard(self._summary("bills", "/bills", "vendor", limit, session_key(ctx)))

    async def _summary(
        self, module: str, path: str, party: str, limit: int, session: str
    ) -> dict[str, Any]:
        """Open (unpaid, including overdue) balances grouped by customer or vendor."""
        groups: dict[str, dict[str, Any]] = {}
        totals: dict[str, dict[str, float]] = {}
        truncated = False
        page = 1
        while True:
            envelope = await self.books.get(
                session, path, {"status": "unpaid", "per_page": lists.MAX_LIMIT, "page": page}
            )
            for row in envelope.get(module) or []:
                balance = float(row.get("balance") or 0)
                overdue = row.get("status") == "overdue"
                currency = str(row.get("currency_code") or "")
                key = str(row.get(f"{party}_id"))
                group = groups.setdefault(
                    key,
                    {
                        f"{party}_id": key,
                        f"{party}_name": row.get(f"{party}_name"),
                        "currency_code": currency,
                        "open_balance": 0.0,
                        "overdue_balance": 0.0,
                        "open_count": 0,
                        "overdue_count": 0,
                    },
                )
                group["open_balance"] += balance
                group["open_count"] += 1
                total = totals.setdefault(currency, {"open": 0.0, "overdue": 0.0})
                total["open"] += balance
                if overdue:
                    group["overdue_balance"] += balance
                    group["overdue_count"] += 1
                    total["overdue"] += balance
            more = bool((envelope.get("page_context") or {}).get("has_more_page"))
            if not more:
                break
            if page >= SUMMARY_MAX_PAGES:
                truncated = True
                break
            page += 1
        ranked = sorted(groups.values(), key=lambda g: (-g["open_balance"], str(g[f"{party}_id"])))
        for group in ranked:
            group["open_balance"] = round(group["open_balance"], 2)
            group["overdue_balance"] = round(group["overdue_balance"], 2)
        return {
            f"{party}s": ranked[:limit],
            f"{party}_count": len(ranked),
            "totals": {c: {k: round(v, 2) for k, v in t.items()} for c, t in totals.items()},
            "truncated": truncated,
        }


def _segment(value: str) -> str:
    from urllib.parse import quote

    if not value or not value.strip():
        raise ValueError("The id is empty; pass the id from a list result.")
    return quote(value.strip(), safe="")


def _strip_envelope(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """Zoho's envelope without ``code: 0`` (the message stays: it says what happened)."""
    return {k: v for k, v in envelope.items() if k != "code"}


def tool_listing_size(server: MCPServer[Any]) -> dict[str, int]:
    """Numbers for the context budget: tools, description characters (tool and
    parameter descriptions), and the characters of the whole JSON listing."""
    import asyncio
    import json

    tools = asyncio.run(server.list_tools())
    described = 0
    for tool in tools:
        described += len(tool.description or "")
        for prop in (tool.input_schema.get("properties") or {}).values():
            described += len(str(prop.get("description", "")))
    listing = json.dumps(
        [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    )
    return {"tools": len(tools), "description_chars": described, "listing_chars": len(listing)}


__all__ = ["build_server", "guard", "session_key", "tool_listing_size"]
