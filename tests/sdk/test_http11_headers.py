"""The stdlib transport reads an answer's head as ``http.client`` does, without ``email``'s
feed parser for plain header lines (``zbooks.core.http11._Response``).

Every raw answer below is read twice, by ``http.client.HTTPResponse`` (the reference)
and by the transport's response class, and everything the transport or a caller can see
must be equal: status, reason, version, headers in order, framing (chunked, length,
whether the connection closes) and the body.
"""

from __future__ import annotations

import email.parser
import http.client
import http.server
import io
import threading
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.loopback import serving
from zbooks.core.http11 import StdlibTransport, _Response


class _FakeSocket:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self.data))  # type: ignore[arg-type]


PLAIN = (
    b"date: Thu, 03 Dec 2026 17:00:00 GMT\r\nserver: uvicorn\r\n"
    b"content-type: application/json;charset=UTF-8\r\n"
    b"x-rate-limit-limit: 10000\r\nx-rate-limit-remaining: 9990\r\nx-rate-limit-reset: 3600\r\n"
)

HEADS: dict[str, bytes] = {
    "plain": PLAIN,
    "duplicates": b"Set-Cookie: a=1\r\nset-cookie: b=2\r\nX-Many: 1\r\nX-Many: 2\r\n",
    "folded": b"X-Long: first\r\n second\r\n\tthird\r\nX-After: yes\r\n",
    "no colon in the middle": b"X-One: 1\r\nthis is not a header\r\nX-Two: 2\r\n",
    "empty name": b":odd\r\nX-Two: 2\r\n",
    "space before the colon": b"X-Spaced : v\r\nX-Two: 2\r\n",
    "spaces and tabs around values": b"X-A:   \t lead and trail  \r\nX-B:\tv\r\n",
    "empty values": b"X-Empty:\r\nX-Blank: \r\nX-Two: 2\r\n",
    "latin-1 and NEL bytes": b"X-Latin: caf\xe9\r\nX-Nel: a\x85b\r\nX-Ff: a\x0cb\r\n",
    "LF line endings": b"X-A: 1\nX-B: 2\n",
    "a stray CR": b"X-A: a\rb\r\nX-B: 2\r\n",
    "From line": b"From someone\r\nX-B: 2\r\n",
    "From header": b"From: someone@example.com\r\nX-B: 2\r\n",
    "colons in values": b"Location: http://x.test:80/a?b=c:d\r\nX-B: a:b:c\r\n",
    "a multipart content type": b"Content-Type: multipart/mixed; boundary=zz\r\n",
}


def _answer(status_line: bytes, head: bytes, body: bytes = b"", *, blank: bytes = b"\r\n") -> bytes:
    return status_line + b"\r\n" + head + blank + body


def _read(cls: type[http.client.HTTPResponse], raw: bytes, method: str = "GET") -> Any:
    response = cls(_FakeSocket(raw), method=method)  # type: ignore[arg-type]
    try:
        response.begin()
    except Exception as exc:  # the same exception type and message
        return ("raised", type(exc), str(exc))
    seen = {
        "status": response.status,
        "reason": response.reason,
        "version": response.version,
        "headers": response.getheaders(),
        "chunked": response.chunked,
        "length": response.length,
        "will_close": response.will_close,
    }
    try:
        seen["body"] = response.read()
    except Exception as exc:
        seen["body"] = ("raised", type(exc), str(exc))
    return seen


@pytest.mark.parametrize("name", list(HEADS))
def test_header_blocks_read_as_http_client_reads_them(name: str) -> None:
    raw = _answer(b"HTTP/1.1 200 OK", HEADS[name] + b"Content-Length: 5\r\n", b"hello")
    assert _read(_Response, raw) == _read(http.client.HTTPResponse, raw)


RAW_ANSWERS: dict[str, tuple[bytes, str]] = {
    "keep-alive with a length": (
        _answer(b"HTTP/1.1 200 OK", PLAIN + b"Content-Length: 2\r\n", b"{}"),
        "GET",
    ),
    "connection close": (
        _answer(b"HTTP/1.1 200 OK", b"Connection: close\r\nContent-Length: 2\r\n", b"{}"),
        "GET",
    ),
    "no length: read to the close": (
        _answer(b"HTTP/1.1 200 OK", b"X-A: 1\r\n", b"until eof"),
        "GET",
    ),
    "chunked": (
        _answer(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked\r\n", b"2\r\n{}\r\n0\r\n\r\n"),
        "GET",
    ),
    "chunked beats a length": (
        _answer(
            b"HTTP/1.1 200 OK",
            b"Content-Length: 99\r\nTransfer-Encoding: Chunked\r\n",
            b"2\r\nok\r\n0\r\n\r\n",
        ),
        "GET",
    ),
    "a negative length": (_answer(b"HTTP/1.1 200 OK", b"Content-Length: -1\r\n", b"abc"), "GET"),
    "a bad length": (_answer(b"HTTP/1.1 200 OK", b"Content-Length: x\r\n", b"abc"), "GET"),
    "204": (_answer(b"HTTP/1.1 204 No Content", b"X-A: 1\r\n"), "DELETE"),
    "304": (_answer(b"HTTP/1.1 304 Not Modified", b"Content-Length: 10\r\n"), "GET"),
    "HEAD": (_answer(b"HTTP/1.1 200 OK", b"Content-Length: 10\r\n"), "HEAD"),
    "HTTP/1.0 keep-alive": (
        _answer(b"HTTP/1.0 200 OK", b"Keep-Alive: timeout=5\r\nContent-Length: 1\r\n", b"x"),
        "GET",
    ),
    "HTTP/1.0 closes": (_answer(b"HTTP/1.0 200 OK", b"Content-Length: 1\r\n", b"x"), "GET"),
    "HTTP/1.0 Connection keep-alive": (
        _answer(b"HTTP/1.0 200 OK", b"Connection: Keep-Alive\r\nContent-Length: 1\r\n", b"x"),
        "GET",
    ),
    "100 Continue first": (
        b"HTTP/1.1 100 Continue\r\nX-Skip: 1\r\n\r\n"
        + _answer(b"HTTP/1.1 201 Created", b"Content-Length: 2\r\n", b"{}"),
        "POST",
    ),
    "a reason with spaces": (
        _answer(b"HTTP/1.1 429 Too Many Requests  ", b"Content-Length: 0\r\n"),
        "GET",
    ),
    "no reason": (_answer(b"HTTP/1.1 500", b"Content-Length: 0\r\n"), "GET"),
    "HTTP/2.0 is unknown": (_answer(b"HTTP/2.0 200 OK", b"Content-Length: 0\r\n"), "GET"),
    "a bad status line": (_answer(b"HTPT/1.1 200 OK", b"Content-Length: 0\r\n"), "GET"),
    "cut short in the head": (b"HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: tru", "GET"),
    "nothing at all": (b"", "GET"),
    "a header line too long": (
        _answer(b"HTTP/1.1 200 OK", b"X-A: " + b"a" * 70000 + b"\r\n"),
        "GET",
    ),
    "too many headers": (_answer(b"HTTP/1.1 200 OK", b"X-A: 1\r\n" * 101), "GET"),
}


@pytest.mark.parametrize("name", list(RAW_ANSWERS))
def test_answers_frame_as_http_client_frames_them(name: str) -> None:
    raw, method = RAW_ANSWERS[name]
    assert _read(_Response, raw, method) == _read(http.client.HTTPResponse, raw, method)


# --- through the transport: plain answers never reach the email feed parser -----------
class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = b'{"code":0}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Rate-Limit-Remaining", "99")
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        if "folded" in self.path:  # an obsolete line fold (RFC 9112 5.2)
            self._headers_buffer.append(b"X-Folded: one\r\n two\r\n")  # type: ignore[attr-defined]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def base_url() -> Iterator[str]:
    with serving(_Handler) as url:
        yield url


def test_plain_answers_skip_the_feed_parser_and_odd_ones_use_it(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    client_thread = threading.get_ident()
    parse = email.parser.Parser.parsestr

    def counted(self: email.parser.Parser, text: str, headersonly: bool = False) -> Any:
        if threading.get_ident() == client_thread:  # not the test server's request parsing
            parsed.append(text)
        return parse(self, text, headersonly)

    monkeypatch.setattr(email.parser.Parser, "parsestr", counted)
    with httpx2.Client(transport=StdlibTransport()) as http:
        plain = http.get(f"{base_url}/plain")
        assert parsed == []  # the old transport parsed every head with email's parser
        folded = http.get(f"{base_url}/folded")
        assert len(parsed) == 1
    assert plain.json() == {"code": 0}
    assert plain.headers["x-rate-limit-remaining"] == "99"
    assert plain.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert folded.headers["x-folded"] == "one\r\n two"
