"""`zbooks mcp` flags: documented, and parsed as the issue names them."""

from __future__ import annotations

import pytest
import typer

from zbooks.cli import errors
from zbooks.cli.main import main
from zbooks.cli.mcp import mcp_app

FLAGS = (
    "--http",
    "--port",
    "--sandbox",
    "--allow-writes",
    "--allow-destructive",
    "--max-calls",
    "--org",
    "--profile",
)


def test_help_documents_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mcp", "--help"]) == errors.OK
    text = capsys.readouterr().out
    for flag in FLAGS:
        assert flag in text
    command = typer.main.get_command(mcp_app)
    documented = {opt for param in command.params for opt in param.opts}
    assert documented - {"--help"} == set(FLAGS) | {"-p"}
    assert all(param.help for param in command.params if param.name != "help")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--allow-writes"], "all"),
        (["--allow-writes", "--max-calls", "3"], "all"),
        (["--allow-writes", "invoices,contacts"], "invoices,contacts"),
        ([], None),
    ],
)
def test_allow_writes_takes_an_optional_module_list(args: list[str], expected: str | None) -> None:
    command = typer.main.get_command(mcp_app)
    ctx = command.make_context("mcp", list(args))
    assert ctx.params["allow_writes"] == expected


def test_destructive_without_writes_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mcp", "--allow-destructive"]) == errors.USAGE
    assert "--allow-destructive needs --allow-writes" in capsys.readouterr().err
