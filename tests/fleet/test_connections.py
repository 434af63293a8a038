"""The connections registry against a real sandbox hosting a small fleet."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.sync.support import SandboxProc
from zbooks.auth.oauth import OAuthClient
from zbooks.errors import ConfigurationError
from zbooks.fleet import Connections
from zbooks.fleet.connections import ConnectionUnavailable, State
from zbooks.fleet.crypto import Cipher
from zbooks.fleet.sandbox import SandboxControl, Tenant, register


@pytest.fixture(scope="module")
def tenants(sandbox: SandboxProc) -> list[Tenant]:
    with SandboxControl(sandbox.base_url, sandbox.control_token) as control:
        return control.seed_fleet(3, invoices=2, prefix="conn")


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = Cipher.generate_key()
    monkeypatch.setenv("ZBOOKS_ENCRYPTION_KEY", value)
    return value


def test_sandbox_fleet_gives_each_tenant_its_own_org_user_and_grant(
    sandbox: SandboxProc, tenants: list[Tenant], tmp_path: Path, key: str, redis_url: str
) -> None:
    assert len({t.organization_id for t in tenants}) == 3
    assert len({t.user_id for t in tenants}) == 3
    assert len({t.client_id for t in tenants}) == 3
    registry = Connections(f"sqlite:///{tmp_path / 'c.db'}", token_store=redis_url)
    register(registry, tenants, sandbox.base_url)
    for tenant in tenants:
        with registry.client(tenant.name) as client:
            orgs = [o["organization_id"] for o in client.organizations()]
            assert orgs == [tenant.organization_id]  # the grant reaches its own org only
            assert len(client.get("/invoices")["invoices"]) == 2


def test_secrets_are_encrypted_at_rest_and_never_shown(
    sandbox: SandboxProc, tenants: list[Tenant], tmp_path: Path, key: str
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    registry = Connections(url)
    register(registry, tenants[:1], sandbox.base_url)
    tenant = tenants[0]
    raw = sa.create_engine(url).connect().execute(sa.text("SELECT * FROM zbooks_connections"))
    dump = repr(raw.all())
    assert tenant.refresh_token not in dump and tenant.client_secret not in dump
    connection = registry.get(tenant.name)
    shown = repr(connection) + repr(registry.list()) + str(connection.to_dict())
    assert tenant.refresh_token not in shown and tenant.client_secret not in shown
    # The client's shared token store entry is encrypted too.
    with registry.client(tenant.name) as client:
        client.organizations()
    tokens = sa.create_engine(url).connect().execute(sa.text("SELECT data FROM zbooks_tokens"))
    assert tenant.refresh_token not in repr(tokens.all())
    # Rotation: a new key first, the old one after; rotate; then the old one can go.
    new = Cipher.generate_key()
    rotated = Connections(url, cipher=Cipher(f"{new},{key}"))
    assert rotated.rotate_key() == 1
    after = Connections(url, cipher=Cipher(new))
    assert after.get(tenant.name).state is State.ACTIVE
    assert after._secrets(tenant.name)[1] == tenant.refresh_token
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        Connections(url, cipher=Cipher(key))._secrets(tenant.name)


def test_revoked_grant_marks_only_that_connection(
    sandbox: SandboxProc, tenants: list[Tenant], tmp_path: Path, key: str, redis_url: str
) -> None:
    registry = Connections(
        f"sqlite:///{tmp_path / 'c.db'}", token_store=redis_url, rate_limiter=redis_url
    )
    mine = [
        Tenant(
            t.name + "-r",
            t.organization_id,
            t.user_id,
            t.client_id,
            t.client_secret,
            t.refresh_token,
            t.plan,
        )
        for t in tenants
    ]
    register(registry, mine, sandbox.base_url)
    victim = mine[1]
    oauth = OAuthClient(sandbox.base_url, victim.client_id, victim.client_secret)
    oauth.revoke(victim.refresh_token)
    oauth.close()
    results = {t.name: registry.test(t.name) for t in mine}
    assert results[victim.name].state is State.NEEDS_REAUTH
    assert "InvalidGrantError" in (results[victim.name].reason or "")
    assert victim.refresh_token not in (results[victim.name].reason or "")
    for other in (mine[0], mine[2]):
        assert results[other.name].state is State.ACTIVE
        assert results[other.name].organizations == (other.organization_id,)
    with pytest.raises(ConnectionUnavailable, match="needs_reauth"):
        registry.client(victim.name)
    assert [c.name for c in registry.list(state="needs_reauth")] == [victim.name]
    registry.remove(victim.name)
    assert victim.name not in [c.name for c in registry.list()]


def test_registry_on_postgresql(postgres_url: str, key: str, unique: str) -> None:
    registry = Connections(postgres_url)
    name = f"pg-{unique}"
    registry.add(
        name,
        client_id="1000.X",
        client_secret="s3cret",
        refresh_token="1000.rt",
        organizations=["42"],
        region="eu",
    )
    other = Connections(postgres_url)  # another worker sees it
    got = other.get(name)
    assert got.region == "eu" and got.organizations == ("42",) and got.state is State.ACTIVE
    with pytest.raises(ConfigurationError, match="exists"):
        registry.add(name, client_id="1000.X", client_secret="s", refresh_token="r")
    other.set_state(name, "disabled")
    with pytest.raises(ConnectionUnavailable, match="disabled"):
        registry.client(name)
    registry.remove(name)
    with pytest.raises(ConfigurationError, match="No connection"):
        other.get(name)


def test_registry_needs_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZBOOKS_ENCRYPTION_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="ZBOOKS_ENCRYPTION_KEY"):
        Connections(f"sqlite:///{tmp_path / 'c.db'}")
    with pytest.raises(ConfigurationError, match="PostgreSQL or SQLite"):
        Connections("redis://127.0.0.1:1/0", cipher=Cipher(Cipher.generate_key()))


async def test_async_client_shares_the_connection(
    sandbox: SandboxProc, tenants: list[Tenant], tmp_path: Path, key: str, redis_url: str
) -> None:
    registry = Connections(
        f"sqlite:///{tmp_path / 'c.db'}", token_store=redis_url, rate_limiter=redis_url
    )
    tenant = tenants[0]
    mine = Tenant(
        tenant.name + "-a", tenant.organization_id, tenant.user_id, tenant.client_id,
        tenant.client_secret, tenant.refresh_token, tenant.plan,
    )  # fmt: skip
    register(registry, [mine], sandbox.base_url)
    async with registry.async_client(mine.name) as client:
        orgs = await client.organizations()
        assert [o["organization_id"] for o in orgs] == [tenant.organization_id]
        assert client.rate_limiter is registry.limiter(tenant.plan)
        assert client.rate_limiter is not None
        assert type(client.rate_limiter.backend).__name__ == "RedisBackend"
    stored = registry._store(mine.name).load()
    assert stored is not None and stored.access_token  # the shared store got the token


def test_fleet_control_call_refuses_bad_input(sandbox: SandboxProc) -> None:
    import httpx2

    headers = {"Authorization": f"Bearer {sandbox.control_token}"}
    for body, needle in (
        ({"orgs": 0}, "orgs must be between"),
        ({"orgs": "ten"}, "orgs must be an integer"),
        ({"orgs": 1, "plan": "gold"}, "plan must be one of"),
        ({"orgs": 1, "invoices": -1}, "invoices must be between"),
    ):
        answer = httpx2.post(f"{sandbox.base_url}/_sandbox/fleet", json=body, headers=headers)
        assert answer.status_code == 400 and needle in answer.text
    anonymous = httpx2.post(f"{sandbox.base_url}/_sandbox/fleet", json={"orgs": 1})
    assert anonymous.status_code in (401, 403)


def test_rate_limit_window_is_configurable_and_padded(tmp_path: Path, key: str) -> None:
    """``ZBOOKS_RATE_LIMIT`` sets the shared limiter's window (a compressed one against a
    sandbox); grants count a little longer than the server's window, so a late first
    request and a punctual 101st never land in one server window."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    env = {"ZBOOKS_ENCRYPTION_KEY": key}
    default = Connections(url, env=env).limiter()
    assert default.limits.requests_per_window == 100
    assert 60.0 < default.limits.window <= 61.5
    fast = Connections(url, env={**env, "ZBOOKS_RATE_LIMIT": "50/6s"}).limiter()
    assert fast.limits.requests_per_window == 50
    assert 6.0 < fast.limits.window <= 6.5
    assert Connections(url, env={**env, "ZBOOKS_RATE_LIMIT": "100/1m"}).window == 60.0
    for bad in ("fast", "0/60s", "100/0s", "100/xs"):
        with pytest.raises(ConfigurationError, match="ZBOOKS_RATE_LIMIT"):
            Connections(url, env={**env, "ZBOOKS_RATE_LIMIT": bad})
