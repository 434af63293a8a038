"""OAuth scopes: parsing the request's list, and deciding whether a grant covers an operation.

Zoho writes scopes as ``Service.scope.OPERATION`` (api-facts §1.9). Names are treated as
case-insensitive (UNCONFIRMED in Zoho's docs, but real clients mix cases and Zoho accepts
them), so grants are compared lower-cased.
"""

from __future__ import annotations

import re

FULL_ACCESS = "zohobooks.fullaccess.all"
OPERATIONS = ("CREATE", "READ", "UPDATE", "DELETE", "ALL")

# "ZohoBooks.invoices.READ", "ZohoBooks.fullaccess.all", "AaaServer.profile.Read",
# and the bare OpenID names ("openid", "email").
_SCOPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9_]+){0,2}$")
_SPLIT_RE = re.compile(r"[,\s]+")


def parse_scopes(text: str | None) -> list[str]:
    """Split the ``scope`` parameter (comma-separated per Zoho; spaces tolerated).

    Keeps the caller's spelling and order, drops empties and case-insensitive duplicates.
    """
    seen: set[str] = set()
    result: list[str] = []
    for part in _SPLIT_RE.split(text or ""):
        if part and part.lower() not in seen:
            seen.add(part.lower())
            result.append(part)
    return result


BOOKS_SERVICE = "zohobooks"
# Zoho Books scope names (api-facts §1.9 and every operation's scope in the OAS).
_FACTS_SCOPES = frozenset(
    {
        "fullaccess", "contacts", "settings", "estimates", "invoices", "customerpayments",
        "creditnotes", "projects", "expenses", "salesorders", "purchaseorders", "bills",
        "debitnotes", "vendorpayments", "banking", "accountants", "reports", "fixedasset",
        "deliverychallans", "custommodules", "customfunctions", "customtriggers",
    }
)  # fmt: skip


def _oas_scopes() -> frozenset[str]:
    from zbooks.sandbox.spec_table import OPERATIONS

    return frozenset(
        op.scope.split(".")[1].lower() for op in OPERATIONS if op.scope.count(".") == 2
    )


BOOKS_SCOPES = _FACTS_SCOPES | _oas_scopes()


def is_well_formed(scope: str) -> bool:
    return bool(_SCOPE_RE.match(scope))


def is_known_scope(scope: str) -> bool:
    """A ``ZohoBooks.<name>.<OPERATION>`` scope Zoho defines (other services' scopes, such
    as ``AaaServer.profile.READ`` or ``openid``, are left to those services)."""
    parts = scope.lower().split(".")
    if parts[0] != BOOKS_SERVICE:
        return True
    if len(parts) != 3 or parts[1] not in BOOKS_SCOPES:
        return False
    return parts[2] in {op.lower() for op in OPERATIONS}


def is_valid_scope(scope: str) -> bool:
    """Well formed and known: Zoho refuses an unknown scope at the consent step rather than
    minting a code for it."""
    return is_well_formed(scope) and is_known_scope(scope)


def normalise(scopes: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[str]:
    """The form kept in an :class:`AccessGrant`: lower-cased."""
    return frozenset(s.lower() for s in scopes)


def scope_allows(granted: frozenset[str], required: str) -> bool:
    """Whether a grant covers ``required`` (e.g. ``"ZohoBooks.invoices.CREATE"``).

    ``ZohoBooks.fullaccess.all`` covers everything, ``ZohoBooks.<module>.ALL`` covers every
    operation of that module, anything else must match exactly (ignoring case).
    ``granted`` may be in any case; it is lower-cased here so callers need not care.
    """
    lowered = {s.lower() for s in granted}
    wanted = required.lower()
    if wanted in lowered or FULL_ACCESS in lowered:
        return True
    parts = wanted.split(".")
    if len(parts) == 3:
        service, module, _operation = parts
        return f"{service}.{module}.all" in lowered
    return False


def describe(scope: str) -> str:
    """A short human label for the consent page, e.g. ``Zoho Books: invoices (read)``."""
    parts = scope.split(".")
    if len(parts) != 3:
        return scope
    service, module, operation = parts
    service_label = "Zoho Books" if service.lower() == "zohobooks" else service
    if module.lower() == "fullaccess":
        return f"{service_label}: full access to all data"
    op = operation.lower()
    verb = "all operations" if op == "all" else op
    return f"{service_label}: {module} ({verb})"
