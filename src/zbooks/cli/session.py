"""What every command shares: the global flags, the profile's token store, a ``Client``
built the way the CLI needs it, and parsing of ``-f key=value`` and ``--data``.

The CLI hands the SDK the profile's token store explicitly, so a client-credentials
profile keeps its cached access token between runs instead of minting a new one per
command (Zoho throttles token requests), and so the client secret is read from the
token store, where ``zbooks login`` put it; it never sits in the config file.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zbooks.cli.errors import USAGE, CliError

if TYPE_CHECKING:
    from zbooks.auth.tokens import Token, TokenStore
    from zbooks.config import Settings
    from zbooks.core.client import Client


@dataclass
class Globals:
    """Flags given before the command (``zbooks --profile work --verbose orgs``)."""

    profile: str | None = None
    verbose: bool = False
    debug: bool = False
    output: str | None = None


GLOBALS = Globals()


def reset_globals() -> None:
    GLOBALS.profile = None
    GLOBALS.verbose = False
    GLOBALS.debug = False
    GLOBALS.output = None


def profile_name(explicit: str | None) -> str | None:
    """A command's own ``--profile`` beats the global one; None lets the SDK decide."""
    return explicit or GLOBALS.profile


def enable_verbose() -> None:
    """Send the SDK's redacted request lines (the ``zbooks`` logger at DEBUG) to stderr."""
    logger = logging.getLogger("zbooks")
    if any(getattr(h, "_zbooks_cli", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("zbooks: %(message)s"))
    handler._zbooks_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def disable_verbose() -> None:
    logger = logging.getLogger("zbooks")
    for handler in [h for h in logger.handlers if getattr(h, "_zbooks_cli", False)]:
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def settings_for(profile: str | None) -> Settings:
    from zbooks.config import resolve_settings

    return resolve_settings(profile=profile_name(profile))


def store_for(settings: Settings) -> TokenStore:
    """The token store of a profile (file by default, keyring when the profile says so)."""
    from zbooks.auth.tokens import FileStore, KeyringStore
    from zbooks.config import token_path

    if settings.token_store == "keyring":
        return KeyringStore(username=settings.profile)
    return FileStore(token_path(settings.profile))


def split_scopes(scopes: str | None) -> tuple[str, ...]:
    from zbooks.auth.oauth import DEFAULT_SCOPES

    if not scopes:
        return DEFAULT_SCOPES
    parts = [p.strip() for p in scopes.replace(" ", ",").split(",")]
    return tuple(p for p in parts if p) or DEFAULT_SCOPES


def is_client_credentials(token: Token | None) -> bool:
    """A stored login without a refresh token came from the client-credentials grant."""
    return token is not None and not token.refresh_token and bool(token.client_secret)


def open_client(
    profile: str | None = None, *, organization_id: str | None = None, timeout: float = 30.0
) -> Client:
    """A ``Client`` for the profile (or for ``ZBOOKS_*`` credentials in the environment),
    limited by the budget every ``zbooks`` process shares (``zbooks.cli.limits``)."""
    from zbooks.cli.limits import announce_retries, remember_rate_headers, shared_limiter
    from zbooks.core.client import Client

    name = profile_name(profile)
    settings = settings_for(name)
    if os.environ.get("ZBOOKS_REFRESH_TOKEN"):
        # Credentials from the environment: the SDK keeps them in memory and leaves the
        # profile's stored tokens alone.
        client = Client(
            profile=name,
            organization_id=organization_id,
            timeout=timeout,
            rate_limiter=shared_limiter(settings),
        )
    else:
        store = store_for(settings)
        stored = store.load()
        secret = settings.client_secret or (stored.client_secret if stored else None)
        client = Client(
            profile=name,
            organization_id=organization_id,
            client_secret=secret,
            token_store=store,
            client_credentials=is_client_credentials(stored),
            scopes=split_scopes(settings.scopes),
            timeout=timeout,
            rate_limiter=shared_limiter(settings),
        )
    announce_retries(client)
    # The CLI's own HTTP client (private attribute): note Zoho's X-Rate-Limit-* answers.
    client._http.event_hooks["response"].append(remember_rate_headers)
    return client


# --------------------------------------------------------------------------- input


def read_data(value: str | None) -> Any:
    """``--data``: ``@file.json``, ``-`` for stdin, or inline JSON."""
    if value is None:
        return None
    if value == "-" or value == "@-":
        text = sys.stdin.read()
        source = "standard input"
    elif value.startswith("@"):
        path = Path(value[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(
                f"Cannot read {path}: {exc.strerror or exc}.",
                hint="Pass --data @FILE with an existing JSON file, - for stdin, or inline JSON.",
                exit_code=USAGE,
            ) from None
        source = str(path)
    else:
        text = value
        source = "--data"
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.",
            hint="Check the JSON, e.g. with `python -m json.tool FILE`.",
            exit_code=USAGE,
        ) from None


def _typed(value: str) -> Any:
    """``-F`` values: JSON literals (numbers, true/false/null, objects) else the string."""
    if value.startswith("@"):
        return read_data(value)
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def parse_fields(raw: Iterable[str] = (), typed: Iterable[str] = ()) -> dict[str, Any]:
    """``-f key=value`` (strings) and ``-F key=value`` (JSON-typed) into one dict."""
    fields: dict[str, Any] = {}
    for items, convert in ((raw, False), (typed, True)):
        for item in items:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CliError(
                    f"Field {item!r} is not key=value.",
                    hint="Write fields as -f status=overdue (repeat -f for more).",
                    exit_code=USAGE,
                )
            fields[key] = _typed(value) if convert else value
    return fields


def merge(*parts: Mapping[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        if part:
            merged.update(part)
    return merged
