"""`zbooks mcp` end to end, driven by the official `mcp` client library.

Three real servers, each a `zbooks mcp` process: `--sandbox` over stdio, the active
profile (credentials in the environment) against a sandbox on loopback over stdio, and
`--sandbox --http` over streamable HTTP. Each session lists the tools, searches,
describes, reads, is refused a write, previews one, makes one (when allowed) and sees
the record changed in the sandbox, and runs into --max-calls.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from zbooks import Client
from zbooks.auth.login import code_login
from zbooks.auth.tokens import MemoryStore
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.server import SandboxServer

from .test_budget import CURATED

TIMEOUT = 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server(args: list[str], env: dict[str, str] | None = None) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "zbooks", "mcp", *args], env=env or {}
    )


@asynccontextmanager
async def stdio_session(
    args: list[str], env: dict[str, str] | None = None
) -> AsyncIterator[ClientSession]:
    async with (
        stdio_client(_server(args, env)) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """A successful tool call's JSON result."""
    result = await session.call_tool(tool, arguments)
    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
    assert not result.is_error, text
    data: dict[str, Any] = json.loads(text)
    return data


async def refused(session: ClientSession, tool: str, **arguments: Any) -> str:
    """A tool call that must fail; its error text."""
    result = await session.call_tool(tool, arguments)
    assert result.is_error, result
    return str(result.content[0].text)  # type: ignore[union-attr]


async def discover_search_describe_read(session: ClientSession) -> dict[str, Any]:
    """The read half of every scenario; returns a customer contact to write to."""
    tools = await session.list_tools()
    assert {tool.name for tool in tools.tools} == CURATED
    found = await call(session, "zoho_books_search", query="update contact")
    assert "contacts.update" in [row["operation"] for row in found["operations"]]
    described = await call(session, "zoho_books_describe", operation="contacts.update")
    assert described["http"] == "PUT /contacts/{contact_id}"
    assert described["body"]["contact_name"] == "string"
    page = await call(
        session,
        "zoho_books_call",
        operation="contacts.list",
        arguments={"contact_type": "customer", "per_page": 3},
    )
    assert len(page["contacts"]) == 3
    listed = await call(session, "list_contacts", contact_type="customer", limit=2)
    assert len(listed["contacts"]) == 2 and listed["has_more"] is True
    # Key fields only unless asked for more.
    assert "billing_address" not in listed["contacts"][0]
    more = await call(session, "list_contacts", cursor=listed["next_cursor"])
    assert more["page"] == 2 and more["contacts"][0] != listed["contacts"][0]
    contact = listed["contacts"][0]
    got = await call(session, "get_contact", contact_id=contact["contact_id"])
    assert got["contact"]["contact_name"] == contact["contact_name"]
    return got["contact"]


async def dry_run_update(session: ClientSession, contact: dict[str, Any], notes: str) -> None:
    preview = await call(
        session,
        "zoho_books_call",
        operation="contacts.update",
        arguments={"contact_id": contact["contact_id"], "body": {"notes": notes}},
        dry_run=True,
    )
    assert preview["dry_run"] is True
    assert preview["request"]["method"] == "PUT"
    assert (
        f"/books/v3/contacts/{contact['contact_id']}?organization_id=" in preview["request"]["url"]
    )
    assert preview["request"]["json"] == {"notes": notes}
    assert preview["request"]["headers"]["Authorization"] == "Zoho-oauthtoken ***"
    assert preview["diff"] == [{"field": "notes", "before": contact["notes"], "after": notes}]


async def exhaust(session: ClientSession) -> int:
    """Read until --max-calls refuses; the number of calls that went through."""
    made = 0
    while True:
        result = await session.call_tool("list_invoices", {"limit": 1})
        if result.is_error:
            text = str(result.content[0].text)  # type: ignore[union-attr]
            assert "--max-calls" in text, text
            return made
        made += 1
        assert made < 100, "--max-calls never refused"


# ------------------------------------------------------------------ --sandbox, stdio


async def test_stdio_sandbox_read_only_then_max_calls() -> None:
    with anyio.fail_after(TIMEOUT):
        async with stdio_session(["--sandbox", "--max-calls", "12"]) as session:
            contact = await discover_search_describe_read(session)  # 4 calls
            message = await refused(
                session,
                "zoho_books_call",
                operation="contacts.update",
                arguments={"contact_id": contact["contact_id"], "body": {"notes": "x"}},
            )
            assert "read-only" in message and "--allow-writes" in message
            await dry_run_update(session, contact, "rehearsed")  # 1 call (current record)
            after = await call(session, "get_contact", contact_id=contact["contact_id"])
            assert after["contact"]["notes"] == contact["notes"]  # the dry run sent nothing
            # 4 + 1 + 1 calls made; refusals cost nothing; 6 remain.
            assert await exhaust(session) == 6


async def test_stdio_sandbox_writes_to_allowed_modules_only() -> None:
    with anyio.fail_after(TIMEOUT):
        async with stdio_session(["--sandbox", "--allow-writes", "contacts"]) as session:
            contact = await discover_search_describe_read(session)
            await dry_run_update(session, contact, "Pays by wire")
            done = await call(
                session,
                "zoho_books_call",
                operation="contacts.update",
                arguments={
                    "contact_id": contact["contact_id"],
                    "body": {"contact_name": contact["contact_name"], "notes": "Pays by wire"},
                },
            )
            assert done["contact"]["notes"] == "Pays by wire"
            after = await call(session, "get_contact", contact_id=contact["contact_id"])
            assert after["contact"]["notes"] == "Pays by wire"
            invoices = await call(session, "list_invoices", limit=1)
            invoice_id = invoices["invoices"][0]["invoice_id"]
            message = await refused(
                session,
                "zoho_books_call",
                operation="invoices.update",
                arguments={"invoice_id": invoice_id, "body": {"notes": "x"}},
            )
            assert "allowed only to contacts" in message
            message = await refused(
                session,
                "zoho_books_call",
                operation="contacts.delete",
                arguments={"contact_id": contact["contact_id"]},
            )
            assert "--allow-destructive" in message
            # A Zoho error comes back as a tool error with the SDK's hint.
            message = await refused(session, "get_contact", contact_id="999999999")
            assert "Hint:" in message


# ------------------------------------------------------------------ profile over loopback


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(port=0, auto_approve=True, seed="demo")) as server:
        yield server


def _profile_env(server: SandboxServer, home: Path) -> tuple[dict[str, str], MemoryStore]:
    """`ZBOOKS_*` credentials for a Self Client of the sandbox, as a user would set them."""
    headers = {"Authorization": f"Bearer {server.config.control_token}"}
    base = server.base_url
    app = httpx2.post(
        f"{base}/_sandbox/clients",
        headers=headers,
        json={"name": "agent", "client_type": "self"},
        timeout=30,
    ).json()
    code = httpx2.post(
        f"{base}/_sandbox/self-client/code",
        headers=headers,
        json={"client_id": app["client_id"], "scope": "ZohoBooks.fullaccess.all"},
        timeout=30,
    ).json()["code"]
    token = code_login(
        code, accounts_url=base, client_id=app["client_id"], client_secret=app["client_secret"]
    ).token
    env = {
        "ZBOOKS_CONFIG_DIR": str(home),
        "ZBOOKS_DATA_DIR": str(home),
        "ZBOOKS_CLIENT_ID": app["client_id"],
        "ZBOOKS_CLIENT_SECRET": app["client_secret"],
        "ZBOOKS_REFRESH_TOKEN": str(token.refresh_token),
        "ZBOOKS_ACCOUNTS_URL": base,
        "ZBOOKS_API_URL": f"{base}/books/v3",
    }
    return env, MemoryStore(token)


async def test_stdio_profile_against_a_loopback_sandbox(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env, store = _profile_env(sandbox, tmp_path)
    with anyio.fail_after(TIMEOUT):
        async with stdio_session(["--allow-writes", "--max-calls", "20"], env) as session:
            contact = await discover_search_describe_read(session)
            await dry_run_update(session, contact, "From the agent")
            described = await session.call_tool(
                "zoho_books_call",
                {
                    "operation": "contacts.update",
                    "arguments": {"contact_id": contact["contact_id"], "body": {"notes": "n"}},
                    "dry_run": True,
                },
            )
            shown = described.model_dump_json()
            for secret in (env["ZBOOKS_REFRESH_TOKEN"], env["ZBOOKS_CLIENT_SECRET"]):
                assert secret not in shown
            assert "Zoho-oauthtoken ***" in shown
            message = await refused(
                session,
                "zoho_books_call",
                operation="contacts.delete",
                arguments={"contact_id": contact["contact_id"]},
            )
            assert "--allow-destructive" in message
            await call(
                session,
                "zoho_books_call",
                operation="contacts.update",
                arguments={
                    "contact_id": contact["contact_id"],
                    "body": {"contact_name": contact["contact_name"], "notes": "From the agent"},
                },
            )
            # Seen in the sandbox by another client, not through the MCP server.
            with Client(
                client_id=env["ZBOOKS_CLIENT_ID"],
                client_secret=env["ZBOOKS_CLIENT_SECRET"],
                token_store=store,
                accounts_url=sandbox.base_url,
                api_url=f"{sandbox.base_url}/books/v3",
                env={},
            ) as client:
                body = client.get(f"/contacts/{contact['contact_id']}")
                assert body["contact"]["notes"] == "From the agent"
            # 4 reads + 2 dry runs + 1 update, and the organization lookup (the profile
            # names none) counts too: 12 remain.
            assert await exhaust(session) == 12
    assert not list(tmp_path.iterdir()), "the server wrote into the profile directory"


# ------------------------------------------------------------------ streamable HTTP


@contextmanager
def http_server(args: list[str], env: dict[str, str]) -> Iterator[str]:
    """`zbooks mcp --http --port N ARGS` in its own process; yields the endpoint URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "zbooks", "mcp", "--http", "--port", str(port), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline, "zbooks mcp --http did not listen"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr:
            process.stderr.close()


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[ClientSession]:
    async with (
        streamable_http_client(url) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def test_http_sandbox_session(tmp_path: Path) -> None:
    args = ["--sandbox", "--allow-writes", "--max-calls", "9"]
    with (
        http_server(args, {"ZBOOKS_CONFIG_DIR": str(tmp_path)}) as url,
        anyio.fail_after(TIMEOUT),
    ):
        async with http_session(url) as session:
            contact = await discover_search_describe_read(session)  # 4 calls
            await dry_run_update(session, contact, "Over HTTP")  # 1 call
            message = await refused(
                session,
                "zoho_books_call",
                operation="contacts.delete",
                arguments={"contact_id": contact["contact_id"]},
            )
            assert "--allow-destructive" in message
            await call(
                session,
                "zoho_books_call",
                operation="contacts.update",
                arguments={
                    "contact_id": contact["contact_id"],
                    "body": {"contact_name": contact["contact_name"], "notes": "Over HTTP"},
                },
            )  # 1 call
            after = await call(session, "get_contact", contact_id=contact["contact_id"])
            assert after["contact"]["notes"] == "Over HTTP"  # 1 call
            assert await exhaust(session) == 2
        # --max-calls is per session: a new MCP session starts with a full budget.
        async with http_session(url) as session:
            again = await call(session, "get_contact", contact_id=contact["contact_id"])
            assert again["contact"]["notes"] == "Over HTTP"


async def test_http_profile_against_a_loopback_sandbox(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    env, _ = _profile_env(sandbox, tmp_path)
    with http_server(["--max-calls", "8"], env) as url, anyio.fail_after(TIMEOUT):
        async with http_session(url) as session:
            contact = await discover_search_describe_read(session)  # 4 calls + org lookup
            message = await refused(
                session,
                "zoho_books_call",
                operation="contacts.update",
                arguments={"contact_id": contact["contact_id"], "body": {"notes": "x"}},
            )
            assert "read-only" in message
            await dry_run_update(session, contact, "Previewed over HTTP")  # 1 call
            assert await exhaust(session) == 2


async def test_without_a_login_tools_answer_with_the_hint(tmp_path: Path) -> None:
    env = {"ZBOOKS_CONFIG_DIR": str(tmp_path), "ZBOOKS_DATA_DIR": str(tmp_path)}
    with anyio.fail_after(TIMEOUT):
        async with stdio_session([], env) as session:
            message = await refused(session, "list_invoices")
            assert "Hint: Run `zbooks login`" in message
