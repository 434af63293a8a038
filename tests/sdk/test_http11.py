"""The stdlib HTTP/1.1 transport under ``zbooks.Client``: keep-alive, stale connections,
bodies, decoding, and the exception types the pipeline's retry decisions rest on
(``ConnectError``: never sent; anything later: maybe sent)."""

from __future__ import annotations

import gzip
import http.server
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from zbooks import Client
from zbooks.core.http11 import StdlibTransport
from zbooks.core.httpclients import new_http_client
from zbooks.errors import TransportError


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def _reply(
        self, body: bytes, *, headers: dict[str, str] | None = None, status: int = 200
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if "/slow" in self.path:
            time.sleep(1.0)
        if "/hangup" in self.path:
            self.close_connection = True
            return
        if "/close" in self.path:
            self._reply(b'{"code":0}', headers={"Connection": "close"})
            self.close_connection = True
            return
        if "/gzip" in self.path:
            self._reply(
                gzip.compress(b'{"code":0,"zipped":true}'),
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
            return
        if "/chunked" in self.path:
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"code":0,', b'"parts":2}'):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        echo = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
        self._reply(json.dumps(echo).encode(), headers={"Content-Type": "application/json"})

    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._reply(json.dumps({"received": body.decode()}).encode())


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(transport=StdlibTransport(), timeout=5) as client:
        yield client


def test_requests_reuse_one_keep_alive_connection(server: _Server, http: httpx2.Client) -> None:
    for n in range(5):
        response = http.get(f"{server.url}/echo/{n}", params={"a": "1 2"})
        assert response.status_code == 200
        assert response.json()["path"] == f"/echo/{n}?a=1+2"
        assert response.http_version == "HTTP/1.1"
    assert server.connections == 1


def test_host_and_client_headers_are_sent_once(server: _Server, http: httpx2.Client) -> None:
    seen = http.get(f"{server.url}/echo", headers={"Authorization": "x"}).json()["headers"]
    assert seen["host"] == f"127.0.0.1:{server.server_address[1]}"
    assert seen["authorization"] == "x"
    assert "gzip" in seen["accept-encoding"]  # httpx2's header, not http.client's


def test_a_connection_the_server_closed_is_not_reused(server: _Server, http: httpx2.Client) -> None:
    assert http.get(f"{server.url}/close").json() == {"code": 0}
    assert http.get(f"{server.url}/echo").status_code == 200
    assert server.connections == 2


def test_an_idle_connection_closed_by_the_server_is_replaced(server: _Server) -> None:
    transport = StdlibTransport()
    with httpx2.Client(transport=transport, timeout=5) as client:
        client.get(f"{server.url}/echo")
        # The server side drops the idle connection (as a keep-alive timeout would).
        for conns in transport._idle.values():
            for connection in conns:
                assert connection.conn.sock is not None
                connection.conn.sock.shutdown(socket.SHUT_RDWR)
        assert client.get(f"{server.url}/echo").status_code == 200
    assert server.connections == 2


def test_expired_idle_connections_are_not_reused(server: _Server) -> None:
    with httpx2.Client(transport=StdlibTransport(keepalive_expiry=0.0), timeout=5) as client:
        client.get(f"{server.url}/echo")
        time.sleep(0.01)
        client.get(f"{server.url}/echo")
    assert server.connections == 2


def test_bodies_with_length_and_chunked_arrive_whole(server: _Server, http: httpx2.Client) -> None:
    assert http.post(f"{server.url}/p", content=b"abc").json() == {"received": "abc"}
    parts = iter([b"chunk-1;", b"chunk-2"])
    assert http.post(f"{server.url}/p", content=parts).json() == {"received": "chunk-1;chunk-2"}
    assert http.post(f"{server.url}/p", data={"k": "v"}).json() == {"received": "k=v"}


def test_gzip_and_chunked_answers_are_decoded(server: _Server, http: httpx2.Client) -> None:
    assert http.get(f"{server.url}/gzip").json() == {"code": 0, "zipped": True}
    assert http.get(f"{server.url}/chunked").json() == {"code": 0, "parts": 2}


def test_concurrent_requests_from_many_threads(server: _Server, http: httpx2.Client) -> None:
    def get(n: int) -> str:
        return str(http.get(f"{server.url}/echo/{n}").json()["path"])

    with ThreadPoolExecutor(10) as pool:
        paths = list(pool.map(get, range(200)))
    assert paths == [f"/echo/{n}" for n in range(200)]
    assert server.connections <= 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_refused_connection_is_a_connect_error(http: httpx2.Client) -> None:
    with pytest.raises(httpx2.ConnectError):
        http.get(f"http://127.0.0.1:{_free_port()}/x")


def test_a_slow_answer_is_a_read_timeout(server: _Server) -> None:
    with (
        httpx2.Client(transport=StdlibTransport(), timeout=0.2) as client,
        pytest.raises(httpx2.ReadTimeout),
    ):
        client.get(f"{server.url}/slow")


def test_a_hang_up_without_an_answer_is_a_protocol_error(
    server: _Server, http: httpx2.Client
) -> None:
    with pytest.raises(httpx2.RemoteProtocolError):
        http.get(f"{server.url}/hangup")


def test_unsupported_scheme(http: httpx2.Client) -> None:
    with pytest.raises(httpx2.UnsupportedProtocol):
        http.get("ftp://127.0.0.1/x")


def test_the_pipeline_sees_refused_as_not_sent_and_a_hang_up_as_maybe_sent(
    server: _Server,
) -> None:
    from zbooks.core.retry import RetryPolicy

    def client(url: str) -> Client:
        return Client(
            access_token="t",
            api_url=url,
            organization_id="1",
            env={},
            rate_limiter=False,
            retry=RetryPolicy(max_attempts=1),
        )

    with client(f"http://127.0.0.1:{_free_port()}") as c, pytest.raises(TransportError) as refused:
        c.post("/invoices", json={})
    assert refused.value.sent is False
    with client(server.url) as c, pytest.raises(TransportError) as hung:
        c.get("/hangup")
    assert hung.value.sent is True


def test_client_sends_through_it_unless_a_proxy_is_configured(
    monkeypatch: pytest.MonkeyPatch, server: _Server
) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(new_http_client(timeout=5)._transport, StdlibTransport)
    with Client(
        access_token="t", api_url=server.url, organization_id="1", env={}, rate_limiter=False
    ) as client:
        assert isinstance(client._http._transport, StdlibTransport)
        assert client.get("/echo")["path"].endswith("/echo?organization_id=1")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert not isinstance(new_http_client(timeout=5)._transport, StdlibTransport)
    with Client(
        access_token="t", api_url=server.url, organization_id="1", env={}, rate_limiter=False
    ) as client:
        assert not isinstance(client._http._transport, StdlibTransport)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (the test's own CA: the certificate)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_verifies_the_certificate_and_keeps_the_connection(tmp_path: Path) -> None:
    """Zoho is HTTPS: the transport verifies the server with the client's TLS context
    (a certificate it does not trust is a connect error: nothing was sent)."""
    cert, key = _self_signed(tmp_path)
    srv = _Server()
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    srv.socket = server_side.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{srv.server_address[1]}"
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        with httpx2.Client(transport=StdlibTransport(ssl_context=trusting), timeout=5) as c:
            for n in range(3):
                assert c.get(f"{url}/echo/{n}").json()["path"] == f"/echo/{n}"
        assert srv.connections == 1
        with (
            httpx2.Client(
                transport=StdlibTransport(ssl_context=ssl.create_default_context()), timeout=5
            ) as c,
            pytest.raises(httpx2.ConnectError),
        ):
            c.get(f"{url}/echo")
    finally:
        srv.shutdown()
        srv.server_close()
