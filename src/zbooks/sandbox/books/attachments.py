"""Attachment endpoints of the documents that have one file each (see
``ledger/attachments.py``). Messages and statuses come from the spec table, so they are
exactly what Zoho documents for each operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.errors import invalid_value
from zbooks.sandbox.ledger import attachments
from zbooks.sandbox.spec_table import OPERATIONS

# (path, id parameter, records module, resource label for 1002, form field, scope)
ATTACHABLE = (
    ("/expenses/{expense_id}/receipt", "expense_id", "expenses", "Expense", "receipt", "expenses"),
    ("/bills/{bill_id}/attachment", "bill_id", "bills", "Bill", "attachment", "bills"),
    (
        "/invoices/{invoice_id}/attachment",
        "invoice_id",
        "invoices",
        "Invoice",
        "attachment",
        "invoices",
    ),
    (
        "/salesorders/{salesorder_id}/attachment",
        "salesorder_id",
        "salesorders",
        "Sales Order",
        "attachment",
        "salesorders",
    ),
    (
        "/purchaseorders/{purchaseorder_id}/attachment",
        "purchaseorder_id",
        "purchaseorders",
        "Purchase Order",
        "attachment",
        "purchaseorders",
    ),
)
_DOCUMENTED = {(op.method, op.path): op for op in OPERATIONS}


def _envelope(method: str, path: str) -> tuple[str, int]:
    op = _DOCUMENTED.get((method, path))
    return (op.message, op.status) if op is not None else ("success", 200)


def first_file(request: BooksRequest, field: str) -> tuple[str, bytes] | None:
    """The uploaded file of ``field`` (Zoho's field names vary: receipt, attachment, doc)."""
    for name in (field, "attachment", "receipt", "doc"):
        data = request.files.get(name)
        if data:
            return request.file_names.get(name) or f"{field}.bin", data
    return None


def attach_upload(
    request: BooksRequest,
    module: str,
    record: dict[str, Any],
    id_field: str,
    resource: str,
    field: str,
) -> dict[str, Any]:
    """On create, keep a file sent along with the body (multipart ``receipt``/
    ``attachment``); returns the record as stored afterwards."""
    found = first_file(request, field)
    if found is None:
        return record
    record_id = str(record[id_field])
    attachments.attach(request.ledger, module, record_id, resource, *found)
    return request.ledger.store.get(module, record_id) or record


def _register(path: str, id_param: str, module: str, resource: str, field: str, scope: str) -> None:
    def upload(request: BooksRequest) -> BooksResponse:
        found = first_file(request, field)
        if found is None:
            raise invalid_value(field)
        filename, data = found
        attachments.attach(
            request.ledger, module, request.path_params[id_param], resource, filename, data
        )
        message, status = _envelope("POST", path)
        return ok(message, status=status)

    def download(request: BooksRequest) -> BooksResponse:
        stored = attachments.fetch(request.ledger, module, request.path_params[id_param], resource)
        return BooksResponse(
            content=stored.data,
            media_type=stored.content_type,
            headers={"Content-Disposition": f'attachment; filename="{stored.filename}"'},
        )

    def remove(request: BooksRequest) -> BooksResponse:
        attachments.detach(request.ledger, module, request.path_params[id_param], resource)
        message, status = _envelope("DELETE", path)
        return ok(message, status=status)

    handlers: dict[str, Callable[[BooksRequest], BooksResponse]] = {
        "POST": upload,
        "GET": download,
        "DELETE": remove,
    }
    for method, handler in handlers.items():
        REGISTRY.add(method, path, handler, scope=scope)


for _entry in ATTACHABLE:
    _register(*_entry)
