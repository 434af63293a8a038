"""The request a delivery sends, its signature (checked with the SDK's independent
verifier), one attempt's outcome, and the retry delays of each policy type."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest

from zbooks.sandbox.webhooks.delivery import AttemptResult, OutgoingRequest, build_request, send
from zbooks.sandbox.webhooks.retrypolicies import DEFAULT_POLICY, retry_delay
from zbooks.webhooks import parse, verify

from .conftest import SECRET

RECORD = {"invoice_id": "42", "total": 12.5, "customer": {"name": "Acme & Co"}, "paid": False}


def hook(**fields: object) -> dict[str, object]:
    return {"url": "http://127.0.0.1:8788/hooks?token=abc", "secret": SECRET, **fields}


def received_params(request: OutgoingRequest) -> dict[str, str]:
    """What a receiver sees: the query string, plus the form body when it is a form."""
    params = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    headers = dict(request.headers)
    if headers.get("Content-Type") == "application/x-www-form-urlencoded":
        params.update(parse_qsl(request.body, keep_blank_values=True))
    return params


def test_default_payload_is_the_record_under_its_key_and_verifies_with_the_sdk() -> None:
    request = build_request(
        hook(query_parameters=[{"param_name": "event", "param_value": "invoice.created"}]),
        "invoice",
        RECORD,
    )
    assert request.method == "POST"
    assert json.loads(request.body) == {"invoice": RECORD}
    params = received_params(request)
    assert params == {"token": "abc", "event": "invoice.created"}
    headers = dict(request.headers)
    assert headers["Content-Type"] == "application/json"
    verify(SECRET, request.body.encode(), headers, params=params)
    event = parse(request.body)
    assert (event.entity_type, event.entity_id) == ("invoice", "42")


def test_no_secret_no_signature() -> None:
    request = build_request(hook(secret=""), "invoice", RECORD)
    assert "X-Zoho-Webhook-Signature" not in dict(request.headers)
    request = build_request(hook(), "invoice", RECORD, sign=False)
    assert "X-Zoho-Webhook-Signature" not in dict(request.headers)


def test_placeholders_custom_headers_and_entity_parameters() -> None:
    request = build_request(
        hook(
            method="PUT",
            headers=[
                {"param_name": "X-Invoice", "param_value": "${invoice.invoice_id}"},
                {"param_name": "content-type", "param_value": "application/vnd.test+json"},
                {"param_name": "Authorization", "param_value": "Bearer s3cret"},
            ],
            entity_parameters=[{"param_name": "who", "param_value": "${invoice.customer.name}"}],
            additional_parameters=[{"param_name": "missing", "param_value": "${invoice.nope}"}],
        ),
        "invoice",
        RECORD,
    )
    headers = dict(request.headers)
    assert request.method == "PUT"
    assert headers["X-Invoice"] == "42"
    assert headers["content-type"] == "application/vnd.test+json"  # a custom header wins
    assert "Content-Type" not in headers
    assert received_params(request) == {"token": "abc", "who": "Acme & Co", "missing": ""}
    shown = request.headers_text()
    assert "Authorization: ****" in shown and "s3cret" not in shown
    assert "X-Invoice: 42" in shown


def test_form_body_is_signed_over_its_fields() -> None:
    request = build_request(
        hook(
            body_type="application/x-www-form-urlencoded",
            form_data=[
                {"param_name": "id", "param_value": "${invoice.invoice_id}"},
                {"param_name": "total", "param_value": "${total}"},
            ],
            entity_parameters=[{"param_name": "paid", "param_value": "${invoice.paid}"}],
        ),
        "invoice",
        RECORD,
    )
    assert dict(parse_qsl(request.body)) == {"id": "42", "total": "12.5", "paid": "false"}
    params = received_params(request)
    assert params == {"token": "abc", "id": "42", "total": "12.5", "paid": "false"}
    verify(SECRET, request.body.encode(), dict(request.headers), params=params)


def test_raw_body_template() -> None:
    request = build_request(
        hook(
            body_type="raw", raw_data='{"id": "${invoice.invoice_id}", "amount": ${invoice.total}}'
        ),
        "invoice",
        RECORD,
    )
    assert json.loads(request.body) == {"id": "42", "amount": 12.5}
    assert dict(request.headers)["Content-Type"] == "application/json"
    text = build_request(hook(body_type="raw", raw_data="Invoice ${invoice_id}"), "invoice", RECORD)
    assert text.body == "Invoice 42" and dict(text.headers)["Content-Type"] == "text/plain"


def test_request_round_trips_through_history_json() -> None:
    request = build_request(hook(), "invoice", RECORD)
    assert OutgoingRequest.from_json(json.loads(json.dumps(request.as_json()))) == request


def _send(handler: Callable[[httpx2.Request], httpx2.Response]) -> AttemptResult:
    request = build_request(hook(), "invoice", RECORD)
    return send(request, timeout=1.0, allow_external=False, transport=httpx2.MockTransport(handler))


def test_attempt_outcomes() -> None:
    ok = _send(lambda r: httpx2.Response(204))
    assert (ok.ok, ok.response_code) == (True, 204)
    moved = _send(lambda r: httpx2.Response(302, headers={"Location": "/elsewhere"}))
    assert (moved.ok, moved.response_code) == (False, 302)
    busy = _send(lambda r: httpx2.Response(503, text="later", headers={"Retry-After": "30"}))
    assert busy.ok is False and busy.retry_after == "30"
    assert busy.response_message == "later"

    def slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=request)

    timed_out = _send(slow)
    assert timed_out.response_code == 0
    assert "Timed out after 1 seconds" in timed_out.response_message

    def refused(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    down = _send(refused)
    assert down.ok is False and "ConnectError" in down.response_message


def test_send_refuses_non_loopback_hosts_without_dialling() -> None:
    calls: list[httpx2.Request] = []
    request = OutgoingRequest("POST", "https://example.com/x", [], "{}")
    result = send(
        request,
        timeout=1,
        allow_external=False,
        transport=httpx2.MockTransport(lambda r: calls.append(r) or httpx2.Response(200)),
    )
    assert result.ok is False and "not a loopback" in result.response_message and calls == []


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        ({"retry_type": "fixed", "base_interval": 5}, [300, 300, 300]),
        ({"retry_type": "varying_linear", "base_interval": 5}, [300, 600, 900]),
        (
            {"retry_type": "varying_linear", "base_interval": 5, "interval_modifier": 1},
            [300, 360, 420],
        ),
        ({"retry_type": "varying_exponential", "base_interval": 1}, [60, 120, 240]),
        (
            {"retry_type": "varying_exponential", "base_interval": 1, "interval_modifier": 3},
            [60, 180, 540],
        ),
        ({"retry_type": "fixed", "base_interval": 2, "base_interval_unit": "hours"}, [7200] * 3),
    ],
)
def test_retry_delays(policy: dict[str, object], delays: list[float]) -> None:
    assert [retry_delay(policy, n) for n in (1, 2, 3)] == delays


def test_honor_retry_after_and_default_policy() -> None:
    policy = {"retry_type": "honor_retry_after", "base_interval": 5}
    assert retry_delay(policy, 1, "42") == 42
    assert retry_delay(policy, 1, None) == 300
    assert retry_delay(policy, 1, "garbage") == 300
    assert retry_delay(policy, 1, "Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert [retry_delay(DEFAULT_POLICY, n) for n in (1, 2, 3)] == [300, 600, 1200]
