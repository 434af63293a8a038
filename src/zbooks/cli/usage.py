"""``zbooks usage [--org ID]``: API calls used and left, per organization, for free.

The numbers come from the limiter every ``zbooks`` process shares (this minute's window
and today's count, in the user cache directory) and from the last ``X-Rate-Limit-*``
headers Zoho sent; no request is made, so asking costs nothing from the budget.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

usage_app = typer.Typer(rich_markup_mode=None)


def _row(limiter: Any, org: str, seen: dict[str, Any]) -> dict[str, Any]:
    snap = limiter.snapshot(org)
    headers = (seen.get(org) or {}).get("headers") or {}
    seen_at = (seen.get(org) or {}).get("seen_at")
    return {
        "organization_id": org,
        "minute_used": snap["window_used"],
        "minute_left": snap["window_remaining"],
        "today_used": snap["daily_used"],
        "today_left": snap["daily_remaining"],
        "daily_limit": snap["daily_limit"],
        "day_resets_in_s": int(snap["daily_reset_in"]),
        "blocked_for_s": int(snap["blocked_for"]),
        "zoho_limit": headers.get("x-rate-limit-limit"),
        "zoho_remaining": headers.get("x-rate-limit-remaining"),
        "zoho_reset": headers.get("x-rate-limit-reset"),
        "zoho_seen_s_ago": None if seen_at is None else int(time.time() - float(seen_at)),
    }


@usage_app.command()
def usage(
    org: Annotated[
        str | None,
        typer.Option(
            "--org", metavar="ID", help="Only this organization (default: every one seen)."
        ),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", metavar="NAME", help="Profile to use.")
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", metavar="FORMAT", help="json, ndjson, csv or table.")
    ] = None,
) -> None:
    """Calls used and left this minute and today, per organization (spends no call)."""
    from zbooks.cli.limits import seen_headers, shared_limiter
    from zbooks.cli.output import Printer, resolve_format
    from zbooks.cli.session import settings_for

    settings = settings_for(profile)
    limiter = shared_limiter(settings)
    seen = seen_headers()
    known = {str(key) for key in seen}
    if settings.organization_id:
        known.add(settings.organization_id)
    orgs = [org] if org else sorted(known)
    rows = [_row(limiter, str(o), seen) for o in orgs]
    fmt = resolve_format(output)
    if not rows:
        typer.echo("No calls recorded yet; run a command first (or pass --org ID).", err=True)
    Printer(fmt, columns=list(rows[0]) if rows else None).records(rows)
