"""Profiles and settings: explicit argument > environment variable > profile file.

The profile file (``config.toml`` in the user config dir, or ``$ZBOOKS_CONFIG_DIR``)
holds only non-secret settings: region, URLs, client id, organization id. Secrets (the
client secret, tokens) live in the profile's token store, never in this file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from zbooks.errors import ConfigurationError
from zbooks.regions import Endpoints, resolve_endpoints

Source = Literal["argument", "env", "profile", "default"]
DEFAULT_PROFILE = "default"
ENV_VARS = (
    "ZBOOKS_CLIENT_ID",
    "ZBOOKS_CLIENT_SECRET",
    "ZBOOKS_REFRESH_TOKEN",
    "ZBOOKS_ORGANIZATION_ID",
    "ZBOOKS_REGION",
    "ZBOOKS_PROFILE",
    "ZBOOKS_ACCOUNTS_URL",
    "ZBOOKS_API_URL",
)


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if env is None else env
    if environ.get("ZBOOKS_CONFIG_DIR"):
        return Path(environ["ZBOOKS_CONFIG_DIR"])
    from platformdirs import user_config_dir

    return Path(user_config_dir("zbooks"))


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where token files live. ``ZBOOKS_DATA_DIR`` wins; with only ``ZBOOKS_CONFIG_DIR``
    set, tokens go beside the config so one variable isolates a whole setup."""
    environ = os.environ if env is None else env
    if environ.get("ZBOOKS_DATA_DIR"):
        return Path(environ["ZBOOKS_DATA_DIR"])
    if environ.get("ZBOOKS_CONFIG_DIR"):
        return Path(environ["ZBOOKS_CONFIG_DIR"])
    from platformdirs import user_data_dir

    return Path(user_data_dir("zbooks"))


def token_path(profile: str, env: Mapping[str, str] | None = None) -> Path:
    return data_dir(env) / "tokens" / f"{profile}.json"


@dataclass
class Profile:
    name: str
    region: str | None = None
    client_id: str | None = None
    organization_id: str | None = None
    accounts_url: str | None = None
    api_url: str | None = None
    redirect_uri: str | None = None
    scopes: str | None = None
    plan: str | None = None
    token_store: str = "file"  # "file" or "keyring"

    def to_toml(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and k != "name"}


@dataclass
class ConfigFile:
    path: Path
    default_profile: str = DEFAULT_PROFILE
    profiles: dict[str, Profile] = field(default_factory=dict)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> ConfigFile:
        path = config_dir(env) / "config.toml"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        import tomllib  # only when there is a file to read

        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(
                f"{path} is not valid TOML: {exc}", hint="Fix or delete the file."
            ) from exc
        profiles: dict[str, Profile] = {}
        known = set(Profile.__dataclass_fields__) - {"name"}
        for name, values in (raw.get("profiles") or {}).items():
            if isinstance(values, dict):
                profiles[name] = Profile(
                    name=name, **{k: str(v) for k, v in values.items() if k in known}
                )
        return cls(path, str(raw.get("default_profile") or DEFAULT_PROFILE), profiles)

    def save(self) -> None:
        import tomli_w

        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "default_profile": self.default_profile,
            "profiles": {name: p.to_toml() for name, p in sorted(self.profiles.items())},
        }
        fd, tmp = tempfile.mkstemp(prefix=".config-", dir=self.path.parent)
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(document, handle)
        os.replace(tmp, self.path)

    def get(self, name: str) -> Profile | None:
        return self.profiles.get(name)

    def upsert(self, profile: Profile) -> None:
        self.profiles[profile.name] = profile


@dataclass
class Settings:
    """Everything a client needs, with where each value came from (for `zbooks doctor`)."""

    profile: str
    endpoints: Endpoints
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    organization_id: str | None = None
    plan: str | None = None
    token_store: str = "file"
    redirect_uri: str | None = None
    scopes: str | None = None
    profile_exists: bool = False
    sources: dict[str, Source] = field(default_factory=dict)


def _pick(
    name: str,
    argument: str | None,
    env_value: str | None,
    profile_value: str | None,
    sources: dict[str, Source],
) -> str | None:
    for source, value in (("argument", argument), ("env", env_value), ("profile", profile_value)):
        if value:
            sources[name] = source  # type: ignore[assignment]
            return value
    sources[name] = "default"
    return None


def resolve_settings(
    *,
    profile: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    refresh_token: str | None = None,
    organization_id: str | None = None,
    region: str | None = None,
    accounts_url: str | None = None,
    api_url: str | None = None,
    plan: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    environ = os.environ if env is None else env
    config = ConfigFile.load(environ)
    profile_name = profile or environ.get("ZBOOKS_PROFILE") or config.default_profile
    stored = config.get(profile_name)
    if profile and stored is None and profile != DEFAULT_PROFILE:
        raise ConfigurationError(
            f"No profile named {profile!r} in {config.path}.",
            hint="Run `zbooks profiles list`, or `zbooks login --profile NAME` to create it.",
        )
    data = stored or Profile(name=profile_name)
    sources: dict[str, Source] = {}
    endpoints = resolve_endpoints(
        region,
        accounts_url=accounts_url,
        api_url=api_url,
        env=environ,
        profile={
            k: v
            for k, v in (
                ("region", data.region),
                ("accounts_url", data.accounts_url),
                ("api_url", data.api_url),
            )
            if v
        },
    )
    return Settings(
        profile=profile_name,
        endpoints=endpoints,
        client_id=_pick(
            "client_id", client_id, environ.get("ZBOOKS_CLIENT_ID"), data.client_id, sources
        ),
        client_secret=_pick(
            "client_secret", client_secret, environ.get("ZBOOKS_CLIENT_SECRET"), None, sources
        ),
        refresh_token=_pick(
            "refresh_token", refresh_token, environ.get("ZBOOKS_REFRESH_TOKEN"), None, sources
        ),
        organization_id=_pick(
            "organization_id",
            organization_id,
            environ.get("ZBOOKS_ORGANIZATION_ID"),
            data.organization_id,
            sources,
        ),
        plan=_pick("plan", plan, environ.get("ZBOOKS_PLAN"), data.plan, sources),
        token_store=data.token_store,
        redirect_uri=data.redirect_uri,
        scopes=data.scopes,
        profile_exists=stored is not None,
        sources=sources,
    )
