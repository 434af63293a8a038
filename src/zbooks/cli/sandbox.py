"""``zbooks sandbox``: run the local Zoho Books emulator."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Run a local emulator of Zoho Accounts and the Zoho Books API.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class Seed(StrEnum):
    demo = "demo"
    empty = "empty"


class Plan(StrEnum):
    free = "free"
    standard = "standard"
    professional = "professional"
    premium = "premium"


def _rate_limit(value: str) -> str:
    from zbooks.sandbox.config import parse_rate_limit

    try:
        parse_rate_limit(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a rate limit; use COUNT/WINDOW such as 100/60s or 100/1m"
        ) from None
    return value


def _redirect_uri(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise typer.BadParameter(f"{value!r} must be an http:// or https:// URL")
    return value


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")
    ] = 8765,
    db: Annotated[
        Path | None,
        typer.Option("--db", metavar="FILE", help="SQLite file kept across runs (default: temp)."),
    ] = None,
    seed: Annotated[
        Seed, typer.Option("--seed", help="Demo data, or an empty organization.")
    ] = Seed.demo,
    client_id: Annotated[
        str | None, typer.Option("--client-id", metavar="ID", help="Demo client id.")
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option("--client-secret", metavar="SECRET", help="Demo client secret."),
    ] = None,
    redirect_uri: Annotated[
        str | None,
        typer.Option(
            "--redirect-uri", metavar="URI", callback=_redirect_uri, help="Demo redirect URI."
        ),
    ] = None,
    auto_approve: Annotated[
        bool, typer.Option("--auto-approve", help="Skip the consent page; approve at once.")
    ] = False,
    rate_limit: Annotated[
        str,
        typer.Option("--rate-limit", callback=_rate_limit, help="Calls per window per org."),
    ] = "100/60s",
    plan: Annotated[
        Plan, typer.Option("--plan", help="Plan of the demo organization.")
    ] = Plan.premium,
    token_ttl: Annotated[
        int, typer.Option("--token-ttl", min=1, help="Access-token lifetime in seconds.")
    ] = 3600,
) -> None:
    """Serve Accounts (/oauth/v2) and the Books API (/books/v3) on one port."""
    from zbooks.sandbox.config import SandboxConfig, parse_rate_limit
    from zbooks.sandbox.server import serve as run_server

    calls, window = parse_rate_limit(rate_limit)
    config = SandboxConfig(
        host=host,
        port=port,
        db_path=str(db) if db is not None else None,
        seed=seed.value,
        auto_approve=auto_approve,
        rate_limit=calls,
        rate_window=window,
        plan=plan.value,
        token_ttl=token_ttl,
    )
    if client_id:
        config.client_id = client_id
    if client_secret:
        config.client_secret = client_secret
    if redirect_uri:
        config.redirect_uri = redirect_uri
    try:
        run_server(config, keep_client_secret=not client_secret)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", param_hint="--host/--port"
        ) from None


def _register_control_commands() -> None:
    # seed, reset, clock, faults, requests, trigger, token: they steer a running sandbox.
    from zbooks.cli.sandbox_control import register

    register(app)


_register_control_commands()
