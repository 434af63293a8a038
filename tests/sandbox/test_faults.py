"""Fault injection: every kind, rule matching, counts and seeded probabilities."""

from __future__ import annotations

import json
import time

import httpx2
import pytest

from tests.sandbox.helpers import (
    Sandbox,
    count_probes,
    json_of,
    make_config,
    probe_registry,
    running,
)
from zbooks.sandbox.errors import CONCURRENCY_MESSAGE, PER_MINUTE_MESSAGE
from zbooks.sandbox.faults import FaultInjector, FaultRule, FaultRuleError
from zbooks.sandbox.server import SandboxServer


def rule(**data: object) -> FaultRule:
    return FaultRule.from_json(data)


async def inject(sbx: Sandbox, **data: object) -> None:
    response = await sbx.client.post("/_sandbox/faults", json=data, headers=sbx.control)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("rate_limit", 429, {"code": 44, "message": PER_MINUTE_MESSAGE}),
        ("concurrency", 429, {"code": 1070, "message": CONCURRENCY_MESSAGE}),
        ("server_error", 500, {"code": 1000, "message": "Internal error"}),
    ],
)
async def test_json_error_faults(kind: str, status: int, body: dict[str, object]) -> None:
    async with running() as sbx:
        await inject(sbx, kind=kind, count=1)
        faulted = await sbx.books("POST", "/probe", json={"n": 1})
        assert faulted.status_code == status
        assert json_of(faulted) == body
        assert faulted.headers["content-type"] == "application/json;charset=UTF-8"
        assert count_probes(sbx.app) == 0  # the handler never ran
        healthy = await sbx.books("POST", "/probe", json={"n": 2})
        assert healthy.status_code == 201  # count=1: the rule is spent


@pytest.mark.parametrize(("kind", "status"), [("bad_gateway", 502), ("unavailable", 503)])
async def test_html_error_pages(kind: str, status: int) -> None:
    async with running() as sbx:
        await inject(sbx, kind=kind)
        response = await sbx.books("GET", "/probe")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().startswith("<html>")
    assert str(status) in response.text
    with pytest.raises(ValueError):
        json.loads(response.text)


async def test_slow_fault_delays_then_handles_normally() -> None:
    async with running() as sbx:
        await inject(sbx, kind="slow", delay=0.25, count=1)
        started = time.perf_counter()
        response = await sbx.books("POST", "/probe", json={"n": 1})
        elapsed = time.perf_counter() - started
        assert response.status_code == 201
        assert elapsed >= 0.25
        assert count_probes(sbx.app) == 1


async def test_truncated_body_is_half_of_valid_json_after_commit() -> None:
    async with running() as sbx:
        await inject(sbx, kind="truncated", count=1)
        response = await sbx.books("POST", "/probe", json={"name": "x" * 50})
        assert response.status_code == 201
        assert int(response.headers["content-length"]) == len(response.content)
        with pytest.raises(ValueError):
            json.loads(response.content)
        # The full answer is twice as long (give or take one byte) and the write committed.
        full = await sbx.books("POST", "/probe", json={"name": "x" * 50})
        assert abs(len(full.content) // 2 - len(response.content)) <= 1
        assert count_probes(sbx.app) == 2


async def test_rules_match_method_and_path_prefix() -> None:
    async with running() as sbx:
        await inject(sbx, kind="server_error", method="POST", path_prefix="/probe/echo")
        assert (await sbx.books("GET", "/probe")).status_code == 200
        assert (await sbx.books("POST", "/probe", json={})).status_code == 201
        assert (await sbx.books("POST", "/probe/echo", json={})).status_code == 500
        # The /books/v3 prefix may be given too.
        await sbx.client.delete("/_sandbox/faults", headers=sbx.control)
        await inject(sbx, kind="server_error", path_prefix="/books/v3/probe/pdf")
        assert (await sbx.books("GET", "/probe/pdf")).status_code == 500
        assert (await sbx.books("GET", "/probe")).status_code == 200


async def test_fault_delay_applies_to_error_kinds_too() -> None:
    async with running() as sbx:
        await inject(sbx, kind="unavailable", delay=0.2, count=1)
        started = time.perf_counter()
        response = await sbx.books("GET", "/probe")
        assert response.status_code == 503
        assert time.perf_counter() - started >= 0.2


async def test_accounts_faults_need_an_oauth_prefix() -> None:
    async with running() as sbx:
        await inject(sbx, kind="unavailable", path_prefix="/oauth/v2/token", count=1)
        token_call = await sbx.client.post("/oauth/v2/token", params={"grant_type": "x"})
        assert token_call.status_code == 503
        # Books calls are untouched by an /oauth rule, and vice versa.
        assert (await sbx.books("GET", "/probe")).status_code == 200
        await inject(sbx, kind="server_error")
        again = await sbx.client.post("/oauth/v2/token", params={"grant_type": "x"})
        assert again.status_code == 200  # Zoho's token errors are HTTP 200 JSON


def test_count_expires_a_rule() -> None:
    injector = FaultInjector(seed=1)
    injector.add(rule(kind="server_error", count=2))
    assert injector.pick("GET", "/x") is not None
    assert injector.pick("GET", "/x") is not None
    assert injector.pick("GET", "/x") is None
    assert injector.rules() == []


def test_probability_is_reproducible_with_a_seed() -> None:
    def pattern(seed: int) -> list[bool]:
        injector = FaultInjector(seed=seed)
        injector.add(rule(kind="server_error", probability=0.5))
        return [injector.pick("GET", "/x") is not None for _ in range(200)]

    first = pattern(7)
    assert first == pattern(7)
    assert 60 < sum(first) < 140
    assert first != pattern(8)
    never = FaultInjector(seed=1)
    never.add(rule(kind="server_error", probability=0.0))
    assert all(never.pick("GET", "/x") is None for _ in range(100))


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "explode"},
        {"kind": "slow", "probability": 2},
        {"kind": "slow", "count": 0},
        {"kind": "slow", "count": "3"},
        {"kind": "slow", "delay": -1},
        {"kind": "slow", "colour": "red"},
    ],
)
def test_invalid_rules_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(FaultRuleError):
        FaultRule.from_json(data)


async def test_control_plane_refuses_invalid_rules_with_400() -> None:
    async with running() as sbx:
        response = await sbx.client.post(
            "/_sandbox/faults", json={"kind": "explode"}, headers=sbx.control
        )
        assert response.status_code == 400
        assert "kind must be one of" in response.json()["error"]
        assert sbx.app.faults.rules() == []


def test_drop_after_commit_over_real_http() -> None:
    """The write commits, but the client never gets a complete response."""
    with SandboxServer(make_config(), registry=probe_registry()) as server:
        app = server.app
        client_reg = app.accounts.register_client(name="t", redirect_uris=[], client_type="self")
        code = app.accounts.issue_self_client_code(
            client_reg["client_id"], "ZohoBooks.fullaccess.all"
        )
        token = app.accounts.token(
            {
                "grant_type": "authorization_code",
                "client_id": client_reg["client_id"],
                "client_secret": client_reg["client_secret"],
                "code": code,
            },
            base_url=server.base_url,
        )["access_token"]
        app.faults.add(rule(kind="drop_after_commit", count=1))
        with httpx2.Client(base_url=server.base_url, timeout=5) as client:
            url = f"/books/v3/probe?organization_id={app.demo.org_id}"
            headers = {"Authorization": f"Zoho-oauthtoken {token}"}
            with pytest.raises(httpx2.RemoteProtocolError):
                client.post(url, json={"name": "ghost"}, headers=headers)
            assert count_probes(app) == 1  # committed although the client saw an error
            # The server is still healthy afterwards.
            assert client.post(url, json={"name": "next"}, headers=headers).status_code == 201
        assert count_probes(app) == 2
