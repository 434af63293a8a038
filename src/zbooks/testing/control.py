"""A client of the sandbox's control plane (``/_sandbox/*``), over plain HTTP.

Everything in ``zbooks.testing`` and the ``zbooks sandbox`` commands steers a sandbox
through this one class, so they work the same against a sandbox in this process, in
another process or on another port: only the base URL and the control token matter.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx2

from zbooks.errors import ZBooksError

URL_ENV = "ZBOOKS_SANDBOX_URL"
TOKEN_ENV = "ZBOOKS_SANDBOX_TOKEN"
DEFAULT_TIMEOUT = 120.0  # seeding 100,000 records takes a while
FULL_ACCESS = "ZohoBooks.fullaccess.all"


class SandboxControlError(ZBooksError):
    """The control plane refused a request, or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


def base_url_from(explicit: str | None, env: Mapping[str, str] | None = None) -> str:
    """``explicit``, else ``ZBOOKS_SANDBOX_URL``; a trailing ``/books/v3`` is dropped (the
    sandbox serves the API and its control plane on one port)."""
    environ = os.environ if env is None else env
    value = (explicit or environ.get(URL_ENV) or "").strip().rstrip("/")
    for suffix in ("/books/v3", "/api/v3", "/_sandbox"):
        if value.endswith(suffix):
            value = value[: -len(suffix)]
    if not value.startswith(("http://", "https://")):
        raise SandboxControlError(
            "No sandbox URL.",
            hint=f"Pass --url http://127.0.0.1:8765 or set {URL_ENV} "
            "(`zbooks sandbox serve` prints both the URL and the control token).",
        )
    return value


def token_from(explicit: str | None, env: Mapping[str, str] | None = None) -> str:
    environ = os.environ if env is None else env
    value = (explicit or environ.get(TOKEN_ENV) or "").strip()
    if not value:
        raise SandboxControlError(
            "No control token.",
            hint=f"Pass --token or set {TOKEN_ENV} (printed by `zbooks sandbox serve`).",
        )
    return value


class ControlClient:
    """``ControlClient(base_url, token).clock()`` and friends; answers are plain dicts."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http: httpx2.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._owns_http = http is None
        # trust_env=False: a developer's HTTP(S)_PROXY must not capture loopback calls.
        self._http = http or httpx2.Client(timeout=timeout, trust_env=False)

    def __repr__(self) -> str:
        return f"ControlClient({self.base_url!r})"  # never the token

    @property
    def token(self) -> str:
        return self._token

    # plumbing ------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        url = f"{self.base_url}/_sandbox{path}"
        try:
            response = self._http.request(
                method,
                url,
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=timeout if timeout is not None else self._http.timeout,
            )
        except httpx2.HTTPError as exc:
            raise SandboxControlError(
                f"Cannot reach the sandbox at {self.base_url}: {exc}",
                hint="Is `zbooks sandbox serve` running there?",
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            message = body.get("error") if isinstance(body, dict) else None
            hint = None
            if response.status_code in (401, 403):
                hint = "Check the control token (ZBOOKS_SANDBOX_TOKEN); it changes on every start."
            elif response.status_code == 404 and message is None:
                hint = "Is this URL a zbooks sandbox?"
            raise SandboxControlError(
                f"{method} /_sandbox{path}: {message or f'HTTP {response.status_code}'}",
                status=response.status_code,
                hint=hint,
            )
        return body

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # operations ----------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        return dict(self.call("GET", "/info"))

    def reset(self) -> dict[str, Any]:
        return dict(self.call("POST", "/reset"))

    def seed(
        self,
        counts: Mapping[str, int] | None = None,
        *,
        preset: str | None = None,
        org_id: str | None = None,
        rng_seed: int | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"preset": preset} if preset else {"counts": dict(counts or {})}
        if org_id:
            body["org_id"] = org_id
        if rng_seed is not None:
            body["seed"] = rng_seed
        return dict(self.call("POST", "/seed/many", json=body))

    def fleet(
        self,
        orgs: int,
        *,
        invoices: int = 0,
        plan: str | None = None,
        prefix: str = "tenant",
        rng_seed: int | None = None,
    ) -> list[dict[str, Any]]:
        """Create ``orgs`` tenants, each with its own user, organization (and limits),
        Self Client and refresh token, and ``invoices`` invoices: their credentials."""
        body: dict[str, Any] = {"orgs": orgs, "invoices": invoices, "prefix": prefix}
        if plan:
            body["plan"] = plan
        if rng_seed is not None:
            body["seed"] = rng_seed
        return list(self.call("POST", "/fleet", json=body)["tenants"])

    def clock(self) -> dict[str, Any]:
        return dict(self.call("GET", "/clock"))

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return dict(self.call("POST", "/clock/advance", json={"seconds": seconds}))

    def set_clock(self, when: str | float) -> dict[str, Any]:
        return dict(self.call("POST", "/clock/set", json={"time": when}))

    def faults(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/faults")["faults"])

    def add_faults(self, *rules: Mapping[str, Any]) -> list[dict[str, Any]]:
        return list(
            self.call("POST", "/faults", json={"rules": [dict(r) for r in rules]})["faults"]
        )

    def clear_faults(self) -> int:
        return int(self.call("DELETE", "/faults")["cleared"])

    def requests(self, *, limit: int = 0, since: int = 0) -> list[dict[str, Any]]:
        params = {"limit": limit, "since": since}
        return list(self.call("GET", "/requests", params=params)["requests"])

    def clear_requests(self) -> None:
        self.call("POST", "/requests/clear")

    def snapshot(self, name: str = "") -> dict[str, Any]:
        return dict(self.call("POST", "/snapshots", json={"name": name})["snapshot"])

    def restore(self, snapshot_id: str, *, fresh: bool = False) -> dict[str, Any]:
        return dict(self.call("POST", f"/snapshots/{snapshot_id}/restore", json={"fresh": fresh}))

    def delete_snapshot(self, snapshot_id: str) -> None:
        self.call("DELETE", f"/snapshots/{snapshot_id}")

    def state(self) -> dict[str, Any]:
        return dict(self.call("GET", "/state"))

    def register_client(self, name: str, *, client_type: str = "self") -> dict[str, Any]:
        return dict(self.call("POST", "/clients", json={"name": name, "client_type": client_type}))

    def grant_code(
        self, client_id: str, *, scope: str = FULL_ACCESS, org_id: str | None = None
    ) -> str:
        body: dict[str, Any] = {"client_id": client_id, "scope": scope}
        if org_id:
            body["org_id"] = org_id
        return str(self.call("POST", "/self-client/code", json=body)["code"])

    def trigger(self, event: str, **options: Any) -> dict[str, Any]:
        body = {"event": event, **{k: v for k, v in options.items() if v is not None}}
        timeout = float(options.get("timeout") or 30) + 10
        return dict(self.call("POST", "/webhooks/trigger", json=body, timeout=timeout))

    # OAuth, through the sandbox's public Accounts endpoint --------------------------------
    def exchange_code(self, client_id: str, client_secret: str, code: str) -> dict[str, Any]:
        """Trade a grant code for tokens at ``/oauth/v2/token``, like any Zoho client."""
        form = {"grant_type": "authorization_code", "code": code}
        return self._token_call(client_id, client_secret, form, "the grant code")

    def refresh(self, client_id: str, client_secret: str, refresh_token: str) -> dict[str, Any]:
        """A new access token for ``refresh_token`` at ``/oauth/v2/token``."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self._token_call(client_id, client_secret, form, "the refresh token")

    def _token_call(
        self, client_id: str, client_secret: str, form: dict[str, str], what: str
    ) -> dict[str, Any]:
        data = {**form, "client_id": client_id, "client_secret": client_secret}
        try:
            response = self._http.post(f"{self.base_url}/oauth/v2/token", data=data)
            body = response.json()
        except (httpx2.HTTPError, ValueError) as exc:
            raise SandboxControlError(f"The sandbox's token endpoint failed: {exc}") from None
        if not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error") if isinstance(body, dict) else None
            raise SandboxControlError(f"The sandbox refused {what}: {error}")
        return body
