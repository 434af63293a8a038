"""One TLS context for every client of the process.

Building an ``ssl.SSLContext`` loads the whole CA bundle (about 30 ms of CPU); httpx
does it again for every client it creates. A worker that opens a client per task, or
64 clients at once, spent seconds on it, during which an event loop served nothing.
An ``SSLContext`` is safe to share between threads and clients, so zbooks builds the
default one once (honouring ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` as httpx does, as they
are when it is first needed) and hands it to each client it creates. Pass your own
``http_client=`` to use other TLS settings.
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
