"""``zbooks sandbox seed|reset|clock|faults|requests|trigger|token``: steer a running sandbox.

Each command is a thin call to the sandbox's control plane through
``zbooks.testing.control.ControlClient``; the sandbox is found with ``--url`` and
``--token`` or ``ZBOOKS_SANDBOX_URL`` and ``ZBOOKS_SANDBOX_TOKEN`` (both printed by
``zbooks sandbox serve``).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zbooks.cli.errors import AUTH, NOT_FOUND, SERVER, USAGE, CliError

if TYPE_CHECKING:
    from zbooks.testing.control import ControlClient

# Modules with a seeder in the sandbox (zbooks.sandbox.ledger.base.SEEDERS), listed here so
# that `zbooks sandbox seed --help` does not import the whole sandbox. The sandbox checks
# the names again, so a stale entry gets a clear error, not a wrong seed.
SEEDABLE = (
    "taxes",
    "currencies",
    "items",
    "contacts",
    "invoices",
    "customerpayments",
    "creditnotes",
    "estimates",
    "salesorders",
    "bills",
    "vendorpayments",
    "purchaseorders",
    "expenses",
    "journals",
    "bankaccounts",
    "banktransactions",
    "vendorcredits",
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.I)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
FOLLOW_INTERVAL = 0.5

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", envvar="ZBOOKS_SANDBOX_URL", metavar="URL", help="The sandbox's base URL."
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="ZBOOKS_SANDBOX_TOKEN",
        metavar="TOKEN",
        help="The sandbox's control token (printed by `zbooks sandbox serve`).",
        show_envvar=True,
    ),
]


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``1h``, ``3d``, ``2w`` and sums such as ``1d12h`` -> seconds."""
    cleaned = text.strip().replace(" ", "")
    parts = _DURATION.findall(cleaned)
    if not cleaned or not parts or "".join(n + u for n, u in parts) != cleaned:
        raise typer.BadParameter(f"{text!r} is not a duration; use e.g. 90s, 15m, 1h, 3d, 1d12h")
    return sum(float(number) * _UNITS[unit.lower()] for number, unit in parts)


def _control(url: str | None, token: str | None) -> ControlClient:
    from zbooks.testing.control import ControlClient, SandboxControlError, base_url_from, token_from

    try:
        return ControlClient(base_url_from(url), token_from(token))
    except SandboxControlError as exc:
        raise CliError(exc.message, hint=exc.hint, exit_code=USAGE) from None


def _call(control: ControlClient, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a control call; turn its failure into the CLI's one-line error and exit code."""
    from zbooks.testing.control import SandboxControlError

    try:
        return fn(*args, **kwargs)
    except SandboxControlError as exc:
        code = {None: SERVER, 401: AUTH, 403: AUTH, 404: NOT_FOUND}.get(exc.status, USAGE)
        if exc.status is not None and exc.status >= 500:
            code = SERVER
        raise CliError(exc.message, hint=exc.hint, exit_code=code) from None


def register(app: typer.Typer) -> None:
    """Add the control commands to the ``zbooks sandbox`` group."""
    app.command("seed")(_seed_command())
    app.command("reset")(reset)
    app.add_typer(clock_app, name="clock")
    app.add_typer(faults_app, name="faults")
    app.command("requests")(requests)
    app.command("trigger")(trigger)
    app.command("token")(token)


# --- seed / reset ---------------------------------------------------------------------------
def _seed_command() -> Any:
    """``seed`` with one ``--<module> N`` option per seedable module (built from SEEDABLE)."""

    def seed(**kwargs: Any) -> None:
        """Add generated records to a running sandbox (contacts before invoices, ...)."""
        counts = {m: kwargs[m] for m in SEEDABLE if kwargs.get(m)}
        if kwargs["orgs"]:
            _seed_fleet(kwargs, counts)
            return
        demo = bool(kwargs["demo"])
        if demo == bool(counts):
            raise CliError(
                "Say what to seed.",
                hint="e.g. zbooks sandbox seed --invoices 100 --contacts 10, or --demo",
            )
        control = _control(kwargs["url"], kwargs["token"])
        started = time.perf_counter()
        with control:
            answer = _call(
                control,
                control.seed,
                counts,
                preset="demo" if demo else None,
                org_id=kwargs["org"],
                rng_seed=kwargs["rng_seed"],
            )
        made = {module: len(ids) for module, ids in answer["created"].items()}
        took = time.perf_counter() - started
        summary = ", ".join(f"{count} {module}" for module, count in made.items()) or "nothing"
        typer.echo(f"Seeded {summary} in organization {answer['organization_id']} ({took:.1f} s)")

    params = [
        inspect.Parameter(
            module,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                int, typer.Option(f"--{module}", min=0, metavar="N", help=f"Add N {module}.")
            ],
            default=0,
        )
        for module in SEEDABLE
    ]
    params += [
        inspect.Parameter(
            "demo",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                bool, typer.Option("--demo", help="Add the demo data set instead.")
            ],
            default=False,
        ),
        inspect.Parameter(
            "orgs",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                int,
                typer.Option(
                    "--orgs",
                    min=0,
                    max=10_000,
                    metavar="N",
                    help="Add a fleet: N organizations, each with its own user, client and "
                    "refresh token (with --invoices M: M invoices each).",
                ),
            ],
            default=0,
        ),
        inspect.Parameter(
            "credentials",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                Path | None,
                typer.Option(
                    "--credentials",
                    metavar="FILE",
                    help="With --orgs: write the tenants' credentials here as JSON (mode 0600).",
                ),
            ],
            default=None,
        ),
        inspect.Parameter(
            "org",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                str | None, typer.Option("--org", help="Organization id (default: demo).")
            ],
            default=None,
        ),
        inspect.Parameter(
            "rng_seed",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[
                int | None, typer.Option("--rng-seed", help="Random seed, for repeatable data.")
            ],
            default=None,
        ),
        inspect.Parameter(
            "url", inspect.Parameter.KEYWORD_ONLY, annotation=UrlOption, default=None
        ),
        inspect.Parameter(
            "token", inspect.Parameter.KEYWORD_ONLY, annotation=TokenOption, default=None
        ),
    ]
    seed.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return seed


def _seed_fleet(options: dict[str, Any], counts: dict[str, int]) -> None:
    """``seed --orgs N [--invoices M]``: tenants for fleet tests (``POST /_sandbox/fleet``)."""
    if set(counts) - {"invoices"} or options["demo"]:
        raise CliError(
            "--orgs seeds whole organizations: combine it only with --invoices.",
            hint="e.g. zbooks sandbox seed --orgs 50 --invoices 100",
        )
    # Tenant names must be new on every call: a fresh prefix per run.
    prefix = f"fleet-{secrets.token_hex(3)}"
    control = _control(options["url"], options["token"])
    started = time.perf_counter()
    with control:
        tenants = _call(
            control,
            control.fleet,
            options["orgs"],
            invoices=counts.get("invoices", 0),
            prefix=prefix,
            rng_seed=options["rng_seed"],
        )
    took = time.perf_counter() - started
    path: Path | None = options["credentials"]
    if path is not None:
        # Refresh tokens and client secrets: only into a file of the user's own.
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
            json.dump(tenants, out, indent=2)
        os.chmod(path, 0o600)
    each = f" with {counts['invoices']} invoices each" if counts.get("invoices") else ""
    typer.echo(
        f"Seeded {len(tenants)} organizations{each} ({prefix}-00000 ...) in {took:.1f} s"
        + (f"; credentials in {path}" if path is not None else "")
    )


def reset(url: UrlOption = None, token: TokenOption = None) -> None:
    """Wipe the Books data and start again from the sandbox's seed (tokens stay valid)."""
    control = _control(url, token)
    with control:
        answer = _call(control, control.reset)
    typer.echo(f"Reset: organization {answer['demo']['org_id']} is back to its start data")


# --- clock ----------------------------------------------------------------------------------
clock_app = typer.Typer(
    help="Read or move the sandbox clock.", no_args_is_help=True, rich_markup_mode=None
)


def _print_clock(clock: dict[str, Any]) -> None:
    typer.echo(f"{clock['now']}  (today {clock['today']}, offset {clock['offset']:+.0f} s)")


@clock_app.command("show")
def clock_show(url: UrlOption = None, token: TokenOption = None) -> None:
    """Print the sandbox's time."""
    control = _control(url, token)
    with control:
        _print_clock(_call(control, control.clock))


@clock_app.command("advance")
def clock_advance(
    duration: Annotated[str, typer.Argument(help="How far: 90s, 15m, 1h, 3d, 2w, 1d12h.")],
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Move the clock forward (expiries, overdue invoices and retries follow it)."""
    seconds = parse_duration(duration)
    control = _control(url, token)
    with control:
        _print_clock(_call(control, control.advance_clock, seconds))


@clock_app.command("set")
def clock_set(
    when: Annotated[
        str, typer.Argument(help="ISO 8601: 2030-01-01, 2030-01-01T09:00:00Z (no offset = UTC).")
    ],
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Jump the clock forward to WHEN (it never goes back)."""
    control = _control(url, token)
    with control:
        _print_clock(_call(control, control.set_clock, when))


# --- faults ---------------------------------------------------------------------------------
faults_app = typer.Typer(
    help="Make the sandbox fail on purpose.", no_args_is_help=True, rich_markup_mode=None
)


def _fault_line(rule: dict[str, Any]) -> str:
    left = "unlimited" if rule.get("count") is None else f"{rule['count']} left"
    where = f"{rule.get('method') or '*'} {rule.get('path_prefix') or '/'}"
    return (
        f"#{rule['id']}  {rule['kind']:<17} {where:<30} p={rule['probability']:g}  "
        f"{left}, fired {rule.get('fired', 0)}"
    )


@faults_app.command("add")
def faults_add(
    kind: Annotated[
        str,
        typer.Argument(
            help="rate_limit, concurrency, server_error, bad_gateway, unavailable, slow, "
            "truncated or drop_after_commit."
        ),
    ],
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Fire N times, then disappear.")
    ] = None,
    probability: Annotated[
        float, typer.Option("--probability", min=0, max=1, help="Chance per matching request.")
    ] = 1.0,
    method: Annotated[str | None, typer.Option("--method", help="Only this HTTP method.")] = None,
    path: Annotated[
        str | None,
        typer.Option("--path", help="Only paths under this prefix (/invoices, /oauth/v2/token)."),
    ] = None,
    delay: Annotated[
        float | None, typer.Option("--delay", min=0, help="Seconds (slow and error kinds).")
    ] = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Add a fault rule."""
    rule: dict[str, Any] = {"kind": kind, "probability": probability}
    for key, value in (
        ("count", count),
        ("method", method),
        ("path_prefix", path),
        ("delay", delay),
    ):
        if value is not None:
            rule[key] = value
    control = _control(url, token)
    with control:
        added = _call(control, control.add_faults, rule)
    typer.echo("Added " + _fault_line(added[0]))


@faults_app.command("list")
def faults_list(url: UrlOption = None, token: TokenOption = None) -> None:
    """Show the active fault rules."""
    control = _control(url, token)
    with control:
        rules = _call(control, control.faults)
    for rule in rules:
        typer.echo(_fault_line(rule))
    if not rules:
        typer.echo("No fault rules.")


@faults_app.command("clear")
def faults_clear(url: UrlOption = None, token: TokenOption = None) -> None:
    """Remove every fault rule."""
    control = _control(url, token)
    with control:
        cleared = _call(control, control.clear_faults)
    typer.echo(f"Cleared {cleared} fault rule{'s' if cleared != 1 else ''}.")


# --- requests -------------------------------------------------------------------------------
def _request_line(entry: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(entry, separators=(",", ":"))
    query = "&".join(f"{k}={v}" for k, v in (entry.get("query") or {}).items())
    path = entry["path"] + (f"?{query}" if query else "")
    code = "-" if entry.get("code") is None else str(entry["code"])
    return (
        f"{entry['time']}  {entry['method']:<6} {entry['status']:<3} code {code:<5} "
        f"{entry['duration_ms']:>7.1f} ms  {path}"
    )


def requests(
    limit: Annotated[int, typer.Option("--limit", min=0, help="Show the last N (0: all).")] = 50,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing requests as they arrive.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Print the sandbox's request log (secrets in query strings are masked)."""
    control = _control(url, token)
    with control:
        since = 0
        for entry in _call(control, control.requests, limit=limit):
            typer.echo(_request_line(entry, as_json))
            since = max(since, int(entry.get("seq", 0)))
        if not follow:
            return
        if since == 0:
            # Nothing logged yet, or the log was cleared: start after what exists now.
            recent = _call(control, control.requests, limit=1)
            since = int(recent[-1]["seq"]) if recent else 0
        while True:  # until Ctrl-C (the CLI prints "Interrupted." and exits 130)
            for entry in _call(control, control.requests, since=since):
                typer.echo(_request_line(entry, as_json))
                since = max(since, int(entry.get("seq", 0)))
            time.sleep(FOLLOW_INTERVAL)


# --- trigger --------------------------------------------------------------------------------
def trigger(
    event: Annotated[
        str, typer.Argument(help="<entity>.<trigger>: invoice.created, contact.updated, ...")
    ],
    org: Annotated[str | None, typer.Option("--org", help="Organization id.")] = None,
    entity_id: Annotated[
        str | None, typer.Option("--id", help="Record to send (default: the newest).")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="URL", help="Deliver straight to URL instead of through workflow rules."
        ),
    ] = None,
    secret: Annotated[
        str | None, typer.Option("--secret", help="Sign the --to delivery with this secret.")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for each delivery's first attempt.")
    ] = True,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, max=120, help="Seconds to wait.")
    ] = 30.0,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Make the sandbox fire EVENT and show where each delivery went."""
    control = _control(url, token)
    with control:
        answer = _call(
            control,
            control.trigger,
            event,
            org_id=org,
            entity_id=entity_id,
            url=target,
            secret=secret,
            wait=wait,
            timeout=timeout,
        )
    deliveries = answer.get("deliveries", [])
    typer.echo(
        f"{answer.get('event')}: {answer.get('entity')} {answer.get('entity_id')} -> "
        f"{len(deliveries)} deliver{'y' if len(deliveries) == 1 else 'ies'}"
    )
    failed = 0
    for item in deliveries:
        status = item.get("status")
        answered = item.get("response_code") or "-"
        line = (
            f"  {status:<9} {answered!s:<4} {item.get('url')}  (history {item.get('history_id')})"
        )
        if status not in ("success", "pending"):
            failed += 1
            message = str(item.get("response_message") or "").strip().splitlines()
            if message:
                line += f"\n            {message[0][:200]}"
        typer.echo(line)
    if wait and failed:
        raise CliError(f"{failed} deliver{'y' if failed == 1 else 'ies'} failed", exit_code=SERVER)


# --- token ----------------------------------------------------------------------------------
def token(
    client_id: Annotated[
        str | None,
        typer.Option("--client-id", help="A Self Client to mint for (default: register one)."),
    ] = None,
    client_secret: Annotated[
        str | None, typer.Option("--client-secret", help="Its secret (to exchange the code).")
    ] = None,
    scope: Annotated[
        str, typer.Option("--scope", help="Scopes, comma separated.")
    ] = "ZohoBooks.fullaccess.all",
    org: Annotated[str | None, typer.Option("--org", help="Organization id.")] = None,
    code_only: Annotated[
        bool, typer.Option("--code", help="Print only a grant code; do not exchange it.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Mint a grant code or tokens for a client without a browser.

    By default prints `export ZBOOKS_...` lines: `eval "$(zbooks sandbox token)"` points the
    SDK and `zbooks` commands at the sandbox, and gives curl a ZBOOKS_ACCESS_TOKEN.
    """
    control = _control(url, token)
    with control:
        info = _call(control, control.info)
        org_id = org or str(info["demo"]["org_id"])
        if client_id is None:
            made = _call(control, control.register_client, "zbooks sandbox token")
            client_id, client_secret = str(made["client_id"]), str(made["client_secret"])
        code = _call(control, control.grant_code, client_id, scope=scope, org_id=org_id)
        result: dict[str, Any] = {"client_id": client_id, "organization_id": org_id}
        if client_secret:
            result["client_secret"] = client_secret
        if code_only:
            result["code"] = code
        else:
            if not client_secret:
                raise CliError(
                    "Exchanging the code needs the client's secret.",
                    hint="Pass --client-secret, or --code to print only the grant code.",
                )
            tokens = _call(control, control.exchange_code, client_id, client_secret, code)
            result.update(
                access_token=tokens["access_token"],
                refresh_token=tokens.get("refresh_token"),
                expires_in=tokens.get("expires_in"),
            )
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    elif code_only:
        typer.echo(code)
    else:
        base = control.base_url
        for name, value in (
            ("ZBOOKS_CLIENT_ID", result["client_id"]),
            ("ZBOOKS_CLIENT_SECRET", result.get("client_secret")),
            ("ZBOOKS_REFRESH_TOKEN", result.get("refresh_token")),
            ("ZBOOKS_ORGANIZATION_ID", org_id),
            ("ZBOOKS_ACCOUNTS_URL", base),
            ("ZBOOKS_API_URL", f"{base}/books/v3"),
            # Not read by the SDK (it refreshes by itself): for curl and other clients.
            ("ZBOOKS_ACCESS_TOKEN", result.get("access_token")),
        ):
            if value:
                typer.echo(f"export {name}={value}")
