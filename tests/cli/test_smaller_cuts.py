"""Issue #12, point 6: the Books ``webhooks`` module is reachable (the receiver is
``zbooks listen``), whoami and unknown profiles exit 2, money in tables has the
organization's precision, and ``sync --modules`` takes the command names."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli.conftest import Login, Runner


def test_webhooks_is_the_books_module_and_listen_is_the_receiver(
    cli: Runner, logged_in: Login
) -> None:
    helped = cli("webhooks", "--help")
    assert helped.code == 0 and "Zoho Books webhooks" in helped.out
    assert "listen" not in helped.out and "trigger" not in helped.out
    listed = cli("webhooks", "list")
    assert listed.code == 0, listed.err
    assert isinstance(json.loads(listed.out), list)
    root = cli("--help")
    assert re.search(r"^\s+listen\s", root.out, re.MULTILINE)
    assert "--secret" in cli("listen", "--help").out


def test_whoami_exits_2_when_not_logged_in(cli: Runner) -> None:
    result = cli("whoami")
    assert result.code == 2
    assert "Not logged in" in result.err and "zbooks login" in result.err


def test_unknown_profile_exits_2_everywhere(cli: Runner, logged_in: Login) -> None:
    assert cli("whoami").code == 0
    for args in (
        ("--profile", "nosuch", "whoami"),
        ("whoami", "--profile", "nosuch"),
        ("profiles", "use", "nosuch"),
        ("contacts", "list", "--profile", "nosuch"),
    ):
        result = cli(*args)
        assert result.code == 2, (args, result.err)
        assert "nosuch" in result.err


def test_money_in_tables_has_the_organization_precision(cli: Runner, logged_in: Login) -> None:
    customer = json.loads(cli("contacts", "list", "--contact-type", "customer", "--limit", "1").out)
    body = {
        "customer_id": customer[0]["contact_id"],
        "line_items": [{"name": "Round sum", "rate": 100, "quantity": 1}],
    }
    invoice = json.loads(cli("invoices", "create", "--data", json.dumps(body)).out)
    table = cli("invoices", "get", invoice["invoice_id"], "--output", "table").out
    assert re.search(r"^total\s+100\.00\s*$", table, re.MULTILINE), table
    assert re.search(r"^balance\s+100\.00\s*$", table, re.MULTILINE), table
    listing = cli("invoices", "list", "--output", "table", "--per-page", "5").out
    assert not re.search(r"\s\d+\.\d\s", listing)  # never 0.0 / 12.5 in money columns
    assert re.search(r"\s\d+\.\d{2}\s", listing)


def test_sync_modules_accepts_command_names(cli: Runner, logged_in: Login, tmp_path: Path) -> None:
    db = tmp_path / "books.db"
    result = cli("sync", "--db", f"sqlite:///{db}", "--modules", "sales-orders,credit-notes")
    assert result.code == 0, result.err
    summary = json.dumps(json.loads(result.out))
    assert "salesorders" in summary and "creditnotes" in summary
    wrong = cli("sync", "--db", f"sqlite:///{db}", "--modules", "sales-ordrs")
    assert wrong.code != 0 and "unknown module" in wrong.err
