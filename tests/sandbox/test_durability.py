"""State survives restarts, and every acknowledged write survives ``kill -9``."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.sandbox.helpers import make_config
from zbooks.sandbox.app import create_app

SECRET = "0123456789abcdef0123456789abcdef01234567ab"
TOTAL_CREATES = 1000
KILL_AFTER_ACKS = 300
WORKERS = 8  # below the premium plan's concurrency limit of 10


def _require_contacts() -> None:
    from zbooks.sandbox.books.registry import load_routes

    if not load_routes().has("POST", "/contacts"):
        pytest.fail("the contacts module (POST /contacts) is needed by the durability tests")


# in-process restart -------------------------------------------------------------------


async def test_restart_on_the_same_database_keeps_state(tmp_path: Path) -> None:
    _require_contacts()
    config = make_config(tmp_path, seed="empty")
    first = create_app(config)
    client_info = first.accounts.register_client(name="t", redirect_uris=[], client_type="self")
    code = first.accounts.issue_self_client_code(client_info["client_id"], "ZohoBooks.contacts.ALL")
    token = first.accounts.token(
        {
            "grant_type": "authorization_code",
            "client_id": client_info["client_id"],
            "client_secret": client_info["client_secret"],
            "code": code,
        },
        base_url="http://sandbox.test",
    )["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    org_id = first.demo.org_id
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=first.asgi), base_url="http://sandbox.test"
    ) as client:
        created = await client.post(
            "/books/v3/contacts",
            params={"organization_id": org_id},
            json={"contact_name": "Survivor Ltd"},
            headers=headers,
        )
    assert created.status_code == 201, created.text
    contact_id = created.json()["contact"]["contact_id"]
    first.close()

    second = create_app(config)
    try:
        assert second.demo.org_id == org_id
        with second.db.read() as conn:
            orgs = conn.execute("SELECT count(*) AS n FROM organizations").fetchone()["n"]
        assert orgs == 1  # no second demo organization
        async with httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=second.asgi), base_url="http://sandbox.test"
        ) as client:
            fetched = await client.get(
                f"/books/v3/contacts/{contact_id}",
                params={"organization_id": org_id},
                headers=headers,  # the access token is still valid after the restart
            )
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["contact"]["contact_name"] == "Survivor Ltd"
    finally:
        second.close()


def test_kept_client_secret_survives_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    first = create_app(config, keep_client_secret=True)
    secret = first.demo.client_secret
    first.close()
    again = make_config(tmp_path)  # a fresh random secret in the config...
    assert again.client_secret != secret
    second = create_app(again, keep_client_secret=True)
    try:
        assert second.demo.client_secret == secret  # ...but the stored one is kept
    finally:
        second.close()


# kill -9 ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server_process(
    db: Path, port: int, logs: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start ``python -m zbooks sandbox serve``, wait for the banner, yield the control token."""
    out = logs.with_suffix(".out")
    err = logs.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "zbooks",
                "sandbox",
                "serve",
                "--db",
                str(db),
                "--port",
                str(port),
                "--seed",
                "empty",
                "--client-secret",
                SECRET,
                "--rate-limit",
                "1000000/60s",
            ],
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 60
        token = ""
        while time.monotonic() < deadline:
            text = out.read_text(errors="replace")
            match = re.search(r"Control token:\s+(\S+)", text)
            if match and "ZBOOKS_API_URL" in text:
                token = match.group(1)
                break
            if process.poll() is not None:
                raise AssertionError(f"server exited early:\n{err.read_text(errors='replace')}")
            time.sleep(0.05)
        assert token, "the server did not print its banner in time"
        _wait_listening(port)
        yield process, token
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server is not accepting connections")


def _access_token(base: str, control_token: str) -> str:
    control = {"Authorization": f"Bearer {control_token}"}
    with httpx2.Client(base_url=base, timeout=10) as client:
        registered = client.post(
            "/_sandbox/clients", json={"name": "storm", "client_type": "self"}, headers=control
        ).json()
        code = client.post(
            "/_sandbox/self-client/code",
            json={"client_id": registered["client_id"], "scope": "ZohoBooks.contacts.ALL"},
            headers=control,
        ).json()["code"]
        tokens = client.post(
            "/oauth/v2/token",
            data={
                "grant_type": "authorization_code",
                "client_id": registered["client_id"],
                "client_secret": registered["client_secret"],
                "code": code,
            },
        ).json()
    return str(tokens["access_token"])


def _list_all_contacts(client: httpx2.Client, org_id: str) -> dict[str, str]:
    found: dict[str, str] = {}
    page = 1
    while True:
        response = client.get(
            "/books/v3/contacts",
            params={"organization_id": org_id, "page": str(page), "per_page": "200"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        for contact in body["contacts"]:
            found[str(contact["contact_id"])] = str(contact["contact_name"])
        if not body["page_context"]["has_more_page"]:
            return found
        page += 1


@pytest.mark.slow
def test_every_acknowledged_create_survives_kill_9(tmp_path: Path) -> None:
    _require_contacts()
    db = tmp_path / "storm.db"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    acknowledged: dict[str, str] = {}  # contact_id -> name
    failures: list[str] = []
    lock = threading.Lock()

    with _server_process(db, port, tmp_path / "first") as (process, control_token):
        token = _access_token(base, control_token)
        with httpx2.Client(base_url=base, timeout=10) as probe:
            info = probe.get(
                "/_sandbox/info", headers={"Authorization": f"Bearer {control_token}"}
            ).json()
        org_id = info["demo"]["org_id"]
        headers = {"Authorization": f"Zoho-oauthtoken {token}"}

        # One shared client (thread-safe, pooled): building a client per request costs
        # more than the request itself.
        storm = httpx2.Client(
            base_url=base,
            timeout=10,
            headers=headers,
            limits=httpx2.Limits(max_connections=WORKERS),
        )

        def create(index: int) -> None:
            name = f"Storm Customer {index:04d}"
            try:
                response = storm.post(
                    "/books/v3/contacts",
                    params={"organization_id": org_id},
                    json={"contact_name": name},
                )
            except httpx2.HTTPError as exc:
                with lock:
                    failures.append(type(exc).__name__)
                return
            with lock:
                if response.status_code == 201:
                    acknowledged[str(response.json()["contact"]["contact_id"])] = name
                else:
                    failures.append(str(response.status_code))

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = [pool.submit(create, i) for i in range(TOTAL_CREATES)]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with lock:
                    if len(acknowledged) >= KILL_AFTER_ACKS:
                        break
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)  # mid-storm, no chance to flush anything
            process.wait(timeout=30)
            for future in futures:
                future.result()
        storm.close()

    assert len(acknowledged) >= KILL_AFTER_ACKS
    assert failures, "the kill happened after the storm; nothing was in flight"
    assert len(acknowledged) < TOTAL_CREATES

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        _server_process(db, port, tmp_path / "second"),
        httpx2.Client(
            base_url=base, timeout=10, headers={"Authorization": f"Zoho-oauthtoken {token}"}
        ) as client,
    ):
        stored = _list_all_contacts(client, org_id)

    missing = {cid: name for cid, name in acknowledged.items() if stored.get(cid) != name}
    assert not missing, f"{len(missing)} acknowledged creates were lost"
    # Unacknowledged requests may or may not have committed, but nothing else appears.
    assert len(stored) <= TOTAL_CREATES
