"""What an agent may do: read-only by default, writes per module, destructive apart.

An operation is a *read* when it is a GET, a *write* otherwise, and *destructive*
when it deletes, voids or writes off (DELETE, or a method named so: ``invoices.void``,
``invoices.write_off``, ``bills.void``). ``--allow-writes`` opens writes (all modules,
or the ones listed), ``--allow-destructive`` additionally opens destructive ones. A
refusal says exactly which flag would allow the call, because the person reading the
agent's transcript is the one who decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zbooks.resources import Operation

# Method names that destroy or cancel money records. ``cancel_write_off`` undoes a
# write-off and is destructive too: it reopens a balance someone closed on purpose.
_DESTRUCTIVE = re.compile(r"(^|_)(delete|void|write_off|writeoff)(_|$)")


class Kind(StrEnum):
    read = "read"
    write = "write"
    destructive = "destructive"


def kind_of(op: Operation) -> Kind:
    """Read, write or destructive (see the module docstring)."""
    if op.http_method == "DELETE" or _DESTRUCTIVE.search(op.method):
        return Kind.destructive
    if op.http_method == "GET":
        return Kind.read
    return Kind.write


def normalize_module(name: str) -> str:
    """``credit-notes``, ``credit_notes`` and ``creditnotes`` name one module."""
    return name.strip().lower().replace("-", "").replace("_", "")


class WriteRefused(Exception):
    """The policy does not allow this operation; the message says how to allow it."""


@dataclass(frozen=True)
class Policy:
    """The flags the server was started with."""

    allow_writes: bool = False
    modules: frozenset[str] | None = None  # normalized names; None = every module
    allow_destructive: bool = False

    @classmethod
    def from_flags(cls, allow_writes: str | None, allow_destructive: bool) -> Policy:
        """``--allow-writes`` (value ``all`` or absent) or ``--allow-writes a,b``."""
        if allow_writes is None:
            return cls(allow_writes=False, allow_destructive=allow_destructive)
        names = [n for n in (p.strip() for p in allow_writes.split(",")) if n]
        if not names or names == ["all"]:
            return cls(allow_writes=True, allow_destructive=allow_destructive)
        return cls(
            allow_writes=True,
            modules=frozenset(normalize_module(n) for n in names),
            allow_destructive=allow_destructive,
        )

    def check(self, op: Operation) -> Kind:
        """The operation's kind, or ``WriteRefused`` saying which flag allows it."""
        kind = kind_of(op)
        name = f"{op.module}.{op.method}"
        if kind is Kind.read:
            return kind
        if not self.allow_writes:
            raise WriteRefused(
                f"{name} is a write and this server is read-only. To allow it, restart "
                f"the server with --allow-writes (or --allow-writes {op.module})"
                + (" and --allow-destructive" if kind is Kind.destructive else "")
                + ". dry_run=true previews it without the flag."
            )
        if self.modules is not None and normalize_module(op.module) not in self.modules:
            raise WriteRefused(
                f"{name} is a write to {op.module}, and writes are allowed only to "
                f"{', '.join(sorted(self.modules))}. To allow it, restart the server with "
                f"--allow-writes {op.module} added to the list."
            )
        if kind is Kind.destructive and not self.allow_destructive:
            raise WriteRefused(
                f"{name} deletes, voids or writes off, which needs --allow-destructive as "
                "well as --allow-writes. To allow it, restart the server with both flags. "
                "dry_run=true previews it without the flag."
            )
        return kind

    def summary(self) -> str:
        """One line for the server's instructions and start-up banner."""
        if not self.allow_writes:
            return "read-only (writes need --allow-writes; dry_run previews them)"
        scope = "all modules" if self.modules is None else ", ".join(sorted(self.modules))
        extra = "" if self.allow_destructive else "; deletes/voids/write-offs refused"
        return f"writes allowed to {scope}{extra}"
