"""``zbooks doctor``: Zoho's troubleshooting list, run against the configured profile.

Each check prints PASS, WARN, FAIL or SKIP with what it saw and, on failure, the fix.
The checks follow the order in which problems mask each other: without a reachable
accounts server the credentials cannot be tested, without a working refresh token the
scopes cannot, and so on; a check whose prerequisite failed is skipped, not failed, so
the first FAIL is the one to fix.

Zoho allows 10 token requests per 10 minutes, so doctor spends none while the cached
access token is valid (the API probes prove it); it refreshes (one request, to prove the
client id, secret and refresh token; the new access token is kept) only with
``--refresh`` or when no valid access token is cached. An HTTP answer that is not Zoho's
(a proxy or firewall page, a wrong URL) fails the host check instead of passing. It never prints
a token or secret; proxy URLs are shown with any password masked.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer

from zbooks.cli.errors import AUTH, OK, SERVER, USAGE
from zbooks.cli.session import is_client_credentials, open_client, settings_for, store_for

if TYPE_CHECKING:
    from zbooks.auth.tokens import Token, TokenStore
    from zbooks.config import Settings

doctor_app = typer.Typer(rich_markup_mode=None)

PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
SKEW_FAIL = 300.0  # seconds; past this, "expires in 3600 s" arithmetic goes wrong
SKEW_WARN = 60.0
DC_CHOICES = "com (US), eu, in, com.au, jp, ca, com.cn, sa"


@dataclass
class Check:
    name: str
    status: str  # pass | warn | fail | skip
    detail: str
    fix: str | None = None
    exit_code: int = AUTH


def mask_proxy(url: str) -> str:
    """``http://user:secret@proxy:3128`` -> ``http://user:***@proxy:3128``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable>"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{parts.username}:***@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _looks_like_zoho(response: Any, keys: tuple[str, ...]) -> bool:
    """Zoho answers these probes with a JSON object carrying one of ``keys``; a proxy,
    firewall or wrong host answers with HTML, an empty body or some other JSON."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and any(key in body for key in keys)


def _covers(granted: str | None, needed: str) -> bool | None:
    """Whether a token's scope string grants ``needed``; None when Zoho did not say."""
    if not granted:
        return None
    have = {s.strip().lower() for s in granted.replace(",", " ").split() if s.strip()}
    want = needed.lower()
    if "zohobooks.fullaccess.all" in have or want in have:
        return True
    service, _, rest = want.partition(".")
    scope, _, _operation = rest.partition(".")
    return f"{service}.{scope}.all" in have


class Doctor:
    """Runs the checks in order; ``checks`` collects the results."""

    def __init__(
        self, profile: str | None, modules: list[str], scopes: list[str], refresh: bool = False
    ) -> None:
        self.profile = profile
        self.refresh = refresh
        self.modules = modules
        self.scopes = scopes
        self.checks: list[Check] = []
        self.settings: Settings | None = None
        self.store: TokenStore | None = None
        self.token: Token | None = None
        self.server_date: float | None = None
        self.token_ok = False

    def add(self, name: str, status: str, detail: str, fix: str | None = None, **kw: Any) -> None:
        self.checks.append(Check(name, status, detail, fix, **kw))

    # ---------------------------------------------------------------------------- run
    def run(self) -> list[Check]:
        if self.config():
            self.proxies()
            reachable = self.network()
            self.clock()
            if reachable:
                self.credentials()
            else:
                for name in ("client id", "client secret", "refresh token"):
                    self.add(name, "skip", "the accounts server is not reachable")
            self.region()
            self.scope_checks()
            self.organization()
        return self.checks

    # ---------------------------------------------------------------------------- checks
    def config(self) -> bool:
        from zbooks.errors import ZBooksError

        try:
            settings = settings_for(self.profile)
            store = store_for(settings)
            token = store.load()
        except ZBooksError as exc:
            self.add("config", "fail", exc.message, exc.hint, exit_code=USAGE)
            return False
        self.settings, self.store, self.token = settings, store, token
        where = f"profile {settings.profile!r}"
        if not settings.profile_exists and not os.environ.get("ZBOOKS_CLIENT_ID"):
            self.add(
                "config",
                "fail",
                f"No {where} in the config file and no ZBOOKS_* credentials in the environment.",
                f"Run `zbooks login --profile {settings.profile}` (or set ZBOOKS_CLIENT_ID, "
                "ZBOOKS_CLIENT_SECRET and ZBOOKS_REFRESH_TOKEN).",
            )
            return False
        if token is None and not os.environ.get("ZBOOKS_REFRESH_TOKEN"):
            self.add(
                "config",
                "fail",
                f"{where} has no stored tokens (logged out, or never logged in).",
                f"Run `zbooks login --profile {settings.profile}`.",
            )
            return False
        if not settings.client_id:
            self.add("config", "fail", f"{where} has no client id.", "Run `zbooks login`.")
            return False
        origin = settings.sources.get("client_id", "profile")
        self.add(
            "config",
            "pass",
            f"{where}; client id {settings.client_id} (from {origin}); "
            f"accounts {settings.endpoints.accounts_url}; API {settings.endpoints.api_url}",
        )
        return True

    def proxies(self) -> None:
        shown = []
        for name in PROXY_VARS:
            for variant in (name, name.lower()):
                value = os.environ.get(variant)
                if value:
                    shown.append(f"{variant}={mask_proxy(value)}")
        detail = "; ".join(shown) if shown else "no proxy variables set (direct connection)"
        self.add("proxy", "pass", detail)

    def _probe(self, url: str, zoho_keys: tuple[str, ...]) -> tuple[bool, str, float | None]:
        """(answered like Zoho, what was seen, the server's Date). ``zoho_keys``: one of
        them must be in the JSON object Zoho answers with at ``url``."""
        import httpx2

        started = time.monotonic()
        try:
            response = httpx2.get(url, timeout=10.0, follow_redirects=False)
        except httpx2.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}", None
        elapsed = (time.monotonic() - started) * 1000
        if not _looks_like_zoho(response, zoho_keys):
            kind = response.headers.get("content-type", "").split(";")[0] or "no content type"
            body = f"{len(response.content)} bytes of {kind}" if response.content else "no body"
            return (
                False,
                f"HTTP {response.status_code} with {body}: this answer is not from Zoho "
                "(a proxy or firewall answered, or the URL is wrong)",
                None,
            )
        date = response.headers.get("date")
        stamp: float | None = None
        if date:
            try:
                stamp = parsedate_to_datetime(date).timestamp()
            except (TypeError, ValueError):
                stamp = None
        return True, f"HTTP {response.status_code} in {elapsed:.0f} ms", stamp

    def network(self) -> bool:
        assert self.settings is not None
        accounts = (self.token.accounts_server if self.token else None) or (
            self.settings.endpoints.accounts_url
        )
        api = self.settings.endpoints.api_url
        # UNCONFIRMED shapes: Zoho's serverinfo answers JSON with result/locations, and
        # the API answers every unauthenticated call with a JSON {"code": 57, ...}.
        ok_accounts, detail_accounts, _ = self._probe(
            f"{accounts}/oauth/serverinfo", ("result", "locations", "error")
        )
        ok_api, detail_api, stamp = self._probe(f"{api}/organizations", ("code",))
        self.server_date = stamp
        fix = (
            "Check the network and the proxy variables above; behind a proxy set HTTPS_PROXY "
            "(or NO_PROXY for hosts it must not touch), ask whether a firewall intercepts "
            "the connection, and check the URLs (region) with `zbooks whoami`."
        )
        for label, url, ok, detail in (
            ("accounts host", accounts, ok_accounts, detail_accounts),
            ("API host", api, ok_api, detail_api),
        ):
            self.add(
                label,
                "pass" if ok else "fail",
                f"{url}: {detail}",
                None if ok else fix,
                exit_code=SERVER,
            )
        return ok_accounts

    def clock(self) -> None:
        if self.server_date is None:
            self.add("clock", "skip", "no Date header from the API host to compare with")
            return
        skew = time.time() - self.server_date
        detail = f"local clock differs from the server's by {skew:+.0f} s"
        fix = "Synchronise the system clock (NTP); token expiry is computed locally."
        if abs(skew) > SKEW_FAIL:
            self.add("clock", "fail", detail, fix, exit_code=USAGE)
        elif abs(skew) > SKEW_WARN:
            self.add("clock", "warn", detail, fix)
        else:
            self.add("clock", "pass", detail)

    def credentials(self) -> None:
        """One token request proves client id, secret and refresh token together."""
        import httpx2

        from zbooks.auth.oauth import OAuthClient
        from zbooks.errors import (
            InvalidClientError,
            InvalidClientSecretError,
            InvalidGrantError,
            OAuthError,
            OAuthThrottledError,
        )

        assert self.settings is not None and self.store is not None
        settings, token = self.settings, self.token
        if not self.refresh and token is not None and token.is_fresh():
            # Zoho allows 10 token requests per 10 minutes: a valid cached access token is
            # checked by the API probes below, never by minting another one.
            remaining = (
                ""
                if token.expires_at is None
                else (f" (expires in {token.expires_at - time.time():.0f} s)")
            )
            detail = f"not checked: a valid access token is cached{remaining}"
            self.add("client id", "skip", detail)
            self.add("client secret", "skip", detail)
            self.add(
                "refresh token",
                "skip",
                detail + "; `zbooks doctor --refresh` checks it with one token request",
            )
            self.token_ok = True
            return
        refresh = os.environ.get("ZBOOKS_REFRESH_TOKEN") or (token.refresh_token if token else None)
        secret = settings.client_secret or (token.client_secret if token else None)
        if not secret:
            self.add(
                "client secret",
                "fail",
                "no client secret in the token store or ZBOOKS_CLIENT_SECRET",
                "Run `zbooks login` (it stores the secret with the tokens).",
            )
            return
        accounts = (token.accounts_server if token else None) or settings.endpoints.accounts_url
        oauth = OAuthClient(accounts, settings.client_id or "", secret, timeout=15.0)
        client_credentials = is_client_credentials(token) and not refresh
        try:
            if client_credentials:
                if not settings.organization_id:
                    self.add("client id", "fail", "client-credentials login without an org")
                    return
                fresh = oauth.client_credentials(settings.organization_id)
            elif refresh:
                fresh = oauth.refresh(refresh)
            else:
                self.add(
                    "refresh token",
                    "fail",
                    "no refresh token stored",
                    "Run `zbooks login`.",
                )
                return
        except InvalidClientError:
            region = settings.endpoints.region
            here = f"{region.name} ({region.key})" if region else accounts
            self.add(
                "client id",
                "fail",
                f"Zoho Accounts at {accounts} does not know client id {settings.client_id} "
                "(invalid_client).",
                f"Check the client id at api-console.zoho.com. Clients are registered per data "
                f"centre and this profile uses {here}: if your Zoho account lives in another "
                f"one, log in there with `zbooks login --region DC` (DC: {DC_CHOICES}), or "
                "enable that data centre for the client in the API console.",
            )
            self.add("client secret", "skip", "needs a known client id")
            self.add("refresh token", "skip", "needs a known client id")
            return
        except InvalidClientSecretError:
            self.add("client id", "pass", f"{settings.client_id} is known at {accounts}")
            self.add(
                "client secret",
                "fail",
                "the client secret does not match the client id (invalid_client_secret)",
                "Copy the secret again from api-console.zoho.com (it can differ per data "
                "centre) and run `zbooks login --client-secret ...`.",
            )
            self.add("refresh token", "skip", "needs the right client secret")
            return
        except InvalidGrantError:
            self.add("client id", "pass", f"{settings.client_id} is known at {accounts}")
            self.add("client secret", "pass", "accepted by Zoho Accounts")
            self.add(
                "refresh token",
                "fail",
                "the refresh token is revoked, deleted or evicted (invalid_code)",
                "Run `zbooks login` again. Zoho keeps only 20 refresh tokens per user and client "
                "and deletes the oldest when a 21st is made, so avoid logging in repeatedly.",
            )
            return
        except OAuthThrottledError as exc:
            self.add("refresh token", "warn", exc.message, exc.hint, exit_code=4)
            return
        except OAuthError as exc:
            self.add("client id", "fail", exc.message, exc.hint)
            return
        except httpx2.HTTPError as exc:
            self.add("client id", "fail", f"token request failed: {exc}", exit_code=SERVER)
            return
        finally:
            oauth.close()
        self.add("client id", "pass", f"{settings.client_id} is known at {accounts}")
        self.add("client secret", "pass", "accepted by Zoho Accounts")
        kind = "client credentials grant" if client_credentials else "refresh token"
        self.add("refresh token", "pass", f"{kind} works; a fresh access token was issued")
        if os.environ.get("ZBOOKS_REFRESH_TOKEN") is None:
            base = token or fresh
            self.token = base.merged(fresh)
            self.store.save(self.token)
        else:
            self.token = fresh
        self.token_ok = True

    def region(self) -> None:
        from zbooks.regions import region_for_url

        assert self.settings is not None
        token, endpoints = self.token, self.settings.endpoints
        if token is None or not token.api_domain:
            self.add("data centre", "skip", "the token names no api_domain")
            return
        issued = region_for_url(token.api_domain)
        if endpoints.region is not None:
            if issued is None or issued.key != endpoints.region.key:
                self.add(
                    "data centre",
                    "fail",
                    f"the token's api_domain is {token.api_domain} but the profile's region is "
                    f"{endpoints.region.key} ({endpoints.region.api_domain})",
                    f"Log in again with the right region: `zbooks login --region "
                    f"{issued.key if issued else 'DC'}`.",
                )
                return
            self.add(
                "data centre", "pass", f"{endpoints.region.name}: api_domain {token.api_domain}"
            )
            return
        api_origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoints.api_url))
        if api_origin.rstrip("/") != token.api_domain.rstrip("/"):
            self.add(
                "data centre",
                "warn",
                f"the API URL {endpoints.api_url} differs from the token's api_domain "
                f"{token.api_domain}",
                "Point --api-url at the api_domain the token was issued for.",
            )
            return
        self.add("data centre", "pass", f"custom endpoints; api_domain {token.api_domain}")

    def _wanted_scopes(self) -> list[tuple[str, str | None]]:
        """(scope, probe path or None) for each scope the user asks for."""
        from zbooks.cli.resources import normalize

        wanted: list[tuple[str, str | None]] = []
        if self.modules:
            from zbooks.resources import operations

            for module in self.modules:
                ops = [o for o in operations() if normalize(o.module) == normalize(module)]
                listing = next(
                    (o for o in ops if o.method == "list" and "{" not in o.path), None
                ) or next((o for o in ops if o.http_method == "GET" and "{" not in o.path), None)
                if listing is None:
                    self.add("scopes", "warn", f"no module named {module!r} to check")
                    continue
                wanted.append((listing.scope, listing.path))
        for scope in self.scopes:
            wanted.append((scope, None))
        if not wanted and self.settings is not None and self.settings.scopes:
            for scope in self.settings.scopes.replace(" ", ",").split(","):
                if scope.strip():
                    wanted.append((scope.strip(), None))
        return wanted

    def scope_checks(self) -> None:
        from zbooks.errors import AuthenticationError, OrganizationError, ZBooksError

        wanted = self._wanted_scopes()
        granted = self.token.scope if self.token else None
        if not wanted:
            self.add(
                "scopes",
                "pass",
                f"token grants: {granted or 'not reported by Zoho'} "
                "(use --module invoices or --scope ZohoBooks.invoices.READ to check a need)",
            )
            return
        for scope, probe in wanted:
            covered = _covers(granted, scope)
            have = [g for g in (granted or "").replace(",", " ").split() if g]
            union = ",".join(dict.fromkeys([*have, scope]))
            fix = (
                f"Log in again asking for it: `zbooks login --scopes {union}` "
                "(for a Self Client, generate a new code with that scope)."
            )
            if probe is None or not self.token_ok:
                self._static(scope, covered, fix)
                continue
            try:
                with open_client(self.profile) as client:
                    client.request("GET", probe, params={"per_page": 1})
            except AuthenticationError as exc:
                if exc.path != probe:
                    # The 57 came from discovering the organization (GET /organizations),
                    # not from the probe: the organization check reports that.
                    self._static(scope, covered, fix)
                    continue
                self.add(
                    "scopes",
                    "fail",
                    f"GET {probe} answers 401 code 57 with a fresh token: the token lacks {scope}",
                    fix,
                )
                continue
            except OrganizationError:
                pass  # the organization check reports this one
            except ZBooksError as exc:
                self.add("scopes", "warn", f"GET {probe} failed: {exc.message}")
                continue
            self.add("scopes", "pass", f"{scope}: GET {probe} works")

    def _static(self, scope: str, covered: bool | None, fix: str) -> None:
        """Judge a scope from the token's scope string alone (no probe possible)."""
        if covered is False:
            self.add("scopes", "fail", f"the token does not grant {scope}", fix)
        elif covered is True:
            self.add("scopes", "pass", f"the token grants {scope}")
        else:
            self.add("scopes", "skip", f"cannot tell whether {scope} is granted")

    def organization(self) -> None:
        from zbooks.errors import AuthenticationError, OrganizationError, ZBooksError

        if not self.token_ok:
            self.add("organization", "skip", "needs working credentials")
            return
        assert self.settings is not None
        configured = self.settings.organization_id
        orgs: list[dict[str, Any]] | None = None
        try:
            with open_client(self.profile) as client:
                orgs = client.organizations()
        except AuthenticationError:
            orgs = None  # the token may lack ZohoBooks.settings.READ; probe below instead
        except ZBooksError as exc:
            self.add("organization", "warn", f"could not list organizations: {exc.message}")
            return
        fix = "Choose one with `zbooks orgs --use ID` (or set ZBOOKS_ORGANIZATION_ID)."
        if orgs is not None:
            listing = ", ".join(f"{o.get('organization_id')} ({o.get('name')})" for o in orgs)
            ids = [str(o.get("organization_id")) for o in orgs]
            if configured and configured not in ids:
                self.add(
                    "organization",
                    "fail",
                    f"organization_id {configured} is not one of this user's organizations "
                    f"(code 6041); they are: {listing or 'none'}",
                    fix,
                )
            elif configured:
                name = next(
                    o.get("name") for o in orgs if str(o.get("organization_id")) == configured
                )
                self.add("organization", "pass", f"{configured} ({name})")
            elif len(orgs) == 1:
                self.add("organization", "pass", f"none configured; the only one is {listing}")
            elif not orgs:
                self.add(
                    "organization",
                    "fail",
                    "this user has no Zoho Books organization in this data centre",
                    "Create one in Zoho Books, or check the region.",
                )
            else:
                self.add(
                    "organization",
                    "fail",
                    f"no organization_id configured and the user has several (code 6024): "
                    f"{listing}",
                    fix,
                )
            return
        try:
            with open_client(self.profile) as client:
                client.request("GET", "/contacts", params={"per_page": 1})
        except OrganizationError as exc:
            names = ", ".join(
                f"{o.get('organization_id')} ({o.get('name')})" for o in exc.organizations
            )
            self.add(
                "organization",
                "fail",
                f"[code {exc.code}] {exc.message}" + (f" Organizations: {names}" if names else ""),
                fix,
            )
            return
        except ZBooksError:
            pass
        if not configured:
            self.add(
                "organization",
                "fail",
                "no organization_id configured, and the token cannot list organizations "
                "(it lacks ZohoBooks.settings.READ)",
                "Name the organization: `zbooks login --org ID ...` or ZBOOKS_ORGANIZATION_ID "
                "(or log in with a scope that includes ZohoBooks.settings.READ).",
            )
            return
        self.add(
            "organization",
            "warn",
            f"{configured}; cannot list organizations to confirm it (the token lacks "
            "ZohoBooks.settings.READ)",
        )


_MARKS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


def render(checks: list[Check], profile: str, stream: Any = None) -> None:
    out = stream or sys.stdout
    out.write(f"zbooks doctor: profile {profile!r}\n")
    for check in checks:
        out.write(f"  {_MARKS[check.status]}  {check.name}: {check.detail}\n")
        if check.fix and check.status in ("fail", "warn"):
            out.write(f"        Fix: {check.fix}\n")
    failed = [c for c in checks if c.status == "fail"]
    out.write(
        f"{len(failed)} problem{'s' if len(failed) != 1 else ''} found.\n"
        if failed
        else "No problems found.\n"
    )


@doctor_app.command()
def doctor(
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", metavar="NAME", help="Profile to check.")
    ] = None,
    module: Annotated[
        list[str] | None,
        typer.Option(
            "--module", "-m", metavar="MODULE", help="Check the token can read this module."
        ),
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", metavar="SCOPE", help="Check the token grants this scope."),
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", metavar="FORMAT", help="text (default) or json.")
    ] = None,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh",
            help="Also prove the client id, secret and refresh token with one token request "
            "(Zoho allows 10 per 10 minutes); by default a valid cached access token is used.",
        ),
    ] = False,
) -> None:
    """Run the troubleshooting checks against a profile and say how to fix what fails."""
    import json

    from zbooks.cli.session import GLOBALS, profile_name

    name = profile_name(profile)
    output = output or GLOBALS.output
    checks = Doctor(name, list(module or []), list(scope or []), refresh=refresh).run()
    if output and output.lower() == "json":
        sys.stdout.write(json.dumps([asdict(c) for c in checks], indent=2) + "\n")
    else:
        settings_name = name or os.environ.get("ZBOOKS_PROFILE") or _default_profile()
        render(checks, settings_name)
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        raise typer.Exit(failed[0].exit_code)
    raise typer.Exit(OK)


def _default_profile() -> str:
    from zbooks.config import ConfigFile

    return ConfigFile.load().default_profile
