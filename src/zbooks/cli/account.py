"""``zbooks login``, ``logout``, ``whoami``, ``orgs`` and ``profiles``.

Login stores secrets (tokens and the client secret) only in the profile's token store
and non-secrets (region or URLs, client id, organization id, scopes) in the profile, so
the config file can be shared or committed without leaking anything.

Zoho keeps at most 20 refresh tokens per user and client and silently deletes the
oldest when a 21st is made, which breaks whichever integration held it. So login checks
for a working refresh token first and asks before making another.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from zbooks.cli.errors import AUTH, USAGE, CliError
from zbooks.cli.session import (
    GLOBALS,
    is_client_credentials,
    open_client,
    profile_name,
    settings_for,
    split_scopes,
    store_for,
)

if TYPE_CHECKING:
    from zbooks.auth.tokens import Token, TokenStore
    from zbooks.config import ConfigFile, Profile
    from zbooks.regions import Endpoints

ProfileOpt = Annotated[
    str | None, typer.Option("--profile", "-p", metavar="NAME", help="Profile to use.")
]
OutputOpt = Annotated[
    str | None,
    typer.Option("--output", metavar="FORMAT", help="json, ndjson, csv or table."),
]

login_app = typer.Typer(rich_markup_mode=None)
logout_app = typer.Typer(rich_markup_mode=None)
whoami_app = typer.Typer(rich_markup_mode=None)
orgs_app = typer.Typer(rich_markup_mode=None)
profiles_app = typer.Typer(
    rich_markup_mode=None, no_args_is_help=True, help="List, choose and inspect profiles."
)


def _say(text: str) -> None:
    """Status lines go to stderr so stdout stays data."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------- login


def _load_config() -> ConfigFile:
    from zbooks.config import ConfigFile

    return ConfigFile.load()


def _endpoints(
    region: str | None, accounts_url: str | None, api_url: str | None, existing: Profile
) -> Endpoints:
    from zbooks.errors import ConfigurationError
    from zbooks.regions import resolve_endpoints

    saved = {
        k: v
        for k, v in (
            ("region", existing.region),
            ("accounts_url", existing.accounts_url),
            ("api_url", existing.api_url),
        )
        if v
    }
    try:
        return resolve_endpoints(
            region, accounts_url=accounts_url, api_url=api_url, env=os.environ, profile=saved
        )
    except ConfigurationError as exc:
        raise CliError(exc.message, hint=exc.hint, exit_code=USAGE) from None


def _ask(prompt: str, *, hide: bool, hint: str) -> str:
    if not sys.stdin.isatty():
        raise CliError(f"{prompt} is needed and there is no terminal to ask.", hint=hint)
    try:
        value = str(typer.prompt(prompt, hide_input=hide)).strip()
    except typer.Abort:
        raise CliError(f"{prompt} is needed.", hint=hint) from None
    if not value:
        raise CliError(f"{prompt} is needed.", hint=hint)
    return value


def _refresh_token_works(
    store: TokenStore, stored: Token, accounts_url: str, client_id: str, secret: str
) -> bool:
    """Whether the stored refresh token still works (a fresh access token counts). A
    refresh made to find out is kept in the store, so the token request is not wasted."""
    import httpx2

    from zbooks.auth.oauth import OAuthClient
    from zbooks.errors import OAuthError, OAuthThrottledError, ZBooksError

    if stored.is_fresh():
        return True
    if not stored.refresh_token:
        return False
    oauth = OAuthClient(stored.accounts_server or accounts_url, client_id, secret, timeout=15.0)
    try:
        store.save(stored.merged(oauth.refresh(stored.refresh_token)))
    except OAuthThrottledError:
        return True  # throttled, so the token exists and is in use
    except OAuthError:
        return False
    except (ZBooksError, httpx2.HTTPError, OSError):
        return True  # cannot tell: assume it works and ask, the safe side
    finally:
        oauth.close()
    return True


def _confirm_new_refresh_token(profile: str) -> None:
    _say(
        f"Warning: profile {profile!r} already has a working refresh token. Zoho keeps only "
        "20 refresh tokens per user and client and silently deletes the oldest, which may "
        "break another integration using it."
    )
    hint = "Pass --force to create a new refresh token anyway, or keep using the current login."
    if not sys.stdin.isatty():
        raise CliError("Refusing to create another refresh token without confirmation.", hint=hint)
    try:
        agreed = typer.confirm("Create a new refresh token anyway?", default=False)
    except typer.Abort:
        agreed = False
    if not agreed:
        raise CliError("Login cancelled; the existing login is kept.", hint=hint)


def _region_of(token: Token, location: str | None, endpoints: Endpoints) -> str | None:
    """The data centre the login really landed in: the redirect's ``location`` or the
    token's ``api_domain`` win over what was configured (a US start can end in the EU)."""
    from zbooks.regions import REGIONS, region_for_url

    if location:
        for region in REGIONS.values():
            if region.location == location.lower() and endpoints.region is not None:
                return region.key
    if token.api_domain:
        found = region_for_url(token.api_domain)
        if found is not None:
            return found.key
    return endpoints.region.key if endpoints.region is not None else None


def _choose_org(orgs: list[dict[str, Any]], wanted: str | None) -> str | None:
    ids = [str(o.get("organization_id")) for o in orgs]
    listing = ", ".join(f"{o.get('organization_id')} ({o.get('name')})" for o in orgs)
    if wanted:
        if orgs and wanted not in ids:
            raise CliError(
                f"Organization {wanted} is not one of this user's organizations: {listing}.",
                hint="Pick one of them with `zbooks orgs --use ID` (the login itself worked).",
                exit_code=AUTH,
            )
        return wanted
    if not orgs:
        _say("Note: this user has no Zoho Books organization in this data centre yet.")
        return None
    if len(orgs) == 1:
        return ids[0]
    default = next((i for i, o in zip(ids, orgs, strict=True) if o.get("is_default_org")), ids[0])
    if not sys.stdin.isatty():
        _say(f"Several organizations ({listing}); using the default, {default}.")
        _say("Change it with `zbooks orgs --use ID`.")
        return default
    _say("This user belongs to several organizations:")
    for number, org in enumerate(orgs, 1):
        mark = " (default)" if str(org.get("organization_id")) == default else ""
        _say(f"  {number}. {org.get('organization_id')}  {org.get('name')}{mark}")
    choice = int(typer.prompt("Which one should this profile use (number)", default=1, type=int))
    if not 1 <= choice <= len(orgs):
        raise CliError(f"{choice} is not between 1 and {len(orgs)}.", exit_code=USAGE)
    return ids[choice - 1]


@login_app.command()
def login(
    profile: ProfileOpt = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region", metavar="DC", help="Data centre: com, eu, in, com.au, jp, ca, com.cn, sa."
        ),
    ] = None,
    accounts_url: Annotated[
        str | None,
        typer.Option("--accounts-url", metavar="URL", help="Accounts server (a sandbox)."),
    ] = None,
    api_url: Annotated[
        str | None, typer.Option("--api-url", metavar="URL", help="Books API base URL.")
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option("--client-id", metavar="ID", help="OAuth client id (or ZBOOKS_CLIENT_ID)."),
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            "--client-secret",
            metavar="SECRET",
            help="OAuth client secret (or ZBOOKS_CLIENT_SECRET; asked when missing).",
        ),
    ] = None,
    scopes: Annotated[
        str | None,
        typer.Option(
            "--scopes", metavar="LIST", help="Comma-separated scopes (ZohoBooks.fullaccess.all)."
        ),
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", metavar="ID", help="Organization to use by default.")
    ] = None,
    code: Annotated[
        str | None,
        typer.Option("--code", metavar="CODE", help="Exchange a Self Client grant code."),
    ] = None,
    client_credentials: Annotated[
        bool,
        typer.Option(
            "--client-credentials", help="Self Client client-credentials grant (needs --org)."
        ),
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the consent URL instead of opening it.")
    ] = False,
    port: Annotated[
        int,
        typer.Option("--port", min=0, max=65535, help="Loopback port of the redirect URI (8787)."),
    ] = 8787,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for the consent.")
    ] = 300.0,
    force: Annotated[
        bool, typer.Option("--force", help="Create a new refresh token without asking.")
    ] = False,
) -> None:
    """Sign in to Zoho (browser, Self Client code or client credentials) and save a profile."""
    from zbooks.auth import login as flows
    from zbooks.config import DEFAULT_PROFILE, Profile

    if code and client_credentials:
        raise CliError("--code and --client-credentials are two different logins; pick one.")
    if client_credentials and not org:
        raise CliError(
            "--client-credentials needs --org ID.",
            hint="The client-credentials grant is bound to one organization (soid).",
        )
    if scopes:
        from zbooks.cli.scopes import validate_scopes

        # Before any secret prompt or consent page: a typo must not cost a login.
        validate_scopes(split_scopes(scopes))
    config = _load_config()
    name = (
        profile_name(profile) or os.environ.get("ZBOOKS_PROFILE") or config.default_profile
    ) or DEFAULT_PROFILE
    existing = config.get(name) or Profile(name=name)
    endpoints = _endpoints(region, accounts_url, api_url, existing)
    store = _profile_store(name, existing.token_store)
    stored = store.load()

    the_client_id = (
        client_id
        or os.environ.get("ZBOOKS_CLIENT_ID")
        or existing.client_id
        or _ask(
            "Client ID",
            hide=False,
            hint="Pass --client-id (from api-console.zoho.com) or set ZBOOKS_CLIENT_ID.",
        )
    )
    same_client = existing.client_id in (None, the_client_id)
    secret = (
        client_secret
        or os.environ.get("ZBOOKS_CLIENT_SECRET")
        or (stored.client_secret if stored and same_client else None)
        or _ask(
            "Client secret",
            hide=True,
            hint="Pass --client-secret or set ZBOOKS_CLIENT_SECRET.",
        )
    )
    if (
        not client_credentials
        and not force
        and stored is not None
        and stored.refresh_token
        and same_client
        and _refresh_token_works(store, stored, endpoints.accounts_url, the_client_id, secret)
    ):
        _confirm_new_refresh_token(name)

    wanted_scopes = split_scopes(scopes or existing.scopes)
    location: str | None = None
    if client_credentials:
        assert org is not None
        result = flows.client_credentials_login(
            org,
            accounts_url=endpoints.accounts_url,
            client_id=the_client_id,
            client_secret=secret,
            scopes=wanted_scopes,
        )
    elif code:
        result = flows.code_login(
            code, accounts_url=endpoints.accounts_url, client_id=the_client_id, client_secret=secret
        )
    else:
        from zbooks.errors import ZBooksError

        shown = _show_url(no_browser)
        try:
            result = flows.browser_login(
                accounts_url=endpoints.accounts_url,
                client_id=the_client_id,
                client_secret=secret,
                scopes=wanted_scopes,
                port=port,
                open_browser=not no_browser,
                show_url=shown,
                timeout=timeout,
            )
        except ZBooksError as exc:
            if not exc.message.startswith("No OAuth redirect arrived"):
                raise
            uri = getattr(shown, "redirect_uri", None) or f"http://127.0.0.1:{port}/callback"
            raise CliError(
                exc.message,
                hint=f"Zoho only redirects to a registered URI: the client {the_client_id} "
                f"must list exactly {uri} as its redirect URI in api-console.zoho.com (a "
                "mismatch shows an error page instead of redirecting). Otherwise finish the "
                "consent in the browser, or use `zbooks login --code` with a Self Client code.",
                exit_code=USAGE,
            ) from None
        location = result.location
    token = result.token
    store.save(token)

    region_key = _region_of(token, location, endpoints)
    updated = Profile(
        name=name,
        region=region_key,
        client_id=the_client_id,
        organization_id=existing.organization_id,
        accounts_url=None if region_key else endpoints.accounts_url,
        api_url=None if region_key else endpoints.api_url,
        redirect_uri=existing.redirect_uri,
        scopes=scopes or existing.scopes,
        plan=existing.plan,
        token_store=existing.token_store,
    )
    first = not config.profiles
    config.upsert(updated)
    if first or config.get(config.default_profile) is None:
        config.default_profile = name
    config.save()

    chosen = org if client_credentials else _discover_org(name, org)
    if chosen:
        updated.organization_id = chosen
        config.upsert(updated)
        config.save()
    grant = (
        "client credentials" if client_credentials else "Self Client code" if code else "browser"
    )
    where = region_key or endpoints.accounts_url
    _say(
        f"Logged in ({grant}) to {where}; profile {name!r}"
        + (f", organization {chosen}." if chosen else ".")
    )


class _ShowURL:
    """Prints the consent URL and the redirect URI the API console must list."""

    def __init__(self, no_browser: bool) -> None:
        self.no_browser = no_browser
        self.redirect_uri: str | None = None

    def __call__(self, url: str) -> None:
        from urllib.parse import parse_qs, urlsplit

        found = parse_qs(urlsplit(url).query).get("redirect_uri") or []
        self.redirect_uri = found[0] if found else None
        if self.no_browser:
            _say("Open this URL in a browser to authorize zbooks:")
        else:
            _say("Opening the browser; if it does not open, visit:")
        sys.stderr.write(url + "\n")
        sys.stderr.flush()
        if self.redirect_uri:
            _say(
                f"The client's redirect URI in api-console.zoho.com must be exactly "
                f"{self.redirect_uri} (otherwise Zoho shows an error and no redirect arrives)."
            )
        _say("Waiting for the redirect ...")


def _show_url(no_browser: bool) -> _ShowURL:
    return _ShowURL(no_browser)


def _profile_store(name: str, kind: str) -> TokenStore:
    from zbooks.auth.tokens import FileStore, KeyringStore
    from zbooks.config import token_path

    if kind == "keyring":
        return KeyringStore(username=name)
    return FileStore(token_path(name))


def _discover_org(name: str, wanted: str | None) -> str | None:
    from zbooks.errors import ZBooksError

    try:
        with open_client(name) as client:
            orgs = client.organizations()
    except ZBooksError as exc:
        _say(f"Note: could not list organizations ({exc.message}).")
        return wanted
    return _choose_org(orgs, wanted)


# --------------------------------------------------------------------------- logout


@logout_app.command()
def logout(profile: ProfileOpt = None) -> None:
    """Revoke the profile's refresh token at Zoho and delete the local tokens."""
    import httpx2

    from zbooks.auth.oauth import OAuthClient
    from zbooks.errors import ZBooksError

    settings = settings_for(profile)
    store = store_for(settings)
    token = store.load()
    if token is None:
        _say(f"Profile {settings.profile!r} has no stored tokens; nothing to do.")
        return
    revocable = token.refresh_token or token.access_token
    if revocable:
        oauth = OAuthClient(
            token.accounts_server or settings.endpoints.accounts_url,
            settings.client_id or "",
            token.client_secret or "",
            timeout=15.0,
        )
        try:
            oauth.revoke(revocable)
        except (ZBooksError, httpx2.HTTPError, OSError) as exc:
            _say(f"Warning: could not revoke the token at Zoho ({exc}).")
            _say("Remove the app under Connected Apps at accounts.zoho.com if it still appears.")
        finally:
            oauth.close()
    store.delete()
    _say(f"Logged out of profile {settings.profile!r}; local tokens deleted.")


# --------------------------------------------------------------------------- orgs


@orgs_app.command()
def orgs(
    profile: ProfileOpt = None,
    use: Annotated[
        str | None,
        typer.Option("--use", metavar="ID", help="Make this organization the profile's default."),
    ] = None,
    output: OutputOpt = None,
) -> None:
    """List the organizations the login can reach (the profile's default is marked)."""
    from zbooks.cli.output import Printer, resolve_format

    fmt = resolve_format(output)
    with open_client(profile) as client:
        found = client.organizations()
        current = client.organization_id
    if use:
        current = _use_org(profile, use, found)
        _say(f"Organization {use} is now the default of profile {client.settings.profile!r}.")
    rows = [
        {
            "organization_id": str(o.get("organization_id")),
            "name": o.get("name"),
            "selected": str(o.get("organization_id")) == current,
            "is_default_org": o.get("is_default_org"),
            "plan_name": o.get("plan_name"),
            "currency_code": o.get("currency_code"),
        }
        for o in found
    ]
    Printer(fmt, module="orgs").records(rows)


def _use_org(profile: str | None, org_id: str, found: list[dict[str, Any]]) -> str:
    from zbooks.config import Profile

    ids = [str(o.get("organization_id")) for o in found]
    if org_id not in ids:
        listing = ", ".join(f"{o.get('organization_id')} ({o.get('name')})" for o in found)
        raise CliError(
            f"Organization {org_id} is not one of this login's organizations.",
            hint=f"Choose one of: {listing}.",
            exit_code=AUTH,
        )
    config = _load_config()
    name = profile_name(profile) or os.environ.get("ZBOOKS_PROFILE") or config.default_profile
    entry = config.get(name) or Profile(name=name)
    entry.organization_id = org_id
    config.upsert(entry)
    config.save()
    return org_id


# --------------------------------------------------------------------------- whoami


def _token_summary(token: Token | None) -> dict[str, Any]:
    from zbooks.auth.tokens import mask

    if token is None:
        return {"logged_in": False}
    remaining = None if token.expires_at is None else int(token.expires_at - time.time())
    return {
        "logged_in": True,
        "grant": "client_credentials" if is_client_credentials(token) else "refresh_token",
        "refresh_token": mask(token.refresh_token),
        "access_token": mask(token.access_token),
        "access_token_expires_in": remaining,
        "scope": token.scope,
        "api_domain": token.api_domain,
        "accounts_server": token.accounts_server,
        "client_secret": "stored" if token.client_secret else "<none>",
    }


@whoami_app.command()
def whoami(profile: ProfileOpt = None, output: OutputOpt = None) -> None:
    """Show the profile, where each setting came from, the token and the signed-in user."""
    from zbooks.cli.output import Printer, resolve_format
    from zbooks.errors import ZBooksError

    fmt = resolve_format(output)
    settings = settings_for(profile)
    token = store_for(settings).load()
    info: dict[str, Any] = {
        "profile": settings.profile,
        "region": settings.endpoints.region.key if settings.endpoints.region else None,
        "accounts_url": settings.endpoints.accounts_url,
        "api_url": settings.endpoints.api_url,
        "client_id": settings.client_id,
        "organization_id": settings.organization_id,
        "sources": dict(settings.sources),
        **_token_summary(token),
    }
    if token is not None or os.environ.get("ZBOOKS_REFRESH_TOKEN"):
        try:
            with open_client(profile) as client:
                user = client.get("/users/me").get("user", {})
            info["user_name"] = user.get("name")
            info["user_email"] = user.get("email")
            info["user_role"] = user.get("role_name")
        except ZBooksError as exc:
            info["user"] = f"unavailable: {exc.message}"
    Printer(fmt).record(info)
    if token is None and not os.environ.get("ZBOOKS_REFRESH_TOKEN"):
        # Scripts test `zbooks whoami` to learn whether they are signed in.
        raise CliError(
            f"Not logged in (profile {settings.profile!r}).",
            hint=f"Run `zbooks login --profile {settings.profile}`.",
            exit_code=AUTH,
        )


# --------------------------------------------------------------------------- profiles


@profiles_app.command("list")
def profiles_list(output: OutputOpt = None) -> None:
    """Every profile in the config file; the default one is marked."""
    from zbooks.cli.output import Printer, resolve_format

    fmt = resolve_format(output)
    config = _load_config()
    rows = []
    for name, entry in sorted(config.profiles.items()):
        token = _profile_store(name, entry.token_store).load()
        rows.append(
            {
                "name": name,
                "default": name == config.default_profile,
                "region": entry.region,
                "accounts_url": entry.accounts_url,
                "client_id": entry.client_id,
                "organization_id": entry.organization_id,
                "logged_in": token is not None,
            }
        )
    Printer(fmt).records(rows)


@profiles_app.command("use")
def profiles_use(name: Annotated[str, typer.Argument(metavar="NAME")]) -> None:
    """Make NAME the default profile."""
    config = _load_config()
    if config.get(name) is None:
        known = ", ".join(sorted(config.profiles)) or "none yet"
        raise CliError(
            f"No profile named {name!r} (known: {known}).",
            hint=f"Create it with `zbooks login --profile {name}`.",
            exit_code=AUTH,  # the same exit as `--profile nosuch` on any command
        )
    config.default_profile = name
    config.save()
    _say(f"Default profile is now {name!r}.")


@profiles_app.command("show")
def profiles_show(
    name: Annotated[str | None, typer.Argument(metavar="[NAME]")] = None,
    output: OutputOpt = None,
) -> None:
    """A profile's settings and token state, secrets masked."""
    from zbooks.cli.output import Printer, resolve_format

    fmt = resolve_format(output)
    config = _load_config()
    wanted = name or GLOBALS.profile or config.default_profile
    entry = config.get(wanted)
    if entry is None:
        raise CliError(
            f"No profile named {wanted!r}.",
            hint="`zbooks profiles list` shows the profiles; `zbooks login` creates one.",
            exit_code=AUTH,
        )
    token = _profile_store(wanted, entry.token_store).load()
    record: dict[str, Any] = {
        "name": wanted,
        "default": wanted == config.default_profile,
        **entry.to_toml(),
        "config_file": str(config.path),
        **_token_summary(token),
    }
    Printer(fmt).record(record)
