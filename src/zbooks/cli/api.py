"""``zbooks api METHOD PATH``: any Books call, in the spirit of ``gh api``.

The SDK still does the work (organization_id, token refresh, rate limiting, retries,
typed errors), so a raw call behaves like every other command; only the path and
payload are the user's.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, TextIO
from urllib.parse import parse_qsl, urlsplit

import typer

from zbooks.cli.errors import USAGE, CliError

api_app = typer.Typer(rich_markup_mode=None)

_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def _headers(values: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CliError(
                f"Header {item!r} is not 'Name: value'.",
                hint='Write headers as -H "X-Unique-Identifier-Key: cf_ref".',
            )
        headers[name.strip()] = value.strip()
    return headers


@api_app.command(
    context_settings={"allow_interspersed_args": True},
    epilog="Examples: zbooks api GET /invoices -f status=overdue --paginate --output ndjson; "
    "zbooks api /invoices --jq '.invoices[].invoice_number' -i",
)
def api(
    first: Annotated[
        str,
        typer.Argument(
            metavar="[METHOD] PATH",
            help="Books path such as /invoices (after /books/v3), optionally after the "
            "method: `api GET /invoices` and `api /invoices -X GET` are the same call.",
        ),
    ],
    second: Annotated[str | None, typer.Argument(metavar="", show_default=False)] = None,
    method_option: Annotated[
        str | None,
        typer.Option(
            "-X",
            "--method",
            metavar="METHOD",
            help="GET, POST, PUT, PATCH or DELETE (default GET, or POST with --data).",
        ),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "-f",
            "--field",
            metavar="KEY=VALUE",
            help="Query parameter for GET/DELETE, body field for POST/PUT (repeatable).",
        ),
    ] = None,
    typed_field: Annotated[
        list[str] | None,
        typer.Option(
            "-F",
            "--typed-field",
            metavar="KEY=VALUE",
            help="Like -f with a JSON value (numbers, true/false, null, objects, @file).",
        ),
    ] = None,
    query: Annotated[
        list[str] | None,
        typer.Option("-q", "--query", metavar="KEY=VALUE", help="Query parameter (repeatable)."),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("-H", "--header", metavar="'NAME: VALUE'", help="Extra request header."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data", "-d", metavar="@FILE|-|JSON", help="JSON body: @file.json, - (stdin), text."
        ),
    ] = None,
    paginate: Annotated[
        bool,
        typer.Option("--paginate", help="Follow has_more_page and print every record."),
    ] = False,
    jq_filter: Annotated[
        str | None,
        typer.Option(
            "--jq",
            metavar="EXPR",
            help="Filter the JSON answer with a jq expression (per record with --paginate); "
            "strings print without quotes.",
        ),
    ] = None,
    include: Annotated[
        bool,
        typer.Option(
            "-i",
            "--include",
            help="Print the status line and response headers (X-Rate-Limit-* too) first.",
        ),
    ] = False,
    silent: Annotated[bool, typer.Option("--silent", help="Do not print the body.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="For a write: print the request, send nothing."),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="DELETE without asking (needed off a terminal).")
    ] = False,
    org: Annotated[
        str | None, typer.Option("--org", metavar="ID", help="Organization id for this call.")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", metavar="NAME", help="Profile to use.")
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", metavar="FORMAT", help="json (default), ndjson, csv or table."),
    ] = None,
) -> None:
    """Call any Zoho Books API path and print the response."""
    from zbooks.cli.output import Format, Printer, resolve_format, unwrap
    from zbooks.cli.session import GLOBALS, merge, open_client, parse_fields, read_data

    path = second if second is not None else first
    written = first if second is not None else None
    if written and method_option and written.upper() != method_option.upper():
        raise CliError(f"Two methods given: {written} and -X {method_option}.")
    fields = parse_fields(field or (), typed_field or ())
    body: Any = read_data(data)
    # Unlike `gh api`, -f alone keeps GET (here -f is a query parameter on reads).
    chosen = written or method_option or ("POST" if body is not None else "GET")
    verb = chosen.upper()
    if verb not in _METHODS:
        raise CliError(
            f"Unknown HTTP method {chosen!r}.", hint=f"Use one of {', '.join(_METHODS)}."
        )
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        raise CliError(
            "PATH is relative to the Books base URL, e.g. /invoices, not a full URL.",
            hint="Choose the host with --region / --api-url at login (or ZBOOKS_API_URL).",
        )
    clean_path = "/" + parts.path.lstrip("/")
    params = merge(dict(parse_qsl(parts.query)), parse_fields(query or ()))
    if verb in ("GET", "DELETE"):
        params.update(fields)
        if body is not None:
            raise CliError(f"{verb} requests take no body; use -f for query parameters.")
    elif fields:
        if body is None:
            body = fields
        elif isinstance(body, dict):
            body = {**body, **fields}
        else:
            raise CliError("-f fields can only be merged into a JSON object body.")
    if paginate and verb != "GET":
        raise CliError("--paginate only applies to GET lists.", exit_code=USAGE)
    program = _compile_jq(jq_filter) if jq_filter else None
    if dry_run and verb != "GET":
        from zbooks.cli.dryrun import show_dry_run

        with open_client(profile, organization_id=org) as client:
            show_dry_run(client, verb, clean_path, params, body, headers=_headers(header or []))
        return
    if verb == "DELETE" and not yes:
        from zbooks.cli.confirm import confirm_or_refuse

        confirm_or_refuse(f"DELETE {clean_path}")
    # Raw calls print JSON even on a terminal (like `gh api`); --output table asks otherwise.
    fmt = resolve_format(output) if output or GLOBALS.output else Format.json
    module = clean_path.strip("/").split("/")[-1] or None
    printer = Printer(fmt, module=module)
    seen = _LastResponse()
    with open_client(profile, organization_id=org) as client:
        client_http = client._http  # the CLI's own client: watch its answers for -i
        client_http.event_hooks["response"].append(seen)
        try:
            if paginate:
                items = _all_items(client, clean_path, params)
                if silent:
                    for _ in items:
                        pass
                elif program is not None:
                    for item in items:
                        _print_jq(program, item)
                else:
                    printer.records(items)
                return
            result = client.request(
                verb,
                clean_path,
                params=params or None,
                json=body,
                headers=_headers(header or []) or None,
            )
        finally:
            if include:
                seen.show(sys.stdout)
        if silent:
            return
        if isinstance(result, bytes | bytearray):
            sys.stdout.buffer.write(result)
            sys.stdout.flush()
        elif program is not None:
            _print_jq(program, result)
        elif isinstance(result, Mapping) and fmt in (Format.table, Format.csv):
            printer.value(unwrap(result))  # tables and CSV show the payload, not the envelope
        else:
            printer.value(result)


class _LastResponse:
    """An httpx2 response hook remembering the last answer's status line and headers."""

    def __init__(self) -> None:
        self.line: str | None = None
        self.headers: list[tuple[str, str]] = []

    def __call__(self, response: Any) -> None:
        version = getattr(response, "http_version", "HTTP/1.1")
        self.line = f"{version} {response.status_code} {response.reason_phrase}".rstrip()
        self.headers = [(k, v) for k, v in response.headers.items() if k.lower() != "set-cookie"]

    def show(self, out: TextIO) -> None:
        if self.line is None:
            return
        out.write(self.line + "\n")
        for name, value in self.headers:
            title = "-".join(part.capitalize() for part in name.split("-"))
            if title.lower().startswith("x-rate-limit"):
                title = "X-Rate-Limit-" + title[len("x-rate-limit-") :]
            out.write(f"{title}: {value}\n")
        out.write("\n")
        out.flush()


def _compile_jq(expression: str) -> Any:
    """A compiled jq program, or a usage error naming what is wrong with it."""
    try:
        import jq
    except ImportError:
        raise CliError(
            "--jq needs the jq library.", hint="Install it: pip install 'zbooks[jq]'."
        ) from None
    try:
        return jq.compile(expression)
    except ValueError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
        raise CliError(
            f"Invalid --jq expression {expression!r}: {first}",
            hint="jq syntax, for example --jq '.invoices[].invoice_number'.",
        ) from None


def _print_jq(program: Any, value: Any) -> None:
    try:
        results = program.input_value(value).all()
    except ValueError as exc:
        raise CliError(f"--jq failed on the answer: {exc}") from None
    for item in results:
        if isinstance(item, str):
            sys.stdout.write(item + "\n")
        else:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _all_items(client: Any, path: str, params: dict[str, Any]) -> Iterator[Mapping[str, Any]]:
    from zbooks.cli.output import progress

    query = dict(params)
    try:
        per_page = int(query.pop("per_page", 200))
        start = int(query.pop("page", 1))
    except ValueError:
        raise CliError("page and per_page must be whole numbers.") from None
    count = 0
    with progress(f"GET {path}") as update:
        for page in client.pages(path, params=query, per_page=per_page, start_page=start):
            for item in page.items:
                count += 1
                yield item
            update(page.number, count)
