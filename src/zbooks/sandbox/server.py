"""Run the sandbox over real HTTP on loopback: in a background thread for tests
(``SandboxServer``) or in the foreground for the CLI (``serve``).

The listening socket is bound *before* the app is built, so ``port=0`` resolves to a
real free port first and every URL the sandbox hands out (``api_domain``,
``accounts-server``) names the port clients actually reach.
"""

from __future__ import annotations

import gc
import logging
import socket
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

import uvicorn

from zbooks.sandbox.app import SandboxApp, create_app
from zbooks.sandbox.books.registry import Registry
from zbooks.sandbox.config import SandboxConfig

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def bind_socket(config: SandboxConfig) -> socket.socket:
    """Bind ``config.host:config.port`` (0 = any free port) and record the real port."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    # proto must be IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted
    # connections of such sockets, and without it every response waits ~40 ms for a
    # delayed ACK (Nagle), which made the sandbox 100x slower than it is.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    # Listening now, not when uvicorn starts: the URL is printed (and handed to callers)
    # before that, and a client that connects in between must queue, not be refused
    # (seen under load: ``Connection refused`` right after "listening on").
    sock.listen(2048)
    config.port = int(sock.getsockname()[1])
    return sock


def _uvicorn_server(app: SandboxApp, *, log_level: str) -> uvicorn.Server:
    uv_config = uvicorn.Config(
        app.asgi,
        log_level=log_level,
        # Clients put secrets in query strings (Appendix D): never log them. The
        # sandbox's own request log masks them instead.
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        # Fault rules may hold a response for a while; keep connections alive meanwhile.
        timeout_keep_alive=30,
    )
    return uvicorn.Server(uv_config)


def banner(app: SandboxApp) -> str:
    """What a person needs to point a client at this sandbox."""
    base = app.config.base_url
    demo = app.demo
    lines = [
        f"zbooks sandbox listening on {base}",
        f"  Accounts (OAuth):   {base}/oauth/v2/auth  and  {base}/oauth/v2/token",
        f"  Books API:          {base}/books/v3",
        f"  Control plane:      {base}/_sandbox  (Authorization: Bearer <control token>)",
        f"  Control token:      {app.config.control_token}",
        f"  Demo client id:     {demo.client_id}",
        f"  Demo client secret: {demo.client_secret}",
        f"  Demo redirect URI:  {demo.redirect_uri}",
        f"  Demo user:          {demo.email} ({demo.user_id})",
        f"  Demo organization:  {demo.org_id} (plan {app.config.plan})",
        f"  Database:           {app.db.path}",
        f"  Inspector:          {app.inspector.one_time_link()}  (one-time login link)",
        "Point the SDK at it:",
        f"  export ZBOOKS_ACCOUNTS_URL={base}",
        f"  export ZBOOKS_API_URL={base}/books/v3",
        "Point `zbooks sandbox` commands (seed, clock, faults, requests, ...) at it:",
        f"  export ZBOOKS_SANDBOX_URL={base}",
        f"  export ZBOOKS_SANDBOX_TOKEN={app.config.control_token}",
    ]
    return "\n".join(lines)


class SandboxServer:
    """``with SandboxServer(config) as server: httpx2.get(server.base_url + ...)``."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        log_level: str = "warning",
        registry: Registry | None = None,
    ) -> None:
        self.config = config or SandboxConfig(port=0)
        self.log_level = log_level
        self._registry = registry  # tests of the HTTP layer serve their own routes
        self._app: SandboxApp | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def app(self) -> SandboxApp:
        if self._app is None:
            raise RuntimeError("the sandbox server is not running")
        return self._app

    @property
    def base_url(self) -> str:
        return self.config.base_url

    def start(self) -> SandboxServer:
        sock = bind_socket(self.config)
        try:
            self._app = create_app(self.config, registry=self._registry)
        except BaseException:
            sock.close()
            raise
        server = _uvicorn_server(self._app, log_level=self.log_level)
        self._server = server
        self._socket = sock  # asyncio's server owns it now and closes it on shutdown
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="zbooks-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(STOP_TIMEOUT)
        self._server = None
        self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._app is not None:
            self._app.close()
            self._app = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    config: SandboxConfig, *, out: TextIO | None = None, keep_client_secret: bool = False
) -> None:
    """Run in the foreground until Ctrl-C / SIGTERM (uvicorn installs the handlers)."""
    stream = out or sys.stdout
    sock = bind_socket(config)
    try:
        app = create_app(config, keep_client_secret=keep_client_secret)
    except BaseException:
        sock.close()
        raise
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # This process is the sandbox's own: everything built at start-up (routes, spec
    # tables, seeded caches) lives until exit, so keep the collector from re-walking it on
    # every full collection (measured: about 5% of the CPU of a read by id).
    gc.collect()
    gc.freeze()
    print(banner(app), file=stream, flush=True)
    try:
        _uvicorn_server(app, log_level="info").run(sockets=[sock])
    finally:
        sock.close()
        app.close()
