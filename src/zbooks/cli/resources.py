"""Per-module commands (``zbooks invoices list|get|create|pdf ...``), built on demand.

The commands are data-driven: each is a ``CommandSpec`` (module, command name, HTTP
method, path, whether it lists, whether it returns a PDF). Specs come from the resource
layer's registry ``zbooks.resources.operations()`` when it is installed, and from a
small built-in table of the common modules otherwise, so the CLI works either way.

Only the group the user invoked is built (``zbooks invoices ...`` builds ``invoices``
and nothing else), which keeps ``zbooks --help`` fast however many modules Zoho has.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import typer
import typer._click as click

from zbooks.cli.errors import USAGE, CliError

_PATH_PARAM = re.compile(r"{([A-Za-z0-9_]+)}")
RAW_QUERY_NOTE = (
    "Unknown options are errors. A query parameter without its own option is sent "
    "only when written explicitly: -q name=value (repeatable)."
)
# Commands that destroy or bulk-change records: confirmation first (``--yes`` skips it).
_DESTRUCTIVE_WORDS = ("void", "write-off", "writeoff")


@dataclass(frozen=True)
class CommandSpec:
    """One CLI command mapped to one API operation."""

    module: str
    name: str
    http_method: str
    path: str
    summary: str = ""
    paginated: bool = False
    binary: bool = False
    accept_pdf: bool = False  # the JSON GET that returns a PDF with ?accept=pdf
    query_options: tuple[str, ...] = field(default=())
    # allowed values of the enumerated query options (shown in --help, completed)
    query_enums: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)

    @property
    def takes_body(self) -> bool:
        return self.http_method in ("POST", "PUT", "PATCH")

    @property
    def writes(self) -> bool:
        """Anything but a read: create, update, delete, status changes, bulk actions."""
        return self.http_method not in ("GET", "HEAD")

    @property
    def destructive(self) -> bool:
        """Deletes, voids, write-offs and bulk changes ask before they run."""
        if not self.writes:
            return False
        if self.http_method == "DELETE" or self.name.startswith("bulk-"):
            return True
        return any(word in self.name for word in _DESTRUCTIVE_WORDS)


# --------------------------------------------------------------------------- registry

# Our own options; a documented query parameter with one of these names is still
# reachable through -f NAME=VALUE.
_RESERVED = frozenset(
    {
        "org",
        "profile",
        "output",
        "field",
        "typed_field",
        "data",
        "query",
        "page",
        "per_page",
        "all",
        "paginate",
        "limit",
        "yes",
        "help",
        "organization_id",
    }
)


def normalize(name: str) -> str:
    """``sales-orders``, ``sales_orders`` and ``salesorders`` all name one module."""
    return name.lower().replace("-", "").replace("_", "")


def module_names() -> list[str]:
    """Command names of every resource module, without importing the resource layer
    (its catalogue costs tens of milliseconds): one generated file per module."""
    try:
        spec = importlib.util.find_spec("zbooks.resources")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    names: set[str] = set()
    for folder in spec.submodule_search_locations:
        for entry in Path(folder).glob("*.py"):
            stem = entry.stem
            if not stem.startswith("_") and stem != "base":
                names.add(stem.replace("_", "-"))
    return sorted(names)


def _query_names(op: Any) -> tuple[str, ...]:
    raw = getattr(op, "query_params", None) or ()
    names: list[str] = []
    for entry in raw if isinstance(raw, list | tuple) else ():
        name = entry if isinstance(entry, str) else getattr(entry, "name", None)
        if isinstance(name, str) and name.isidentifier() and name not in _RESERVED:
            names.append(name)
    return tuple(names)


def _query_enums(op: Any, names: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    raw = getattr(op, "query_params", None) or ()
    found: list[tuple[str, tuple[str, ...]]] = []
    for entry in raw if isinstance(raw, list | tuple) else ():
        name, values = getattr(entry, "name", None), getattr(entry, "enum", None) or ()
        if name in names and values:
            found.append((str(name), tuple(str(v) for v in values)))
    return tuple(found)


def spec_from_operation(op: Any) -> CommandSpec:
    """A spec from one record of ``zbooks.resources.operations()``."""
    method = str(op.method)
    http = str(op.http_method).upper()
    summary = str(getattr(op, "summary", "") or f"{http} {op.path}").strip().splitlines()[0]
    return CommandSpec(
        module=str(op.module),
        name=method.replace("_", "-"),
        http_method=http,
        path=str(op.path),
        summary=summary,
        paginated=bool(getattr(op, "paginated", False)),
        binary=getattr(op, "returns", "") == "bytes",
        query_options=(names := _query_names(op)),
        query_enums=_query_enums(op, names),
    )


def specs_for(module: str) -> list[CommandSpec]:
    """Every command of a module (empty when the module is unknown). A ``get`` that
    also serves the document as a PDF (``pdf_variant``) gets a ``pdf`` command."""
    from zbooks.resources import operations

    wanted = normalize(module)
    ops = [op for op in operations() if normalize(str(op.module)) == wanted]
    specs = [spec_from_operation(op) for op in ops]
    names = {s.name for s in specs}
    for op, spec in list(zip(ops, specs, strict=True)):
        if getattr(op, "pdf_variant", False) and "pdf" not in names:
            specs.append(
                replace(
                    spec,
                    name="pdf",
                    summary="Download the document as a PDF (-o FILE).",
                    binary=True,
                    accept_pdf=True,
                    query_options=(),
                    query_enums=(),
                )
            )
            names.add("pdf")
    return specs


# --------------------------------------------------------------------------- commands

_P = inspect.Parameter


def _opt(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return _P(name, _P.KEYWORD_ONLY, annotation=annotation, default=default)


def _parameters(spec: CommandSpec) -> list[inspect.Parameter]:
    """The command's parameters as a signature typer can read (Annotated options)."""
    params = [_P("ctx", _P.KEYWORD_ONLY, annotation=typer.Context)]
    params += [
        _P(
            p.lower(),
            _P.KEYWORD_ONLY,
            annotation=Annotated[str, typer.Argument(metavar=p.upper(), show_default=False)],
        )
        for p in spec.path_params
    ]
    text = str | None
    params += [
        _opt(
            "org",
            Annotated[
                text,
                typer.Option(
                    "--org", metavar="ID", help="Organization id (default: the profile's)."
                ),
            ],
            None,
        ),
        _opt(
            "profile",
            Annotated[
                text, typer.Option("--profile", "-p", metavar="NAME", help="Profile to use.")
            ],
            None,
        ),
    ]
    if spec.binary:
        params.append(
            _opt(
                "output_file",
                Annotated[
                    text,
                    typer.Option(
                        "-o",
                        "--output",
                        metavar="FILE",
                        help="Where to write the file ('-' for stdout; default ID.pdf).",
                    ),
                ],
                None,
            )
        )
    else:
        params.append(
            _opt(
                "output_format",
                Annotated[
                    text,
                    typer.Option(
                        "--output",
                        metavar="FORMAT",
                        help="json, ndjson, csv or table (default: table on a TTY, else json).",
                    ),
                ],
                None,
            )
        )
    many = list[str] | None
    params += [
        _opt(
            "field",
            Annotated[
                many,
                typer.Option(
                    "-f",
                    "--field",
                    metavar="KEY=VALUE",
                    help="A query parameter (GET/DELETE) or body field (POST/PUT); repeatable.",
                ),
            ],
            None,
        ),
        _opt(
            "typed_field",
            Annotated[
                many,
                typer.Option(
                    "-F",
                    "--typed-field",
                    metavar="KEY=VALUE",
                    help="Like -f, but VALUE is JSON (numbers, true, null, objects).",
                ),
            ],
            None,
        ),
    ]
    if spec.takes_body:
        params += [
            _opt(
                "data",
                Annotated[
                    text,
                    typer.Option(
                        "--data",
                        "-d",
                        metavar="@FILE|-|JSON",
                        help="The JSON body: @file.json, - for stdin, or inline JSON.",
                    ),
                ],
                None,
            ),
        ]
    params.append(
        _opt(
            "query",
            Annotated[
                many,
                typer.Option(
                    "-q",
                    "--query",
                    metavar="KEY=VALUE",
                    help="A raw query parameter (e.g. -q sort_order=A); repeatable.",
                ),
            ],
            None,
        )
    )
    if spec.paginated:
        params += [
            _opt("page", Annotated[int, typer.Option("--page", min=1, help="Page number.")], 1),
            _opt(
                "per_page",
                Annotated[
                    int,
                    typer.Option(
                        "--per-page", min=1, max=200, help="Records per page (Zoho's maximum)."
                    ),
                ],
                200,
            ),
            _opt(
                "fetch_all",
                Annotated[
                    bool,
                    typer.Option(
                        "--all", "--paginate", help="Follow has_more_page and fetch every page."
                    ),
                ],
                False,
            ),
            _opt(
                "limit",
                Annotated[
                    int | None, typer.Option("--limit", min=1, help="Stop after this many records.")
                ],
                None,
            ),
        ]
    enums = dict(spec.query_enums)
    for name in spec.query_options:
        allowed = enums.get(name)
        # An enumerated filter is a Literal: typer turns it into a choice that accepts
        # only Zoho's values, lists them in --help and completes them in the shell.
        kind: Any = (Literal.__getitem__(allowed) | None) if allowed else text  # type: ignore[operator]
        params.append(
            _opt(
                f"q_{name}",
                Annotated[
                    kind,
                    typer.Option(
                        f"--{name.replace('_', '-')}",
                        metavar="VALUE" if not allowed else None,
                        help=f"Query: {name}.",
                    ),
                ],
                None,
            )
        )
    if spec.destructive:
        params.append(
            _opt(
                "yes",
                Annotated[
                    bool,
                    typer.Option(
                        "--yes", "-y", help="Do not ask first (required without a terminal)."
                    ),
                ],
                False,
            )
        )
    if spec.writes:
        params.append(
            _opt(
                "dry_run",
                Annotated[
                    bool,
                    typer.Option(
                        "--dry-run",
                        help="Print the request (and, for an update, the field changes); "
                        "send nothing.",
                    ),
                ],
                False,
            )
        )
    return params


def _callback(spec: CommandSpec) -> Callable[..., None]:
    def command(ctx: typer.Context, **kwargs: Any) -> None:
        _run(spec, ctx, **kwargs)

    parameters = _parameters(spec)
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__annotations__["return"] = None
    command.__name__ = spec.name.replace("-", "_")
    return command


def _help(spec: CommandSpec) -> str:
    text = f"{spec.summary}\n\n{spec.http_method} {spec.path}\n\n{RAW_QUERY_NOTE}"
    if spec.destructive:
        text += " Asks for confirmation on a terminal; elsewhere pass --yes."
    return text


def build_group(module: str) -> click.Command | None:
    """The typer group of one module, or None when no such module exists."""
    specs = specs_for(module)
    if not specs:
        return None
    names = ", ".join(s.name for s in specs[:10]) + (", ..." if len(specs) > 10 else "")
    group = typer.Typer(
        name=module,
        help=f"Zoho Books {specs[0].module}: {names}.",
        no_args_is_help=True,
        rich_markup_mode=None,
        add_completion=False,
    )

    @group.callback()
    def _group() -> None:
        """Keeps a one-command module a group (``zbooks x list``, not ``zbooks x``)."""

    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            continue
        seen.add(spec.name)
        group.command(spec.name, help=_help(spec), short_help=spec.summary[:70] or None)(
            _callback(spec)
        )
    command = typer.main.get_command(group)
    command.name = module
    return command


# --------------------------------------------------------------------------- running


def _expand_path(spec: CommandSpec, values: Mapping[str, Any]) -> str:
    def sub(match: re.Match[str]) -> str:
        value = str(values[match.group(1).lower()])
        return quote(value, safe="")

    return _PATH_PARAM.sub(sub, spec.path)


def _run(spec: CommandSpec, ctx: typer.Context, **kwargs: Any) -> None:
    from zbooks.cli.output import Printer, resolve_format, unwrap
    from zbooks.cli.session import merge, open_client, parse_fields, read_data

    path = _expand_path(spec, kwargs)
    fields = parse_fields(kwargs.get("field") or (), kwargs.get("typed_field") or ())
    query = merge(
        {k[2:]: v for k, v in kwargs.items() if k.startswith("q_") and v is not None},
        parse_fields(kwargs.get("query") or ()),
    )
    body: Any = None
    if spec.takes_body:
        body = read_data(kwargs.get("data"))
        if fields:
            if body is None:
                body = fields
            elif isinstance(body, dict):
                body = {**body, **fields}
            else:
                raise CliError("-f fields can only be merged into a JSON object body.")
    else:
        query = merge(query, fields)
    org = kwargs.get("org")
    if kwargs.get("dry_run"):
        from zbooks.cli.dryrun import show_dry_run

        with open_client(kwargs.get("profile"), organization_id=org) as client:
            show_dry_run(client, spec.http_method, path, query, body)
        return
    if spec.destructive and not kwargs.get("yes"):
        from zbooks.cli.confirm import confirm_or_refuse

        confirm_or_refuse(f"{spec.module} {spec.name}: {spec.http_method} {path}")
    with open_client(kwargs.get("profile"), organization_id=org) as client:
        if spec.binary:
            _write_pdf(client, spec, path, query, kwargs)
            return
        fmt = resolve_format(kwargs.get("output_format"))
        precision = None
        if fmt.value == "table":
            from zbooks.cli.precision import money_precision

            precision = money_precision(client)
        printer = Printer(fmt, module=spec.module, precision=precision)
        if spec.paginated:
            printer.records(_listing(client, spec, path, query, kwargs))
            return
        result = client.request(spec.http_method, path, params=query or None, json=body)
        payload = unwrap(result) if isinstance(result, Mapping) else result
        message = result.get("message") if isinstance(result, Mapping) else None
        shown = payload.get("message") if isinstance(payload, Mapping) else payload
        if spec.writes and message and shown != message:
            # The record goes to stdout; Zoho's "The invoice has been created." to stderr.
            sys.stderr.write(f"{message}\n")
        # A status change answers with the message alone: it is the result, printed once.
        printer.value(payload)


def _listing(
    client: Any, spec: CommandSpec, path: str, query: dict[str, Any], options: Mapping[str, Any]
) -> Iterator[Mapping[str, Any]]:
    """Records of one page, or of every page with --all, up to --limit."""
    from zbooks.cli.output import progress

    limit: int | None = options.get("limit")
    per_page = int(options.get("per_page") or 200)
    if limit is not None:
        per_page = min(per_page, limit)
    start = int(options.get("page") or 1)
    count = 0
    if not options.get("fetch_all"):
        body = client.request("GET", path, params={**query, "page": start, "per_page": per_page})
        items = _items(body)
        context = body.get("page_context") or {}
        for item in items[: limit or None]:
            yield item
        if context.get("has_more_page") and (limit is None or len(items) < limit):
            sys.stderr.write(
                f"More records: --page {start + 1} for the next page, or --all for every page.\n"
            )
        return
    with progress(f"Fetching {spec.module}") as update:
        pages = client.pages(path, params=query, per_page=per_page, start_page=start)
        for number, page in enumerate(pages, 1):
            for item in page.items:
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return
            update(number, count)


def _items(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    lists = [v for k, v in body.items() if isinstance(v, list) and k != "page_context"]
    return list(lists[0]) if len(lists) == 1 else []


def _write_pdf(
    client: Any, spec: CommandSpec, path: str, query: dict[str, Any], options: Mapping[str, Any]
) -> None:
    """Binary answers (PDFs, attachments) go to a file, or to stdout with ``-o -``."""
    params = {**query, "accept": "pdf"} if spec.accept_pdf else query
    content = client.request("GET", path, params=params or None, binary=True)
    if not isinstance(content, bytes | bytearray):
        raise CliError(
            f"{path} answered with JSON instead of a file.",
            hint="This record may have no file form; try `get` instead.",
            exit_code=USAGE,
        )
    target = options.get("output_file")
    if target == "-":
        if sys.stdout.isatty():
            raise CliError("Refusing to write binary data to the terminal.", hint="Use -o FILE.")
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    if target:
        out = Path(target)
    else:
        ids = [str(options[p.lower()]) for p in spec.path_params]
        stem = ids[-1] if ids else spec.module
        pdf = spec.accept_pdf or "pdf" in spec.name or "print" in spec.name
        out = Path(
            f"{stem}.pdf"
            if spec.accept_pdf
            else f"{stem}-{spec.name}" + (".pdf" if pdf else ".bin")
        )
    out.write_bytes(content)
    sys.stderr.write(f"Wrote {out} ({len(content):,} bytes).\n")
