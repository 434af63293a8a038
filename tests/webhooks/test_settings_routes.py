"""The automation settings API: webhooks, workflow rules and retry policies, checked for
their rules and against the 2026-04 OpenAPI files (the only ones documenting them)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.oasfiles import OAS_04_DIR as OAS_04
from tests.oasfiles import requires_oas_04
from tests.sandbox.oas import OasIndex, load_oas
from zbooks.sandbox.errors import ApiError

from .conftest import HOOK_URL, SECRET, Env, make_hook, make_rule


@pytest.fixture(scope="module")
def oas() -> OasIndex:
    # Bypass load_oas's one-entry cache so the 2026-07 index other tests use stays cached.
    index: OasIndex = load_oas.__wrapped__(OAS_04)
    return index


def refused(env: Env, method: str, path: str, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        env.call(method, path, **kwargs)
    return info.value


# --- webhooks -------------------------------------------------------------------------------
def test_webhook_crud_round_trip(env: Env) -> None:
    created = env.call(
        "POST",
        "/settings/webhooks",
        body={
            "webhook_name": "Paid invoices",
            "url": "http://localhost:8788/hooks?source=books",
            "entity": "invoice",
            "method": "put",
            "secret": SECRET,
            "headers": [{"param_name": "X-Env", "param_value": "test"}],
            "query_parameters": [{"param_name": "id", "param_value": "${invoice.invoice_id}"}],
        },
    )
    assert created.status == 201
    hook = created.body["webhook"]  # type: ignore[index]
    assert hook["method"] == "PUT" and hook["secret"] == SECRET and hook["is_active"] is True
    assert hook["placeholder"] == "wh_paid_invoices"
    fetched = env.ok("GET", f"/settings/webhooks/{hook['webhook_id']}")["webhook"]
    assert fetched == hook
    updated = env.ok(
        "PUT",
        f"/settings/webhooks/{hook['webhook_id']}",
        body={"description": "changed", "secret": ""},
    )["webhook"]
    assert updated["description"] == "changed" and updated["secret"] == ""
    assert updated["headers"] == hook["headers"]  # fields left out keep their value
    listed = env.ok("GET", "/settings/webhooks")["webhooks"]
    assert [w["webhook_id"] for w in listed] == [hook["webhook_id"]]
    assert "secret" not in listed[0]  # the list shows a summary
    env.ok("DELETE", f"/settings/webhooks/{hook['webhook_id']}")
    gone = refused(env, "GET", f"/settings/webhooks/{hook['webhook_id']}")
    assert (gone.status, gone.code, gone.message) == (404, 1002, "Webhook does not exist.")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": "ftp://127.0.0.1/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": HOOK_URL, "method": "PATCH"}, "method"),
        ({"url": HOOK_URL, "secret": "short"}, "secret"),
        ({"url": HOOK_URL, "secret": "has-punctuation!!"}, "secret"),
        ({"url": HOOK_URL, "secret": "a" * 51}, "secret"),
        ({"url": HOOK_URL, "entity": "spaceship"}, "entity"),
        ({"url": HOOK_URL, "body_type": "xml"}, "body_type"),
        ({"url": HOOK_URL, "headers": [{"param_value": "x"}]}, "headers"),
        ({"url": HOOK_URL, "query_parameters": "a=b"}, "query_parameters"),
    ],
)
def test_webhook_validation(env: Env, body: dict[str, Any], field: str) -> None:
    error = refused(env, "POST", "/settings/webhooks", body=body)
    assert (error.status, error.code) == (400, 4)
    assert error.message == f"Invalid value passed for {field}"


def test_webhook_length_limits_use_zoho_wording(env: Env) -> None:
    error = refused(
        env, "POST", "/settings/webhooks", body={"url": HOOK_URL, "webhook_name": "n" * 51}
    )
    assert error.code == 15
    assert error.message == "Please ensure that the webhook_name has less than 50 characters."


def test_only_loopback_urls_unless_allowed(env: Env) -> None:
    error = refused(env, "POST", "/settings/webhooks", body={"url": "https://example.com/hook"})
    assert error.status == 400 and "loopback" in error.message and "example.com" in error.message
    for url in ("http://[::1]:8000/x", "http://127.5.6.7/x", "http://localhost/x"):
        env.ok("POST", "/settings/webhooks", body={"url": url, "webhook_name": url})
    env.engine.settings.allow_external = True
    env.ok("POST", "/settings/webhooks", body={"url": "https://example.com/hook"})


def test_duplicate_names_and_deleting_a_webhook_in_use_are_refused(env: Env) -> None:
    hook = make_hook(env)
    assert (
        refused(
            env, "POST", "/settings/webhooks", body={"url": HOOK_URL, "webhook_name": "Invoices"}
        ).code
        == 1001
    )
    rule = make_rule(env, hook["webhook_id"])
    error = refused(env, "DELETE", f"/settings/webhooks/{hook['webhook_id']}")
    assert error.status == 400 and "On invoice" in error.message
    listed = env.ok("GET", "/settings/webhooks")["webhooks"][0]
    assert listed["related_rules"] == [
        {"workflow_id": rule["workflow_id"], "workflow_name": "On invoice"}
    ]
    env.ok("DELETE", f"/settings/workflows/{rule['workflow_id']}")
    env.ok("DELETE", f"/settings/webhooks/{hook['webhook_id']}")


def test_webhook_list_filters_by_entity_and_editpage(env: Env) -> None:
    make_hook(env)
    make_hook(env, webhook_name="Bills", entity="bill")
    bills = env.ok("GET", "/settings/webhooks", query={"filter_by": "Entity.Bill"})["webhooks"]
    assert [w["webhook_name"] for w in bills] == ["Bills"]
    by_name = env.ok(
        "GET", "/settings/webhooks", query={"sort_column": "webhook_name", "sort_order": "A"}
    )
    assert [w["webhook_name"] for w in by_name["webhooks"]] == ["Bills", "Invoices"]
    assert refused(env, "GET", "/settings/webhooks", query={"filter_by": "Entity.Nope"}).code == 4
    page = env.ok("GET", "/settings/webhooks/editpage", query={"entity": "invoice"})
    assert {"entity": "invoice", "entity_key": "invoice", "id_field": "invoice_id"} in page[
        "entities"
    ]


# --- workflow rules ---------------------------------------------------------------------------
def test_workflow_crud_activation_and_reorder(env: Env) -> None:
    hook = make_hook(env)
    first = make_rule(env, hook["webhook_id"])
    assert first["is_active"] is True and first["rule_type"] == "add"
    action = first["instant_actions"][0]
    assert action["action_id"] == hook["webhook_id"] and action["webhook_name"] == "Invoices"
    second = make_rule(env, hook["webhook_id"], workflow_name="Second", rule_type="edit")
    env.ok("POST", f"/settings/workflows/{first['workflow_id']}/inactive")
    assert (
        env.ok("GET", f"/settings/workflows/{first['workflow_id']}")["workflow"]["is_active"]
        is False
    )
    env.ok("POST", f"/settings/workflows/{first['workflow_id']}/active")
    env.ok(
        "POST",
        "/settings/workflows/reorder",
        body={
            "entity_type": "invoice",
            "execution_order": [second["workflow_id"], first["workflow_id"]],
        },
    )
    from zbooks.sandbox.webhooks.workflows import rules_for

    assert [r["workflow_id"] for r in rules_for(env.ledger, "invoices")] == [
        second["workflow_id"],
        first["workflow_id"],
    ]
    updated = env.ok(
        "PUT", f"/settings/workflows/{second['workflow_id']}", body={"rule_type": "add_edit"}
    )["workflow"]
    assert updated["rule_type"] == "add_edit" and updated["workflow_name"] == "Second"
    env.ok("DELETE", f"/settings/workflows/{second['workflow_id']}")
    assert refused(env, "GET", f"/settings/workflows/{second['workflow_id']}").code == 1002


def test_inline_webhook_action_becomes_a_webhook(env: Env) -> None:
    rule = env.ok(
        "POST",
        "/settings/workflows",
        body={
            "workflow_name": "Inline",
            "entity": "bill",
            "rule_type": "paid",
            "instant_actions": [
                {"action_type": "webhook", "webhook_name": "Bill paid", "url": HOOK_URL},
                {"action_type": "alert", "alert_name": "Tell finance"},
            ],
        },
    )["workflow"]
    hook_id = rule["instant_actions"][0]["action_id"]
    hook = env.ok("GET", f"/settings/webhooks/{hook_id}")["webhook"]
    assert (hook["webhook_name"], hook["entity"]) == ("Bill paid", "bill")
    assert rule["instant_actions"][1]["action_type"] == "alert"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"workflow_name": ""}, "workflow_name"),
        ({"entity": "spaceship"}, "entity"),
        ({"rule_type": "sometimes"}, "rule_type"),
        ({"instant_actions": [{"action_type": "webhook", "action_id": "123"}]}, "action_id"),
        ({"instant_actions": [{"action_type": "teleport"}]}, "action_type"),
        ({"rule": {"columns": [{"field": "total", "comparator": "bigger"}]}}, "rule"),
        (
            {
                "rule": {
                    "columns": [{"field": "total", "comparator": "equal"}],
                    "criteria_string": "1 AND 2",
                }
            },
            "rule",
        ),
        ({"field_update_comparator": "xor"}, "field_update_comparator"),
    ],
)
def test_workflow_validation(env: Env, change: dict[str, Any], field: str) -> None:
    body = {"workflow_name": "W", "entity": "invoice", "rule_type": "add", **change}
    error = refused(env, "POST", "/settings/workflows", body=body)
    assert (error.status, error.code, error.message) == (
        400,
        4,
        f"Invalid value passed for {field}",
    )


def test_workflow_refuses_a_webhook_of_another_module(env: Env) -> None:
    hook = make_hook(env, entity="bill")
    error = refused(
        env,
        "POST",
        "/settings/workflows",
        body={
            "workflow_name": "Mismatch",
            "entity": "invoice",
            "rule_type": "add",
            "instant_actions": [{"action_type": "webhook", "action_id": hook["webhook_id"]}],
        },
    )
    assert error.status == 400 and "bill" in error.message


# --- retry policies ---------------------------------------------------------------------------
def test_retry_policy_crud_and_validation(env: Env) -> None:
    created = env.call(
        "POST",
        "/retrypolicies",
        body={
            "retry_type": "fixed",
            "action_type": "webhook",
            "retry_count": 2,
            "base_interval": 10,
        },
    )
    assert created.status == 201
    policy = created.body["retry_policy"]  # type: ignore[index]
    assert (policy["retry_type"], policy["retry_count"], policy["base_interval"]) == (
        "fixed",
        2,
        10,
    )
    assert policy["base_interval_unit"] == "minutes"
    got = env.ok("GET", f"/retrypolicies/{policy['policy_id']}")["retry_policy"]
    assert got == policy
    changed = env.ok(
        "PUT", f"/retrypolicies/{policy['policy_id']}", body={"base_interval_unit": "hours"}
    )
    assert changed["retry_policy"]["base_interval_unit"] == "hours"
    listed = env.ok("GET", "/retrypolicies")["retrypolicies"]
    assert [p["policy_id"] for p in listed] == [policy["policy_id"]]
    for bad, field in (
        ({"retry_type": "sometimes"}, "retry_type"),
        ({"action_type": "email"}, "action_type"),
        ({"retry_count": 21}, "retry_count"),
        ({"retry_count": 0}, "retry_count"),
        ({"retry_count": 2.5}, "retry_count"),
        ({"base_interval_unit": "days"}, "base_interval_unit"),
    ):
        body = {"retry_type": "fixed", "action_type": "webhook", "retry_count": 3, **bad}
        error = refused(env, "POST", "/retrypolicies", body=body)
        assert error.message == f"Invalid value passed for {field}"
    env.ok("DELETE", f"/retrypolicies/{policy['policy_id']}")
    assert refused(env, "GET", f"/retrypolicies/{policy['policy_id']}").status == 404


# --- the documented shapes -------------------------------------------------------------------
@requires_oas_04
def test_responses_match_the_2026_04_openapi(env: Env, oas: OasIndex) -> None:
    hook = make_hook(env, secret=SECRET, headers=[{"param_name": "X-A", "param_value": "1"}])
    rule = make_rule(env, hook["webhook_id"])
    policy = env.ok(
        "POST",
        "/retrypolicies",
        body={"retry_type": "fixed", "action_type": "webhook", "retry_count": 1},
    )["retry_policy"]
    customer = env.ok("POST", "/contacts", body={"contact_name": "OAS", "contact_type": "customer"})
    env.ok(
        "POST",
        "/invoices",
        body={
            "customer_id": customer["contact"]["contact_id"],
            "line_items": [{"name": "x", "rate": 5}],
        },
    )
    env.settle()
    history_id = env.ok("GET", "/settings/webhooks/histories")["histories"][0]["history_id"]
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/settings/webhooks", None),
        ("GET", f"/settings/webhooks/{hook['webhook_id']}", None),
        ("PUT", f"/settings/webhooks/{hook['webhook_id']}", {"description": "d"}),
        ("GET", "/settings/webhooks/editpage", None),
        ("GET", "/settings/webhooks/histories", None),
        ("GET", f"/settings/webhooks/histories/{history_id}", None),
        ("POST", f"/settings/webhooks/histories/{history_id}/resend", None),
        ("GET", "/settings/workflows", None),
        ("GET", f"/settings/workflows/{rule['workflow_id']}", None),
        ("PUT", f"/settings/workflows/{rule['workflow_id']}", {"description": "d"}),
        ("GET", "/settings/workflows/editpage", None),
        ("GET", "/retrypolicies", None),
        ("GET", f"/retrypolicies/{policy['policy_id']}", None),
    ]
    for method, path, body in calls:
        response = env.call(method, path, body=body)
        operation = oas.find(method, path)
        assert operation is not None, path
        assert response.status == operation.status, (method, path)
        assert oas.validate(method, path, response.body) == [], (method, path)
