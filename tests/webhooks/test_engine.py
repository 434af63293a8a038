"""The delivery engine over an in-memory sandbox database: what fires, the payload, the
worker thread, retries on the sandbox clock, history, resend, restart."""

from __future__ import annotations

import json
import threading

import httpx2
import pytest

from zbooks.sandbox.errors import ApiError
from zbooks.sandbox.webhooks import WebhookEngine, WebhookSettings
from zbooks.webhooks import verify

from .conftest import (
    SECRET,
    Env,
    Recorder,
    make_customer,
    make_hook,
    make_invoice,
    make_rule,
    wait_until,
)


def histories(env: Env, **query: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = env.ok("GET", "/settings/webhooks/histories", query=query)[
        "histories"
    ]
    return rows


def policy(env: Env, **fields: object) -> None:
    body = {"retry_type": "fixed", "action_type": "webhook", "base_interval": 1, **fields}
    env.ok("POST", "/retrypolicies", body=body)


def test_a_matching_change_is_delivered_once_off_the_committing_thread(env: Env) -> None:
    hook = make_hook(
        env,
        secret=SECRET,
        query_parameters=[{"param_name": "event", "param_value": "invoice.created"}],
    )
    rule = make_rule(env, hook["webhook_id"])
    customer = make_customer(env)
    invoice = make_invoice(env, customer)
    env.settle()
    assert len(env.recorder.requests) == 1
    assert env.recorder.threads != [threading.current_thread().name]
    sent = env.recorder.requests[0]
    body = json.loads(sent.content)
    # The default payload is the record exactly as GET /invoices/{id} shows it.
    shown = env.ok("GET", f"/invoices/{invoice['invoice_id']}")["invoice"]
    assert body == {"invoice": shown}
    assert sent.url.params["event"] == "invoice.created"
    verify(SECRET, sent.content, dict(sent.headers), params=dict(sent.url.params))

    (row,) = histories(env)
    assert row["status"] == "success" and row["response_code"] == 200
    assert row["entity_type"] == "invoice" and row["entity_id"] == invoice["invoice_id"]
    assert row["entity_name"] == invoice["invoice_number"]
    assert row["webhook_url_id"] == hook["webhook_id"] and row["retry_count"] == 0
    detail = env.ok("GET", f"/settings/webhooks/histories/{row['history_id']}")["history"]
    assert detail["workflow_id"] == rule["workflow_id"] and detail["request_method"] == "POST"
    assert detail["entity_details"] == shown
    assert [v["response_code"] for v in detail["versions"]] == [200]
    assert (
        "_request" not in detail and "X-Zoho-Webhook-Signature: ****" in detail["request_headers"]
    )


def test_changes_that_match_no_active_rule_send_nothing(env: Env) -> None:
    hook = make_hook(env)
    rule = make_rule(env, hook["webhook_id"], rule_type="delete")
    customer = make_customer(env)
    invoice = make_invoice(env, customer)
    env.ok("PUT", f"/invoices/{invoice['invoice_id']}", body={"notes": "edited"})
    env.ok("POST", f"/settings/workflows/{rule['workflow_id']}/inactive")
    env.ok("DELETE", f"/invoices/{invoice['invoice_id']}")  # rule inactive now
    make_rule(env, hook["webhook_id"], workflow_name="On add")
    env.ok("PUT", f"/settings/webhooks/{hook['webhook_id']}", body={"is_active": False})
    make_invoice(env, customer)  # the rule matches but its webhook is inactive
    env.settle()
    assert env.recorder.requests == [] and histories(env) == []


def test_deleted_records_are_sent_as_they_were(env: Env) -> None:
    hook = make_hook(env, entity="contact")
    make_rule(env, hook["webhook_id"], entity="contact", rule_type="delete")
    customer = make_customer(env, "Gone Ltd")
    env.ok("DELETE", f"/contacts/{customer}")
    env.settle()
    (sent,) = env.recorder.requests
    body = json.loads(sent.content)
    assert list(body) == ["contact"]
    assert body["contact"]["contact_id"] == customer
    assert body["contact"]["contact_name"] == "Gone Ltd"


def test_paid_rule_fires_when_a_payment_settles_the_invoice(env: Env) -> None:
    hook = make_hook(env)
    make_rule(env, hook["webhook_id"], rule_type="paid")
    customer = make_customer(env)
    invoice = make_invoice(env, customer, rate=80)
    env.ok("POST", f"/invoices/{invoice['invoice_id']}/status/sent")
    pay = {"customer_id": customer, "payment_mode": "cash", "amount": 30}
    env.ok(
        "POST",
        "/customerpayments",
        body={**pay, "invoices": [{"invoice_id": invoice["invoice_id"], "amount_applied": 30}]},
    )
    env.settle()
    assert env.recorder.requests == []  # partially paid is not paid
    env.ok(
        "POST",
        "/customerpayments",
        body={
            **pay,
            "amount": 50,
            "invoices": [{"invoice_id": invoice["invoice_id"], "amount_applied": 50}],
        },
    )
    env.settle()
    (sent,) = env.recorder.requests
    assert json.loads(sent.content)["invoice"]["status"] == "paid"


def test_failed_delivery_retries_on_the_sandbox_clock(env: Env) -> None:
    policy(env, retry_count=3)
    env.recorder.statuses = [500, 503]
    hook = make_hook(env)
    make_rule(env, hook["webhook_id"])
    make_invoice(env, make_customer(env))
    env.settle()
    (row,) = histories(env)
    assert (row["status"], row["response_code"], row["retry_count"]) == ("retrying", 500, 0)
    assert row["next_retry_time"] > row["history_time"]  # type: ignore[operator]
    assert len(env.recorder.requests) == 1
    env.clock.advance(30)  # not due yet
    env.settle()
    assert len(env.recorder.requests) == 1
    env.clock.advance(31)
    assert wait_until(lambda: len(env.recorder.requests) == 2)
    env.settle()
    env.clock.advance(61)
    assert wait_until(lambda: len(env.recorder.requests) == 3)
    env.settle()
    (row,) = histories(env)
    assert (row["status"], row["response_code"], row["retry_count"]) == ("success", 200, 2)
    detail = env.ok("GET", f"/settings/webhooks/histories/{row['history_id']}")["history"]
    assert [v["response_code"] for v in detail["versions"]] == [500, 503, 200]
    assert [v["status"] for v in detail["versions"]] == ["retrying", "retrying", "success"]
    bodies = {r.content for r in env.recorder.requests}
    assert len(bodies) == 1  # every retry sends the same request


def test_gives_up_after_the_policy_retry_count(env: Env) -> None:
    policy(env, retry_count=1)
    env.recorder.statuses = [500, 500, 500]
    hook = make_hook(env)
    make_rule(env, hook["webhook_id"])
    make_invoice(env, make_customer(env))
    env.settle()
    env.clock.advance(61)
    assert wait_until(lambda: len(env.recorder.requests) == 2)
    env.settle()
    env.clock.advance(3600)
    env.settle()
    (row,) = histories(env)
    assert (row["status"], row["retry_count"], row["next_retry_time"]) == ("failed", 1, "")
    assert len(env.recorder.requests) == 2
    assert [r["history_id"] for r in histories(env, filter_by="Status.Failed")] == [
        row["history_id"]
    ]
    assert histories(env, filter_by="Status.Success") == []


def test_retry_scale_makes_retries_fast_without_moving_the_clock(env: Env) -> None:
    env.engine.settings.retry_scale = 0.0005  # one minute -> 30 ms
    policy(env, retry_count=2)
    env.recorder.statuses = [500, 500]
    hook = make_hook(env)
    make_rule(env, hook["webhook_id"])
    make_invoice(env, make_customer(env))
    assert wait_until(lambda: len(env.recorder.requests) == 3, timeout=10)
    env.settle()
    assert histories(env)[0]["status"] == "success"


def test_resend_and_bulk_resend(env: Env) -> None:
    hook = make_hook(env)
    make_rule(env, hook["webhook_id"])
    customer = make_customer(env)
    make_invoice(env, customer)
    make_invoice(env, customer)
    env.settle()
    first, second = (str(r["history_id"]) for r in histories(env))
    env.ok("POST", f"/settings/webhooks/histories/{first}/resend")
    env.settle()
    assert len(env.recorder.requests) == 3
    resent = json.loads(env.recorder.requests[2].content)["invoice"]
    original = env.ok("GET", f"/settings/webhooks/histories/{first}")["history"]
    assert resent == original["entity_details"]  # the same request, not a fresh snapshot
    with pytest.raises(ApiError) as missing:
        env.call(
            "POST", "/settings/webhooks/histories/bulkresend", query={"history_ids": f"{first},999"}
        )
    assert missing.value.code == 1002
    env.settle()
    assert len(env.recorder.requests) == 3  # all or nothing
    with pytest.raises(ApiError) as too_many:
        env.call(
            "POST",
            "/settings/webhooks/histories/bulkresend",
            query={"history_ids": ",".join([first] * 11)},
        )
    assert too_many.value.status == 400
    env.ok(
        "POST",
        "/settings/webhooks/histories/bulkresend",
        query={"history_ids": f"{first},{second}"},
    )
    env.settle()
    assert len(env.recorder.requests) == 5
    detail = env.ok("GET", f"/settings/webhooks/histories/{first}")["history"]
    assert len(detail["versions"]) == 3 and detail["status"] == "success"


def test_pending_deliveries_survive_an_engine_restart(env: Env) -> None:
    policy(env, retry_count=2)
    env.recorder.statuses = [500]
    hook = make_hook(env)
    make_rule(env, hook["webhook_id"])
    make_invoice(env, make_customer(env))
    env.settle()
    assert histories(env)[0]["status"] == "retrying"
    env.engine.close()
    env.clock.advance(61)
    assert len(env.recorder.requests) == 1  # nobody is delivering
    recorder = Recorder()
    settings = WebhookSettings(transport=recorder.transport, poll_interval=0.01, idle_exit=0.2)
    fresh = WebhookEngine(env.ledger.db, env.clock, None, settings)
    fresh.install()
    try:
        assert wait_until(lambda: len(recorder.requests) == 1)
        assert fresh.wait_idle(10)
        assert histories(env)[0]["status"] == "success"
    finally:
        fresh.close()


def test_history_filters(env: Env) -> None:
    invoices_hook = make_hook(env)
    make_rule(env, invoices_hook["webhook_id"])
    contacts_hook = make_hook(env, webhook_name="Contacts", entity="contact")
    make_rule(env, contacts_hook["webhook_id"], entity="contact", workflow_name="On contact")
    customer = make_customer(env)
    invoice = make_invoice(env, customer)
    env.settle()
    assert len(histories(env)) == 2
    by_hook = histories(env, webhook_id=str(contacts_hook["webhook_id"]))
    assert [r["entity_id"] for r in by_hook] == [customer]
    assert [r["entity_type"] for r in histories(env, entity_id=invoice["invoice_id"])] == [
        "invoice"
    ]
    assert [r["entity_type"] for r in histories(env, filter_by="Entity.Contact")] == ["contact"]
    today = env.ledger.today()
    assert len(histories(env, from_date=today, to_date=today)) == 2
    assert histories(env, from_date="2999-01-01") == []
    assert histories(env, start_time="2999-01-01T00:00:00+0000") == []
    assert len(histories(env, end_time="2999-01-01T00:00:00+0000")) == 2
    newest_first = histories(env, sort_column="event_time", sort_order="D")
    assert len(newest_first) == 2


def test_manual_workflow_trigger(env: Env) -> None:
    hook = make_hook(env)
    rule = make_rule(env, hook["webhook_id"], rule_type="once")  # date-based: never automatic
    invoice = make_invoice(env, make_customer(env))
    env.settle()
    assert env.recorder.requests == []
    env.ok(
        "POST",
        f"/workflows/{rule['workflow_id']}/trigger",
        query={"entity_id": invoice["invoice_id"]},
    )
    env.settle()
    (sent,) = env.recorder.requests
    assert json.loads(sent.content)["invoice"]["invoice_id"] == invoice["invoice_id"]
    with pytest.raises(ApiError) as unknown:
        env.call("POST", f"/workflows/{rule['workflow_id']}/trigger", query={"entity_id": "1"})
    assert unknown.value.status == 404
    env.ok(
        "POST",
        f"/workflows/{rule['workflow_id']}/trigger",
        query={"trigger_for_all_entities": "true"},
    )
    env.settle()
    assert len(env.recorder.requests) == 2


def test_two_rules_send_in_execution_order(env: Env) -> None:
    first = make_hook(env, webhook_name="First", url="http://127.0.0.1:9/first")
    second = make_hook(env, webhook_name="Second", url="http://127.0.0.1:9/second")
    make_rule(env, second["webhook_id"], workflow_name="B")
    make_rule(env, first["webhook_id"], workflow_name="A", rule_type="add_edit")
    make_invoice(env, make_customer(env))
    env.settle()
    assert sorted(r.url.path for r in env.recorder.requests) == ["/first", "/second"]
    names = [r["webhook_name"] for r in histories(env, sort_order="A")]
    assert names == ["Second", "First"]  # B was created (ordered) first


def test_a_resend_overtaking_an_attempt_in_flight(env: Env) -> None:
    gate = threading.Event()
    calls: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        if len(calls) == 1:
            gate.wait(10)  # the first attempt is still in flight during the resend
            return httpx2.Response(500)
        return httpx2.Response(200)

    env.engine.settings.transport = httpx2.MockTransport(handler)
    hook = make_hook(env)
    make_rule(env, hook["webhook_id"])
    make_invoice(env, make_customer(env))
    assert wait_until(lambda: len(calls) == 1)
    (row,) = histories(env)
    env.ok("POST", f"/settings/webhooks/histories/{row['history_id']}/resend")
    gate.set()
    assert wait_until(lambda: len(calls) == 2)
    env.settle()
    detail = env.ok("GET", f"/settings/webhooks/histories/{row['history_id']}")["history"]
    # Both requests went out and are listed; the resend's outcome decides the status,
    # and the overtaken failure schedules no retry.
    assert [v["response_code"] for v in detail["versions"]] == [500, 200]
    assert (detail["status"], detail["retry_count"], detail["next_retry_time"]) == (
        "success",
        0,
        "",
    )
    env.clock.advance(3600)
    env.settle()
    assert len(calls) == 2
