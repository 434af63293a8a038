"""``zbooks mcp``: serve Zoho Books to AI agents over the Model Context Protocol.

Thin: parses the flags, builds the ``AsyncClient`` the way every command does for the
active profile (or starts the practice sandbox), and hands over to ``zbooks.mcp``.
The MCP SDK is an optional extra, so a missing install is a one-line error with the
command that fixes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
import typer._click as click
from typer.core import TyperCommand

from zbooks.cli.errors import USAGE, CliError

if TYPE_CHECKING:
    from zbooks.core.client import AsyncClient

mcp_app = typer.Typer(rich_markup_mode=None, add_completion=False)

DEFAULT_PORT = 8808
ALL_MODULES = "all"


class _OptionalValueCommand(TyperCommand):
    """``--allow-writes`` takes an optional value: alone (or before another option)
    it means every module. click has no optional values, so supply ``all`` before
    parsing."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        fixed: list[str] = []
        for index, arg in enumerate(args):
            fixed.append(arg)
            if arg == "--allow-writes":
                following = args[index + 1] if index + 1 < len(args) else None
                if following is None or following.startswith("-"):
                    fixed.append(ALL_MODULES)
        return super().parse_args(ctx, fixed)


def _require_sdk() -> None:
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise CliError(
            "The MCP server needs the `mcp` package, which is not installed.",
            hint="pip install 'zbooks[mcp]'",
            exit_code=USAGE,
        ) from None


def _profile_client(profile: str | None, org: str | None) -> AsyncClient:
    """Like ``open_client`` but asynchronous: the profile's token store and secret."""
    import os

    from zbooks.cli.session import (
        is_client_credentials,
        profile_name,
        settings_for,
        split_scopes,
        store_for,
    )
    from zbooks.core.client import AsyncClient

    name = profile_name(profile)
    if os.environ.get("ZBOOKS_REFRESH_TOKEN"):
        return AsyncClient(profile=name, organization_id=org)
    settings = settings_for(name)
    store = store_for(settings)
    stored = store.load()
    secret = settings.client_secret or (stored.client_secret if stored else None)
    return AsyncClient(
        profile=name,
        organization_id=org,
        client_secret=secret,
        token_store=store,
        client_credentials=is_client_credentials(stored),
        scopes=split_scopes(settings.scopes),
    )


@mcp_app.command(
    cls=_OptionalValueCommand,
    epilog="Examples: zbooks mcp --sandbox | zbooks mcp --allow-writes invoices,contacts "
    "| zbooks mcp --http --port 8808. Docs: docs/mcp.md",
)
def mcp(
    http: Annotated[
        bool,
        typer.Option("--http", help="Serve streamable HTTP on 127.0.0.1 instead of stdio."),
    ] = False,
    port: Annotated[
        int,
        typer.Option(
            "--port", metavar="N", min=1, max=65535, help="Port for --http (on 127.0.0.1)."
        ),
    ] = DEFAULT_PORT,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Start an in-process sandbox with demo data and serve against it "
            "(no account needed; the profile is not used).",
        ),
    ] = False,
    allow_writes: Annotated[
        str | None,
        typer.Option(
            "--allow-writes",
            metavar="[MODULES]",
            help="Allow writes (default: read-only). Alone: every module; with a list "
            "(invoices,contacts): only those modules.",
        ),
    ] = None,
    allow_destructive: Annotated[
        bool,
        typer.Option(
            "--allow-destructive",
            help="Also allow deletes, voids and write-offs (needs --allow-writes).",
        ),
    ] = False,
    max_calls: Annotated[
        int,
        typer.Option(
            "--max-calls",
            metavar="N",
            min=0,
            help="Zoho API calls one session may make (protects the daily budget).",
        ),
    ] = 500,
    org: Annotated[
        str | None,
        typer.Option("--org", metavar="ID", help="Organization id (default: the profile's)."),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", metavar="NAME", help="Profile to use.")
    ] = None,
) -> None:
    """Serve Zoho Books to AI agents over MCP (stdio by default): search, describe and
    call every operation, plus curated tools for invoices, contacts, bills and balances.
    Read-only unless --allow-writes; every write can be previewed with dry_run."""
    _require_sdk()
    from zbooks.mcp.policy import Policy
    from zbooks.mcp.run import serve

    if allow_destructive and allow_writes is None:
        raise CliError(
            "--allow-destructive needs --allow-writes.",
            hint="Add --allow-writes (or --allow-writes MODULES) to allow writes at all.",
            exit_code=USAGE,
        )
    policy = Policy.from_flags(allow_writes, allow_destructive)
    listen = port if http else None
    if not sandbox:
        serve(
            lambda: _profile_client(profile, org),
            policy,
            max_calls=max_calls,
            port=listen,
        )
        return
    from zbooks.core.client import AsyncClient

    try:
        from zbooks.mcp.practice import practice_sandbox
        from zbooks.sandbox.server import SandboxServer  # noqa: F401  (needs the extra)
    except ImportError as exc:
        raise CliError(
            f"--sandbox needs the sandbox extra ({exc.name} is not installed).",
            hint="pip install 'zbooks[sandbox,mcp]'",
            exit_code=USAGE,
        ) from None

    with practice_sandbox() as practice:

        def make() -> AsyncClient:
            return AsyncClient(
                client_id=practice.client_id,
                client_secret=practice.client_secret,
                accounts_url=practice.base_url,
                api_url=practice.api_url,
                token_store=practice.store,
                organization_id=org or practice.organization_id,
                env={},
            )

        serve(make, policy, max_calls=max_calls, port=listen, label=f"sandbox {practice.base_url}")
