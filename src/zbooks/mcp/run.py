"""Start-up: one ``AsyncClient``, one budget, one server, over stdio or HTTP.

The client is created inside the server's event loop (its HTTP connections belong to
that loop) and closed when the transport ends. Streamable HTTP listens on 127.0.0.1
only: the server holds the organization's credentials, so it is never exposed beyond
this machine.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio

from zbooks.mcp.books import Books
from zbooks.mcp.budget import CallBudget
from zbooks.mcp.policy import Policy
from zbooks.mcp.server import build_server

if TYPE_CHECKING:
    from zbooks.core.client import AsyncClient

HOST = "127.0.0.1"
PATH = "/mcp"


async def serve_async(
    make_client: Callable[[], AsyncClient],
    policy: Policy,
    *,
    max_calls: int,
    port: int | None = None,
    label: str = "",
) -> None:
    """Serve until the client disconnects (stdio) or the process is stopped (HTTP)."""
    books = Books(make_client(), CallBudget(max_calls))
    server = build_server(books, policy, label=label)
    try:
        if port is None:
            await server.run_stdio_async()
        else:
            sys.stderr.write(
                f"zbooks mcp: streamable HTTP at http://{HOST}:{port}{PATH} "
                f"({label or 'profile'}; {policy.summary()}; max {max_calls} calls a session)\n"
            )
            sys.stderr.flush()
            await server.run_streamable_http_async(host=HOST, port=port, streamable_http_path=PATH)
    finally:
        await books.aclose()


def serve(
    make_client: Callable[[], AsyncClient],
    policy: Policy,
    *,
    max_calls: int,
    port: int | None = None,
    label: str = "",
) -> None:
    anyio.run(lambda: serve_async(make_client, policy, max_calls=max_calls, port=port, label=label))
