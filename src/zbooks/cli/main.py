"""The ``zbooks`` command: one typer app, one ``add_typer`` per command group.

``run()`` is the console-script entry point. Expected failures (a port in use, a bad
configuration value, an API error) end with a one-line ``Error: ...`` and exit code 1;
only genuine bugs show a traceback.
"""

from __future__ import annotations

import sys

import typer

from zbooks.cli.sandbox import app as sandbox_app

app = typer.Typer(
    name="zbooks",
    help="The Zoho Books toolkit: SDK companion CLI and a local Zoho Books sandbox.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click output: one-line errors, no rich import on --help
    add_completion=False,
)
app.add_typer(sandbox_app, name="sandbox")


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean "the user's situation", not "a bug in zbooks"."""
    kinds: list[type[BaseException]] = [OSError, ValueError]
    try:
        from zbooks.errors import ZBooksError
    except ImportError:  # the SDK's error module is optional for the sandbox-only install
        pass
    else:
        kinds.append(ZBooksError)
    return tuple(kinds)


def run(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="zbooks")
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    except _expected_errors() as exc:
        message = str(exc) or type(exc).__name__
        sys.stderr.write(f"Error: {message}\n")
        sys.exit(1)
