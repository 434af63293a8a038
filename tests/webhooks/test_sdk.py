"""SDK side: typed models for events, the reconciliation helpers, and the receiver under
hypothesis-generated form bodies and query strings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zbooks.webhooks import (
    SIGNATURE_HEADER,
    ReconcileCursor,
    SeenEvents,
    WebhookReceiver,
    areconcile,
    compute_signature,
    format_since,
    model_for_entity,
    parse,
    reconcile,
)

SECRET = "whsecret0123456789"


def test_models_are_found_by_payload_key() -> None:
    from zbooks.models import Contact, CustomerPayment, Invoice, SalesOrder

    assert model_for_entity("invoice") is Invoice
    assert model_for_entity("contact") is Contact
    assert model_for_entity("payment") is CustomerPayment  # GET /customerpayments/{id} key
    assert model_for_entity("salesorder") is SalesOrder
    assert model_for_entity("no_such_thing") is None
    assert model_for_entity("") is None


def test_event_model_is_typed_and_lenient() -> None:
    from zbooks.models import Invoice

    event = parse(json.dumps({"invoice": {"invoice_id": "5", "total": 12.5}}))
    model = event.model()
    assert isinstance(model, Invoice) and model.invoice_id == "5"
    # A type the OpenAPI file does not document still yields the model, unvalidated.
    odd = parse({"invoice": {"invoice_id": "6", "documents": [{"file_name": "a.pdf"}]}})
    assert isinstance(odd.model(), Invoice) and odd.model().invoice_id == "6"
    unknown = parse({"gizmo": {"gizmo_id": "1"}})
    assert unknown.model() == {"gizmo_id": "1"}


def test_parse_keeps_the_raw_request_for_forwarding() -> None:
    body = b'{"bill": {"bill_id": "9"}}'
    event = parse(body, query_string="a=1")
    assert event.raw_body == body and event.query_string == "a=1"
    assert parse({"bill": {"bill_id": "9"}}).raw_body == b""


def test_cursor_keeps_the_newest_time_across_zones() -> None:
    cursor = ReconcileCursor()
    cursor.update({"last_modified_time": "2026-11-24T10:00:00+0000"})
    cursor.update({"last_modified_time": "2026-11-24T15:00:00+0530"})  # 09:30 UTC: older
    cursor.update({"no": "time"})
    assert cursor.value == "2026-11-24T10:00:00+0000"
    cursor.update({"last_modified_time": "2026-11-24T03:00:01-0700"})  # 10:00:01 UTC
    assert cursor.value == "2026-11-24T03:00:01-0700"


class FakeClient:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def paginate(self, path: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append((path, kwargs))
        yield from self.records


class FakeAsyncClient(FakeClient):
    async def paginate(self, path: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:  # type: ignore[override]
        self.calls.append((path, kwargs))
        for record in self.records:
            yield record


def test_reconcile_asks_for_records_modified_since_oldest_first() -> None:
    client = FakeClient([{"invoice_id": "1"}])
    assert list(reconcile(client, "invoices", "2026-11-24T10:00:00+0000")) == [{"invoice_id": "1"}]
    path, kwargs = client.calls[0]
    assert path == "/invoices"
    assert kwargs == {
        "params": {
            "sort_column": "last_modified_time",
            "sort_order": "A",
            "last_modified_time": "2026-11-24T10:00:00+0000",
        }
    }
    since = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    list(
        reconcile(
            client,
            "/settings/taxes/",
            ReconcileCursor(format_since(since)),
            key="taxes",
            params={"filter_by": "Status.All"},
            organization_id="42",
        )
    )
    path, kwargs = client.calls[1]
    assert path == "/settings/taxes" and kwargs["key"] == "taxes"
    assert kwargs["organization_id"] == "42"
    assert kwargs["params"]["last_modified_time"] == "2026-11-24T10:00:00+0530"
    assert kwargs["params"]["filter_by"] == "Status.All"
    list(reconcile(client, "contacts", None))
    assert "last_modified_time" not in client.calls[2][1]["params"]
    assert format_since(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05+0000"
    assert format_since(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02T00:00:00+0000"


async def test_areconcile() -> None:
    client = FakeAsyncClient([{"bill_id": "1"}, {"bill_id": "2"}])
    got = [r async for r in areconcile(client, "bills", "2026-01-01T00:00:00+0000")]
    assert [r["bill_id"] for r in got] == ["1", "2"]
    assert client.calls[0][1]["params"]["sort_order"] == "A"


# --- the receiver never answers 500 ------------------------------------------------------------
_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    form=st.dictionaries(_text, _text, max_size=4),
    query=st.dictionaries(_text.filter(bool), _text, max_size=3),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-1",
            "application/json",
            "text/plain",
            "",
        ]
    ),
    raw=st.one_of(st.none(), st.binary(max_size=64)),
    sign=st.booleans(),
    method=st.sampled_from(["POST", "PUT", "GET", "DELETE"]),
)
async def test_receiver_never_answers_500_to_forms_and_query_strings(
    form: dict[str, str],
    query: dict[str, str],
    content_type: str,
    raw: bytes | None,
    sign: bool,
    method: str,
) -> None:
    app = WebhookReceiver(lambda event: None, secret=SECRET, seen=SeenEvents())
    body = raw if raw is not None else urlencode(form).encode()
    params = dict(query)
    if "form-urlencoded" in content_type and raw is None:
        params.update(form)
    headers = {"content-type": content_type} if content_type else {}
    if sign:
        headers[SIGNATURE_HEADER] = compute_signature(SECRET, body, params)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        response = await http.request(method, "/hook", params=query, content=body, headers=headers)
    assert response.status_code in (200, 400, 401, 405), response.text
    assert response.headers["content-type"].startswith("application/json")
