"""The httpx2 clients zbooks builds for itself: which transport sits under them.

``zbooks.Client`` (and the OAuth client, when it is not handed the API client's) sends
through :class:`zbooks.core.http11.StdlibTransport`: HTTP/1.1 with keep-alive on the
standard library, about half the CPU per request of httpx's default transport, with the
TLS context loaded on the first ``https://`` connection. ``zbooks.AsyncClient`` keeps
httpx's transport, with the same deferred TLS (``zbooks.core.tls``). When the
environment names a proxy (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``), httpx builds
its own transports, the only ones that honour it. A ``transport=`` given by the caller
is used as it is.
"""

from __future__ import annotations

from urllib.request import getproxies

import httpx2

from zbooks.core.http11 import StdlibTransport
from zbooks.core.tls import AsyncOnDemandTLSTransport, default_ssl_context


def _proxied() -> bool:
    """Whether the environment names a proxy (httpx then builds the transports)."""
    return bool(getproxies())


def new_http_client(
    *, timeout: float, transport: httpx2.BaseTransport | None = None
) -> httpx2.Client:
    """An ``httpx2.Client`` for zbooks (see the module docstring for its transport)."""
    if transport is not None:  # httpx ignores proxies then, and never uses ``verify``
        return httpx2.Client(timeout=timeout, transport=transport)
    if _proxied():
        return httpx2.Client(timeout=timeout, verify=default_ssl_context())
    return httpx2.Client(timeout=timeout, transport=StdlibTransport())


def new_async_http_client(
    *, timeout: float, transport: httpx2.AsyncBaseTransport | None = None
) -> httpx2.AsyncClient:
    """The ``async`` twin of :func:`new_http_client`, on httpx's own transport."""
    if transport is not None:
        return httpx2.AsyncClient(timeout=timeout, transport=transport)
    if _proxied():
        return httpx2.AsyncClient(timeout=timeout, verify=default_ssl_context())
    return httpx2.AsyncClient(timeout=timeout, transport=AsyncOnDemandTLSTransport())
