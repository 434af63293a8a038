"""``zbooks demo``: Zoho's six getting-started steps, for real, on a local sandbox.

Everything happens over HTTP on loopback, exactly as against Zoho: the sandbox plays
Zoho Accounts and Zoho Books, a ``CallbackServer`` plays the app's redirect URI, and
the SDK makes the calls. Only the person is simulated: the consent page's Accept button
is pressed by POSTing its form. Nothing is read from or written to the user's profiles
(the SDK is pointed at a temporary config directory), and nothing leaves the machine.
"""

from __future__ import annotations

import re
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

demo_app = typer.Typer(rich_markup_mode=None)

_NONCE = re.compile(r'name="nonce" value="([^"]+)"')


class Narrator:
    """Numbered steps on stdout, with timings; plain text when not on a terminal."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(highlight=False)
        self.started = time.monotonic()

    def step(self, number: int | str, title: str) -> None:
        self.console.print(f"\n[bold cyan]{number}.[/] [bold]{title}[/]")

    def say(self, text: str) -> None:
        self.console.print(f"   {text}", soft_wrap=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


@contextmanager
def _sandbox(seed: str) -> Iterator[Any]:
    from zbooks.sandbox.config import SandboxConfig
    from zbooks.sandbox.server import SandboxServer

    # auto_approve=False: the demo answers the real consent page.
    config = SandboxConfig(port=0, seed=seed, auto_approve=False, token_ttl=3600)
    with SandboxServer(config) as server:
        yield server


def run_demo(narrator: Narrator, *, per_page: int = 10) -> None:
    import httpx2

    from zbooks.auth.login import CallbackServer
    from zbooks.auth.oauth import PKCE, OAuthClient, authorization_url, parse_redirect
    from zbooks.auth.tokens import MemoryStore, mask
    from zbooks.cli.errors import describe
    from zbooks.cli.output import Format, Printer
    from zbooks.core.client import Client
    from zbooks.errors import OrganizationError

    narrator.step(1, "Sign up: start a local Zoho (sandbox) with a seeded organization")
    with _sandbox("demo") as server, tempfile.TemporaryDirectory(prefix="zbooks-demo-") as home:
        base = server.base_url
        control = {"Authorization": f"Bearer {server.config.control_token}"}
        http = httpx2.Client(timeout=15.0)
        app = server.app
        narrator.say(f"Sandbox at {base}: Accounts at /oauth/v2, Books API at /books/v3")
        narrator.say(f"User {app.demo.email}, organization {app.demo.org_id}")

        with CallbackServer(port=0) as callback:
            narrator.step(2, "Register a client (api-console.zoho.com → Server-based Application)")
            response = http.post(
                f"{base}/_sandbox/clients",
                headers=control,
                json={
                    "name": "zbooks demo app",
                    "redirect_uris": [callback.redirect_uri],
                    "client_type": "server",
                },
            )
            response.raise_for_status()
            client_info = response.json()
            client_id, client_secret = client_info["client_id"], client_info["client_secret"]
            narrator.say(f"Redirect URI {callback.redirect_uri}")

            narrator.step(3, "Generate credentials")
            narrator.say(f"client_id {client_id}")
            narrator.say(f"client_secret {mask(client_secret)} (never printed in full)")

            narrator.step(4, "Authorize: consent page, Accept, redirect with a grant code")
            pkce = PKCE.generate()
            state = secrets.token_urlsafe(16)
            url = authorization_url(
                base,
                client_id=client_id,
                redirect_uri=callback.redirect_uri,
                scopes=("ZohoBooks.fullaccess.all",),
                state=state,
                pkce=pkce,
            )
            narrator.say(f"GET {url.split('?')[0]}?client_id=...&scope=...&state=...")
            page = http.get(url)
            found = _NONCE.search(page.text)
            if page.status_code != 200 or found is None:
                raise RuntimeError(f"the consent page did not render (HTTP {page.status_code})")
            narrator.say("Consent page shown; pressing Accept")
            answer = http.post(
                f"{base}/oauth/v2/auth/consent",
                data={"nonce": found.group(1), "decision": "accept"},
                follow_redirects=True,  # the browser follows the 302 to our loopback server
            )
            answer.raise_for_status()
            params = callback.wait(10.0)
        redirect = parse_redirect(params, expected_state=state)
        narrator.say(
            f"Redirect caught on 127.0.0.1:{callback.port}: state matches, "
            f"location={redirect.location}, accounts-server={redirect.accounts_server}"
        )

        narrator.step(5, "Get tokens: exchange the code (with the PKCE verifier)")
        oauth = OAuthClient(base, client_id, client_secret, http=http)
        token = oauth.exchange_code(
            redirect.code,
            redirect_uri=callback.redirect_uri,
            code_verifier=pkce.verifier,
            accounts_server=redirect.accounts_server,
        )
        narrator.say(
            f"access_token {mask(token.access_token)}, refresh_token {mask(token.refresh_token)}, "
            f"api_domain {token.api_domain}, expires in 1 h"
        )

        narrator.step(6, "Make a request: list invoices")
        store = MemoryStore(token)
        env = {"ZBOOKS_CONFIG_DIR": home}
        with Client(
            client_id=client_id,
            client_secret=client_secret,
            accounts_url=base,
            api_url=f"{base}/books/v3",
            token_store=store,
            env=env,
        ) as client:
            body = client.get("/invoices", params={"per_page": per_page, "sort_column": "date"})
            invoices = body.get("invoices", [])
            narrator.say(f"GET /books/v3/invoices → {len(invoices)} invoices (first page):")
            Printer(
                Format.table,
                module="invoices",
                stream=sys.stdout,
                columns=["invoice_number", "customer_name", "status", "date", "total", "balance"],
            ).records(invoices)

            narrator.step("+", "Refresh: one hour later the access token has expired")
            before = store.load()
            http.post(
                f"{base}/_sandbox/clock/advance",
                headers=control,
                json={"seconds": server.config.token_ttl + 60},
            ).raise_for_status()
            narrator.say("Sandbox clock advanced by 1 h; calling the API again")
            orgs = client.organizations()
            after = store.load()
            refreshed = (
                before is not None
                and after is not None
                and before.access_token != after.access_token
            )
            new = mask(after.access_token if after else None)
            narrator.say(
                "The API answered 401 code 57; zbooks refreshed the token once and replayed "
                f"the call: {len(orgs)} organization(s), new access token {new}"
                if refreshed
                else "The call succeeded without a refresh."
            )

            narrator.step("+", "An error and its hint: a wrong organization_id")
            try:
                client.get("/invoices", organization_id="999999999")
            except OrganizationError as exc:
                message, hint = describe(exc)
                narrator.say(f"[red]Error:[/] {message}")
                narrator.say(f"[yellow]Hint:[/] {hint}")
            else:
                raise RuntimeError("the sandbox accepted an organization that does not exist")
        http.close()
    narrator.console.print(
        f"\n[bold green]Done in {narrator.elapsed():.1f} s.[/] Against real Zoho: "
        "`zbooks login` then `zbooks invoices list`. Keep a sandbox running with "
        "`zbooks sandbox serve`."
    )


@demo_app.command()
def demo(
    per_page: Annotated[
        int, typer.Option("--per-page", min=1, max=200, help="Invoices to show.")
    ] = 10,
) -> None:
    """Walk sign-up, client registration, consent, token exchange and an API call on a
    local sandbox, then a token refresh and an error with its hint. Offline; touches no
    profile."""
    run_demo(Narrator(), per_page=per_page)
