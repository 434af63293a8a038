"""The /_sandbox control plane and demo seeding."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.sandbox.helpers import count_probes, json_of, make_config, running
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.control import check_control_access, is_loopback
from zbooks.sandbox.db import Database
from zbooks.sandbox.faults import FaultRule
from zbooks.sandbox.ledger.base import SEEDERS, Ledger
from zbooks.sandbox.ledger.organizations import create_organization
from zbooks.sandbox.seed import DEMO_PLAN, seed_demo

TOKEN = "sbx_secret"


# access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("192.168.1.5", False),
        ("::ffff:10.0.0.1", False),
        ("testclient", False),
        ("", False),
        (None, False),
    ],
)
def test_is_loopback(host: str | None, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_check_control_access() -> None:
    assert check_control_access("127.0.0.1", f"Bearer {TOKEN}", TOKEN) is None
    assert check_control_access("127.0.0.1", f"bearer  {TOKEN} ", TOKEN) is None
    assert check_control_access("127.0.0.1", None, TOKEN) == (
        401,
        "send Authorization: Bearer <control token>",
    )
    assert check_control_access("127.0.0.1", f"Zoho-oauthtoken {TOKEN}", TOKEN)[0] == 401  # type: ignore[index]
    assert check_control_access("127.0.0.1", "Bearer nope", TOKEN) == (403, "wrong control token")
    # A remote client is refused even with the right token.
    denied = check_control_access("10.1.2.3", f"Bearer {TOKEN}", TOKEN)
    assert denied is not None and denied[0] == 403


async def test_control_plane_requires_the_token() -> None:
    async with running() as sbx:
        anonymous = await sbx.client.get("/_sandbox/clock")
        assert anonymous.status_code == 401
        assert "error" in anonymous.json()
        wrong = await sbx.client.get("/_sandbox/clock", headers={"Authorization": "Bearer x"})
        assert wrong.status_code == 403
        assert (await sbx.client.get("/_sandbox/clock", headers=sbx.control)).status_code == 200


async def test_control_plane_refuses_remote_clients() -> None:
    async with running(client_addr=("10.9.8.7", 40000)) as sbx:
        response = await sbx.client.post("/_sandbox/reset", headers=sbx.control)
    assert response.status_code == 403
    assert "loopback" in response.json()["error"]


# operations -------------------------------------------------------------------------------


async def test_reset_wipes_books_data_but_keeps_tokens_and_org_id() -> None:
    async with running() as sbx:
        token = sbx.token()
        await sbx.books("POST", "/probe", token=token, json={"n": 1})
        extra = sbx.app.create_organization(name="Extra")["organization_id"]
        sbx.app.faults.add(FaultRule("slow", delay=0))
        org_before = sbx.org_id
        response = await sbx.client.post("/_sandbox/reset", headers=sbx.control)
        assert response.status_code == 200
        assert response.json()["demo"]["org_id"] == org_before
        assert count_probes(sbx.app) == 0
        assert sbx.app.faults.rules() == []
        after = await sbx.books("GET", "/probe", token=token)  # the token survived
        assert after.status_code == 200
        gone = await sbx.books("GET", "/probe", token=token, params={"organization_id": extra})
        assert json_of(gone)["code"] == 6041
        # Limits start over as well.
        assert after.headers["x-rate-limit-remaining"] == "9999"


async def test_seed_endpoint_calls_the_module_seeder(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int]] = []

    def fake_seeder(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
        calls.append((ledger.org_id, count))
        ids = []
        for _ in range(count):
            record_id = ledger.store.new_id()
            ledger.store.insert("probes", record_id, {"seeded": True}, ledger.now())
            ids.append(record_id)
        return ids

    monkeypatch.setitem(SEEDERS, "probes", fake_seeder)
    async with running() as sbx:
        response = await sbx.client.post(
            "/_sandbox/seed", json={"module": "probes", "count": 4}, headers=sbx.control
        )
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 4 and len(body["ids"]) == 4
        assert calls == [(sbx.org_id, 4)]
        assert count_probes(sbx.app) == 4

        unknown = await sbx.client.post(
            "/_sandbox/seed", json={"module": "unicorns", "count": 1}, headers=sbx.control
        )
        assert unknown.status_code == 400
        assert "probes" in unknown.json()["error"]
        bad_count = await sbx.client.post(
            "/_sandbox/seed", json={"module": "probes", "count": 0}, headers=sbx.control
        )
        assert bad_count.status_code == 400
        no_org = await sbx.client.post(
            "/_sandbox/seed",
            json={"module": "probes", "count": 1, "org_id": "999"},
            headers=sbx.control,
        )
        assert no_org.status_code == 404


async def test_clock_read_and_advance() -> None:
    async with running() as sbx:
        before = (await sbx.client.get("/_sandbox/clock", headers=sbx.control)).json()
        advanced = await sbx.client.post(
            "/_sandbox/clock/advance", json={"seconds": 86400}, headers=sbx.control
        )
        assert advanced.status_code == 200
        after = advanced.json()
        assert after["time"] - before["time"] >= 86400
        assert after["offset"] == before["offset"] + 86400
        assert after["today"] > before["today"]
        backwards = await sbx.client.post(
            "/_sandbox/clock/advance", json={"seconds": -5}, headers=sbx.control
        )
        assert backwards.status_code == 400
        not_a_number = await sbx.client.post(
            "/_sandbox/clock/advance", json={"seconds": "5"}, headers=sbx.control
        )
        assert not_a_number.status_code == 400


async def test_clients_and_self_client_codes_work_end_to_end() -> None:
    async with running() as sbx:
        created = await sbx.client.post(
            "/_sandbox/clients",
            json={"name": "CI", "client_type": "self"},
            headers=sbx.control,
        )
        assert created.status_code == 201
        client = created.json()
        assert client["client_id"] and client["client_secret"]
        code_response = await sbx.client.post(
            "/_sandbox/self-client/code",
            json={"client_id": client["client_id"], "scope": "ZohoBooks.contacts.ALL"},
            headers=sbx.control,
        )
        assert code_response.status_code == 200
        token_response = await sbx.client.post(
            "/oauth/v2/token",
            data={
                "grant_type": "authorization_code",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "code": code_response.json()["code"],
            },
        )
        access = token_response.json()["access_token"]
        assert (await sbx.books("GET", "/probe", token=access)).status_code == 200

        refused = await sbx.client.post(
            "/_sandbox/self-client/code",
            json={"client_id": sbx.app.demo.client_id, "scope": "ZohoBooks.contacts.ALL"},
            headers=sbx.control,
        )
        assert refused.status_code == 400  # the demo client is server-based, not a Self Client
        server_client = await sbx.client.post(
            "/_sandbox/clients", json={"name": "no uri"}, headers=sbx.control
        )
        assert server_client.status_code == 400


async def test_organizations_endpoint_creates_orgs_for_users() -> None:
    async with running() as sbx:
        response = await sbx.client.post(
            "/_sandbox/organizations",
            json={"name": "Branch", "plan": "free"},
            headers=sbx.control,
        )
        assert response.status_code == 201
        org = response.json()["organization"]
        assert org["name"] == "Branch" and org["plan_name"] == "Free"
        limited = await sbx.books(
            "GET", "/probe", params={"organization_id": org["organization_id"]}
        )
        assert limited.headers["x-rate-limit-limit"] == "1000"
        assert json_of(await sbx.books("GET", "/probe", org=False))["code"] == 6024

        other = await sbx.client.post(
            "/_sandbox/organizations",
            json={"name": "Elsewhere", "email": "someone@example.com"},
            headers=sbx.control,
        )
        foreign = other.json()["organization"]["organization_id"]
        response = await sbx.books("GET", "/probe", params={"organization_id": foreign})
        assert json_of(response)["code"] == 6041
        bad_plan = await sbx.client.post(
            "/_sandbox/organizations", json={"name": "X", "plan": "gold"}, headers=sbx.control
        )
        assert bad_plan.status_code == 400


async def test_request_log_endpoint() -> None:
    async with running() as sbx:
        for _ in range(3):
            await sbx.books("GET", "/probe")
        await sbx.books("GET", "/missing")
        response = await sbx.client.get("/_sandbox/requests?limit=2", headers=sbx.control)
        entries = response.json()["requests"]
    assert [(e["path"], e["status"], e["code"]) for e in entries] == [
        ("/books/v3/probe", 200, 0),
        ("/books/v3/missing", 404, 5),
    ]
    assert all(set(e) >= {"method", "path", "status", "code", "org_id", "time"} for e in entries)


async def test_fault_endpoints_add_list_and_clear() -> None:
    async with running() as sbx:
        added = await sbx.client.post(
            "/_sandbox/faults",
            json={"seed": 3, "rules": [{"kind": "slow", "delay": 0}, {"kind": "server_error"}]},
            headers=sbx.control,
        )
        assert added.status_code == 201
        assert [r["kind"] for r in added.json()["faults"]] == ["slow", "server_error"]
        listed = await sbx.client.get("/_sandbox/faults", headers=sbx.control)
        assert len(listed.json()["faults"]) == 2
        cleared = await sbx.client.delete("/_sandbox/faults", headers=sbx.control)
        assert cleared.json() == {"cleared": 2}
        assert (await sbx.books("GET", "/probe")).status_code == 200


async def test_info_endpoint() -> None:
    async with running() as sbx:
        info = (await sbx.client.get("/_sandbox/info", headers=sbx.control)).json()
    assert info["demo"]["org_id"] == sbx.org_id
    assert info["demo"]["client_id"] == sbx.app.config.client_id


# seeding ----------------------------------------------------------------------------------


def test_seed_demo_runs_seeders_in_dependency_order(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    order: list[str] = []

    def recorder(module: str) -> Callable[[Ledger, int, random.Random], list[str]]:
        def seed(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
            order.append(module)
            record_id = ledger.store.new_id()
            ledger.store.insert(module, record_id, {}, ledger.now())
            if module == "bills":
                raise RuntimeError("broken seeder")
            return [record_id]

        return seed

    # Registered in scrambled order, with some modules missing and one extra.
    scrambled = ("invoices", "bills", "taxes", "contacts", "zzz_extra", "items")
    monkeypatch.setattr("zbooks.sandbox.seed.SEEDERS", {m: recorder(m) for m in scrambled})
    db = Database(":memory:")
    org = create_organization(db, name="Seeded", owner_user_id="u1")
    with caplog.at_level(logging.ERROR, logger="zbooks.sandbox.seed"):
        created = seed_demo(db, Clock(), org["organization_id"])
    assert order == ["taxes", "items", "contacts", "invoices", "bills", "zzz_extra"]
    assert set(created) == {"taxes", "items", "contacts", "invoices", "zzz_extra"}
    assert "bills" in caplog.text
    ledger = Ledger(db=db, clock=Clock(), org_id=org["organization_id"])
    assert ledger.store.count("bills") == 0  # the failing seeder's writes were rolled back
    assert ledger.store.count("invoices") == 1
    db.close()


def test_demo_plan_orders_dependencies_first() -> None:
    modules = [m for m, _ in DEMO_PLAN]
    for before, after in [
        ("taxes", "items"),
        ("items", "invoices"),
        ("contacts", "invoices"),
        ("invoices", "customerpayments"),
        ("bills", "vendorpayments"),
        ("bankaccounts", "banktransactions"),
    ]:
        assert modules.index(before) < modules.index(after)
    assert dict(DEMO_PLAN)["invoices"] == 25


async def test_demo_seed_runs_at_first_start_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runs: list[int] = []

    def seeder(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
        runs.append(count)
        return []

    monkeypatch.setattr("zbooks.sandbox.seed.SEEDERS", {"invoices": seeder})
    config = make_config(tmp_path, seed="demo")
    async with running(config) as first:
        first_org = first.org_id
    async with running(config) as second:
        assert second.org_id == first_org
    assert runs == [25]
    # An "empty" sandbox still has its organization, just no data.
    async with running(make_config(seed="empty")) as empty:
        assert empty.org_id
    assert runs == [25]
