"""Pre-rendered answers for single reads: a route handler may name a faster twin.

The Books dispatcher asks a handler's twin first when it serves a GET by id over HTTP;
the twin answers with the finished response bytes (the same bytes the handler's answer
renders to) or None, and then the handler runs as before. Handlers called directly (the
webhook engine, tests) are untouched: they still return the parsed envelope.
"""

from __future__ import annotations

from collections.abc import Callable

from zbooks.sandbox.books.registry import BooksRequest, Handler
from zbooks.sandbox.errors import ApiError

FastRead = Callable[[BooksRequest], bytes | None]

FAST_READS: dict[Handler, FastRead] = {}


def register(handler: Handler, fast: FastRead) -> None:
    """``fast`` answers for ``handler`` when it can (keyed by the handler itself, so a
    route table that maps the same path to another handler never gets it)."""
    FAST_READS[handler] = fast


def lookup(handler: Handler) -> FastRead | None:
    return FAST_READS.get(handler)


def plain_json(wants: Callable[[BooksRequest], str], request: BooksRequest) -> bool:
    """True when the request asks for the JSON envelope without any error to report
    (an invalid ``accept`` is left to the handler, which reports it in its own order)."""
    try:
        return wants(request) == "json"
    except ApiError:
        return False
