"""``zbooks connections``: the fleet's registry of tenants (``zbooks[fleet]``).

The registry is ``--registry URL`` or ``ZBOOKS_CONNECTIONS_URL`` (PostgreSQL for a fleet,
SQLite for one machine; default: ``connections.db`` in the zbooks data directory).
Secrets are encrypted with ``ZBOOKS_ENCRYPTION_KEY``; they are read from the environment
or a prompt, never from a command-line flag that would land in shell history.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from zbooks.fleet.connections import Connections

app = typer.Typer(
    help="Register, list, test and remove Zoho Books connections of a fleet.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

RegistryOpt = Annotated[
    str | None,
    typer.Option(
        "--registry",
        metavar="URL",
        help="postgresql://… or sqlite:///… (default: $ZBOOKS_CONNECTIONS_URL).",
    ),
]
OutputOpt = Annotated[
    str | None, typer.Option("--output", metavar="FORMAT", help="json, ndjson, csv or table.")
]


def _registry(url: str | None) -> Connections:
    try:
        from zbooks.fleet.connections import Connections
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        from zbooks.errors import ConfigurationError

        raise ConfigurationError(
            f"Connections need the fleet extra ({exc.name} is missing).",
            hint="pip install 'zbooks[fleet]'",
        ) from None
    return Connections(url)


def _secret(env_name: str, label: str) -> str:
    value = os.environ.get(env_name, "")
    if value:
        return value
    if not sys.stdin.isatty():
        line = sys.stdin.readline().strip()
        if line:
            return line
        from zbooks.errors import ConfigurationError

        raise ConfigurationError(f"No {label} given.", hint=f"Set {env_name} or type it in.")
    return str(typer.prompt(label, hide_input=True))


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="A name of your choice (your customer's id).")],
    client_id: Annotated[str, typer.Option("--client-id", metavar="ID", help="OAuth client id.")],
    organization: Annotated[
        list[str] | None,
        typer.Option("--organization", "--org", metavar="ID", help="Organization id (repeat)."),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", metavar="DC", help="com, eu, in, au, jp, ca, …")
    ] = None,
    accounts_url: Annotated[
        str | None, typer.Option("--accounts-url", metavar="URL", help="Custom Accounts URL.")
    ] = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", metavar="URL", help="Custom Books API URL.")
    ] = None,
    plan: Annotated[
        str | None, typer.Option("--plan", metavar="PLAN", help="free, standard, … premium.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Re-authorise an existing connection.")
    ] = False,
    registry: RegistryOpt = None,
) -> None:
    """Register a connection. Secrets come from ZBOOKS_CLIENT_SECRET and
    ZBOOKS_REFRESH_TOKEN, else from stdin (one per line) or a hidden prompt."""
    store = _registry(registry)
    secret = _secret("ZBOOKS_CLIENT_SECRET", "Client secret")
    refresh = _secret("ZBOOKS_REFRESH_TOKEN", "Refresh token")
    connection = store.add(
        name,
        client_id=client_id,
        client_secret=secret,
        refresh_token=refresh,
        organizations=organization or [],
        region=region,
        accounts_url=accounts_url,
        api_url=api_url,
        plan=plan,
        replace=replace,
    )
    typer.echo(f"Connection {connection.name!r} added ({connection.state.value}).", err=True)


@app.command("list")
def list_(
    state: Annotated[
        str | None,
        typer.Option("--state", metavar="STATE", help="active, needs_reauth or disabled."),
    ] = None,
    registry: RegistryOpt = None,
    output: OutputOpt = None,
) -> None:
    """List connections and their state (never their secrets)."""
    from zbooks.cli.output import Printer, resolve_format

    if state is not None and state not in ("active", "needs_reauth", "disabled"):
        raise typer.BadParameter("use active, needs_reauth or disabled", param_hint="--state")
    rows = [
        {
            "name": c.name,
            "state": c.state.value,
            "organizations": ",".join(c.organizations),
            "region": c.region or c.api_url,
            "reason": c.reason or "",
        }
        for c in _registry(registry).list(state=state)
    ]
    Printer(
        resolve_format(output), columns=["name", "state", "organizations", "region", "reason"]
    ).records(rows)


@app.command()
def test(
    names: Annotated[
        list[str] | None, typer.Argument(help="Connections to test (default: all active).")
    ] = None,
    registry: RegistryOpt = None,
    output: OutputOpt = None,
) -> None:
    """Call Zoho once per connection; a rejected grant marks it needs_reauth.

    Exits 1 if any tested connection is not active afterwards."""
    from zbooks.cli.output import Printer, resolve_format

    store = _registry(registry)
    wanted = names or [c.name for c in store.list(state="active")]
    results = [store.test(name) for name in wanted]
    rows = [
        {
            "name": c.name,
            "state": c.state.value,
            "organizations": ",".join(c.organizations),
            "reason": c.reason or "",
        }
        for c in results
    ]
    Printer(resolve_format(output), columns=["name", "state", "organizations", "reason"]).records(
        rows
    )
    if any(c.state.value != "active" for c in results):
        raise typer.Exit(1)


@app.command()
def remove(
    name: Annotated[str, typer.Argument(help="The connection to forget.")],
    registry: RegistryOpt = None,
) -> None:
    """Forget a connection and its stored tokens (the grant itself stays valid at Zoho)."""
    _registry(registry).remove(name)
    typer.echo(f"Connection {name!r} removed.", err=True)
