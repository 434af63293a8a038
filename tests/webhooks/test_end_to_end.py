"""Acceptance (issue 7): the sandbox over loopback HTTP, driven by the SDK, delivering to
a real ``WebhookReceiver`` served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from zbooks.webhooks import (
    ReconcileCursor,
    SeenEvents,
    WebhookEvent,
    WebhookReceiver,
    parse,
    reconcile,
)

from .conftest import SECRET, LoopbackServer, Sandbox, free_port, wait_until


class Handled:
    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self.lock = threading.Lock()

    def __call__(self, event: WebhookEvent) -> None:
        with self.lock:
            self.events.append(event)

    def count(self) -> int:
        with self.lock:
            return len(self.events)


@pytest.fixture
def handled() -> Handled:
    return Handled()


@pytest.fixture
def receiver(handled: Handled) -> Iterator[LoopbackServer]:
    with LoopbackServer(WebhookReceiver(handled, secret=SECRET, seen=SeenEvents())) as server:
        yield server


def subscribe(client: Any, url: str, *, secret: str | None = SECRET, rule_type: str = "add") -> str:
    hook = client.post(
        "/settings/webhooks",
        json={
            "webhook_name": f"Hook {url[-12:]} {secret}",
            "url": url,
            "entity": "invoice",
            **({"secret": secret} if secret else {}),
        },
    )["webhook"]
    client.post(
        "/settings/workflows",
        json={
            "workflow_name": f"Rule {hook['webhook_id']}",
            "entity": "invoice",
            "rule_type": rule_type,
            "instant_actions": [{"action_type": "webhook", "action_id": hook["webhook_id"]}],
        },
    )
    return str(hook["webhook_id"])


def new_invoice(client: Any) -> dict[str, Any]:
    customer = client.post("/contacts", json={"contact_name": "E2E Co", "contact_type": "customer"})
    invoice: dict[str, Any] = client.post(
        "/invoices",
        json={
            "customer_id": customer["contact"]["contact_id"],
            "line_items": [{"name": "Consulting", "rate": 120, "quantity": 2}],
        },
    )["invoice"]
    return invoice


def history(client: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = client.get("/settings/webhooks/histories")["histories"]
    return rows


def test_a_change_reaches_the_receiver_and_the_handler_runs_once(
    sandbox: Sandbox, receiver: LoopbackServer, handled: Handled
) -> None:
    with sandbox.client() as client:
        subscribe(client, receiver.url)
        invoice = new_invoice(client)
        assert wait_until(lambda: handled.count() == 1)
        assert sandbox.engine.wait_idle(10)
        (event,) = handled.events
        assert (event.entity_type, event.entity_id) == ("invoice", invoice["invoice_id"])
        assert event.last_modified_time == invoice["last_modified_time"]
        assert event.data["total"] == invoice["total"] == 240
        from zbooks.models import Invoice

        model = event.model()
        assert isinstance(model, Invoice) and model.invoice_id == invoice["invoice_id"]
        (row,) = history(client)
        assert (row["status"], row["response_code"]) == ("success", 200)


def test_bad_or_missing_signature_gets_401_and_nothing_runs(
    sandbox: Sandbox, receiver: LoopbackServer, handled: Handled
) -> None:
    with sandbox.client() as client:
        subscribe(client, receiver.url, secret="someOtherSecret42")
        subscribe(client, receiver.url, secret=None)
        new_invoice(client)
        assert wait_until(
            lambda: [r["status"] for r in sandbox.histories()] == ["retrying", "retrying"]
        )
        rows = history(client)
        assert [r["response_code"] for r in rows] == [401, 401]
        assert {r["status"] for r in rows} == {"retrying"}  # a 401 is a failure: Zoho retries
        assert handled.count() == 0


def test_a_duplicate_delivery_runs_nothing(
    sandbox: Sandbox, receiver: LoopbackServer, handled: Handled
) -> None:
    with sandbox.client() as client:
        subscribe(client, receiver.url)
        new_invoice(client)
        assert wait_until(lambda: [r["status"] for r in sandbox.histories()] == ["success"])
        (row,) = history(client)
        client.post(f"/settings/webhooks/histories/{row['history_id']}/resend")
        assert wait_until(lambda: len(sandbox.histories()[0]["versions"]) == 2)
        detail = client.get(f"/settings/webhooks/histories/{row['history_id']}")["history"]
        assert detail["status"] == "success" and '"duplicate"' in detail["response_message"]
        assert handled.count() == 1


def test_receiver_down_the_sandbox_retries_and_the_event_arrives_when_it_is_back(
    sandbox: Sandbox, handled: Handled
) -> None:
    port = free_port()
    receiver = LoopbackServer(WebhookReceiver(handled, secret=SECRET, seen=SeenEvents()), port=port)
    with sandbox.client() as client:
        subscribe(client, receiver.url)
        invoice = new_invoice(client)
        assert wait_until(lambda: [r["status"] for r in sandbox.histories()] == ["retrying"])
        row = history(client)[0]
        assert row["response_code"] == 0 and "Connection failed" in row["response_message"]
        with receiver:
            assert handled.count() == 0  # not due yet: the default policy waits 5 minutes
            sandbox.control("POST", "/clock/advance", seconds=301)
            assert wait_until(lambda: handled.count() == 1)
            assert sandbox.engine.wait_idle(10)
        assert handled.events[0].entity_id == invoice["invoice_id"]
        row = history(client)[0]
        assert (row["status"], row["retry_count"], row["response_code"]) == ("success", 1, 200)


def test_control_plane_trigger_fires_through_rules_or_to_a_url(
    sandbox: Sandbox, receiver: LoopbackServer, handled: Handled
) -> None:
    answer = sandbox.control(
        "POST",
        "/webhooks/trigger",
        expect=201,
        event="invoice.created",
        url=receiver.url,
        secret=SECRET,
    )
    (delivery,) = answer["deliveries"]
    assert (delivery["status"], delivery["response_code"]) == ("success", 200)
    assert handled.count() == 1 and handled.events[0].entity_id == answer["entity_id"]
    refused = sandbox.control("POST", "/webhooks/trigger", expect=404, event="invoice.created")
    assert "no active workflow rule" in refused["error"]
    with sandbox.client() as client:
        subscribe(client, receiver.url, rule_type="add_edit")
    through_rule = sandbox.control(
        "POST",
        "/webhooks/trigger",
        expect=201,
        event="invoice.updated",
        entity_id=answer["entity_id"],
    )
    assert [d["status"] for d in through_rule["deliveries"]] == ["success"]
    # Same record, same last_modified_time: the receiver's dedupe drops it.
    assert handled.count() == 1
    bad = sandbox.control("POST", "/webhooks/trigger", expect=400, event="invoice.exploded")
    assert "unknown event" in bad["error"]
    outside = sandbox.control(
        "POST",
        "/webhooks/trigger",
        expect=400,
        event="invoice.created",
        url="https://example.com/x",
    )
    assert "loopback" in outside["error"]
    settings = sandbox.control("POST", "/webhooks/settings", retry_scale=0.5)
    assert settings["retry_scale"] == 0.5 and sandbox.engine.settings.retry_scale == 0.5


def test_reconcile_fills_the_gaps_webhooks_leave(sandbox: Sandbox) -> None:
    seen: set[tuple[str, str, str]] = set()
    with sandbox.client() as client:
        start = client.get("/settings/webhooks")  # any call: make sure the token works
        assert start["code"] == 0
        cursor = ReconcileCursor()
        first = list(reconcile(client, "invoices", cursor))
        assert first, "the demo organization has invoices"
        stamps = [r["last_modified_time"] for r in first]
        assert stamps == sorted(stamps)  # oldest first
        for record in first:
            seen.add(parse({"invoice": record}).dedupe_key)
            cursor.update(record)
        assert cursor.value == stamps[-1]
        sandbox.control("POST", "/clock/advance", seconds=60)
        changed = new_invoice(client)
        again = list(reconcile(client, "invoices", cursor))
        fresh = [r for r in again if parse({"invoice": r}).dedupe_key not in seen]
        assert [r["invoice_id"] for r in fresh] == [changed["invoice_id"]]
