"""Confirmation before a command destroys or bulk-changes records.

On a terminal the user is asked; anywhere else (a script, CI, a pipe) the command
refuses unless ``--yes`` was given, because a script cannot answer and an accountant
would rather see a refusal than a void they did not mean.
"""

from __future__ import annotations

import sys

import typer

from zbooks.cli.errors import USAGE, CliError


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def confirm_or_refuse(what: str) -> None:
    """Ask "what. Continue?" on a terminal (No aborts with exit 1); refuse elsewhere."""
    if not _interactive():
        raise CliError(
            f"Refusing to run {what} without confirmation: pass --yes.",
            hint="Run it in a terminal to be asked, or add --yes (see --dry-run first).",
            exit_code=USAGE,
        )
    # The question goes to stderr so that stdout stays the command's data.
    if not typer.confirm(f"{what}. Continue?", default=False, err=True):
        raise CliError("Not confirmed; nothing was sent.", exit_code=USAGE)
