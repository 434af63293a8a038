"""Helpers for the sync tests: a sandbox in a child process, clients for it, and the
sandbox's own view of every record (the "truth" a synced database must match)."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import sqlalchemy as sa

from zbooks import Client
from zbooks.auth.login import code_login
from zbooks.auth.tokens import MemoryStore, Token
from zbooks.core.ratelimit import RateLimiter
from zbooks.core.retry import RetryPolicy
from zbooks.sync.modules import MODULES, ModuleSpec
from zbooks.sync.schema import SyncSchema, record_hash

HERE = Path(__file__).resolve().parent
HUGE = 10**9
START_TIMEOUT = 60.0


def fast_retry(attempts: int = 12) -> RetryPolicy:
    """Waits fit for a local sandbox (Zoho's real waits are a minute for code 44)."""
    return RetryPolicy(
        max_attempts=attempts,
        total_timeout=120,
        backoff_base=0.01,
        backoff_max=0.2,
        rate_limit_wait=0.05,
        concurrency_wait=0.02,
    )


def unlimited() -> RateLimiter:
    return RateLimiter(requests_per_window=HUGE, window=60, plan="premium", daily_limit=HUGE)


def die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, even by SIGKILL (Linux), so
    an interrupted run leaves no sandbox behind."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Credentials:
    client_id: str
    client_secret: str
    token: Token

    def env(self, sandbox: SandboxProc) -> dict[str, str]:
        """What a child process needs to build the same client."""
        return {
            "ZB_CLIENT_ID": self.client_id,
            "ZB_CLIENT_SECRET": self.client_secret,
            "ZB_ACCESS_TOKEN": self.token.access_token or "",
            "ZB_REFRESH_TOKEN": self.token.refresh_token or "",
            "ZB_BASE_URL": sandbox.base_url,
            "ZB_ORG_ID": sandbox.org_id,
            "ZB_CLOCK_OFFSET": str(sandbox.config.get("clock_offset", 0.0)),
        }


def client_from_env(env: Mapping[str, str] | None = None, **options: Any) -> Client:
    """The client a child process builds from ``Credentials.env``'s variables (the
    sandbox's URLs, organization and tokens); ``options`` go to ``Client`` as well."""
    env = os.environ if env is None else env
    base = env["ZB_BASE_URL"]
    return Client(
        client_id=env["ZB_CLIENT_ID"],
        client_secret=env["ZB_CLIENT_SECRET"],
        access_token=env["ZB_ACCESS_TOKEN"],
        refresh_token=env["ZB_REFRESH_TOKEN"],
        accounts_url=base,
        api_url=base + "/books/v3",
        organization_id=env["ZB_ORG_ID"],
        env={},
        **options,
    )


@dataclass
class SandboxProc:
    """A sandbox server in a child process, on a free loopback port."""

    config: dict[str, Any]
    proc: subprocess.Popen[str] | None = None
    base_url: str = ""
    org_id: str = ""
    user_id: str = ""
    db_path: str = ""
    control_token: str = field(default_factory=lambda: "sbx_" + secrets.token_hex(8))

    def start(self) -> SandboxProc:
        config = {
            "port": 0,
            "auto_approve": True,
            "control_token": self.control_token,
            **self.config,
        }
        self.db_path = str(config.get("db_path") or "")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "sandbox_proc.py"), json.dumps(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            preexec_fn=die_with_parent,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        for line in self.proc.stdout:
            if m := re.search(r"listening on (http://\S+)", line):
                self.base_url = m.group(1)
            elif m := re.search(r"Demo user:\s+\S+ \((\S+)\)", line):
                self.user_id = m.group(1)
            elif m := re.search(r"Demo organization:\s+(\d+)", line):
                self.org_id = m.group(1)
            elif m := re.search(r"Database:\s+(\S+)", line):
                self.db_path = m.group(1)
            if "export ZBOOKS_API_URL" in line:
                break
            if time.monotonic() > deadline:
                break
        if not (self.base_url and self.org_id):
            self.stop()
            raise RuntimeError("the sandbox process did not start")
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    def restart(self) -> None:
        """Stop and start on the same port and database: data, clients and tokens stay;
        the in-memory API limits (today's count) start afresh, like a new day."""
        port = int(self.base_url.rsplit(":", 1)[1])
        self.stop()
        self.config = {**self.config, "port": port, "db_path": self.db_path}
        self.start()

    @property
    def api_url(self) -> str:
        return self.base_url + "/books/v3"

    def control(self, method: str, path: str, **body: Any) -> Any:
        response = httpx2.request(
            method,
            f"{self.base_url}/_sandbox{path}",
            headers={"Authorization": f"Bearer {self.control_token}"},
            json=body or None,
            timeout=600,
        )
        assert response.status_code < 400, response.text
        return response.json()

    def seed(self, module: str, count: int, seed: int = 7) -> list[str]:
        return list(self.control("POST", "/seed", module=module, count=count, seed=seed)["ids"])

    def credentials(self) -> Credentials:
        app = self.control("POST", "/clients", name="sync tests", client_type="self")
        code = self.control(
            "POST",
            "/self-client/code",
            client_id=app["client_id"],
            scope="ZohoBooks.fullaccess.all",
        )["code"]
        token = code_login(
            code,
            accounts_url=self.base_url,
            client_id=app["client_id"],
            client_secret=app["client_secret"],
        ).token
        return Credentials(app["client_id"], app["client_secret"], token)

    def client(
        self,
        creds: Credentials,
        *,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx2.Client | None = None,
    ) -> Client:
        return Client(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            token_store=MemoryStore(creds.token),
            accounts_url=self.base_url,
            api_url=self.api_url,
            organization_id=self.org_id,
            env={},
            rate_limiter=limiter or unlimited(),
            retry=retry or fast_retry(),
            http_client=http_client,
        )

    def mark(self) -> str:
        """Log a unique request; ``requests_since(mark)`` returns what came after it."""
        marker = secrets.token_hex(6)
        httpx2.get(f"{self.api_url}/zz-marker-{marker}", timeout=10)
        return marker

    def requests_since(self, marker: str) -> list[dict[str, Any]]:
        entries = self.control("GET", "/requests?limit=2000")["requests"]
        for index, entry in enumerate(entries):
            if entry["path"].endswith(f"zz-marker-{marker}"):
                return list(entries[index + 1 :])
        raise AssertionError("marker not found in the request log (log overflowed?)")


def _noon_offset() -> float:
    """Seconds from now back to the latest 12:00 UTC: the sandbox runs at mid-day, so a
    test run that crosses real midnight never sees a date-derived status (overdue) flip
    between the sync and the snapshot it is compared with."""
    now = datetime.now(UTC)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon > now:
        noon -= timedelta(days=1)
    return (noon - now).total_seconds()


CLOCK_OFFSET = _noon_offset()


def sandbox_now() -> datetime:
    """The sandbox's current time, for ``zbooks.sync.run(now=...)``."""
    return datetime.now(UTC) + timedelta(seconds=CLOCK_OFFSET)


@contextmanager
def sandbox_process(**config: Any) -> Iterator[SandboxProc]:
    base = {
        "clock_offset": CLOCK_OFFSET,
        "rate_limit": HUGE,
        "daily_limits": {"free": HUGE, "standard": HUGE, "professional": HUGE, "premium": HUGE},
    }
    with tempfile.TemporaryDirectory(prefix="zbooks-sync-sbx-") as tmp:
        sandbox = SandboxProc({"db_path": str(Path(tmp) / "sandbox.db"), **base, **config})
        sandbox.start()
        try:
            yield sandbox
        finally:
            sandbox.stop()


# --- the sandbox's truth ------------------------------------------------------------------
class Truth:
    """Every record as the sandbox's own route handlers present it, computed in-process
    over the sandbox's database file (no HTTP, so it is fast and independent of the sync).
    """

    def __init__(self, sandbox: SandboxProc) -> None:
        from zbooks.sandbox.books.registry import load_routes
        from zbooks.sandbox.clock import Clock
        from zbooks.sandbox.db import Database
        from zbooks.sandbox.ledger.base import Ledger

        self.sandbox = sandbox
        self.db = Database(sandbox.db_path)
        offset = float(sandbox.config.get("clock_offset", 0.0))
        self.ledger = Ledger(db=self.db, clock=Clock(offset), org_id=sandbox.org_id)
        self.registry = load_routes()

    def close(self) -> None:
        self.db.close()

    def get(self, path: str, query: Mapping[str, str] | None = None) -> dict[str, Any]:
        from zbooks.sandbox.books.registry import BooksRequest

        route, params = self.registry.match("GET", path)
        request = BooksRequest(
            method="GET",
            path=path,
            path_params=params,
            query=query or {},
            body={},
            ledger=self.ledger,
            user_id=self.sandbox.user_id,
        )
        response = route.handler(request)
        assert response.status == 200 and response.body is not None, (path, response)
        # Through JSON, exactly as the HTTP layer would send it.
        from zbooks.sandbox.ledger.store import dumps

        body: dict[str, Any] = json.loads(dumps(response.body))
        return body

    def records(self, spec: ModuleSpec) -> dict[str, dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get(spec.path, {"page": str(page), "per_page": "200"})
            rows.extend(body[spec.list_key])
            if not body["page_context"]["has_more_page"]:
                break
            page += 1
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            rid = str(row[spec.id_field])
            if spec.detail_key is None:
                out[rid] = row
            else:
                out[rid] = self.get(spec.detail_path(rid))[spec.detail_key]
        return out

    def snapshot(self, modules: list[str] | None = None) -> Snapshot:
        return {name: self.records(MODULES[name]) for name in modules or list(MODULES)}


Snapshot = dict[str, dict[str, dict[str, Any]]]  # module -> id -> record


def synced_hashes(engine: sa.Engine, spec: ModuleSpec, org_id: str) -> dict[str, str]:
    table = SyncSchema([spec]).modules[spec.name].table
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.id, table.c.row_hash).where(
                table.c.organization_id == org_id, table.c.deleted_at.is_(None)
            )
        ).all()
    return {str(r.id): str(r.row_hash) for r in rows}


def assert_matches(engine: sa.Engine, snapshot: Snapshot, org_id: str) -> dict[str, int]:
    """Counts and a checksum per row equal the sandbox's; child rows and duplicates checked.
    Returns the row count per module."""
    counts: dict[str, int] = {}
    for name, expected_records in snapshot.items():
        spec = MODULES[name]
        expected = {rid: record_hash(rec) for rid, rec in expected_records.items()}
        got = synced_hashes(engine, spec, org_id)
        assert len(got) == len(expected), (name, len(got), len(expected))
        wrong = sorted(rid for rid in expected if got.get(rid) != expected[rid])
        assert not wrong, f"{name}: {len(wrong)} rows differ, e.g. {wrong[:3]}"
        schema = SyncSchema([spec]).modules[name]
        with engine.connect() as conn:
            for child in schema.children:
                want = sum(
                    len([e for e in rec.get(child.spec.key) or [] if isinstance(e, dict)])
                    for rec in expected_records.values()
                )
                have = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(child.table)
                    .where(child.table.c.organization_id == org_id)
                ).scalar()
                assert have == want, (child.table.name, have, want)
            total, distinct = conn.execute(
                sa.select(sa.func.count(), sa.func.count(sa.distinct(schema.table.c.id))).where(
                    schema.table.c.organization_id == org_id
                )
            ).one()
            assert total == distinct, f"{name}: duplicate rows"
        counts[name] = len(expected)
    return counts


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def doc_queries(dialect: str) -> list[str]:
    """The example SQL statements of docs/sync.md that run on ``dialect``."""
    text = (HERE.parents[1] / "docs" / "sync.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    statements = []
    for block in blocks:
        lines = [line for line in block.splitlines() if not line.lstrip().startswith("--")]
        for statement in "\n".join(lines).split(";"):
            if not statement.strip():
                continue
            postgres_only = "date_trunc" in statement or "->" in statement
            sqlite_only = "json_extract" in statement
            if (dialect == "sqlite" and not postgres_only) or (
                dialect == "postgresql" and not sqlite_only
            ) or dialect == "duckdb":
                statements.append(statement.strip())
    return statements
