"""``zbooks listen``: receive Zoho Books webhooks on this machine (like ``stripe listen``).

``zbooks webhooks ...`` belongs to the Books ``webhooks`` module, so the receiver is the
top-level ``zbooks listen``; making the sandbox fire one is ``zbooks sandbox trigger``
(``zbooks.cli.sandbox_control``).

- ``listen`` serves ``zbooks.webhooks.WebhookReceiver`` on 127.0.0.1 under uvicorn: each
  request is verified (with ``--secret``), parsed, deduplicated, printed, and optionally
  forwarded unchanged to another URL or piped into a command. A failed forward or a
  command that exits non-zero answers 500, so Zoho (or the sandbox) retries.
- ``trigger EVENT`` asks a running sandbox to fire ``invoice.created``-style events
  through its workflow rules (or straight to ``--url``) and reports each delivery.

Exit codes follow the CLI's convention: 1 usage, 3 not found, 5 server or network.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Annotated, Any, TextIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import typer

from zbooks.webhooks import SIGNATURE_HEADER, SeenEvents, WebhookEvent, WebhookReceiver

EXIT_SERVER = 5
FORWARD_TIMEOUT = 15.0
EXEC_TIMEOUT = 60.0
# Hop-by-hop and length headers must not be copied onto a forwarded request.
_DROPPED_HEADERS = frozenset(
    {"host", "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade"}
)


listen_app = typer.Typer(rich_markup_mode=None)


# --- listen ----------------------------------------------------------------------------------
def describe(event: WebhookEvent, *, as_json: bool) -> str:
    """One output line per event."""
    if as_json:
        return json.dumps(
            {
                "entity_type": event.entity_type,
                "entity_id": event.entity_id,
                "last_modified_time": event.last_modified_time,
                "params": event.params,
                "data": event.data,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
    parts = [time.strftime("%H:%M:%S"), event.entity_type, event.entity_id or "-"]
    if event.last_modified_time:
        parts.append(f"modified {event.last_modified_time}")
    if event.params:
        parts.append(" ".join(f"{k}={v}" for k, v in sorted(event.params.items())))
    return "  ".join(parts)


def forward(event: WebhookEvent, url: str, *, timeout: float = FORWARD_TIMEOUT) -> int:
    """Send the request on as it came (body, headers and query, so a signature still
    verifies); raise unless the target answers 2xx."""
    import httpx2

    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += parse_qsl(event.query_string, keep_blank_values=True)
    target = urlunsplit(parts._replace(query=urlencode(query)))
    headers = {k: v for k, v in event.headers.items() if k.lower() not in _DROPPED_HEADERS}
    response = httpx2.post(
        target, content=event.raw_body, headers=headers, timeout=timeout, trust_env=False
    )
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"{url} answered HTTP {response.status_code}")
    return response.status_code


def run_command(event: WebhookEvent, command: str, *, timeout: float = EXEC_TIMEOUT) -> None:
    """Run ``command`` (a shell command line the user gave) with the raw body on stdin
    and the event's identity in ``ZBOOKS_WEBHOOK_*`` environment variables."""
    env = {
        **os.environ,
        "ZBOOKS_WEBHOOK_ENTITY_TYPE": event.entity_type,
        "ZBOOKS_WEBHOOK_ENTITY_ID": event.entity_id or "",
        "ZBOOKS_WEBHOOK_LAST_MODIFIED_TIME": event.last_modified_time or "",
    }
    # shell=True on purpose: the command line is the user's own, pipes and all.
    result = subprocess.run(
        command, shell=True, input=event.raw_body, env=env, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"the command exited with status {result.returncode}")


def build_receiver(
    *,
    secret: str | None,
    header: str = SIGNATURE_HEADER,
    forward_to: str | None = None,
    command: str | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> WebhookReceiver:
    """The ASGI app ``listen`` serves (separate so that tests can drive it in-process)."""

    async def handle(event: WebhookEvent) -> None:
        stream = out or sys.stdout
        print(describe(event, as_json=as_json), file=stream, flush=True)
        try:
            if forward_to:
                await asyncio.to_thread(forward, event, forward_to)
            if command:
                await asyncio.to_thread(run_command, event, command)
        except Exception as exc:
            print(f"  failed: {exc}", file=err or sys.stderr, flush=True)
            raise

    # A development listener: duplicates are remembered while it runs, not across runs.
    # Sandbox time travel makes records look old: no freshness window here.
    return WebhookReceiver(
        handle, secret=secret, header=header, seen=SeenEvents(), max_age=None
    )


class ReportRejections:
    """ASGI wrapper printing every delivery the receiver refuses (4xx/5xx) with the
    reason it gave, so a bad secret or a stale payload is visible, not just a silent 401."""

    def __init__(self, app: Any, err: TextIO | None = None) -> None:
        self.app = app
        self.err = err

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        body = b""

        async def watch(message: Any) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                body += message.get("body", b"")
            await send(message)

        await self.app(scope, receive, watch)
        if status >= 400:
            try:
                reason = str(json.loads(body).get("message") or "")
            except (ValueError, AttributeError):
                reason = ""
            line = f"{time.strftime('%H:%M:%S')}  rejected  HTTP {status}  {reason}".rstrip()
            print(line, file=self.err or sys.stderr, flush=True)


@listen_app.command("listen")
def listen(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1; 0 picks one.")
    ] = 8788,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="ZBOOKS_WEBHOOK_SECRET",
            help="The webhook's secret; requests without a valid signature get 401.",
        ),
    ] = None,
    forward_to: Annotated[
        str | None,
        typer.Option("--forward-to", metavar="URL", help="Pass each new event on to URL."),
    ] = None,
    command: Annotated[
        str | None,
        typer.Option("--exec", metavar="CMD", help="Run CMD per new event, the body on its stdin."),
    ] = None,
    header: Annotated[
        str, typer.Option("--header", help="Signature header name.")
    ] = SIGNATURE_HEADER,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each event as one JSON line.")
    ] = False,
) -> None:
    """Receive webhooks on http://127.0.0.1:PORT/ and print each event as it arrives."""
    import socket

    import uvicorn

    if forward_to and command:
        raise typer.BadParameter("use --forward-to or --exec, not both")
    if forward_to and not forward_to.startswith(("http://", "https://")):
        raise typer.BadParameter(f"{forward_to!r} is not an http(s) URL", param_hint="--forward-to")
    receiver = build_receiver(
        secret=secret, header=header, forward_to=forward_to, command=command, as_json=as_json
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise typer.BadParameter(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", param_hint="--port"
        ) from None
    actual = sock.getsockname()[1]
    typer.echo(f"Listening for webhooks on http://127.0.0.1:{actual}/ (Ctrl-C to stop)")
    if secret:
        typer.echo(f"Verifying signatures in {header}.")
    else:
        typer.echo("No --secret: signatures are NOT verified.", err=True)
    sys.stdout.flush()
    config = uvicorn.Config(
        ReportRejections(receiver),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
