"""``Sandbox``: what a test holds. A base URL, logged-in clients, and the sandbox's
clock, faults, request log, seeding and snapshots, all through the control plane."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from zbooks.testing.control import FULL_ACCESS, TOKEN_ENV, URL_ENV, ControlClient

if TYPE_CHECKING:
    from zbooks.core.client import AsyncClient, Client

CLIENT_NAME = "zbooks.testing"


@dataclass(frozen=True)
class Credentials:
    """A Self Client registered on the sandbox and its tokens (minted once per sandbox)."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    org_id: str
    plan: str

    @classmethod
    def mint(cls, control: ControlClient) -> Credentials:
        info = control.info()
        client = control.register_client(CLIENT_NAME, client_type="self")
        org_id = str(info["demo"]["org_id"])
        code = control.grant_code(client["client_id"], scope=FULL_ACCESS, org_id=org_id)
        tokens = control.exchange_code(client["client_id"], client["client_secret"], code)
        return cls(
            client_id=str(client["client_id"]),
            client_secret=str(client["client_secret"]),
            refresh_token=str(tokens["refresh_token"]),
            access_token=str(tokens["access_token"]),
            org_id=org_id,
            plan=str(info.get("plan") or "premium"),
        )


@dataclass(frozen=True)
class Snapshot:
    """A saved state; ``sandbox.restore(snapshot)`` brings it back."""

    id: str
    name: str


@dataclass(frozen=True)
class LoggedRequest:
    """One entry of the sandbox's request log (secret query values masked)."""

    seq: int
    time: str
    method: str
    path: str
    query: dict[str, str]
    status: int
    code: int | str | None  # Zoho's code; a string such as "fault:unavailable" for faults
    org_id: str | None
    duration_ms: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LoggedRequest:
        return cls(
            seq=int(data.get("seq", 0)),
            time=str(data.get("time", "")),
            method=str(data.get("method", "")),
            path=str(data.get("path", "")),
            query=dict(data.get("query") or {}),
            status=int(data.get("status", 0)),
            code=_code(data.get("code")),
            org_id=None if data.get("org_id") is None else str(data["org_id"]),
            duration_ms=float(data.get("duration_ms", 0.0)),
        )


def _code(value: Any) -> int | str | None:
    if value is None or isinstance(value, int):
        return value
    text = str(value)
    return int(text) if text.lstrip("-").isdigit() else text


class SandboxClock:
    """The sandbox's clock. Expiries, overdue statuses and rate windows all read it."""

    def __init__(self, control: ControlClient) -> None:
        self._control = control

    def now(self) -> datetime:
        """The sandbox's time, aware, in UTC."""
        return datetime.fromtimestamp(float(self._control.clock()["time"]), tz=UTC)

    def today(self) -> date:
        """The demo organization's date (what ``date`` fields and overdue checks use)."""
        return date.fromisoformat(str(self._control.clock()["today"]))

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by ``delta`` (a ``timedelta`` or seconds); returns the new time."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        answer = self._control.advance_clock(seconds)
        return datetime.fromtimestamp(float(answer["time"]), tz=UTC)

    def set(self, when: datetime | date) -> datetime:
        """Jump forward to ``when`` (a naive datetime is UTC; a date means its midnight
        UTC). The clock never goes back: restore a snapshot for that."""
        if not isinstance(when, datetime):
            when = datetime.combine(when, time(0), tzinfo=UTC)
        elif when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        answer = self._control.set_clock(when.isoformat())
        return datetime.fromtimestamp(float(answer["time"]), tz=UTC)

    def __repr__(self) -> str:
        return "SandboxClock()"


class Faults:
    """Fault rules: ``add("unavailable", count=1, method="GET", path_prefix="/contacts")``.
    Kinds: rate_limit, concurrency, server_error, bad_gateway, unavailable, slow,
    truncated, drop_after_commit (see docs/sandbox.md)."""

    def __init__(self, control: ControlClient) -> None:
        self._control = control

    def add(
        self,
        kind: str,
        *,
        count: int | None = None,
        probability: float = 1.0,
        method: str | None = None,
        path_prefix: str | None = None,
        delay: float | None = None,
    ) -> dict[str, Any]:
        rule: dict[str, Any] = {"kind": kind, "probability": probability}
        for key, value in (
            ("count", count),
            ("method", method),
            ("path_prefix", path_prefix),
            ("delay", delay),
        ):
            if value is not None:
                rule[key] = value
        return self._control.add_faults(rule)[0]

    def list(self) -> list[dict[str, Any]]:
        return self._control.faults()

    def clear(self) -> int:
        return self._control.clear_faults()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self.list())


class RequestLog:
    """The request log, read fresh on every use: ``list(sb.requests)``, ``sb.requests[-1]``,
    ``sb.requests.filter(method="POST", path="/books/v3/invoices")``."""

    def __init__(self, control: ControlClient) -> None:
        self._control = control

    def all(self) -> list[LoggedRequest]:
        return [LoggedRequest.from_json(e) for e in self._control.requests()]

    def since(self, seq: int) -> list[LoggedRequest]:
        """Entries after sequence number ``seq`` (for following the log)."""
        return [LoggedRequest.from_json(e) for e in self._control.requests(since=seq)]

    def filter(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        path_prefix: str | None = None,
        status: int | None = None,
    ) -> list[LoggedRequest]:
        return [
            entry
            for entry in self.all()
            if (method is None or entry.method == method.upper())
            and (path is None or entry.path == path)
            and (path_prefix is None or entry.path.startswith(path_prefix))
            and (status is None or entry.status == status)
        ]

    @property
    def last(self) -> LoggedRequest | None:
        entries = self.all()
        return entries[-1] if entries else None

    def clear(self) -> None:
        self._control.clear_requests()

    def __iter__(self) -> Iterator[LoggedRequest]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._control.requests())

    def __getitem__(self, index: int) -> LoggedRequest:
        return self.all()[index]


class Sandbox:
    """A sandbox reachable at ``base_url``, steered through its control plane."""

    def __init__(
        self,
        control: ControlClient,
        credentials: Credentials,
        *,
        baseline: Snapshot | None = None,
    ) -> None:
        self.control = control
        self.credentials = credentials
        self._access_token = credentials.access_token
        self.baseline = baseline
        self.clock = SandboxClock(control)
        self.faults = Faults(control)
        self.requests = RequestLog(control)
        self._clients: list[Any] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Sandbox({self.base_url!r})"

    @property
    def base_url(self) -> str:
        return self.control.base_url

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/books/v3"

    @property
    def org_id(self) -> str:
        """The demo organization, where clients and ``seed`` work by default."""
        return self.credentials.org_id

    # clients -------------------------------------------------------------------------
    def _client_args(self, overrides: dict[str, Any]) -> dict[str, Any]:
        creds = self.credentials
        args: dict[str, Any] = {
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
            "access_token": self._access_token,
            "organization_id": creds.org_id,
            "accounts_url": self.base_url,
            "api_url": self.api_url,
            "plan": creds.plan,
            # Only the sandbox's variables: a developer's ZBOOKS_* must not leak in.
            "env": self.env(),
        }
        args.update(overrides)
        return args

    def client(self, **overrides: Any) -> Client:
        """A logged-in ``zbooks.Client`` on the demo organization (closed with the fixture)."""
        from zbooks.core.client import Client

        made = Client(**self._client_args(overrides))
        with self._lock:
            self._clients.append(made)
        return made

    def async_client(self, **overrides: Any) -> AsyncClient:
        """A logged-in ``zbooks.AsyncClient``; close it with ``await client.aclose()``."""
        from zbooks.core.client import AsyncClient

        return AsyncClient(**self._client_args(overrides))

    def env(self) -> dict[str, str]:
        """``ZBOOKS_*`` variables that point any code at this sandbox, ``zbooks.Client()``
        with no arguments and subprocesses included (``subprocess.run(..., env={**os.environ,
        **sb.env()})``)."""
        creds = self.credentials
        return {
            "ZBOOKS_CLIENT_ID": creds.client_id,
            "ZBOOKS_CLIENT_SECRET": creds.client_secret,
            "ZBOOKS_REFRESH_TOKEN": creds.refresh_token,
            "ZBOOKS_ORGANIZATION_ID": creds.org_id,
            "ZBOOKS_ACCOUNTS_URL": self.base_url,
            "ZBOOKS_API_URL": self.api_url,
            URL_ENV: self.base_url,
            TOKEN_ENV: self.control.token,
        }

    def close_clients(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for made in clients:
            made.close()

    # state ---------------------------------------------------------------------------
    def seed(
        self,
        preset: str | None = None,
        *,
        org_id: str | None = None,
        rng_seed: int | None = None,
        **counts: int,
    ) -> dict[str, list[str]]:
        """``seed("demo")`` adds the demo data set; ``seed(invoices=100, contacts=5)``
        adds generated records per module (in dependency order). Returns the new ids."""
        if preset is not None and counts:
            raise ValueError("give a preset or counts per module, not both")
        if preset is None and not counts:
            raise ValueError('say what to seed: seed("demo") or seed(invoices=10, ...)')
        answer = self.control.seed(counts, preset=preset, org_id=org_id, rng_seed=rng_seed)
        return {k: list(v) for k, v in answer["created"].items()}

    def snapshot(self, name: str = "") -> Snapshot:
        """Save the Books state and the clock (Accounts state is never rolled back)."""
        saved = self.control.snapshot(name)
        return Snapshot(id=str(saved["id"]), name=str(saved["name"]))

    def restore(self, snapshot: Snapshot) -> None:
        """Bring back ``snapshot``'s records and clock; fault rules and the request log
        are left as they are."""
        self.control.restore(snapshot.id)

    def reset(self) -> None:
        """Back to the state this sandbox started in: data, clock, no fault rules, an
        empty request log. Tokens stay valid."""
        if self.baseline is None:
            raise RuntimeError("this sandbox has no baseline snapshot to reset to")
        # Accounts state survives a restore, but a test that moved the clock past the
        # access token's expiry had it purged: take a new one first, so that clients of
        # the next test start logged in (the restore then clears this call from the log).
        creds = self.credentials
        tokens = self.control.refresh(creds.client_id, creds.client_secret, creds.refresh_token)
        self._access_token = str(tokens["access_token"])
        self.control.restore(self.baseline.id, fresh=True)
