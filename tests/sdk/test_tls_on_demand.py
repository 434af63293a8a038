"""TLS is set up when a client first speaks HTTPS, and HTTPS is still verified (issue 15).

Loading the CA bundle costs about 35 ms and 1.6 MiB; a client that only talks plain HTTP
(the sandbox, a test server) should not pay it, and one that talks HTTPS must get the
verifying context. Each case runs in a fresh interpreter, because the context is built
once per process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SERVERS = textwrap.dedent(
    """
    import datetime, json, ssl, sys, tempfile, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"code": 0, "message": "success",
                               "organizations": [{"organization_id": "7"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    def serve(tls=False):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        if tls:  # a self-signed certificate: a verifying client must refuse it
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.x509.oid import NameOID
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(key.public_key()).serial_number(1)
                    .not_valid_before(now - datetime.timedelta(days=1))
                    .not_valid_after(now + datetime.timedelta(days=1))
                    .sign(key, hashes.SHA256()))
            folder = tempfile.mkdtemp()
            with open(folder + "/cert.pem", "wb") as f:
                f.write(cert.public_bytes(serialization.Encoding.PEM))
            with open(folder + "/key.pem", "wb") as f:
                f.write(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(folder + "/cert.pem", folder + "/key.pem")
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        scheme = "https" if tls else "http"
        return f"{scheme}://127.0.0.1:{server.server_address[1]}"
    """
)


def _run(code: str, **env: str) -> None:
    environ = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    environ.update(env)
    environ["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[2] / "src"), environ.get("PYTHONPATH", "")]
    )
    subprocess.run([sys.executable, "-c", SERVERS + textwrap.dedent(code)], check=True, env=environ)


def test_a_client_on_plain_http_never_builds_the_tls_context() -> None:
    _run(
        """
        import asyncio, zbooks
        import zbooks.core.tls as tls
        url = serve()
        with zbooks.Client(access_token="1000.x", api_url=url + "/books/v3",
                           accounts_url=url, env={}) as client:
            assert client.organizations.list()[0].organization_id == "7"

        async def main():
            async with zbooks.AsyncClient(access_token="1000.x", api_url=url + "/books/v3",
                                          accounts_url=url, env={}) as client:
                return await client.get("/organizations", organization_id=None)

        assert asyncio.run(main())["organizations"][0]["organization_id"] == "7"
        assert tls._context is None, "plain HTTP loaded the CA bundle"
        """
    )


def test_https_still_verifies_the_server_with_the_shared_context() -> None:
    _run(
        """
        import asyncio, httpx2, zbooks
        from zbooks.core.retry import NO_RETRIES
        from zbooks.errors import CertificateError
        import zbooks.core.tls as tls
        url = serve(tls=True)
        with zbooks.Client(access_token="1000.x", api_url=url + "/books/v3",
                           accounts_url=url, env={}, retry=NO_RETRIES) as client:
            try:
                client.get("/organizations", organization_id=None)
            except zbooks.ZBooksError as exc:
                assert isinstance(exc, CertificateError), repr(exc)
                assert "SSL_CERT_FILE" in (exc.hint or "")
            else:
                raise AssertionError("a self-signed certificate was accepted")
        assert tls._context is not None

        async def main():
            async with zbooks.AsyncClient(access_token="1000.x", api_url=url + "/books/v3",
                                          accounts_url=url, env={},
                                          retry=NO_RETRIES) as client:
                await client.get("/organizations", organization_id=None)

        try:
            asyncio.run(main())
        except zbooks.ZBooksError as exc:
            assert isinstance(exc, CertificateError), repr(exc)
        else:
            raise AssertionError("a self-signed certificate was accepted (async)")
        """
    )


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_a_proxy_in_the_environment_keeps_httpx_proxy_transports(variable: str) -> None:
    _run(
        """
        import zbooks
        import zbooks.core.tls as tls
        client = zbooks.Client(access_token="1000.x", organization_id="1", env={})
        # httpx routes through the proxy only when it builds the transports itself.
        assert any(t is not None for t in client._http._mounts.values()), client._http._mounts
        assert tls._context is not None
        """,
        **{variable: "http://127.0.0.1:9"},
    )


def test_an_untrusted_certificate_is_not_retried_but_a_refused_connection_is() -> None:
    import random

    from zbooks.core.retry import RetryPolicy, decide
    from zbooks.errors import CertificateError, TransportError

    common = {"method": "GET", "path": "/invoices", "sent": False}
    policy, rng = RetryPolicy(), random.Random(1)
    untrusted, refused = (
        decide(error, method="GET", attempt=1, elapsed=0.0, policy=policy, rng=rng)
        for error in (CertificateError("untrusted", **common), TransportError("refused", **common))
    )
    assert (untrusted.retry, refused.retry) == (False, True)
