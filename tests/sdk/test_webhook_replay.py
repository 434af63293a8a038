"""What Zoho's webhook signature does not bind, and how the receiver makes up for it:
plain (or expected) parameter names, a freshness window on the record, and a durable
memory of handled deliveries that survives a restart."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest

from zbooks.webhooks import (
    SIGNATURE_HEADER,
    SeenEvents,
    SQLiteSeenEvents,
    WebhookEvent,
    WebhookReceiver,
    compute_signature,
    verify,
)

SECRET = "whsec0123456789abc"
NOW = time.time()


def _stamp(seconds_ago: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(NOW - seconds_ago))


def _body(seconds_ago: float = 60, invoice_id: str = "4600001") -> bytes:
    record = {"invoice_id": invoice_id, "last_modified_time": _stamp(seconds_ago)}
    return json.dumps({"invoice": record}).encode()


async def _post(app: WebhookReceiver, body: bytes, query: str, signature: str) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        headers = {SIGNATURE_HEADER: signature, "content-type": "application/json"}
        return await http.post(f"/hook{query}", content=body, headers=headers)


def _receiver(handled: list[WebhookEvent], **options: object) -> WebhookReceiver:
    options.setdefault("seen", SeenEvents())
    return WebhookReceiver(handled.append, secret=SECRET, clock=lambda: NOW, **options)  # type: ignore[arg-type]


def test_the_scheme_itself_does_not_bind_parameter_boundaries() -> None:
    """Documented, not fixed: Zoho's scheme concatenates names and values, so these
    verify alike. The receiver's checks below exist because of it."""
    body = _body()
    signature = compute_signature(SECRET, body, {"ab": "c"})
    verify(SECRET, body, {SIGNATURE_HEADER: signature}, params={"a": "bc"})
    moved = compute_signature(SECRET, body[1:], {body[:1].decode(): ""})
    assert moved == compute_signature(SECRET, body, {})


async def test_expected_params_refuse_a_regrouped_query() -> None:
    handled: list[WebhookEvent] = []
    app = _receiver(handled, expected_params={"a"})
    body = _body()
    signature = compute_signature(SECRET, body, {"a": "bc"})
    assert (await _post(app, body, "?a=bc", signature)).status_code == 200
    regrouped = await _post(app, body, "?ab=c", signature)  # verifies under the scheme
    assert regrouped.status_code == 400 and "Unexpected parameter 'ab'" in regrouped.text
    assert len(handled) == 1


async def test_body_bytes_moved_into_a_parameter_name_are_refused() -> None:
    handled: list[WebhookEvent] = []
    app = _receiver(handled)
    body = _body()
    signature = compute_signature(SECRET, body, {})
    # '{"invoice":' moved out of the body into a parameter name with an empty value.
    split = body.index(b"{", 1)
    name, rest = body[:split].decode(), body[split:]
    response = await _post(app, rest, "?" + httpx2.QueryParams({name: ""}).__str__(), signature)
    assert response.status_code == 400 and "not allowed" in response.text
    assert handled == []


async def test_a_stale_record_is_refused_and_a_fresh_one_handled() -> None:
    handled: list[WebhookEvent] = []
    app = _receiver(handled, max_age=timedelta(hours=1))
    old, fresh = _body(seconds_ago=2 * 3600), _body(seconds_ago=30, invoice_id="2")
    stale = await _post(app, old, "", compute_signature(SECRET, old))
    assert stale.status_code == 400 and stale.json()["status"] == "stale"
    assert (await _post(app, fresh, "", compute_signature(SECRET, fresh))).status_code == 200
    assert [e.entity_id for e in handled] == ["2"]
    # max_age=None turns the window off (a development listener under time travel).
    lenient: list[WebhookEvent] = []
    app = _receiver(lenient, max_age=None)
    assert (await _post(app, old, "", compute_signature(SECRET, old))).status_code == 200


async def test_a_replay_after_a_restart_is_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite3"
    body = _body()
    signature = compute_signature(SECRET, body)
    first: list[WebhookEvent] = []
    app = _receiver(first, seen=SQLiteSeenEvents(path))
    assert (await _post(app, body, "", signature)).json()["status"] == "ok"
    app.seen.close()  # type: ignore[attr-defined]
    restarted: list[WebhookEvent] = []
    app = _receiver(restarted, seen=SQLiteSeenEvents(path))
    replay = await _post(app, body, "", signature)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert len(first) == 1 and restarted == []


async def test_a_failed_handler_is_forgotten_durably(tmp_path: Path) -> None:
    calls: list[str] = []

    def flaky(event: WebhookEvent) -> None:
        calls.append(str(event.entity_id))
        if len(calls) == 1:
            raise RuntimeError("database down")

    seen = SQLiteSeenEvents(tmp_path / "seen.sqlite3")
    app = WebhookReceiver(flaky, secret=SECRET, seen=seen, clock=lambda: NOW)
    body = _body()
    signature = compute_signature(SECRET, body)
    assert (await _post(app, body, "", signature)).status_code == 500
    assert (await _post(app, body, "", signature)).status_code == 200
    assert (await _post(app, body, "", signature)).json()["status"] == "duplicate"
    assert calls == ["4600001", "4600001"]


def test_one_key_is_handled_once_across_stores_and_threads(tmp_path: Path) -> None:
    """Two stores on one file (as two receiver processes have): one winner."""
    stores = [SQLiteSeenEvents(tmp_path / "seen.sqlite3") for _ in range(2)]
    barrier = threading.Barrier(16)
    wins: list[bool] = []

    def add(index: int) -> None:
        barrier.wait()
        wins.append(stores[index % 2].add(("invoice", "1", "t")))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 15 + [True]


def test_the_default_store_is_a_file_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZBOOKS_DATA_DIR", str(tmp_path))
    receiver = WebhookReceiver(lambda event: None, secret=SECRET)
    assert isinstance(receiver.seen, SQLiteSeenEvents)
    assert receiver.seen.path == tmp_path / "webhooks" / "seen.sqlite3"
    assert receiver.seen.add(("invoice", "1", "t")) is True
    assert SQLiteSeenEvents(receiver.seen.path).add(("invoice", "1", "t")) is False


def test_old_keys_are_pruned_after_the_retention(tmp_path: Path) -> None:
    now = [1_000_000.0]
    store = SQLiteSeenEvents(
        tmp_path / "seen.sqlite3", retention=timedelta(days=1), clock=lambda: now[0]
    )
    assert store.add(("invoice", "old", "t"))
    now[0] += 2 * 86400
    for number in range(999):  # the 1,000th add prunes
        store.add(("invoice", str(number), "t"))
    assert store.add(("invoice", "old", "t")) is True
