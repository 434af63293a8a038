"""docs/mcp.md: the session script runs and prints what the transcript shows, the
desktop configuration starts a server, the budget numbers and flags are current."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import anyio
import pytest
import typer
from mcp import ClientSession, StdioServerParameters, stdio_client

from zbooks.cli.mcp import mcp_app
from zbooks.mcp.books import Books
from zbooks.mcp.budget import CallBudget
from zbooks.mcp.policy import Policy
from zbooks.mcp.server import build_server, tool_listing_size

DOC = Path(__file__).resolve().parents[2] / "docs" / "mcp.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text("utf-8"), re.S)


def _calls(text: str) -> list[str]:
    """The tool names of the transcript's `> tool {...}` lines, in order."""
    return re.findall(r"^> (\w+) ", text, re.M)


def test_session_script_prints_the_transcript(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ZBOOKS_CONFIG_DIR", str(tmp_path))
    (script,) = _blocks("python")
    (transcript,) = _blocks("text")
    exec(compile(script, "docs/mcp.md python block", "exec"), {"__name__": "docs_mcp"})
    printed = capsys.readouterr().out
    # Same tools in the same order, so the same number of calls before --max-calls.
    assert _calls(printed) == _calls(transcript)
    for line in (
        "writes are allowed only to contacts",
        "--allow-writes invoices added to the list",
        '{"diff": [{"field": "notes", "before": "", "after": "Call first"}]}',
        '"notes": "Call first"',
        "This session has used its 12 Zoho API calls (--max-calls 12)",
    ):
        assert line in printed and line in transcript


def test_desktop_configuration_starts_the_servers() -> None:
    (block,) = _blocks("json")
    servers = json.loads(block)["mcpServers"]
    command = typer.main.get_command(mcp_app)
    for entry in servers.values():
        assert entry["command"] == "zbooks" and entry["args"][0] == "mcp"
        command.make_context("mcp", list(entry["args"][1:]))  # the flags parse

    async def list_tools(args: list[str]) -> list[str]:
        # The `zbooks` of this environment, whether or not it is on PATH.
        params = StdioServerParameters(command=sys.executable, args=["-m", "zbooks", *args])
        with anyio.fail_after(120):
            return await _names(params)

    async def _names(params: StdioServerParameters) -> list[str]:
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return [tool.name for tool in (await session.list_tools()).tools]

    names = anyio.run(list_tools, servers["zoho-books-sandbox"]["args"])
    assert "zoho_books_call" in names


def test_budget_numbers_in_the_docs_are_current() -> None:
    text = DOC.read_text("utf-8")
    found = re.search(
        r"The listing is (\d+) tools with (\d+) characters of tool and parameter\s+"
        r"descriptions.*?schemas included, is (\d+) characters",
        text,
        re.S,
    )
    assert found, "the context budget paragraph is missing"
    size = tool_listing_size(build_server(Books(None, CallBudget()), Policy()))  # type: ignore[arg-type]
    assert [int(n) for n in found.groups()] == [
        size["tools"],
        size["description_chars"],
        size["listing_chars"],
    ]


def test_every_flag_is_in_the_docs_table() -> None:
    text = DOC.read_text("utf-8")
    command = typer.main.get_command(mcp_app)
    for param in command.params:
        for opt in param.opts:
            if opt != "--help":
                assert f"`{opt}" in text or f", {opt}" in text, opt
