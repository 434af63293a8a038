"""``zbooks listen`` and ``zbooks sandbox trigger``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from zbooks.cli.main import main
from zbooks.cli.webhooks import build_receiver
from zbooks.webhooks import (
    SIGNATURE_HEADER,
    SeenEvents,
    WebhookEvent,
    WebhookReceiver,
    compute_signature,
)

from .conftest import SECRET, LoopbackServer, Sandbox, free_port

# A record modified a minute ago: the receiver refuses stale records (max_age).
STAMP = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() - 60))
PAYLOAD = json.dumps({"invoice": {"invoice_id": "77", "last_modified_time": STAMP}}).encode()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """``zbooks ...`` through the real entry point: exit code, stdout and stderr."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("ZBOOKS_SANDBOX_")]:
            patch.delenv(name)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    return code, out.getvalue() + err.getvalue()


def signed_headers(body: bytes, params: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "content-type": "application/json",
        SIGNATURE_HEADER: compute_signature(SECRET, body, params),
    }


# --- zbooks sandbox trigger ---------------------------------------------------------------------
def test_trigger_delivers_to_a_url_and_reports_it(sandbox: Sandbox) -> None:
    seen: list[WebhookEvent] = []
    with LoopbackServer(WebhookReceiver(seen.append, secret=SECRET, seen=SeenEvents())) as receiver:
        code, out = run(
            "sandbox", "trigger", "invoice.created", "--to", receiver.url, "--secret", SECRET,
            env={"ZBOOKS_SANDBOX_URL": sandbox.base_url,
                 "ZBOOKS_SANDBOX_TOKEN": sandbox.config.control_token},
        )  # fmt: skip
    assert code == 0, out
    assert re.search(r"invoice\.created: invoice \d+ -> 1 delivery", out)
    assert re.search(r"success\s+200\s+" + re.escape(receiver.url), out)
    assert len(seen) == 1


def test_trigger_failures_have_distinct_exit_codes(sandbox: Sandbox) -> None:
    env = {
        "ZBOOKS_SANDBOX_URL": sandbox.base_url,
        "ZBOOKS_SANDBOX_TOKEN": sandbox.config.control_token,
    }
    code, out = run("sandbox", "trigger", "invoice.created", env=env)
    assert code == 3 and "no active workflow rule" in out
    code, out = run(
        "sandbox", "trigger", "invoice.created", "--to", f"http://127.0.0.1:{free_port()}/", env=env
    )
    assert code == 5 and "retrying" in out and "Connection failed" in out
    code, out = run(
        "sandbox", "trigger", "invoice.created", "--no-wait", "--to", "http://127.0.0.1:9/", env=env
    )
    assert code == 0 and "pending" in out
    code, out = run("sandbox", "trigger", "rocket.launched", env=env)
    assert code == 1 and "unknown event" in out
    code, out = run(
        "sandbox", "trigger", "invoice.created", env={**env, "ZBOOKS_SANDBOX_TOKEN": "wrong"}
    )
    assert code != 0 and "control token" in out
    code, out = run(
        "sandbox", "trigger", "invoice.created", env={"ZBOOKS_SANDBOX_URL": sandbox.base_url}
    )
    assert code != 0 and "control token" in out.lower()
    code, out = run(
        "sandbox",
        "trigger",
        "invoice.created",
        env={**env, "ZBOOKS_SANDBOX_URL": f"http://127.0.0.1:{free_port()}"},
    )
    assert code == 5 and "reach the sandbox" in out


# --- listen, in-process ---------------------------------------------------------------------
async def post(
    app: WebhookReceiver, body: bytes, headers: dict[str, str], query: str = ""
) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        return await http.post("/hook" + query, content=body, headers=headers)


async def test_forward_to_passes_the_request_on_unchanged(
    capsys: pytest.CaptureFixture[str],
) -> None:
    downstream: list[WebhookEvent] = []
    with LoopbackServer(
        WebhookReceiver(downstream.append, secret=SECRET, seen=SeenEvents())
    ) as target:
        app = build_receiver(secret=SECRET, forward_to=target.url)
        params = {"event": "invoice.created"}
        query = "?event=invoice.created"
        response = await post(app, PAYLOAD, signed_headers(PAYLOAD, params), query)
        assert response.status_code == 200, response.text
    # The target verified the original signature: body and query arrived untouched.
    assert [(e.entity_id, e.params) for e in downstream] == [("77", params)]
    assert downstream[0].raw_body == PAYLOAD
    assert "invoice  77" in capsys.readouterr().out


async def test_forward_failure_answers_500_so_the_sender_retries(tmp_path: Path) -> None:
    app = build_receiver(secret=None, forward_to=f"http://127.0.0.1:{free_port()}/down")
    first = await post(app, PAYLOAD, {"content-type": "application/json"})
    assert first.status_code == 500
    seen: list[WebhookEvent] = []
    with LoopbackServer(WebhookReceiver(seen.append, secret=None, seen=SeenEvents())) as target:
        app.handler = build_receiver(secret=None, forward_to=target.url).handler
        again = await post(app, PAYLOAD, {"content-type": "application/json"})
    assert again.status_code == 200 and len(seen) == 1  # not remembered as handled the 1st time


async def test_exec_gets_the_body_on_stdin_and_the_event_in_its_environment(
    tmp_path: Path,
) -> None:
    out = tmp_path / "got.json"
    script = (
        "import os, sys, json; data = sys.stdin.buffer.read(); "
        f"open({str(out)!r}, 'w').write(json.dumps([data.decode(), "
        "os.environ['ZBOOKS_WEBHOOK_ENTITY_TYPE'], os.environ['ZBOOKS_WEBHOOK_ENTITY_ID']]))"
    )
    command = f'"{sys.executable}" -c "{script}"'
    app = build_receiver(secret=SECRET, command=command)
    response = await post(app, PAYLOAD, signed_headers(PAYLOAD))
    assert response.status_code == 200
    assert json.loads(out.read_text()) == [PAYLOAD.decode(), "invoice", "77"]
    failing = build_receiver(secret=None, command=f'"{sys.executable}" -c "raise SystemExit(3)"')
    assert (await post(failing, PAYLOAD, {})).status_code == 500


async def test_unsigned_requests_are_refused_and_not_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = build_receiver(secret=SECRET, as_json=True)
    assert (await post(app, PAYLOAD, {"content-type": "application/json"})).status_code == 401
    assert capsys.readouterr().out == ""
    assert (await post(app, PAYLOAD, signed_headers(PAYLOAD))).status_code == 200
    line = json.loads(capsys.readouterr().out)
    assert (line["entity_type"], line["entity_id"]) == ("invoice", "77")


# --- listen, as a process ---------------------------------------------------------------------
def test_listen_serves_on_loopback_and_prints_each_event() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zbooks",
            "listen",  # the real top-level command (issue #12: not `webhooks listen`)
            "--port",
            "0",
            "--secret",
            SECRET,
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", banner)
        assert match, banner + (process.stderr.read() if process.poll() is not None else "")  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{match.group(1)}/zoho"
        assert "Verifying signatures" in process.stdout.readline()
        deadline = time.monotonic() + 10
        while True:
            try:
                response = httpx2.post(
                    url, content=PAYLOAD, headers=signed_headers(PAYLOAD), timeout=5
                )
                break
            except httpx2.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.status_code == 200
        event = json.loads(process.stdout.readline())
        assert (event["entity_type"], event["entity_id"]) == ("invoice", "77")
        bad = httpx2.post(url, content=PAYLOAD, headers={SIGNATURE_HEADER: "00"}, timeout=5)
        assert bad.status_code == 401
        assert process.stderr is not None
        rejected = process.stderr.readline()
        assert "rejected  HTTP 401" in rejected and bad.json()["message"] in rejected
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_listen_refuses_conflicting_options_and_a_busy_port() -> None:
    code, out = run("listen", "--forward-to", "http://127.0.0.1:1/", "--exec", "cat")
    assert code != 0 and "not both" in out
    code, out = run("listen", "--forward-to", "ftp://x")
    assert code != 0 and "not an http(s) URL" in out
    with LoopbackServer(WebhookReceiver(lambda e: None, secret=None, seen=SeenEvents())) as busy:
        code, out = run("listen", "--port", str(busy.port))
    assert code != 0 and "cannot listen" in out
