"""``zbooks doctor`` names each failure it claims to detect, with its fix, against a
sandbox: wrong secret, unknown client, revoked refresh token, missing scope, wrong
organization. It never prints a secret."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest

from tests.cli.conftest import Login, Result, Runner, Sandbox, login_with_code
from zbooks.cli.doctor import _covers, mask_proxy
from zbooks.config import ConfigFile


def _line(result: Result, status: str, name: str) -> str:
    lines = result.out.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith(f"{status}  {name}:"):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            return line + "\n" + (following if following.strip().startswith("Fix:") else "")
    raise AssertionError(f"no {status} {name} line in:\n{result.out}")


def _secrets(home: Path, login: Login) -> list[str]:
    stored = json.loads((home / "tokens" / "default.json").read_text())
    return [login.client_secret, stored["refresh_token"], stored["access_token"]]


def _assert_no_secret(result: Result, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in result.out and secret not in result.err


def _edit_token(home: Path, **changes: str) -> None:
    path = home / "tokens" / "default.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def _edit_profile(**changes: str) -> None:
    config = ConfigFile.load()
    profile = config.profiles["default"]
    for key, value in changes.items():
        setattr(profile, key, value)
    config.save()


def test_healthy_profile_passes_every_check(
    cli: Runner, sandbox: Sandbox, logged_in: Login, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://user:hunter2@proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    result = cli("doctor", "--module", "invoices", "--refresh")
    assert result.code == 0, result.out
    for name in ("config", "accounts host", "API host", "client id", "client secret",
                 "refresh token", "data centre", "scopes", "organization"):  # fmt: skip
        _line(result, "PASS", name)
    assert "No problems found." in result.out
    assert "HTTPS_PROXY=http://user:***@proxy.invalid:3128" in result.out
    assert "hunter2" not in result.out
    assert sandbox.server.app.demo.org_id in _line(result, "PASS", "organization")
    _assert_no_secret(result, _secrets(home, logged_in))
    checks = json.loads(cli("doctor", "--output", "json", "--refresh").out)
    assert {c["status"] for c in checks} == {"pass"}


def test_wrong_client_secret(cli: Runner, logged_in: Login, home: Path) -> None:
    secrets = _secrets(home, logged_in)
    _edit_token(home, client_secret="0" * 42)
    result = cli("doctor", "--refresh")
    assert result.code == 2
    _line(result, "PASS", "client id")
    failed = _line(result, "FAIL", "client secret")
    assert "invalid_client_secret" in failed and "api-console.zoho.com" in failed
    _line(result, "SKIP", "refresh token")
    _assert_no_secret(result, [*secrets, "0" * 42])


def test_unknown_client_suggests_the_data_centre(cli: Runner, logged_in: Login, home: Path) -> None:
    _edit_profile(client_id="1000.UNKNOWNCLIENTIDFORTHISDC0000000")
    result = cli("doctor", "--refresh")
    assert result.code == 2
    failed = _line(result, "FAIL", "client id")
    assert "invalid_client" in failed and "invalid_client_secret" not in failed
    assert "data centre" in failed and "--region" in failed and "eu" in failed
    _line(result, "SKIP", "client secret")
    _assert_no_secret(result, _secrets(home, logged_in))


def test_revoked_refresh_token(cli: Runner, sandbox: Sandbox, logged_in: Login, home: Path) -> None:
    refresh = json.loads((home / "tokens" / "default.json").read_text())["refresh_token"]
    response = httpx2.post(f"{sandbox.base_url}/oauth/v2/token/revoke", data={"token": refresh})
    assert response.json()["status"] == "success"
    result = cli("doctor", "--refresh")
    assert result.code == 2
    _line(result, "PASS", "client secret")
    failed = _line(result, "FAIL", "refresh token")
    assert "revoked" in failed and "zbooks login" in failed and "20 refresh tokens" in failed
    _line(result, "SKIP", "organization")
    # Ordinary commands fail the same way, with exit code 2 and a hint.
    call = cli("contacts", "list")
    assert call.code == 2 and "invalid_code" in call.err and "Hint:" in call.err


def test_missing_scope_is_named(cli: Runner, sandbox: Sandbox) -> None:
    login_with_code(cli, sandbox, "ZohoBooks.contacts.READ,ZohoBooks.settings.READ")
    result = cli("doctor", "--module", "invoices", "--module", "contacts")
    assert result.code == 2
    failed = _line(result, "FAIL", "scopes")
    assert "401 code 57" in failed and "ZohoBooks.invoices.READ" in failed
    assert "--scopes ZohoBooks.contacts.READ,ZohoBooks.settings.READ,ZohoBooks.invoices.READ" in (
        failed
    )
    assert "ZohoBooks.contacts.READ: GET /contacts works" in result.out
    _line(result, "PASS", "organization")
    # A scope asked for by name is judged from the token's scope string.
    named = cli("doctor", "--scope", "ZohoBooks.bills.CREATE")
    assert "the token does not grant ZohoBooks.bills.CREATE" in _line(named, "FAIL", "scopes")


def test_wrong_organization_lists_the_real_ones(
    cli: Runner, sandbox: Sandbox, logged_in: Login
) -> None:
    _edit_profile(organization_id="999999")
    result = cli("doctor")
    assert result.code == 2
    failed = _line(result, "FAIL", "organization")
    assert "6041" in failed and "999999" in failed
    assert f"{sandbox.server.app.demo.org_id} (Zylker Demo)" in failed
    assert "zbooks orgs --use ID" in failed


def test_no_login_at_all(cli: Runner) -> None:
    result = cli("doctor")
    assert result.code == 2
    assert "zbooks login" in _line(result, "FAIL", "config")


def test_unreachable_hosts(cli: Runner, logged_in: Login) -> None:
    _edit_profile(accounts_url="http://127.0.0.1:9", api_url="http://127.0.0.1:9/books/v3")
    _edit_token(Path(ConfigFile.load().path).parent, accounts_server="http://127.0.0.1:9")
    result = cli("doctor")
    assert result.code == 5
    assert "HTTPS_PROXY" in _line(result, "FAIL", "accounts host")
    _line(result, "SKIP", "client id")


def test_scope_coverage_rules() -> None:
    assert _covers("ZohoBooks.fullaccess.all", "ZohoBooks.invoices.CREATE") is True
    assert _covers("ZohoBooks.invoices.ALL", "ZohoBooks.invoices.READ") is True
    assert _covers("ZohoBooks.invoices.READ ZohoBooks.contacts.READ", "zohobooks.contacts.read")
    assert _covers("ZohoBooks.invoices.READ", "ZohoBooks.invoices.CREATE") is False
    assert _covers(None, "ZohoBooks.invoices.READ") is None


def test_proxy_passwords_are_masked() -> None:
    assert mask_proxy("http://u:p@h:1") == "http://u:***@h:1"
    assert mask_proxy("http://h:1") == "http://h:1"
