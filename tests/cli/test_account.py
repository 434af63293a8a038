"""login / logout / orgs / whoami / profiles against a sandbox on loopback."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

from tests.cli.conftest import Login, Runner, Sandbox, login_with_code


def test_login_with_code_stores_secrets_only_in_the_token_store(
    cli: Runner, sandbox: Sandbox, home: Path
) -> None:
    login = login_with_code(cli, sandbox)
    config = tomllib.loads((home / "config.toml").read_text())
    profile = config["profiles"]["default"]
    assert config["default_profile"] == "default"
    assert profile["client_id"] == login.client_id
    assert profile["organization_id"] == sandbox.server.app.demo.org_id
    assert profile["accounts_url"] == sandbox.base_url
    assert login.client_secret not in (home / "config.toml").read_text()
    token_file = home / "tokens" / "default.json"
    stored = json.loads(token_file.read_text())
    assert stored["client_secret"] == login.client_secret
    assert stored["refresh_token"].startswith("1000.")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_orgs_lists_the_login_organizations(
    cli: Runner, sandbox: Sandbox, logged_in: Login
) -> None:
    result = cli("orgs")
    assert result.code == 0, result.err
    orgs = json.loads(result.out)
    assert [o["organization_id"] for o in orgs] == [sandbox.server.app.demo.org_id]
    assert orgs[0]["selected"] is True


def test_orgs_use_rejects_a_foreign_organization(cli: Runner, logged_in: Login) -> None:
    result = cli("orgs", "--use", "123")
    assert result.code == 2
    assert "Error: Organization 123 is not one of" in result.err
    assert "Hint: Choose one of:" in result.err


def test_orgs_use_switches_between_organizations(
    cli: Runner, sandbox: Sandbox, logged_in: Login, home: Path
) -> None:
    other = sandbox.control("POST", "/organizations", name="Second Org")["organization"]
    result = cli("orgs", "--use", other["organization_id"])
    assert result.code == 0, result.err
    config = tomllib.loads((home / "config.toml").read_text())
    assert config["profiles"]["default"]["organization_id"] == other["organization_id"]
    listed = json.loads(cli("orgs").out)
    selected = [o["organization_id"] for o in listed if o["selected"]]
    assert selected == [other["organization_id"]]
    assert cli("orgs", "--use", sandbox.server.app.demo.org_id).code == 0


def test_whoami_and_profiles_never_show_secrets(cli: Runner, logged_in: Login, home: Path) -> None:
    stored = json.loads((home / "tokens" / "default.json").read_text())
    for args in (("whoami",), ("profiles", "show"), ("profiles", "list")):
        result = cli(*args)
        assert result.code == 0, result.err
        for secret in (stored["refresh_token"], stored["access_token"], logged_in.client_secret):
            assert secret not in result.out
            assert secret not in result.err
    who = json.loads(cli("whoami").out)
    assert who["user_email"] == "demo@zbooks.sandbox"
    assert who["refresh_token"].endswith(f"({len(stored['refresh_token'])})")
    assert who["client_secret"] == "stored"


def test_second_login_with_a_working_token_needs_force(
    cli: Runner, sandbox: Sandbox, logged_in: Login
) -> None:
    _, _, code = sandbox.self_client()
    refused = cli("login", "--code", code, "--client-secret", logged_in.client_secret)
    assert refused.code == 1
    assert "already has a working refresh token" in refused.err
    assert "20 refresh tokens" in refused.err
    assert "--force" in refused.err
    # The Self Client code of another client cannot be used for this profile's client,
    # so mint one for the profile's own client and force the new login.
    code = sandbox.control(
        "POST", "/self-client/code", client_id=logged_in.client_id, scope="ZohoBooks.fullaccess.all"
    )["code"]
    forced = cli("login", "--code", code, "--force")
    assert forced.code == 0, forced.err
    assert cli("orgs").code == 0


def test_login_with_an_expired_or_used_code_is_an_auth_failure(
    cli: Runner, sandbox: Sandbox
) -> None:
    client_id, secret, code = sandbox.self_client()
    args = ("login", "--code", code, "--client-id", client_id, "--client-secret", secret,
            "--accounts-url", sandbox.base_url)  # fmt: skip
    assert cli(*args).code == 0
    again = cli(*args, "--force")
    assert again.code == 2
    assert "invalid_code" in again.err
    assert "Hint: Grant codes live 2 minutes" in again.err


def test_login_without_client_id_and_no_terminal_is_a_usage_error(
    cli: Runner, sandbox: Sandbox
) -> None:
    result = cli("login", "--code", "x", "--accounts-url", sandbox.base_url)
    assert result.code == 1
    assert "Client ID is needed" in result.err
    assert "ZBOOKS_CLIENT_ID" in result.err


def test_login_client_credentials(cli: Runner, sandbox: Sandbox, home: Path) -> None:
    client = sandbox.control("POST", "/clients", name="cc", client_type="self")
    org = sandbox.server.app.demo.org_id
    result = cli(
        "login", "--client-credentials", "--org", org, "--client-id", client["client_id"],
        "--client-secret", client["client_secret"], "--accounts-url", sandbox.base_url,
    )  # fmt: skip
    assert result.code == 0, result.err
    stored = json.loads((home / "tokens" / "default.json").read_text())
    assert "refresh_token" not in stored and stored["access_token"]
    listed = cli("contacts", "list", "--per-page", "2")
    assert listed.code == 0, listed.err
    assert len(json.loads(listed.out)) == 2


def test_client_credentials_needs_org(cli: Runner) -> None:
    result = cli("login", "--client-credentials", "--client-id", "x", "--client-secret", "y")
    assert result.code == 1
    assert "--org" in result.err


def test_logout_revokes_and_then_calls_fail_with_exit_2(
    cli: Runner, sandbox: Sandbox, logged_in: Login, home: Path
) -> None:
    refresh = json.loads((home / "tokens" / "default.json").read_text())["refresh_token"]
    result = cli("logout")
    assert result.code == 0, result.err
    assert not (home / "tokens" / "default.json").exists()
    after = cli("invoices", "list")
    assert after.code == 2
    assert after.err.startswith("Error: No refresh token for profile 'default'")
    assert "Hint: Run `zbooks login`" in after.err
    assert "Traceback" not in after.err
    # The refresh token is revoked at the accounts server, not only deleted locally.
    answer = httpx_refresh(sandbox, logged_in, refresh)
    assert answer.get("error") == "invalid_code"


def httpx_refresh(sandbox: Sandbox, login: Login, refresh: str) -> dict[str, str]:
    import httpx2

    response = httpx2.post(
        f"{sandbox.base_url}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": login.client_id,
            "client_secret": login.client_secret,
            "refresh_token": refresh,
        },
    )
    body: dict[str, str] = response.json()
    return body


def test_profiles_use_and_named_profiles(cli: Runner, sandbox: Sandbox, home: Path) -> None:
    login_with_code(cli, sandbox)
    login_with_code(cli, sandbox, "ZohoBooks.fullaccess.all", "--profile", "work")
    listed = {p["name"]: p for p in json.loads(cli("profiles", "list").out)}
    assert set(listed) == {"default", "work"}
    assert listed["default"]["default"] is True
    assert cli("profiles", "use", "work").code == 0
    assert tomllib.loads((home / "config.toml").read_text())["default_profile"] == "work"
    missing = cli("profiles", "use", "nope")
    assert missing.code == 2 and "zbooks login --profile nope" in missing.err  # like --profile
    assert cli("--profile", "default", "orgs").code == 0
    unknown = cli("--profile", "nope", "orgs")
    assert unknown.code == 2 and "No profile named 'nope'" in unknown.err
