"""``Client`` and ``AsyncClient``: the public face of the pipeline.

Both resolve settings the same way (argument > environment > profile), build the same
token manager and pipeline configuration, and differ only in the I/O shell.

    with zbooks.Client() as client:             # env vars or the default profile
        for invoice in client.paginate("/invoices", params={"status": "overdue"}):
            ...
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2

from zbooks.auth.manager import TokenManager
from zbooks.auth.scopes import DEFAULT_SCOPES
from zbooks.auth.tokens import FileStore, KeyringStore, MemoryStore, Token, TokenStore
from zbooks.config import Settings, resolve_settings, token_path
from zbooks.core.httpclients import new_async_http_client, new_http_client
from zbooks.core.pagination import MAX_PER_PAGE, Page, aiter_pages, iter_pages
from zbooks.core.pipeline import AsyncPipeline, Call, PipelineConfig, SyncPipeline
from zbooks.core.ratelimit import RateLimiter
from zbooks.core.retry import RetryPolicy
from zbooks.core.store_urls import open_limiter_backend, open_token_store
from zbooks.errors import ConfigurationError

if TYPE_CHECKING:
    from zbooks.auth.oauth import AsyncOAuthClient, OAuthClient
    from zbooks.resources._accessors import AsyncResources, SyncResources
else:  # at run time ``_ClientBase.__getattr__`` resolves ``client.<module>``
    AsyncResources = SyncResources = object

DEFAULT_TIMEOUT = 30.0


@dataclass
class _Parts:
    settings: Settings
    store: TokenStore
    client_secret: str | None
    client_credentials_org: str | None
    scopes: tuple[str, ...]
    limiter_store: str | None = None  # ZBOOKS_RATE_LIMIT_STORE: where the limiter counts


def _seed_store(store: TokenStore, *, access_token: str | None, refresh_token: str | None) -> None:
    """Put credentials given to the constructor into a shared store, under its lock.

    Read-modify-write without the lock lost races: a client being built could read the
    store just before another process saved a fresh access token, then write the stale
    copy back, and the next caller refreshed again. Under the lock, and only when
    something changes, many clients started at once leave the one refresh alone.
    """
    with store.lock():
        current = store.load() or Token()
        seeded = current.merged(
            Token(
                access_token=access_token,
                refresh_token=refresh_token,
                expires_at=None if access_token else current.expires_at,
            )
        )
        if seeded != current:
            store.save(seeded)


def _build_parts(
    *,
    profile: str | None,
    client_id: str | None,
    client_secret: str | None,
    refresh_token: str | None,
    access_token: str | None,
    organization_id: str | None,
    region: str | None,
    accounts_url: str | None,
    api_url: str | None,
    token_store: TokenStore | str | None,
    client_credentials: bool,
    scopes: tuple[str, ...],
    plan: str | None,
    env: Mapping[str, str] | None,
) -> _Parts:
    settings = resolve_settings(
        profile=profile,
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=refresh_token,
        organization_id=organization_id,
        region=region,
        accounts_url=accounts_url,
        api_url=api_url,
        plan=plan,
        env=env,
    )
    environ = os.environ if env is None else env
    # A URL (argument, ZBOOKS_TOKEN_STORE, or the profile's token_store) names a shared
    # store; the token in it is keyed by the profile name.
    # Credentials given directly are seeded into an explicit shared store.
    spec = token_store if isinstance(token_store, str) else None
    if token_store is None:
        spec = environ.get("ZBOOKS_TOKEN_STORE", "").strip() or None
        direct = settings.refresh_token or access_token or client_credentials
        if spec is None and not direct and settings.token_store not in ("file", "keyring"):
            spec = settings.token_store
    from_url = spec is not None
    given: TokenStore | None = None if isinstance(token_store, str) else token_store
    if spec is not None:
        given = open_token_store(
            spec, settings.profile, default_file=token_path(settings.profile, env)
        )
    store: TokenStore
    if given is not None:
        store = given
        if settings.refresh_token or access_token:
            _seed_store(store, access_token=access_token, refresh_token=settings.refresh_token)
    elif settings.refresh_token or access_token or client_credentials:
        # Credentials given directly (argument/env) beat the profile: keep them in memory
        # and leave the profile's stored tokens untouched.
        store = MemoryStore(Token(access_token=access_token, refresh_token=settings.refresh_token))
    elif settings.token_store == "keyring":
        store = KeyringStore(username=settings.profile)
    else:
        store = FileStore(token_path(settings.profile, env))
    secret = settings.client_secret
    if secret is None and (from_url or (not settings.refresh_token and given is None)):
        stored = store.load()
        secret = stored.client_secret if stored else None
    org_for_cc = settings.organization_id if client_credentials else None
    if client_credentials and not org_for_cc:
        raise ConfigurationError(
            "The client-credentials grant needs an organization_id.",
            hint="Pass organization_id=... or set ZBOOKS_ORGANIZATION_ID.",
        )
    limiter_store = environ.get("ZBOOKS_RATE_LIMIT_STORE", "").strip() or None
    return _Parts(settings, store, secret, org_for_cc, scopes, limiter_store)


def _token_accounts_url(parts: _Parts, token: Token | None) -> str:
    # After a login the accounts server the redirect named wins (api-facts §1.3).
    if token is not None and token.accounts_server:
        return token.accounts_server
    return parts.settings.endpoints.accounts_url


def _missing_credentials(parts: _Parts) -> ConfigurationError:
    return ConfigurationError(
        f"No refresh token for profile {parts.settings.profile!r} and no usable access token.",
        hint="Run `zbooks login`, or set ZBOOKS_CLIENT_ID, ZBOOKS_CLIENT_SECRET and "
        "ZBOOKS_REFRESH_TOKEN.",
    )


def _need_client(parts: _Parts) -> tuple[str, str]:
    if not parts.settings.client_id or not parts.client_secret:
        raise ConfigurationError(
            "Refreshing the access token needs the client id and client secret.",
            hint="Set ZBOOKS_CLIENT_ID and ZBOOKS_CLIENT_SECRET, or run `zbooks login`.",
        )
    return parts.settings.client_id, parts.client_secret


class _ClientBase:
    _parts: _Parts
    _tokens: TokenManager
    _config: PipelineConfig

    def _make_config(
        self,
        parts: _Parts,
        tokens: TokenManager,
        retry: RetryPolicy | None,
        rate_limiter: RateLimiter | str | bool | None,
    ) -> PipelineConfig:
        """``rate_limiter``: a limiter to share, ``False`` for none, a backend URL
        (``redis://…``, ``postgresql://…``, ``sqlite:///…``), or ``None`` for a default
        (``ZBOOKS_RATE_LIMIT_STORE`` when set, else in memory)."""
        limiter: RateLimiter | None
        spec = rate_limiter if isinstance(rate_limiter, str) else None
        if rate_limiter is None:
            spec = parts.limiter_store
        if isinstance(rate_limiter, RateLimiter):
            limiter = rate_limiter
        elif rate_limiter is False:
            limiter = None
        elif spec is not None:
            limiter = RateLimiter(
                plan=parts.settings.plan or "premium", backend=open_limiter_backend(spec)
            )
        else:
            # Unknown plan: assume the largest daily budget rather than stop a paying
            # customer at 1,000 calls; the server's X-Rate-Limit-* headers correct it.
            limiter = RateLimiter(plan=parts.settings.plan or "premium")
        explicit = parts.settings.endpoints.region is None
        return PipelineConfig(
            tokens=tokens,
            api_url=parts.settings.endpoints.api_url,
            api_url_explicit=explicit,
            organization_id=parts.settings.organization_id,
            retry=retry or RetryPolicy(),
            limiter=limiter,
        )

    @property
    def settings(self) -> Settings:
        return self._parts.settings

    @property
    def token_store(self) -> TokenStore:
        return self._parts.store

    @property
    def organization_id(self) -> str | None:
        return self._config.organization_id

    @organization_id.setter
    def organization_id(self, value: str | None) -> None:
        self._config.organization_id = value

    @property
    def rate_limiter(self) -> RateLimiter | None:
        return self._config.limiter

    if not TYPE_CHECKING:  # type checkers see the typed properties of *Resources instead

        def __getattr__(self, name: str) -> Any:
            """``client.invoices`` etc.: the module's resource, imported on first use and
            cached on the client (see ``zbooks.resources``)."""
            if name.startswith("_"):
                raise AttributeError(name)
            from zbooks.resources import bind

            return bind(self, name)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(profile={self._parts.settings.profile!r}, "
            f"api_url={self._config.api_url!r}, organization_id={self.organization_id!r})"
        )


class Client(_ClientBase, SyncResources):
    """Synchronous Zoho Books client: ``client.invoices.create(...)`` and the other
    resources, plus ``request``/``paginate`` for any path. Use it as a context manager
    (or call ``close()``) to release its connections.

    Every setting is optional: an argument wins over its ``ZBOOKS_*`` environment
    variable, which wins over the profile saved by ``zbooks login``.

    Args:
        client_id: OAuth client id of your Zoho API console app.
        client_secret: That app's secret (never logged or shown in reprs).
        refresh_token: A long-lived token to mint access tokens from; with it the
            tokens stay in memory and the profile's stored tokens are left alone.
        access_token: A ready access token (expires within the hour; used as given).
        organization_id: The Books organization every call acts on unless a method's
            own ``organization_id`` says otherwise.
        region: Zoho data centre, by domain (``com``, ``eu``, ``com.au`` ...) or by
            location (``us``, ``au`` ...); picks the accounts and API hosts.
        accounts_url: Accounts server to use instead of the region's (a sandbox, a proxy).
        api_url: Books API base to use instead of the region's.
        profile: Saved profile to read settings and tokens from (``default`` if unset).
        token_store: Where tokens are kept: a store, or a URL shared by many machines
            (``redis://``, ``postgresql://``, ``sqlite:///``; also ``file``, ``keyring``,
            ``memory``; ``ZBOOKS_TOKEN_STORE``). By default the profile's file or keyring.
        client_credentials: Use the client-credentials grant (server-to-server Self
            Client) instead of a refresh token; needs ``organization_id``.
        scopes: OAuth scopes requested by the client-credentials grant.
        plan: Your Zoho Books plan, which sets the daily call budget of the default
            rate limiter (unknown plans get the largest budget).
        timeout: Seconds before one HTTP request gives up.
        retry: When and how often to retry failed calls (a default policy if unset).
        rate_limiter: A limiter to share between clients, a backend URL whose counts
            every process shares (``redis://``, ``postgresql://``, ``sqlite:///``;
            ``ZBOOKS_RATE_LIMIT_STORE``), ``False`` for none, or ``None`` for one sized
            by ``plan``.
        http_client: Your own HTTP client (then you close it; the client will not).
        transport: An HTTP transport for the client's own HTTP client (tests, mocks).
        env: Environment to read ``ZBOOKS_*`` settings from instead of ``os.environ``.
    """

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        access_token: str | None = None,
        organization_id: str | None = None,
        region: str | None = None,
        accounts_url: str | None = None,
        api_url: str | None = None,
        profile: str | None = None,
        token_store: TokenStore | str | None = None,
        client_credentials: bool = False,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        plan: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | str | bool | None = None,
        http_client: httpx2.Client | None = None,
        transport: httpx2.BaseTransport | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._parts = _build_parts(
            profile=profile,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            access_token=access_token,
            organization_id=organization_id,
            region=region,
            accounts_url=accounts_url,
            api_url=api_url,
            token_store=token_store,
            client_credentials=client_credentials,
            scopes=scopes,
            plan=plan,
            env=env,
        )
        self._owns_http = http_client is None
        self._http = http_client or new_http_client(timeout=timeout, transport=transport)
        self._tokens = TokenManager(self._parts.store, refresher=self._refresh)
        self._config = self._make_config(self._parts, self._tokens, retry, rate_limiter)
        self._pipeline = SyncPipeline(self._config, self._http)

    def _oauth(self, token: Token | None) -> OAuthClient:
        from zbooks.auth.oauth import OAuthClient  # only a refresh needs it

        client_id, secret = _need_client(self._parts)
        return OAuthClient(
            _token_accounts_url(self._parts, token), client_id, secret, http=self._http
        )

    def _refresh(self, token: Token | None) -> Token:
        if self._parts.client_credentials_org:
            return self._oauth(token).client_credentials(
                self._parts.client_credentials_org, self._parts.scopes
            )
        if token is None or not token.refresh_token:
            raise _missing_credentials(self._parts)
        return self._oauth(token).refresh(token.refresh_token)

    # raw calls --------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        organization_id: str | None = None,
        binary: bool = False,
    ) -> Any:
        """Any Books call; returns the JSON envelope (or bytes when ``binary``)."""
        call = Call(
            method.upper(),
            path,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            organization_id=organization_id,
            binary=binary,
        )
        return self._pipeline.send(call)

    def _send_call(self, call: Call) -> Any:
        """One prepared call through the pipeline (the resources' typed list pages)."""
        return self._pipeline.send(call)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def pages(
        self,
        path: str,
        *,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
        per_page: int = MAX_PER_PAGE,
        start_page: int = 1,
        organization_id: str | None = None,
    ) -> Iterator[Page]:
        """Lazily fetch page after page while ``has_more_page`` is true."""
        base = dict(params or {})

        def fetch(number: int) -> Mapping[str, Any]:
            query = {**base, "page": number, "per_page": per_page}
            result: Mapping[str, Any] = self.request(
                "GET", path, params=query, organization_id=organization_id
            )
            return result

        return iter_pages(fetch, key, start_page)

    def paginate(self, path: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every record of a list, across pages, fetched as you iterate."""
        for page in self.pages(path, **kwargs):
            yield from page.items

    # lifecycle --------------------------------------------------------------------
    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_ClientBase, AsyncResources):
    """Asynchronous Zoho Books client: ``await client.invoices.create(...)`` and the
    other resources, plus ``request``/``paginate`` for any path. Use it with ``async
    with`` (or ``await client.aclose()``) to release its connections.

    Every setting is optional: an argument wins over its ``ZBOOKS_*`` environment
    variable, which wins over the profile saved by ``zbooks login``.

    Args:
        client_id: OAuth client id of your Zoho API console app.
        client_secret: That app's secret (never logged or shown in reprs).
        refresh_token: A long-lived token to mint access tokens from; with it the
            tokens stay in memory and the profile's stored tokens are left alone.
        access_token: A ready access token (expires within the hour; used as given).
        organization_id: The Books organization every call acts on unless a method's
            own ``organization_id`` says otherwise.
        region: Zoho data centre, by domain (``com``, ``eu``, ``com.au`` ...) or by
            location (``us``, ``au`` ...); picks the accounts and API hosts.
        accounts_url: Accounts server to use instead of the region's (a sandbox, a proxy).
        api_url: Books API base to use instead of the region's.
        profile: Saved profile to read settings and tokens from (``default`` if unset).
        token_store: Where tokens are kept: a store, or a URL shared by many machines
            (``redis://``, ``postgresql://``, ``sqlite:///``; also ``file``, ``keyring``,
            ``memory``; ``ZBOOKS_TOKEN_STORE``). By default the profile's file or keyring.
        client_credentials: Use the client-credentials grant (server-to-server Self
            Client) instead of a refresh token; needs ``organization_id``.
        scopes: OAuth scopes requested by the client-credentials grant.
        plan: Your Zoho Books plan, which sets the daily call budget of the default
            rate limiter (unknown plans get the largest budget).
        timeout: Seconds before one HTTP request gives up.
        retry: When and how often to retry failed calls (a default policy if unset).
        rate_limiter: A limiter to share between clients, a backend URL whose counts
            every process shares (``redis://``, ``postgresql://``, ``sqlite:///``;
            ``ZBOOKS_RATE_LIMIT_STORE``), ``False`` for none, or ``None`` for one sized
            by ``plan``.
        http_client: Your own ``httpx2.AsyncClient`` (then you close it; the client will not).
        transport: An HTTP transport for the client's own HTTP client (tests, mocks).
        env: Environment to read ``ZBOOKS_*`` settings from instead of ``os.environ``.
    """

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        access_token: str | None = None,
        organization_id: str | None = None,
        region: str | None = None,
        accounts_url: str | None = None,
        api_url: str | None = None,
        profile: str | None = None,
        token_store: TokenStore | str | None = None,
        client_credentials: bool = False,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        plan: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | str | bool | None = None,
        http_client: httpx2.AsyncClient | None = None,
        transport: httpx2.AsyncBaseTransport | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._parts = _build_parts(
            profile=profile,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            access_token=access_token,
            organization_id=organization_id,
            region=region,
            accounts_url=accounts_url,
            api_url=api_url,
            token_store=token_store,
            client_credentials=client_credentials,
            scopes=scopes,
            plan=plan,
            env=env,
        )
        self._owns_http = http_client is None
        self._http = http_client or new_async_http_client(timeout=timeout, transport=transport)
        self._tokens = TokenManager(self._parts.store, async_refresher=self._refresh)
        self._config = self._make_config(self._parts, self._tokens, retry, rate_limiter)
        self._pipeline = AsyncPipeline(self._config, self._http)

    def _oauth(self, token: Token | None) -> AsyncOAuthClient:
        from zbooks.auth.oauth import AsyncOAuthClient  # only a refresh needs it

        client_id, secret = _need_client(self._parts)
        return AsyncOAuthClient(
            _token_accounts_url(self._parts, token), client_id, secret, http=self._http
        )

    async def _refresh(self, token: Token | None) -> Token:
        if self._parts.client_credentials_org:
            return await self._oauth(token).client_credentials(
                self._parts.client_credentials_org, self._parts.scopes
            )
        if token is None or not token.refresh_token:
            raise _missing_credentials(self._parts)
        return await self._oauth(token).refresh(token.refresh_token)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        organization_id: str | None = None,
        binary: bool = False,
    ) -> Any:
        call = Call(
            method.upper(),
            path,
            params=params,
            json=json,
            data=data,
            files=files,
            headers=headers,
            organization_id=organization_id,
            binary=binary,
        )
        return await self._pipeline.send(call)

    async def _send_call(self, call: Call) -> Any:
        """One prepared call through the pipeline (the resources' typed list pages)."""
        return await self._pipeline.send(call)

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Any:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Any:
        return await self.request("DELETE", path, **kwargs)

    def pages(
        self,
        path: str,
        *,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
        per_page: int = MAX_PER_PAGE,
        start_page: int = 1,
        organization_id: str | None = None,
    ) -> AsyncIterator[Page]:
        base = dict(params or {})

        async def fetch(number: int) -> Mapping[str, Any]:
            query = {**base, "page": number, "per_page": per_page}
            result: Mapping[str, Any] = await self.request(
                "GET", path, params=query, organization_id=organization_id
            )
            return result

        return aiter_pages(fetch, key, start_page)

    async def paginate(self, path: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        async for page in self.pages(path, **kwargs):
            for item in page.items:
                yield item

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
