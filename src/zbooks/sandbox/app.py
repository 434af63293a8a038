"""Assemble the sandbox: one Starlette app serving Zoho Accounts, the Books API and the
control plane on one port, over one SQLite database and one clock.

``create_app(config)`` does all start-up work synchronously (open the database, create
the demo user, client and organization, seed) so a caller holding the returned
``SandboxApp`` can use it at once, in-process (``httpx2.ASGITransport``) or behind
uvicorn (``zbooks.sandbox.server``).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from zbooks.sandbox.accounts.service import AccountsService
from zbooks.sandbox.books.registry import Registry, load_routes
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.control import control_routes
from zbooks.sandbox.control_state import state_routes
from zbooks.sandbox.db import Database
from zbooks.sandbox.errors import invalid_url
from zbooks.sandbox.faults import AccountsFaultMiddleware, FaultInjector
from zbooks.sandbox.http_books import API_PREFIXES, BooksDispatcher
from zbooks.sandbox.inspector import InspectorAuth, inspector_routes
from zbooks.sandbox.ledger import details, rows
from zbooks.sandbox.ledger.organizations import PLANS, create_organization, organizations_for_user
from zbooks.sandbox.limits import RateLimiter
from zbooks.sandbox.requestlog import RequestLog, RequestLogMiddleware
from zbooks.sandbox.seed import seed_demo
from zbooks.sandbox.snapshots import SnapshotStore
from zbooks.sandbox.webhooks import WebhookEngine

DEMO_ORG_NAME = "Zylker Demo"
SEEDS = ("demo", "empty")
# Tables the control plane's reset keeps: Accounts state (users, clients, tokens) survives
# a data reset so that a test suite's tokens stay valid across resets.
_KEPT_TABLES = ("meta", "counters")
_KEPT_PREFIX = "accounts_"
_KEPT_COUNTER_SCOPES = ("accounts",)
_DEMO_SECRET_KEY = "demo_client_secret"


@dataclass(frozen=True)
class DemoInfo:
    """What a person or a test needs to talk to a fresh sandbox."""

    user_id: str
    email: str
    org_id: str
    client_id: str
    client_secret: str
    redirect_uri: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class SandboxApp:
    """The running sandbox's parts; ``asgi`` is what a server or an ASGI transport calls."""

    def __init__(
        self,
        config: SandboxConfig,
        *,
        clock: Clock | None = None,
        registry: Registry | None = None,
        keep_client_secret: bool = False,
    ) -> None:
        validate_config(config)
        self.config = config
        self._tmpdir: str | None = None
        if config.db_path:
            Path(config.db_path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            db_path = str(Path(config.db_path).expanduser())
        else:
            self._tmpdir = tempfile.mkdtemp(prefix="zbooks-sandbox-")
            db_path = str(Path(self._tmpdir) / "sandbox.db")
        self.db = Database(db_path)
        if keep_client_secret:
            # The CLI without --client-secret: a restart on the same database keeps the
            # demo secret printed the first time, so configured clients keep working.
            # (Only this sandbox-generated demo secret is stored in plain text.)
            stored = self.db.get_meta(_DEMO_SECRET_KEY)
            if stored:
                config.client_secret = stored
        self.clock = clock or Clock(offset_seconds=config.clock_offset)
        self.registry = registry if registry is not None else load_routes()
        self.accounts = AccountsService(self.db, self.clock, config)
        self.limiter = RateLimiter(config, self.clock)
        self.faults = FaultInjector()
        self.requests = RequestLog()
        self.snapshots = SnapshotStore(self)
        self.inspector = InspectorAuth(config)
        # List-row projections of a file written by an older sandbox are built now, not
        # by the first list page that needs them (the routes registered their modules).
        rows.ensure_all(self.db)
        details.ensure_all(self.db)
        self.demo = self._bootstrap()
        self.books = BooksDispatcher(
            db=self.db,
            clock=self.clock,
            config=config,
            accounts=self.accounts,
            registry=self.registry,
            limiter=self.limiter,
            faults=self.faults,
        )
        self.web = Starlette(
            routes=self._routes(),
            exception_handlers={404: self._not_found},
            middleware=[
                Middleware(RequestLogMiddleware, log=self.requests, clock=self.clock),
                Middleware(AccountsFaultMiddleware, injector=self.faults),
            ],
        )
        self.asgi = SandboxASGI(
            self.web, RequestLogMiddleware(self.books, log=self.requests, clock=self.clock)
        )
        self.webhooks = WebhookEngine.attach(self)

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        """A path nobody serves: Zoho's 404 code 5 envelope, with the ``X-Rate-Limit-*``
        headers that clients such as pyzohoapi read on every response (a full budget:
        the call is tied to no organization)."""
        del exc
        error = invalid_url()
        return JSONResponse(
            error.body(),
            status_code=error.status,
            headers=self.limiter.headers("", self.config.plan),
        )

    # start-up --------------------------------------------------------------------
    def _routes(self) -> list[BaseRoute]:
        # Books requests normally take SandboxASGI's direct path; these routes keep the
        # plain Starlette app complete on its own.
        return [
            *(Route(f"{prefix}/{{path:path}}", self.books) for prefix in API_PREFIXES),
            *(Route(prefix, self.books) for prefix in API_PREFIXES),
            *self.accounts.starlette_routes(),
            *control_routes(self),
            *state_routes(self),
            *inspector_routes(self),
        ]

    def _bootstrap(self) -> DemoInfo:
        """Demo user and client always (idempotent); demo org and data on an empty db."""
        cfg = self.config
        user_id = self.accounts.ensure_user(cfg.user_email, cfg.user_name)
        self.accounts.register_client(
            name=cfg.client_name,
            redirect_uris=[cfg.redirect_uri],
            client_id=cfg.client_id,
            client_secret=cfg.client_secret,
        )
        self.db.set_meta(_DEMO_SECRET_KEY, cfg.client_secret)
        with self.db.read() as conn:
            has_orgs = conn.execute("SELECT 1 FROM organizations LIMIT 1").fetchone() is not None
        if not has_orgs:
            # With --seed empty the organization is still created (only its data is
            # empty), so API calls work at once without a POST /organizations first.
            org = create_organization(
                self.db, name=DEMO_ORG_NAME, owner_user_id=user_id, plan=cfg.plan
            )
            if cfg.seed == "demo":
                seed_demo(self.db, self.clock, org["organization_id"])
        orgs = organizations_for_user(self.db, user_id)
        org_id = str(orgs[0]["organization_id"]) if orgs else ""
        return DemoInfo(
            user_id=user_id,
            email=cfg.user_email,
            org_id=org_id,
            client_id=cfg.client_id,
            client_secret=cfg.client_secret,
            redirect_uri=cfg.redirect_uri,
        )

    # control-plane operations ----------------------------------------------------------
    def reset(self) -> DemoInfo:
        """Wipe every Books table and re-create the start-up state.

        Accounts state is kept, and so is the clock. Books id counters restart, so the
        demo organization gets the same id again and configured clients keep working.
        """
        with self.db.transaction() as conn:
            conn.execute("PRAGMA defer_foreign_keys=ON")
            names = [
                str(r["name"])
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                )
            ]
            for name in names:
                if name in _KEPT_TABLES or name.startswith(_KEPT_PREFIX):
                    continue
                conn.execute(f'DELETE FROM "{name}"')
            marks = ",".join("?" * len(_KEPT_COUNTER_SCOPES))
            conn.execute(f"DELETE FROM counters WHERE scope NOT IN ({marks})", _KEPT_COUNTER_SCOPES)
            # Books state kept in ``meta`` (an organization's chart-of-accounts marker, role
            # ids, hand-chosen numbers) goes too: a kept marker made the lazily created chart
            # look present, so every seeder after it failed and left its module empty.
            conn.execute("DELETE FROM meta WHERE key <> ?", (_DEMO_SECRET_KEY,))
        self.limiter.reset()
        self.faults.clear()
        self.requests.clear()
        # The projections' key markers lived in ``meta``: record them again.
        rows.forget(self.db)
        rows.ensure_all(self.db)
        details.forget(self.db)
        details.ensure_all(self.db)
        self.demo = self._bootstrap()
        return self.demo

    def create_organization(
        self,
        *,
        name: str,
        plan: str | None = None,
        user_id: str | None = None,
        **settings: Any,
    ) -> dict[str, Any]:
        """Another organization for the demo user (or ``user_id``)."""
        return create_organization(
            self.db,
            name=name,
            owner_user_id=user_id or self.demo.user_id,
            plan=plan or self.config.plan,
            **settings,
        )

    def close(self) -> None:
        self.webhooks.close()  # stop the delivery worker before its database goes away
        self.snapshots.close()
        self.db.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


class SandboxASGI:
    """The sandbox's ASGI entry: Books API calls go straight to the (logged) dispatcher,
    everything else (accounts, control plane, webhooks) through Starlette.

    The Books dispatcher answers every error itself, so Starlette's router and error
    middlewares only added per-request cost on the path that carries nearly all traffic.
    """

    def __init__(self, web: Starlette, books: ASGIApp) -> None:
        self.web = web
        self.books = books

    @property
    def router(self) -> Router:
        return self.web.router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and any(
            path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES
        ):
            await self.books(scope, receive, send)
        else:
            await self.web(scope, receive, send)


def validate_config(config: SandboxConfig) -> None:
    """Fail at start with a clear message instead of at the first request."""
    if config.seed not in SEEDS:
        raise ValueError(f"seed must be one of {', '.join(SEEDS)}, not {config.seed!r}")
    if config.plan not in PLANS:
        raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {config.plan!r}")
    if config.rate_limit <= 0 or config.rate_window <= 0:
        raise ValueError("rate limit and window must be positive")
    if config.token_ttl <= 0:
        raise ValueError("token TTL must be positive")
    if not 0 <= config.port <= 65535:
        raise ValueError(f"port must be between 0 and 65535, not {config.port}")


def create_app(
    config: SandboxConfig,
    *,
    clock: Clock | None = None,
    registry: Registry | None = None,
    keep_client_secret: bool = False,
) -> SandboxApp:
    """Open (or create) the sandbox's database and build the ASGI app around it.

    ``registry`` replaces the Books route table (tests of the HTTP layer use a tiny one);
    by default every route module is loaded into the shared ``REGISTRY``.
    ``keep_client_secret`` reuses the demo client secret stored by an earlier run.
    """
    return SandboxApp(config, clock=clock, registry=registry, keep_client_secret=keep_client_secret)


__all__ = ["DemoInfo", "SandboxApp", "create_app"]
