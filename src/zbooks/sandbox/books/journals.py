"""Journals (scope accountants), api-facts §3.16."""

from __future__ import annotations

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.errors import invalid_value
from zbooks.sandbox.ledger import journals
from zbooks.sandbox.ledger.listing import list_page

SCOPE = "accountants"


@REGISTRY.route("POST", "/journals", scope=SCOPE)
def create_journal(request: BooksRequest) -> BooksResponse:
    record = journals.create_journal(request.ledger, request.body)
    return ok("The journal entry has been created.", status=201,
              journal=journals.present_journal(request.ledger, record))


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
    return ok("The journal entry has been updated.",
              journal=journals.present_journal(request.ledger, record))


@REGISTRY.route("DELETE", "/journals/{journal_id}", scope=SCOPE)
def delete_journal(request: BooksRequest) -> BooksResponse:
    journals.delete_journal(request.ledger, request.path_params["journal_id"])
    return ok("The selected journal entry has been deleted.")


@REGISTRY.route("POST", "/journals/{journal_id}/status/publish", scope=SCOPE)
def publish_journal(request: BooksRequest) -> BooksResponse:
    journals.publish(request.ledger, request.path_params["journal_id"])
    return ok("Journal has been published.", status=201)


def _ids(request: BooksRequest) -> list[str]:
    raw = request.query.get("journal_ids") or str(request.body.get("journal_ids") or "")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise invalid_value("journal_ids")
    return ids


@REGISTRY.route("POST", "/journals/status/publish", scope=SCOPE)
def bulk_publish(request: BooksRequest) -> BooksResponse:
    ids = _ids(request)
    with request.ledger.db.transaction():
        for journal_id in ids:
            journals.publish(request.ledger, journal_id)
    return ok()


@REGISTRY.route("DELETE", "/journals/bulkdelete", scope=SCOPE)
def bulk_delete(request: BooksRequest) -> BooksResponse:
    ids = _ids(request)
    with request.ledger.db.transaction():
        for journal_id in ids:
            journals.delete_journal(request.ledger, journal_id)
    return ok("The selected journal entry has been deleted.")
