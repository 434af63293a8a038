"""Journals (scope accountants), api-facts §3.16."""

from __future__ import annotations

from collections.abc import Callable

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.errors import invalid_value
from zbooks.sandbox.ledger import journals
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "accountants"


@REGISTRY.route("POST", "/journals", scope=SCOPE)
def create_journal(request: BooksRequest) -> BooksResponse:
    record = journals.create_journal(request.ledger, request.body)
    return ok(
        "The journal entry has been created.",
        status=201,
        journal=journals.present_journal(request.ledger, record),
    )


@REGISTRY.route("GET", "/journals", scope=SCOPE)
def list_journals(request: BooksRequest) -> BooksResponse:
    spec, query = journals.list_spec_for(request.query)
    result = list_page(request.ledger, query, spec)
    return ok(journals=result.records, page_context=result.page_context)


@REGISTRY.route("GET", "/journals/{journal_id}", scope=SCOPE)
def get_journal(request: BooksRequest) -> BooksResponse:
    record = journals.get_journal(request.ledger, request.path_params["journal_id"])
    return ok(journal=journals.present_journal(request.ledger, record))


@REGISTRY.route("PUT", "/journals/{journal_id}", scope=SCOPE)
def update_journal(request: BooksRequest) -> BooksResponse:
    record = journals.update_journal(
        request.ledger, request.path_params["journal_id"], request.body
    )
    return ok(
        "The journal entry has been updated.",
        journal=journals.present_journal(request.ledger, record),
    )


@REGISTRY.route("DELETE", "/journals/{journal_id}", scope=SCOPE)
def delete_journal(request: BooksRequest) -> BooksResponse:
    journals.delete_journal(request.ledger, request.path_params["journal_id"])
    return ok("The selected journal entry has been deleted.")


@REGISTRY.route("POST", "/journals/{journal_id}/status/publish", scope=SCOPE)
def publish_journal(request: BooksRequest) -> BooksResponse:
    journals.publish(request.ledger, request.path_params["journal_id"])
    return ok("Journal has been published.", status=201)


@REGISTRY.route("POST", "/journals/{journal_id}/reverse", scope=SCOPE)
def reverse_journal(request: BooksRequest) -> BooksResponse:
    record = journals.reverse(
        request.ledger,
        request.path_params["journal_id"],
        request.query.get("reversal_date", ""),
        request.query.get("is_reversal_scheduled", ""),
    )
    return ok(
        "The journal entry has been reversed.",
        journal=journals.present_journal(request.ledger, record),
    )


@REGISTRY.route("POST", "/journals/{journal_id}/submit", scope=SCOPE)
def submit_journal(request: BooksRequest) -> BooksResponse:
    journals.submit(request.ledger, request.path_params["journal_id"])
    return ok()


@REGISTRY.route("POST", "/journals/{journal_id}/approve", scope=SCOPE)
def approve_journal(request: BooksRequest) -> BooksResponse:
    journals.approve(request.ledger, request.path_params["journal_id"])
    return ok()


@REGISTRY.route("POST", "/journals/{journal_id}/reject", scope=SCOPE)
def reject_journal(request: BooksRequest) -> BooksResponse:
    journals.reject(
        request.ledger, request.path_params["journal_id"], request.query.get("reason", "")
    )
    return ok()


# Bulk limits from the OAS parameter text: submit/approve 25, publish 10, delete 200.
def _ids(request: BooksRequest, limit: int) -> list[str]:
    raw = request.query.get("journal_ids") or str(request.body.get("journal_ids") or "")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids or len(ids) > limit:
        raise invalid_value("journal_ids")
    return ids


def _each(request: BooksRequest, limit: int, action: Callable[[Ledger, str], object]) -> None:
    """Apply ``action`` to every listed journal, all or nothing."""
    ids = _ids(request, limit)
    with request.ledger.db.transaction():
        for journal_id in ids:
            action(request.ledger, journal_id)


@REGISTRY.route("POST", "/journals/status/publish", scope=SCOPE)
def bulk_publish(request: BooksRequest) -> BooksResponse:
    _each(request, 10, journals.publish)
    return ok()


@REGISTRY.route("POST", "/journals/submit", scope=SCOPE)
def bulk_submit(request: BooksRequest) -> BooksResponse:
    _each(request, 25, journals.submit)
    return ok()


@REGISTRY.route("POST", "/journals/approve", scope=SCOPE)
def bulk_approve(request: BooksRequest) -> BooksResponse:
    _each(request, 25, journals.approve)
    return ok()


@REGISTRY.route("DELETE", "/journals/bulkdelete", scope=SCOPE)
def bulk_delete(request: BooksRequest) -> BooksResponse:
    _each(request, 200, journals.delete_journal)
    return ok("The selected journal entry has been deleted.")
