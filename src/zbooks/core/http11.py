"""An HTTP/1.1 transport for ``httpx2`` on the standard library's ``http.client``.

Why: a GET of one invoice through httpx2's default transport (httpcore2's pool and the
pure-Python h11 state machine) cost 0.8-0.9 ms of CPU on this project's CI-class
machine, on 1 thread or 10, and 0.5 ms through this one, ``json.loads`` included
(``benchmarks/sync_cpu.py``, the floor rows). A sync makes one request per record, so the
HTTP stack was the largest share of its client CPU, more than the sandbox spent
answering. ``zbooks.Client`` keeps httpx2's ``Client`` (hooks,
redirects, cookies, decoding, timeouts, the same exceptions) and only swaps what sits
under it.

What it keeps from httpcore2's behaviour, because callers rely on it:
- keep-alive connections per (scheme, host, port), reused by any thread, closed after
  ``keepalive_expiry`` idle seconds (httpx's default 5 s) or when the server says so;
  an idle connection the server closed (its socket reads as readable) is never reused;
- the same exception types: ``ConnectError``/``ConnectTimeout`` mean the request was
  never sent (the pipeline may retry any method), everything after the connection was
  made means it may have been (a write is then uncertain);
- no silent retry of a request on another connection.

An answer's head is read as ``http.client`` reads it, except that plain ``Name: value``
lines skip the ``email`` package's feed parser (``_parse_headers``: 47 -> 19 us per
answer; any other line still goes through that parser).

What it does not do: HTTP/2, proxies (``zbooks.core.httpclients`` keeps httpx2's own
transport when a proxy is configured in the environment), and streaming: a response body
is read whole before ``handle_request`` returns, which is what every non-streaming httpx2
call does. The TLS context is the process's shared one (``zbooks.core.tls``), loaded on
the first ``https://`` connection unless one is given.
"""

from __future__ import annotations

import contextlib
import email.parser
import http.client
import io
import re
import select
import socket
import ssl
import threading
import time

import httpx2

from zbooks.core.tls import default_ssl_context

DEFAULT_KEEPALIVE_EXPIRY = 5.0
DEFAULT_MAX_IDLE = 20  # idle connections kept per origin (httpx's keep-alive default)
_DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def _readable(sock: socket.socket) -> bool:
    """Whether ``sock`` has data or EOF waiting, without blocking. ``poll`` where there is
    one: ``select`` refuses descriptors above 1023, which a busy worker process has."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


# A header line email's feed parser reads as plain ``Name: value``: the name printable
# ASCII without ``:``, one line ending in CRLF or LF. Anything else (a folded line, a
# line without a colon, a stray CR) sends the whole block to that parser, as before.
_PLAIN_HEADER = re.compile(r"([\x21-\x39\x3b-\x7e]+):([^\r\n]*)\r?\n")
_MAXLINE = 65536  # http.client's limits on a header line and on their number
_MAXHEADERS = 100


def _read_head(fp: io.BufferedIOBase) -> list[bytes]:
    """An answer's header lines up to the blank one (``http.client._read_headers``)."""
    lines: list[bytes] = []
    while True:
        line = fp.readline(_MAXLINE + 1)
        if len(line) > _MAXLINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > _MAXHEADERS:
            raise http.client.HTTPException(f"got more than {_MAXHEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            return lines


def _parse_headers(fp: io.BufferedIOBase) -> http.client.HTTPMessage:
    """``http.client.parse_headers`` without the ``email`` package's feed parser for the
    plain ``Name: value`` lines answers have: that parser cost about 30 us of the 45 us
    ``http.client`` spent reading an answer's head, a sixteenth of a GET's client CPU.
    The message holds the headers the feed parser gives (the same ``(name, value)``
    pairs in the same order, compat32's split); a block with any other line goes
    through the feed parser itself (``tests/sdk/test_http11_headers.py``)."""
    lines = _read_head(fp)
    message = http.client.HTTPMessage()
    for raw in lines[:-1]:
        text = raw.decode("iso-8859-1")
        plain = _PLAIN_HEADER.fullmatch(text)
        if plain is None:
            block = b"".join(lines).decode("iso-8859-1")
            return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(block)
        message.set_raw(plain[1], plain[2].lstrip(" \t"))
    return message


class _Response(http.client.HTTPResponse):
    """``http.client``'s response with :func:`_parse_headers`; ``begin`` is the
    standard library's (3.11), with only the header parsing swapped."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:  # until a non-100 answer
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            _read_head(self.fp)  # a 100 Continue's headers are skipped
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = _parse_headers(self.fp)
        transfer = self.headers.get("transfer-encoding")
        self.chunked = bool(transfer and transfer.lower() == "chunked")
        if self.chunked:
            self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:
                    self.length = None
        if status in (204, 304) or 100 <= status < 200 or self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True


class _Connection:
    """One ``http.client`` connection and when it went idle."""

    __slots__ = ("conn", "idle_since")

    def __init__(self, conn: http.client.HTTPConnection) -> None:
        self.conn = conn
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        """Not expired, and the server has not closed it (a closed socket is readable)."""
        sock = self.conn.sock
        if sock is None or now - self.idle_since > expiry:
            return False
        try:
            return not _readable(sock)
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        with contextlib.suppress(OSError):  # closing a broken socket
            self.conn.close()


class StdlibTransport(httpx2.BaseTransport):
    """HTTP/1.1 with keep-alive over ``http.client``: what ``zbooks.Client`` sends
    through by default (see the module docstring for why and what it leaves out)."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY,
        max_idle: int = DEFAULT_MAX_IDLE,
    ) -> None:
        self._ssl_context = ssl_context
        self._expiry = keepalive_expiry
        self._max_idle = max_idle
        self._idle: dict[Origin, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    # --- the pool ---------------------------------------------------------------------
    def _checkout(self, origin: Origin) -> _Connection | None:
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                candidate = idle.pop()  # the most recently used first
                if candidate.usable(now, self._expiry):
                    return candidate
                candidate.close()
        return None

    def _checkin(self, origin: Origin, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if not self._closed and len(idle) < self._max_idle:
                idle.append(connection)
                return
        connection.close()

    def _connect(
        self, request: httpx2.Request, origin: Origin, timeouts: dict[str, float | None]
    ) -> _Connection:
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        connect_timeout = timeouts.get("connect")
        if scheme == "https":
            context = self._ssl_context or default_ssl_context()  # loaded on first HTTPS
            conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
        conn.response_class = _Response
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise httpx2.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        except OSError as exc:  # refused, unreachable, DNS, TLS handshake
            conn.close()
            raise httpx2.ConnectError(str(exc), request=request) from exc
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(conn)

    # --- one request ------------------------------------------------------------------
    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx2.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{scheme}://'.", request=request
            )
        if self._closed:
            raise RuntimeError("the transport is closed")
        origin: Origin = (scheme, url.host, url.port or _DEFAULT_PORTS[scheme])
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        connection = self._checkout(origin) or self._connect(request, origin, timeouts)
        try:
            answer, content = _exchange(request, connection.conn, timeouts)
        except BaseException:
            connection.close()
            raise
        if answer.will_close:
            connection.close()
        else:
            self._checkin(origin, connection)
        version = b"HTTP/1.0" if answer.version == 10 else b"HTTP/1.1"
        return httpx2.Response(
            answer.status,
            headers=answer.getheaders(),
            stream=httpx2.ByteStream(content),
            extensions={
                "http_version": version,
                "reason_phrase": answer.reason.encode("ascii", "replace"),
            },
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [c for conns in self._idle.values() for c in conns]
            self._idle.clear()
        for connection in idle:
            connection.close()


def _exchange(
    request: httpx2.Request, conn: http.client.HTTPConnection, timeouts: dict[str, float | None]
) -> tuple[http.client.HTTPResponse, bytes]:
    """Send the request on ``conn`` and read the whole answer, mapping failures to
    httpx2's exceptions (the request may have reached the server: never ``Connect*``)."""
    sock = conn.sock
    assert sock is not None
    write_timeout, read_timeout = timeouts.get("write"), timeouts.get("read")
    try:
        sock.settimeout(write_timeout)
        conn.putrequest(
            request.method,
            request.url.raw_path.decode("ascii"),
            skip_host=True,
            skip_accept_encoding=True,
        )
        chunked = False
        for name, value in request.headers.raw:
            conn.putheader(name, value)
            chunked = chunked or (
                name.lower() == b"transfer-encoding" and value.lower() == b"chunked"
            )
        stream = request.stream
        assert isinstance(stream, httpx2.SyncByteStream)
        if "content-length" in request.headers or chunked:
            conn.endheaders(stream if chunked else b"".join(stream), encode_chunked=chunked)
        else:
            conn.endheaders()
    except TimeoutError as exc:
        raise httpx2.WriteTimeout(str(exc) or "write timed out", request=request) from exc
    except OSError as exc:
        raise httpx2.WriteError(str(exc), request=request) from exc
    try:
        sock.settimeout(read_timeout)
        answer = conn.getresponse()
        content = answer.read()
    except TimeoutError as exc:
        raise httpx2.ReadTimeout(str(exc) or "read timed out", request=request) from exc
    except http.client.RemoteDisconnected as exc:
        raise httpx2.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        ) from exc
    except http.client.HTTPException as exc:  # a malformed or cut-short answer
        raise httpx2.RemoteProtocolError(f"{type(exc).__name__}: {exc}", request=request) from exc
    except OSError as exc:
        raise httpx2.ReadError(str(exc), request=request) from exc
    return answer, content
