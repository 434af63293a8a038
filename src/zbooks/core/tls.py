"""TLS for the clients zbooks creates: one verifying context per process, built only
when a client first speaks HTTPS.

Building an ``ssl.SSLContext`` loads the whole CA bundle (about 35 ms of CPU and 1.6 MiB);
httpx does it again for every client it creates, and eagerly, even for a client that
only ever talks plain HTTP to a local sandbox. A worker that opens a client per task, or
64 clients at once, spent seconds on it, during which an event loop served nothing.

So zbooks builds the default context once (honouring ``SSL_CERT_FILE`` /
``SSL_CERT_DIR`` as httpx does, as they are when it is first needed), shares it between
clients (an ``SSLContext`` is safe to share between threads), and its own transports ask
for it on their first ``https://`` connection (``zbooks.core.http11`` for ``Client``,
:class:`AsyncOnDemandTLSTransport` for ``AsyncClient``). Plain ``http://`` requests (the
sandbox, a test server) never pay for it. ``zbooks.core.httpclients`` decides which
transport a client gets. Pass your own ``http_client=`` to use other TLS settings.
"""

from __future__ import annotations

import ssl
import threading

import httpx2

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def default_ssl_context() -> ssl.SSLContext:
    """The process's verifying TLS context, built on first use."""
    global _context
    if _context is None:
        with _lock:
            if _context is None:
                _context = httpx2.create_ssl_context()
    return _context


class AsyncOnDemandTLSTransport(httpx2.AsyncBaseTransport):
    """httpx's default async transport, split by scheme: the HTTPS pool (and the verifying
    TLS context) is created on the first ``https://`` request, not with the client."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plain: httpx2.AsyncHTTPTransport | None = None
        self._tls: httpx2.AsyncHTTPTransport | None = None

    def _pool(self, scheme: str) -> httpx2.AsyncHTTPTransport:
        with self._lock:  # creating a pool does no I/O: a plain lock is enough
            if scheme == "https":
                if self._tls is None:
                    self._tls = httpx2.AsyncHTTPTransport(verify=default_ssl_context())
                return self._tls
            if self._plain is None:
                # Plain HTTP never uses a TLS context; ``verify=False`` only keeps httpx
                # from loading the CA bundle for one. HTTPS never reaches this pool.
                self._plain = httpx2.AsyncHTTPTransport(verify=False)
            return self._plain

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self._pool(request.url.scheme).handle_async_request(request)

    async def aclose(self) -> None:
        for pool in (self._plain, self._tls):
            if pool is not None:
                await pool.aclose()
