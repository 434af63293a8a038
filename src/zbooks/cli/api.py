"""``zbooks api METHOD PATH``: any Books call, in the spirit of ``gh api``.

The SDK still does the work (organization_id, token refresh, rate limiting, retries,
typed errors), so a raw call behaves like every other command; only the path and
payload are the user's.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Annotated, Any
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
    epilog="Example: zbooks api GET /invoices -f status=overdue --paginate --output ndjson",
)
def api(
    method: Annotated[str, typer.Argument(metavar="METHOD", help="GET, POST, PUT or DELETE.")],
    path: Annotated[
        str, typer.Argument(metavar="PATH", help="Books path such as /invoices (after /books/v3).")
    ],
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

    verb = method.upper()
    if verb not in _METHODS:
        raise CliError(
            f"Unknown HTTP method {method!r}.", hint=f"Use one of {', '.join(_METHODS)}."
        )
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        raise CliError(
            "PATH is relative to the Books base URL, e.g. /invoices, not a full URL.",
            hint="Choose the host with --region / --api-url at login (or ZBOOKS_API_URL).",
        )
    clean_path = "/" + parts.path.lstrip("/")
    fields = parse_fields(field or (), typed_field or ())
    params = merge(dict(parse_qsl(parts.query)), parse_fields(query or ()))
    body: Any = read_data(data)
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
    # Raw calls print JSON even on a terminal (like `gh api`); --output table asks otherwise.
    fmt = resolve_format(output) if output or GLOBALS.output else Format.json
    module = clean_path.strip("/").split("/")[-1] or None
    printer = Printer(fmt, module=module)
    with open_client(profile, organization_id=org) as client:
        if paginate:
            printer.records(_all_items(client, clean_path, params))
            return
        result = client.request(
            verb,
            clean_path,
            params=params or None,
            json=body,
            headers=_headers(header or []) or None,
        )
        if isinstance(result, bytes | bytearray):
            sys.stdout.buffer.write(result)
            sys.stdout.flush()
        elif isinstance(result, Mapping) and fmt in (Format.table, Format.csv):
            printer.value(unwrap(result))  # tables and CSV show the payload, not the envelope
        else:
            printer.value(result)


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
