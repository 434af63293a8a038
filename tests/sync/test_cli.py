"""``zbooks sync`` on the command line (the command registered on a bare typer app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

import zbooks.sync as zsync
from zbooks.cli import sync as cli_sync
from zbooks.core.client import Client
from zbooks.sync.results import Progress

from .support import Credentials, SandboxProc


@pytest.fixture
def app(demo: SandboxProc, demo_creds: Credentials, monkeypatch: pytest.MonkeyPatch
        ) -> typer.Typer:
    def client(org: str | None) -> Client:
        made = demo.client(demo_creds)
        if org:
            made.organization_id = org
        return made

    monkeypatch.setattr(cli_sync, "open_sync_client", client)
    root = typer.Typer()
    root.callback()(lambda: None)  # keep `sync` a subcommand, as in the real CLI
    cli_sync.register(root)
    return root


def test_sync_writes_the_database_and_prints_a_json_summary(
    app: typer.Typer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    result = CliRunner().invoke(app, ["sync", "--db", url, "--modules", "taxes,currencies"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["ok"] and summary["inserted"] > 0
    assert [m["module"] for m in summary["modules"]] == ["currencies", "taxes"]
    with zsync.make_engine(url).connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM taxes")).scalar()
    assert count == summary["modules"][1]["inserted"]


def test_dry_run_prints_the_plan_and_writes_nothing(app: typer.Typer, tmp_path: Path) -> None:
    db = tmp_path / "plan.sqlite"
    result = CliRunner().invoke(app, ["sync", "--db", f"sqlite:///{db}", "--modules",
                                      "invoices", "--dry-run"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["dry_run"] and summary["planned_requests"] > summary["requests"] > 0
    assert not sa.inspect(zsync.make_engine(f"sqlite:///{db}")).has_table("invoices")


def test_the_flags_of_the_issue_are_accepted(app: typer.Typer, tmp_path: Path,
                                             demo: SandboxProc) -> None:
    url = f"sqlite:///{tmp_path / 'flags.sqlite'}"
    args = ["sync", "--db", url, "--modules", "items", "--org", demo.org_id,
            "--full-refresh", "--reconcile-deletes"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["modules"][0]["organization_id"] == demo.org_id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--modules", "invoices,nope"], "unknown module"),
        (["--org", "1", "--all-orgs"], "either --org or --all-orgs"),
    ],
)
def test_bad_flags_are_usage_errors(app: typer.Typer, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["sync", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_the_lazy_loader_gets_the_command_from_sync_app() -> None:
    command = typer.main.get_command(cli_sync.sync_app)
    names = {p.name for p in command.params}
    assert {"db", "modules", "details", "org", "all_orgs", "full_refresh",
            "reconcile_deletes", "dry_run"} <= names


def test_people_get_a_table_and_progress_bars(capsys: pytest.CaptureFixture[str]) -> None:
    result = zsync.ModuleResult("42", "invoices", strategy="keyset", listed=3, inserted=2,
                                updated=1, list_requests=1, detail_requests=3)
    summary = zsync.SyncSummary(results=[result], daily_remaining={"42": 5})
    cli_sync._summary_table(summary, several_orgs=False)
    out = capsys.readouterr().out
    assert "invoices" in out and "keyset" in out
    assert "2 inserted, 1 updated, 0 deleted, 4 requests" in out
    summary.dry_run = True
    cli_sync._summary_table(summary, several_orgs=False)
    out = capsys.readouterr().out
    assert "Would insert 2 and update 1 rows" in out and "inserted," not in out

    bars = cli_sync._Bars(several_orgs=True)
    bars(Progress("start", result))
    bars(Progress("done", result))
    task = bars.progress.tasks[0]
    assert task.description == "invoices (42)" and task.finished


@pytest.mark.parametrize("url", ["notaurl", "mysql://me@localhost/books"])
def test_unsupported_database_urls_are_usage_errors_listing_the_supported_ones(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from zbooks.cli.errors import USAGE
    from zbooks.cli.main import main

    code = main(["sync", "--db", url])
    err = capsys.readouterr().err
    assert code == USAGE
    assert "unexpected failure" not in err and "report it" not in err
    for supported in ("duckdb:///", "sqlite:///", "postgresql://"):
        assert supported in err


def test_modules_accept_the_cli_command_names(app: typer.Typer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'names.sqlite'}"
    args = ["sync", "--db", url, "--modules", "sales-orders,chart-of-accounts",
            "--details", "sales-orders=none"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    modules = json.loads(result.stdout)["modules"]
    assert [m["module"] for m in modules] == ["chartofaccounts", "salesorders"]
    assert modules[1]["details"] == "none" and modules[1]["detail_requests"] == 0


@pytest.mark.parametrize(
    ("details", "message"),
    [("some", "not a detail mode"), ("invoices=all", "not a detail mode"),
     ("nope=none", "unknown module"), ("contacts=none", "not being synced")],
)
def test_bad_details_are_usage_errors(app: typer.Typer, details: str, message: str) -> None:
    result = CliRunner().invoke(app, ["sync", "--modules", "invoices", "--details", details])
    assert result.exit_code == 2
    flat = "".join(result.output.replace("│", "").split())  # rich wraps the message
    assert "".join(message.split()) in flat
