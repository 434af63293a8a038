"""Region resolution and configuration precedence (argument > env > profile)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zbooks.config import ConfigFile, Profile, resolve_settings
from zbooks.errors import ConfigurationError
from zbooks.regions import REGIONS, get_region, resolve_endpoints


@pytest.mark.parametrize(
    ("name", "accounts", "api"),
    [
        ("com", "https://accounts.zoho.com", "https://www.zohoapis.com/books/v3"),
        ("us", "https://accounts.zoho.com", "https://www.zohoapis.com/books/v3"),
        ("eu", "https://accounts.zoho.eu", "https://www.zohoapis.eu/books/v3"),
        ("in", "https://accounts.zoho.in", "https://www.zohoapis.in/books/v3"),
        ("com.au", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au/books/v3"),
        ("au", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au/books/v3"),
        ("jp", "https://accounts.zoho.jp", "https://www.zohoapis.jp/books/v3"),
        ("ca", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca/books/v3"),
        ("com.cn", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn/books/v3"),
        ("sa", "https://accounts.zoho.sa", "https://www.zohoapis.sa/books/v3"),
    ],
)
def test_every_data_centre(name: str, accounts: str, api: str) -> None:
    region = get_region(name)
    assert (region.accounts_url, region.api_url) == (accounts, api)
    assert get_region(accounts) == region  # an accounts URL identifies its region too


def test_eight_regions_and_unknown_region_error() -> None:
    assert len(REGIONS) == 8
    with pytest.raises(ConfigurationError, match="Unknown Zoho region"):
        get_region("mars")


def test_custom_urls_from_env_point_at_a_sandbox() -> None:
    env = {"ZBOOKS_ACCOUNTS_URL": "http://127.0.0.1:9/", "ZBOOKS_API_URL": "http://127.0.0.1:9"}
    endpoints = resolve_endpoints(env=env)
    assert endpoints.accounts_url == "http://127.0.0.1:9"
    assert endpoints.api_url == "http://127.0.0.1:9/books/v3"
    only_api = resolve_endpoints(env={"ZBOOKS_API_URL": "http://127.0.0.1:7/books/v3"})
    assert only_api.accounts_url == "http://127.0.0.1:7"


def test_argument_region_beats_env_urls() -> None:
    endpoints = resolve_endpoints("eu", env={"ZBOOKS_API_URL": "http://127.0.0.1:9"})
    assert endpoints.api_url == "https://www.zohoapis.eu/books/v3"


def _write_profile(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {"ZBOOKS_CONFIG_DIR": str(tmp_path)}
    config = ConfigFile.load(env)
    config.upsert(Profile(name="default", **values))  # type: ignore[arg-type]
    config.save()
    return env


def test_precedence_argument_over_env_over_profile(tmp_path: Path) -> None:
    env = _write_profile(tmp_path, client_id="from-profile", organization_id="1", region="in")
    settings = resolve_settings(env=env)
    assert settings.client_id == "from-profile" and settings.sources["client_id"] == "profile"
    assert settings.endpoints.accounts_url == "https://accounts.zoho.in"
    env |= {"ZBOOKS_CLIENT_ID": "from-env", "ZBOOKS_REGION": "eu"}
    settings = resolve_settings(env=env)
    assert settings.client_id == "from-env" and settings.sources["client_id"] == "env"
    assert settings.endpoints.accounts_url == "https://accounts.zoho.eu"
    assert settings.organization_id == "1"
    settings = resolve_settings(client_id="from-arg", organization_id="2", region="jp", env=env)
    assert settings.client_id == "from-arg" and settings.sources["client_id"] == "argument"
    assert settings.organization_id == "2"
    assert settings.endpoints.accounts_url == "https://accounts.zoho.jp"


def test_named_profiles_and_missing_profile(tmp_path: Path) -> None:
    env = {"ZBOOKS_CONFIG_DIR": str(tmp_path)}
    config = ConfigFile.load(env)
    config.upsert(Profile(name="work", client_id="w", region="eu"))
    config.save()
    assert resolve_settings(profile="work", env=env).client_id == "w"
    assert resolve_settings(env=env | {"ZBOOKS_PROFILE": "work"}).client_id == "w"
    with pytest.raises(ConfigurationError, match="No profile named"):
        resolve_settings(profile="nope", env=env)


def test_profile_file_never_holds_secrets(tmp_path: Path) -> None:
    env = _write_profile(tmp_path, client_id="cid")
    text = (tmp_path / "config.toml").read_text()
    assert "secret" not in text and "token" not in text.replace("token_store", "")
    assert resolve_settings(env=env).client_secret is None
