"""The ``zbooks`` command: one typer app whose subcommands load on demand.

``zbooks --help`` must answer fast, so this module imports typer and nothing else of
weight: each command lives in its own module, imported only when that command runs
(``_CORE`` maps names to modules), and the per-module resource groups
(``zbooks invoices ...``) are built only for the module invoked.

``main()`` maps every failure to one ``Error:`` line, a ``Hint:`` line and a documented
exit code (see ``zbooks.cli.errors``); a traceback appears only with ``--debug``.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any

import typer
import typer._click as click
from typer._click.exceptions import ClickException, NoArgsIsHelpError, NoSuchOption, UsageError
from typer.core import TyperGroup

from zbooks.cli.session import GLOBALS, disable_verbose, enable_verbose, reset_globals

# name -> (module, typer app attribute, one-line help shown by `zbooks --help`)
_CORE: dict[str, tuple[str, str, str]] = {
    "login": ("zbooks.cli.account", "login_app", "Sign in to Zoho and save a profile."),
    "logout": ("zbooks.cli.account", "logout_app", "Revoke the refresh token, delete tokens."),
    "whoami": ("zbooks.cli.account", "whoami_app", "Show the profile, token and user."),
    "orgs": ("zbooks.cli.account", "orgs_app", "List organizations; --use ID sets the default."),
    "profiles": ("zbooks.cli.account", "profiles_app", "List, choose and inspect profiles."),
    "api": ("zbooks.cli.api", "api_app", "Call any Books API path (like `gh api`)."),
    "doctor": ("zbooks.cli.doctor", "doctor_app", "Check the setup and say how to fix it."),
    "demo": ("zbooks.cli.demo", "demo_app", "Walk the OAuth + API flow on a local sandbox."),
    "sandbox": ("zbooks.cli.sandbox", "app", "Run the local Zoho Books emulator."),
    "sync": ("zbooks.cli.sync", "sync_app", "Copy Books data into DuckDB, SQLite or PostgreSQL."),
    "listen": ("zbooks.cli.webhooks", "listen_app", "Receive webhooks here; print each one."),
    "usage": ("zbooks.cli.usage", "usage_app", "Show API calls used and left, per organization."),
    "mcp": ("zbooks.cli.mcp", "mcp_app", "Serve Zoho Books to AI agents (MCP)."),
    "connections": ("zbooks.cli.connections", "app", "Manage a fleet's Zoho connections."),
}

_GROUPS = frozenset({"profiles", "sandbox", "connections"})


# Formats a global ``--output`` can name; ``invoices pdf ID --output FILE`` keeps its own
# meaning because a file name is not one of these.
_FORMATS = frozenset({"json", "ndjson", "csv", "table", "text"})
_GLOBAL_FLAGS = frozenset({"-v", "--verbose", "--debug"})
_GLOBAL_VALUED = ("--profile", "--output")


def hoist_globals(args: list[str]) -> list[str]:
    """Move ``-v/--verbose``, ``--debug``, ``--profile NAME`` and ``--output FORMAT`` from
    wherever they are written to the front, where the root command reads them.

    Every command then sees them through GLOBALS (a command's own ``--profile`` and
    ``--output`` parameters fall back to GLOBALS), so ``zbooks invoices list --verbose``
    and ``zbooks --verbose invoices list`` are one command. Nothing after ``--`` moves.
    """
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        item = args[index]
        if item == "--":
            rest += args[index:]
            break
        name, sep, inline = item.partition("=")
        if item in _GLOBAL_FLAGS:
            front.append(item)
        elif name in _GLOBAL_VALUED and sep:
            if name == "--output" and inline.lower() not in _FORMATS:
                rest.append(item)
            else:
                front.append(item)
        elif item in _GLOBAL_VALUED and index + 1 < len(args):
            value = args[index + 1]
            if item == "--output" and value.lower() not in _FORMATS:
                rest += [item, value]
            else:
                front += [item, value]
            index += 1
        else:
            rest.append(item)
        index += 1
    return front + rest


class ZbooksGroup(TyperGroup):
    """Root group that imports command modules and builds resource groups lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from zbooks.cli.resources import module_names

        return [*_CORE, *module_names()]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None:
            return found
        entry = _CORE.get(cmd_name)
        if entry is not None:
            try:
                module = importlib.import_module(entry[0])
            except ImportError as exc:
                if exc.name != entry[0]:
                    raise  # a missing dependency inside the module: say so
                return None  # this install has no such command module
            typer_app = getattr(module, entry[1])
            # Groups stay groups even with one subcommand (`zbooks sandbox serve`).
            command = (
                typer.main.get_group(typer_app)
                if cmd_name in _GROUPS
                else typer.main.get_command(typer_app)
            )
            command.name = cmd_name
            if not command.help:
                command.help = entry[2]
            return command
        from zbooks.cli.resources import build_group

        return build_group(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Static help rows: listing must not import or build every command."""
        from zbooks.cli.resources import module_names

        with formatter.section("Commands"):
            formatter.write_dl([(name, entry[2]) for name, entry in _CORE.items()])
        with formatter.section("Zoho Books modules (zbooks MODULE --help lists the commands)"):
            # Wrapped by hand: click's wrapper would split names at their hyphens.
            line = ""
            width = max(40, (formatter.width or 80) - formatter.current_indent - 2)
            for name in module_names():
                if line and len(line) + len(name) + 2 > width:
                    formatter.write(" " * formatter.current_indent + line + ",\n")
                    line = ""
                line = f"{line}, {name}" if line else name
            if line:
                formatter.write(" " * formatter.current_indent + line + "\n")


app = typer.Typer(
    name="zbooks",
    cls=ZbooksGroup,
    help="The Zoho Books toolkit: sign in, call the API, diagnose problems, run a sandbox.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click output: one-line errors, no rich import on --help
    add_completion=True,
    epilog="Exit codes: 0 ok, 1 usage, 2 auth, 3 not found, 4 rate limited, "
    "5 server or network, 6 validation. Docs: docs/cli.md",
)


def _version(value: bool) -> None:
    if value:
        from zbooks import __version__

        typer.echo(f"zbooks {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            "-p",
            metavar="NAME",
            envvar="ZBOOKS_PROFILE",
            help="Profile to use (works anywhere on the line, like the three below).",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show redacted HTTP request lines on stderr.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback when something fails.")
    ] = False,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            metavar="FORMAT",
            help="json, ndjson, csv or table (default: table on a terminal, else json).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    GLOBALS.profile = profile
    GLOBALS.output = output
    GLOBALS.verbose = verbose
    GLOBALS.debug = debug or GLOBALS.debug
    if verbose:
        enable_verbose()


def _debugging(argv: list[str]) -> bool:
    return GLOBALS.debug or "--debug" in argv or os.environ.get("ZBOOKS_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (``run`` is the console-script wrapper)."""
    from zbooks.cli import errors

    args = hoist_globals(list(sys.argv[1:] if argv is None else argv))
    reset_globals()
    try:
        result: Any = app(args=args, prog_name="zbooks", standalone_mode=False)
        return result if isinstance(result, int) else errors.OK
    except NoArgsIsHelpError as exc:
        # `zbooks` or `zbooks invoices` alone: the help is the answer, not an error.
        sys.stdout.write(exc.ctx.get_help() + "\n" if exc.ctx else "")
        return errors.OK
    except NoSuchOption as exc:
        return _unknown_option(exc)
    except UsageError as exc:
        exc.show()
        return errors.USAGE
    except ClickException as exc:
        exc.show()
        return errors.USAGE
    except typer.Abort:
        sys.stderr.write("Aborted.\n")
        return errors.USAGE
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130
    except Exception as exc:
        if _debugging(args):
            import traceback

            traceback.print_exc()
        if _expected(exc):
            return errors.report(exc)
        sys.stderr.write(f"Error: unexpected failure: {type(exc).__name__}: {exc}\n")
        sys.stderr.write("Hint: run again with --debug for the traceback, and report it.\n")
        return errors.USAGE
    finally:
        if GLOBALS.verbose:
            disable_verbose()
        sys.stdout.flush()


def _unknown_option(exc: NoSuchOption) -> int:
    """Exit 1 with the closest option: an unknown option is never a silent filter."""
    from zbooks.cli import errors

    command = exc.ctx.command_path if exc.ctx else "zbooks"
    if exc.ctx:
        sys.stderr.write(exc.ctx.get_usage() + "\n")
    guess = f" Did you mean {exc.possibilities[0]}?" if exc.possibilities else ""
    sys.stderr.write(f"Error: No such option: {exc.option_name}.{guess}\n")
    sys.stderr.write(
        f"Hint: see `{command} --help`; send a raw query parameter with -q name=value.\n"
    )
    return errors.USAGE


def _expected(exc: BaseException) -> bool:
    """Failures that describe the user's situation rather than a bug in zbooks."""
    from zbooks.cli.errors import CliError
    from zbooks.errors import ZBooksError

    return isinstance(exc, CliError | ZBooksError | OSError | ValueError)


def run(argv: list[str] | None = None) -> None:
    sys.exit(main(argv))
