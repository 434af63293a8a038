"""docs/cli.md: every ``console`` block runs against a sandbox, in order, as written."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from tests.cli.conftest import Login, Runner, Sandbox

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
_BLOCK = re.compile(r"```console\n(.*?)```", re.S)
_EXIT = re.compile(r"^\[exit (\d+)\]$")


def _steps(text: str) -> list[tuple[str, list[str], int]]:
    """(command line, expected lines, exit code) for each ``$ zbooks`` line."""
    steps: list[tuple[str, list[str], int]] = []
    for block in _BLOCK.findall(text):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], [], 0))
            elif (match := _EXIT.match(line.strip())) and steps:
                command, expected, _ = steps[-1]
                steps[-1] = (command, expected, int(match.group(1)))
            elif line.strip() and steps:
                steps[-1][1].append(line.strip())
    return steps


def test_docs_cli_examples_run(cli: Runner, sandbox: Sandbox, logged_in: Login) -> None:
    customer = json.loads(cli("contacts", "list", "--contact-type", "customer", "--limit", "1").out)
    body = {
        "customer_id": customer[0]["contact_id"],
        "reference_number": "DOCS-1",
        "line_items": [{"name": "Docs", "rate": 10, "quantity": 1}],
    }
    invoice = json.loads(cli("invoices", "create", "--data", json.dumps(body)).out)
    assert cli("invoices", "mark-sent", invoice["invoice_id"]).code == 0
    values = {"INVOICE_ID": invoice["invoice_id"], "ORG_ID": sandbox.server.app.demo.org_id}

    def fill(text: str) -> str:
        for name, value in values.items():
            text = text.replace(f"${name}", str(value))
        return text

    steps = _steps(DOC.read_text("utf-8"))
    assert len(steps) >= 9  # the parser still finds the examples
    for command, expected, code in steps:
        args = shlex.split(fill(command))
        assert args[0] == "zbooks", command
        result = cli(*args[1:])
        shown = result.out + result.err
        assert result.code == code, f"{command}: exit {result.code}\n{shown}"
        for line in expected:
            assert fill(line) in shown, f"{command}: {fill(line)!r} not in\n{shown}"
    # The dry runs above wrote nothing.
    after = json.loads(cli("invoices", "get", invoice["invoice_id"]).out)
    assert after["status"] != "void" and after["reference_number"] == "DOCS-1"
