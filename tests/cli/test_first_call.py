"""Issue #12, point 5: doctor and login catch the first-call failures of Zoho's
getting-started troubleshooting list, against a sandbox on loopback."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.cli.conftest import Login, Runner, Sandbox
from tests.loopback import serving
from zbooks.config import ConfigFile


class _NotZoho(BaseHTTPRequestHandler):
    """What a proxy or firewall often does: 404 with an empty body, for everything."""

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def not_zoho() -> Iterator[str]:
    with serving(_NotZoho) as url:
        yield url


def _access_token(home: Path) -> str:
    return str(json.loads((home / "tokens" / "default.json").read_text())["access_token"])


def test_doctor_spends_no_token_request_with_a_valid_access_token(
    cli: Runner, logged_in: Login, home: Path
) -> None:
    before = _access_token(home)
    result = cli("doctor", "--module", "invoices")
    assert result.code == 0, result.out
    assert "No problems found." in result.out
    assert "SKIP  refresh token: not checked: a valid access token is cached" in result.out
    assert "--refresh" in result.out
    assert "PASS  scopes: ZohoBooks.invoices.READ: GET /invoices works" in result.out
    assert _access_token(home) == before  # no token request was made

    refreshed = cli("doctor", "--refresh")
    assert refreshed.code == 0, refreshed.out
    assert "PASS  refresh token" in refreshed.out
    assert _access_token(home) != before  # --refresh spent exactly the token request


def test_doctor_refreshes_when_the_cached_token_has_expired(
    cli: Runner, logged_in: Login, home: Path
) -> None:
    path = home / "tokens" / "default.json"
    data = json.loads(path.read_text())
    data["expires_at"] = 1.0
    path.write_text(json.dumps(data))
    result = cli("doctor")
    assert result.code == 0, result.out
    assert "PASS  refresh token" in result.out
    assert _access_token(home) != data["access_token"]


def _point_profile(**urls: str) -> None:
    config = ConfigFile.load()
    profile = config.profiles["default"]
    for key, value in urls.items():
        setattr(profile, key, value)
    config.save()


def test_an_answer_that_is_not_zoho_fails(
    cli: Runner, logged_in: Login, not_zoho: str, home: Path
) -> None:
    _point_profile(api_url=f"{not_zoho}/books/v3")
    result = cli("doctor")
    assert result.code == 5, result.out
    assert "No problems found." not in result.out
    failed = [line for line in result.out.splitlines() if line.strip().startswith("FAIL  API host")]
    assert failed and "HTTP 404 with no body" in failed[0] and "not from Zoho" in failed[0]
    assert "proxy" in result.out and "firewall" in result.out and "wrong" in result.out

    path = home / "tokens" / "default.json"
    data = json.loads(path.read_text())
    data["accounts_server"] = not_zoho
    path.write_text(json.dumps(data))
    _point_profile(accounts_url=not_zoho)
    both = cli("doctor")
    assert both.code == 5
    assert re.search(r"FAIL  accounts host: .*not from Zoho", both.out)


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        ("ZohoBooks.invoice.READ", "Did you mean ZohoBooks.invoices.READ?"),
        ("ZohoBooks.invoices.FETCH", "unknown operation 'FETCH'"),
        ("invoices", "is not Service.scope.OPERATION"),
        ("ZohoBooks.fullaccess.READ", "only ZohoBooks.fullaccess.all"),
        ("ZohoBooks.contacts.READ,ZohoBooks.bils.CREATE", "ZohoBooks.bills.CREATE"),
    ],
)
def test_login_validates_scopes_before_the_consent_page(
    cli: Runner, sandbox: Sandbox, scopes: str, message: str
) -> None:
    result = cli(
        "login",
        "--scopes",
        scopes,
        "--client-id",
        "1000.ANY",
        "--client-secret",
        "anything",
        "--accounts-url",
        sandbox.base_url,
        "--no-browser",
        "--timeout",
        "1",
        "--port",
        "0",
    )
    assert result.code == 1
    assert message in result.err
    assert "/oauth/v2/auth" not in result.err  # nobody was sent to a consent page


def test_login_names_the_redirect_uri_at_start_and_on_timeout(
    cli: Runner, sandbox: Sandbox
) -> None:
    result = cli(
        "login",
        "--scopes",
        "ZohoBooks.invoices.READ,ZohoBooks.settings.ALL",
        "--client-id",
        "1000.ANY",
        "--client-secret",
        "anything",
        "--accounts-url",
        sandbox.base_url,
        "--no-browser",
        "--timeout",
        "1",
        "--port",
        "0",
    )
    assert result.code == 1
    start = re.search(r"redirect URI in api-console\.zoho\.com must be exactly (\S+)", result.err)
    assert start, result.err
    uri = start.group(1)
    assert uri.startswith("http://127.0.0.1:")
    hint = [line for line in result.err.splitlines() if line.startswith("Hint: ")]
    assert hint and uri in hint[0] and "redirect URI" in hint[0]
