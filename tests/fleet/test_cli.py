"""`zbooks connections …` and `zbooks sync --all-connections --workers N`, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.sync.support import SandboxProc
from zbooks.auth.oauth import OAuthClient
from zbooks.fleet.crypto import Cipher
from zbooks.fleet.sandbox import SandboxControl

from .test_celery import invoice_orgs
from .test_shared_stores import ROOT


def _zbooks(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zbooks", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_connections_cli_and_local_fan_out(
    sandbox: SandboxProc, redis_url: str, target_db: str, tmp_path: Path
) -> None:
    with SandboxControl(sandbox.base_url, sandbox.control_token) as control:
        tenants = control.seed_fleet(3, invoices=3, prefix="cli")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZBOOKS_")}
    env.update(
        PYTHONPATH=str(ROOT / "src"),
        ZBOOKS_CONFIG_DIR=str(tmp_path / "config"),
        ZBOOKS_ENCRYPTION_KEY=Cipher.generate_key(),
        ZBOOKS_CONNECTIONS_URL=f"sqlite:///{tmp_path / 'connections.db'}",
        ZBOOKS_TOKEN_STORE=redis_url,
        ZBOOKS_RATE_LIMIT_STORE=redis_url,
    )
    for tenant in tenants:
        done = _zbooks(
            env,
            "connections", "add", tenant.name,
            "--client-id", tenant.client_id,
            "--accounts-url", sandbox.base_url,
            "--api-url", sandbox.api_url,
            stdin=f"{tenant.client_secret}\n{tenant.refresh_token}\n",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert tenant.refresh_token not in done.stdout + done.stderr

    listed = _zbooks(env, "connections", "list", "--output", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows] == [t.name for t in tenants]
    assert all(r["state"] == "active" and r["organizations"] == "" for r in rows)

    tested = _zbooks(env, "connections", "test", "--output", "json")
    assert tested.returncode == 0, tested.stderr
    orgs = {r["name"]: r["organizations"] for r in json.loads(tested.stdout)}
    assert orgs == {t.name: t.organization_id for t in tenants}

    # One grant is revoked: `test` exits 1 and names it; the others stay active.
    victim = tenants[2]
    oauth = OAuthClient(sandbox.base_url, victim.client_id, victim.client_secret)
    oauth.revoke(victim.refresh_token)
    oauth.close()
    # Its access token is still cached in the shared store: drop it so the grant is used.
    from zbooks.core.store_urls import open_token_store

    open_token_store(redis_url, f"connection:{victim.name}").delete()
    retested = _zbooks(env, "connections", "test", victim.name, "--output", "json")
    assert retested.returncode == 1
    assert json.loads(retested.stdout)[0]["state"] == "needs_reauth"

    synced = _zbooks(
        env, "sync", "--all-connections", "--workers", "2", "--db", target_db,
        "--modules", "invoices",
    )  # fmt: skip
    assert synced.returncode == 0, synced.stderr  # the revoked one is skipped, not tried
    results = {r["name"]: r["status"] for r in json.loads(synced.stdout)}
    assert results == {tenants[0].name: "ok", tenants[1].name: "ok"}
    assert invoice_orgs(target_db) == {t.organization_id: 3 for t in tenants[:2]}

    removed = _zbooks(env, "connections", "remove", victim.name)
    assert removed.returncode == 0
    missing = _zbooks(env, "connections", "remove", victim.name)
    assert missing.returncode != 0 and "No connection named" in missing.stderr
    assert "Traceback" not in missing.stderr
