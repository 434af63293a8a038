"""Issue #12, points 1 and 2: strict options and safe writes, driven through the real
``zbooks`` command against a sandbox on loopback."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import Login, Runner, Sandbox

ZBOOKS = [sys.executable, "-m", "zbooks"]


def _new_invoice(cli: Runner, reference: str = "SAFE-1") -> dict[str, object]:
    customer = json.loads(cli("contacts", "list", "--contact-type", "customer", "--limit", "1").out)
    body = {
        "customer_id": customer[0]["contact_id"],
        "reference_number": reference,
        "line_items": [{"name": "Safety review", "rate": 100, "quantity": 1}],
    }
    created = cli("invoices", "create", "--data", json.dumps(body))
    assert created.code == 0, created.err
    invoice: dict[str, object] = json.loads(created.out)
    return invoice


def _status(cli: Runner, invoice_id: object) -> str:
    return str(json.loads(cli("invoices", "get", str(invoice_id)).out)["status"])


# --------------------------------------------------------------------------- point 1


def test_unknown_option_is_an_error_with_a_suggestion(cli: Runner, logged_in: Login) -> None:
    result = cli("invoices", "list", "--stauts", "overdue")
    assert result.code == 1
    assert result.out == ""  # no invoices of every status
    assert "Did you mean --status?" in result.err
    assert "-q name=value" in result.err


def test_raw_query_parameters_only_through_q(cli: Runner, logged_in: Login) -> None:
    raw = cli("invoices", "list", "-q", "status=overdue")
    assert raw.code == 0, raw.err
    assert {i["status"] for i in json.loads(raw.out)} == {"overdue"}
    bad = cli("invoices", "list", "-q", "status")
    assert bad.code == 1 and "not key=value" in bad.err


def test_enumerated_filters_accept_only_their_values(cli: Runner, logged_in: Login) -> None:
    bad = cli("invoices", "list", "--status", "overdeu")
    assert bad.code == 1 and "overdue" in bad.err
    helped = cli("invoices", "list", "--help")
    assert "draft|sent|viewed|overdue" in helped.out


def test_enumerated_filters_complete_in_the_shell(home: Path) -> None:
    env = {
        **os.environ,
        "_ZBOOKS_COMPLETE": "complete_bash",
        "COMP_WORDS": "zbooks invoices list --status ov",
        "COMP_CWORD": "4",
    }
    done = subprocess.run(
        [*ZBOOKS], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert "overdue" in done.stdout.split()
    assert "paid" not in done.stdout.split()


def test_global_options_work_after_the_command(cli: Runner, logged_in: Login) -> None:
    loud = cli("invoices", "list", "--per-page", "1", "--verbose")
    assert loud.code == 0, loud.err
    assert "-> GET /invoices" in loud.err  # the redacted request line of --verbose
    as_csv = cli("contacts", "list", "--per-page", "2", "--output", "csv")
    assert as_csv.out.startswith("contact_id,") or "contact_id" in as_csv.out.splitlines()[0]
    orgs = cli("orgs", "--output", "json", "--debug")
    assert orgs.code == 0, orgs.err
    assert isinstance(json.loads(orgs.out), list)
    nosuch = cli("invoices", "list", "--profile", "nosuch")
    assert nosuch.code == 2 and "nosuch" in nosuch.err


# --------------------------------------------------------------------------- point 2


def test_destructive_commands_refuse_without_a_terminal(cli: Runner, logged_in: Login) -> None:
    invoice = _new_invoice(cli)
    assert cli("invoices", "mark-sent", str(invoice["invoice_id"])).code == 0
    voided = cli("invoices", "void", str(invoice["invoice_id"]))
    assert voided.code == 1 and "pass --yes" in voided.err
    assert _status(cli, invoice["invoice_id"]) != "void"
    deleted = cli("invoices", "delete", str(invoice["invoice_id"]))
    assert deleted.code == 1 and "pass --yes" in deleted.err
    bulk = cli("invoices", "bulk-void", "-q", f"invoice_ids={invoice['invoice_id']}")
    assert bulk.code == 1 and "pass --yes" in bulk.err
    assert cli("invoices", "void", str(invoice["invoice_id"]), "--yes").code == 0
    assert _status(cli, invoice["invoice_id"]) == "void"


def _run_on_a_terminal(args: list[str], answer: bytes, home: Path) -> tuple[int, str]:
    """Run ``zbooks ARGS`` with a pseudo-terminal as stdin and type ``answer``."""
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZBOOKS_")}
    env["ZBOOKS_CONFIG_DIR"] = str(home)
    env["ZBOOKS_CACHE_DIR"] = str(home / "cache")
    process = subprocess.Popen(
        [*ZBOOKS, *args],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(secondary)
    time.sleep(0.2)
    os.write(primary, answer)
    _out, err = process.communicate(timeout=60)
    os.close(primary)
    return process.returncode, err.decode()


def test_destructive_commands_ask_on_a_terminal(cli: Runner, logged_in: Login, home: Path) -> None:
    invoice = _new_invoice(cli, "SAFE-TTY")
    invoice_id = str(invoice["invoice_id"])
    assert cli("invoices", "mark-sent", invoice_id).code == 0
    code, err = _run_on_a_terminal(["invoices", "void", invoice_id], b"n\n", home)
    assert code == 1 and "Continue?" in err
    assert _status(cli, invoice_id) != "void"
    code, err = _run_on_a_terminal(["invoices", "void", invoice_id], b"y\n", home)
    assert code == 0, err
    assert _status(cli, invoice_id) == "void"


def test_dry_run_create_prints_the_request_and_writes_nothing(
    cli: Runner, logged_in: Login, sandbox: Sandbox
) -> None:
    before = len(json.loads(cli("invoices", "list", "--all").out))
    customer = json.loads(cli("contacts", "list", "--contact-type", "customer", "--limit", "1").out)
    result = cli(
        "invoices",
        "create",
        "--dry-run",
        "-q",
        "send=false",
        "-f",
        f"customer_id={customer[0]['contact_id']}",
        "-f",
        "payment_gateway_password=hunter2",
    )
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("Dry run: nothing was sent")
    assert lines[1].startswith(f"POST {sandbox.base_url}/books/v3/invoices?")
    assert "send=false" in lines[1] and "organization_id=" in lines[1]
    assert "Authorization: Zoho-oauthtoken ***" in result.out
    assert "hunter2" not in result.out + result.err
    assert '"payment_gateway_password": "***"' in result.out
    assert len(json.loads(cli("invoices", "list", "--all").out)) == before


def test_dry_run_update_shows_a_field_diff(cli: Runner, logged_in: Login) -> None:
    invoice = _new_invoice(cli, "BEFORE-1")
    invoice_id = str(invoice["invoice_id"])
    result = cli(
        "invoices",
        "update",
        invoice_id,
        "--dry-run",
        "-f",
        "reference_number=AFTER-1",
        "-F",
        f"customer_id={json.dumps(invoice['customer_id'])}",
    )
    assert result.code == 0, result.err
    assert "PUT " in result.out and f"/invoices/{invoice_id}?" in result.out
    assert 'reference_number: "BEFORE-1" -> "AFTER-1"' in result.out
    assert "customer_id: unchanged" in result.out
    after = json.loads(cli("invoices", "get", invoice_id).out)
    assert after["reference_number"] == "BEFORE-1"


def test_dry_run_delete_needs_no_confirmation_and_deletes_nothing(
    cli: Runner, logged_in: Login
) -> None:
    invoice = _new_invoice(cli, "KEEP-1")
    result = cli("invoices", "delete", str(invoice["invoice_id"]), "--dry-run")
    assert result.code == 0, result.err
    assert result.out.splitlines()[1].startswith("DELETE ")
    assert cli("invoices", "get", str(invoice["invoice_id"])).code == 0


def test_a_status_change_prints_its_result_once(cli: Runner, logged_in: Login) -> None:
    invoice = _new_invoice(cli, "ONCE-1")
    sent = cli("invoices", "mark-sent", str(invoice["invoice_id"]))
    assert sent.code == 0, sent.err
    combined = sent.out + sent.err
    message = json.loads(sent.out)["message"]
    assert "Sent" in message and combined.count(message) == 1
