"""Zoho data centres: where to log in and where to call the API.

A Zoho account lives in exactly one data centre; a client id registered in one is
unknown in another (``invalid_client``), and a token from one is refused by another's
API (401 code 57). So every URL zbooks uses comes from here, and after a login the
``accounts-server`` of the redirect and the ``api_domain`` of the token response win
over anything configured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from zbooks.errors import ConfigurationError

BOOKS_PATH = "/books/v3"


@dataclass(frozen=True)
class Region:
    key: str  # the domain suffix zbooks uses as the region's name: com, eu, in, ...
    location: str  # Zoho's ``location`` value on the OAuth redirect: us, eu, in, ...
    name: str
    accounts_url: str
    api_domain: str

    @property
    def api_url(self) -> str:
        """The Books v3 base URL."""
        return self.api_domain + BOOKS_PATH


REGIONS: dict[str, Region] = {
    r.key: r
    for r in (
        Region(
            "com", "us", "United States", "https://accounts.zoho.com", "https://www.zohoapis.com"
        ),
        Region("eu", "eu", "Europe", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
        Region("in", "in", "India", "https://accounts.zoho.in", "https://www.zohoapis.in"),
        Region(
            "com.au",
            "au",
            "Australia",
            "https://accounts.zoho.com.au",
            "https://www.zohoapis.com.au",
        ),
        Region("jp", "jp", "Japan", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
        # Canada's accounts server is on zohocloud.ca, not zoho.ca.
        Region("ca", "ca", "Canada", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
        Region(
            "com.cn", "cn", "China", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"
        ),
        Region("sa", "sa", "Saudi Arabia", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
    )
}
DEFAULT_REGION = "com"
_ALIASES = {"us": "com", "au": "com.au", "cn": "com.cn", "zohocloud.ca": "ca"}


def get_region(name: str) -> Region:
    """Look a region up by key (``eu``), location (``us``) or a host/URL of it."""
    wanted = name.strip().lower()
    if "://" in wanted or ("." in wanted and wanted not in REGIONS and wanted not in _ALIASES):
        found = region_for_url(wanted if "://" in wanted else f"https://{wanted}")
        if found is not None:
            return found
    key = _ALIASES.get(wanted, wanted)
    try:
        return REGIONS[key]
    except KeyError:
        choices = ", ".join(REGIONS)
        raise ConfigurationError(
            f"Unknown Zoho region {name!r}.", hint=f"Use one of: {choices}."
        ) from None


def region_for_url(url: str) -> Region | None:
    """The region whose accounts or API host is ``url``'s host, if any."""
    host = (urlsplit(url).hostname or "").lower()
    for region in REGIONS.values():
        hosts = {urlsplit(region.accounts_url).hostname, urlsplit(region.api_domain).hostname}
        if host in hosts:
            return region
    return None


def books_url_from_api_domain(api_domain: str) -> str:
    """``https://www.zohoapis.eu`` -> ``https://www.zohoapis.eu/books/v3``."""
    return normalize_api_url(api_domain)


def normalize_api_url(url: str) -> str:
    """Accept an API domain or a full Books base URL; return the Books base URL."""
    cleaned = url.strip().rstrip("/")
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"Invalid API URL {url!r}.", hint="Use an absolute URL such as https://www.zohoapis.com"
        )
    if parts.path in ("", "/"):
        return cleaned + BOOKS_PATH
    return cleaned


def normalize_accounts_url(url: str) -> str:
    cleaned = url.strip().rstrip("/")
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"Invalid accounts URL {url!r}.",
            hint="Use an absolute URL such as https://accounts.zoho.com",
        )
    return cleaned


@dataclass(frozen=True)
class Endpoints:
    """The two base URLs a client talks to."""

    accounts_url: str
    api_url: str  # the Books v3 base, ending in /books/v3
    region: Region | None = None


def resolve_endpoints(
    region: str | Region | None = None,
    *,
    accounts_url: str | None = None,
    api_url: str | None = None,
    env: Mapping[str, str] | None = None,
    profile: Mapping[str, str] | None = None,
) -> Endpoints:
    """Work out the two base URLs.

    Precedence is by source, and a source wins as a unit: explicit arguments, then the
    environment (``ZBOOKS_REGION``, ``ZBOOKS_ACCOUNTS_URL``, ``ZBOOKS_API_URL``), then the
    profile (keys ``region``, ``accounts_url``, ``api_url``), then the US data centre.
    Within a source, explicit URLs beat the region's URLs. Mixing sources (a region from
    the environment with an API URL from a stale profile) would silently send tokens to
    the wrong data centre, so it is not done.
    """
    environ = os.environ if env is None else env
    sources: list[tuple[str | Region | None, str | None, str | None]] = [
        (region, accounts_url, api_url),
        (
            environ.get("ZBOOKS_REGION") or None,
            environ.get("ZBOOKS_ACCOUNTS_URL") or None,
            environ.get("ZBOOKS_API_URL") or None,
        ),
    ]
    if profile:
        sources.append(
            (
                profile.get("region") or None,
                profile.get("accounts_url") or None,
                profile.get("api_url") or None,
            )
        )
    for src_region, src_accounts, src_api in sources:
        if src_region is None and src_accounts is None and src_api is None:
            continue
        resolved = (
            src_region
            if isinstance(src_region, Region)
            else get_region(src_region)
            if src_region
            else None
        )
        if resolved is None:
            resolved = region_for_url(src_accounts or src_api or "")
        base = resolved or REGIONS[DEFAULT_REGION]
        if resolved is None and src_api and not src_accounts:
            # A custom API URL alone (a sandbox): its accounts server is the same host.
            src_accounts = _origin(src_api)
        if resolved is None and src_accounts and not src_api:
            src_api = _origin(src_accounts) + BOOKS_PATH
        return Endpoints(
            accounts_url=normalize_accounts_url(src_accounts or base.accounts_url),
            api_url=normalize_api_url(src_api or base.api_url),
            region=resolved,
        )
    default = REGIONS[DEFAULT_REGION]
    return Endpoints(default.accounts_url, default.api_url, default)


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}"
