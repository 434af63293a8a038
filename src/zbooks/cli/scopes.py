"""Scope validation for ``zbooks login --scopes`` before anyone sees a consent page.

Zoho scopes read ``Service.scope.OPERATION``. For Books that is ``ZohoBooks.<module>.
<OPERATION>`` with OPERATION one of CREATE, READ, UPDATE, DELETE, ALL, or the single
``ZohoBooks.fullaccess.all``. A typo (``ZohoBooks.invoice.READ``) would otherwise be
accepted at login and surface later as a 401 code 57 on the first call.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from zbooks.cli.errors import USAGE, CliError

OPERATIONS = ("CREATE", "READ", "UPDATE", "DELETE", "ALL")
_SHAPE = re.compile(r"^[A-Za-z][A-Za-z0-9]*\.[A-Za-z][A-Za-z0-9_]*\.[A-Za-z]+$")
# Books scope modules that guard endpoints outside the generated registry (UNCONFIRMED
# list beyond what the registry names; these appear in Zoho's scope documentation).
_EXTRA_MODULES = frozenset({"settings", "accountants", "banking"})


def known_modules() -> frozenset[str]:
    """The ``<module>`` parts of every Books scope the operation registry uses."""
    from zbooks.resources import operations

    names = {str(op.scope).split(".")[1].lower() for op in operations() if op.scope.count(".") == 2}
    return frozenset(names | _EXTRA_MODULES)


def validate_scopes(scopes: Iterable[str]) -> None:
    """Raise a usage error naming the first malformed or unknown scope."""
    modules: frozenset[str] | None = None
    for scope in scopes:
        if not _SHAPE.match(scope):
            raise CliError(
                f"Scope {scope!r} is not Service.scope.OPERATION.",
                hint="Books scopes read ZohoBooks.<module>.<OPERATION> (e.g. "
                "ZohoBooks.invoices.READ) or ZohoBooks.fullaccess.all.",
                exit_code=USAGE,
            )
        service, module, operation = scope.split(".")
        if service.lower() != "zohobooks":
            continue  # another Zoho service's scope: its owner validates it
        if module.lower() == "fullaccess":
            if operation.lower() != "all":
                raise CliError(
                    f"Scope {scope!r}: full access is only ZohoBooks.fullaccess.all.",
                    exit_code=USAGE,
                )
            continue
        if operation.upper() not in OPERATIONS:
            raise CliError(
                f"Scope {scope!r}: unknown operation {operation!r}.",
                hint=f"Use one of {', '.join(OPERATIONS)}.",
                exit_code=USAGE,
            )
        modules = modules or known_modules()
        if module.lower() not in modules:
            close = difflib.get_close_matches(module.lower(), sorted(modules), n=1)
            guess = f"ZohoBooks.{close[0]}.{operation}" if close else None
            raise CliError(
                f"Scope {scope!r}: Zoho Books has no module {module!r}."
                + (f" Did you mean {guess}?" if guess else ""),
                hint="Known modules: " + ", ".join(sorted(modules)) + ".",
                exit_code=USAGE,
            )
