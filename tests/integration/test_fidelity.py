"""Sandbox fidelity over real loopback HTTP (issue 13, points 1-9): what a third-party
client sees when it upserts, sends ``null`` or a bare array, sends numbers or text no Zoho
field can hold, uses the legacy ``/api/v3`` base path, asks for a scope that does not
exist, reads rate-limit headers on a 404, pays a draft invoice, or resets the sandbox."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest

from zbooks.auth.login import code_login
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.server import SandboxServer

from .conftest import Sandbox

RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


class Api:
    """A bare HTTP client holding a valid token, as a third-party client would."""

    def __init__(self, sandbox: Sandbox, token: str, prefix: str = "/books/v3") -> None:
        self.sandbox = sandbox
        self.base = sandbox.base_url + prefix
        self.headers = {"Authorization": f"Zoho-oauthtoken {token}"}

    def __call__(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx2.Response:
        extra = dict(headers or {})
        if json_body is not None:
            content = json.dumps(json_body).encode()
        if content is not None:
            extra.setdefault("content-type", "application/json")
        return httpx2.request(
            method,
            self.base + path,
            headers={**self.headers, **extra},
            content=content,
            params=params,
            timeout=60,
        )


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The demo sandbox with a per-minute budget these many probes do not exhaust."""
    config = SandboxConfig(port=0, auto_approve=True, seed="demo", rate_limit=100_000)
    with SandboxServer(config) as server:
        yield Sandbox(server, config)


@pytest.fixture(scope="module")
def token(sandbox: Sandbox) -> str:
    client_id, secret, code = sandbox.self_client()
    return code_login(
        code, accounts_url=sandbox.base_url, client_id=client_id, client_secret=secret
    ).token.access_token


@pytest.fixture(scope="module")
def api(sandbox: Sandbox, token: str) -> Api:
    return Api(sandbox, token)


def ok(response: httpx2.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == 0, body
    return body


def error(response: httpx2.Response, status: int, codes: tuple[int, ...]) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] in codes, body
    return body


def account(api: Api, name: str) -> str:
    rows = ok(api("GET", "/chartofaccounts"))["chartofaccounts"]
    return next(str(r["account_id"]) for r in rows if r["account_name"] == name)


def contact(api: Api, contact_type: str) -> str:
    rows = ok(api("GET", "/contacts", params={"contact_type": contact_type}))["contacts"]
    return str(rows[0]["contact_id"])


def upsert(api: Api, path: str, key: str, value: str, body: dict[str, Any]) -> httpx2.Response:
    headers = {
        "X-Upsert": "true",
        "X-Unique-Identifier-Key": key,
        "X-Unique-Identifier-Value": value,
    }
    return api("PUT", path, json_body=body, headers=headers)


# --- 1. upserts go through the ledger --------------------------------------------------


def test_bill_upsert_creates_through_the_ledger_then_updates_the_match(api: Api) -> None:
    vendor = contact(api, "vendor")
    expense_account = account(api, "Office Supplies")
    number = "UPS-BILL-1"
    body = {
        "vendor_id": vendor,
        "bill_number": number,
        "line_items": [{"account_id": expense_account, "rate": 40, "quantity": 3}],
        "made_up_key": "never stored",
    }
    created = ok(upsert(api, "/bills", "bill_number", number, body))["bill"]
    assert created["total"] == 120.0 and created["balance"] == 120.0
    assert created["status"] == "open" and created["date"]
    assert "made_up_key" not in created

    # The same number again updates that bill (no duplicate), with the same rules as PUT.
    again = {**body, "line_items": [{"account_id": expense_account, "rate": 50, "quantity": 1}]}
    updated = ok(upsert(api, "/bills", "bill_number", number, again))["bill"]
    assert updated["bill_id"] == created["bill_id"] and updated["total"] == 50.0
    bills = ok(api("GET", "/bills", params={"bill_number": number}))["bills"]
    assert [b["bill_id"] for b in bills if b["bill_number"] == number] == [created["bill_id"]]
    stored = ok(api("GET", f"/bills/{created['bill_id']}"))["bill"]
    assert "made_up_key" not in stored

    # A create through upsert keys on another field but may not reuse the bill number.
    duplicate = upsert(api, "/bills", "reference_number", "UPS-REF-9", body)
    assert duplicate.status_code == 400 and duplicate.json()["code"] != 0, duplicate.text
    # Validation applies: a create through upsert without a vendor is refused.
    refused = upsert(api, "/bills", "bill_number", "UPS-BILL-2", {"bill_number": "UPS-BILL-2"})
    assert refused.status_code == 400 or refused.status_code == 404, refused.text


def test_expense_upsert_computes_the_total(api: Api) -> None:
    body = {
        "account_id": account(api, "Office Supplies"),
        "paid_through_account_id": account(api, "Petty Cash"),
        "amount": 35.5,
        "reference_number": "UPS-EXP-1",
    }
    created = ok(upsert(api, "/expenses", "reference_number", "UPS-EXP-1", body))["expense"]
    assert created["total"] == 35.5 and created["date"] and created["status"]
    bad = upsert(api, "/expenses", "reference_number", "UPS-EXP-2", {"amount": 10})
    assert 400 <= bad.status_code < 500, bad.text


def test_contact_and_item_upserts_that_create_answer_200(api: Api) -> None:
    name = "Upserted Contact Ltd"
    created = upsert(api, "/contacts", "contact_name", name, {"contact_name": name})
    assert ok(created, 200)["contact"]["contact_name"] == name
    item = upsert(api, "/items", "name", "Upserted Item", {"name": "Upserted Item", "rate": 9})
    assert ok(item, 200)["item"]["rate"] == 9


# --- 2. a null body is no body --------------------------------------------------------------


def test_null_body_on_an_action_marks_the_invoice_sent(api: Api) -> None:
    invoices = ok(api("GET", "/invoices", params={"filter_by": "Status.Draft"}))["invoices"]
    invoice_id = invoices[0]["invoice_id"]
    ok(api("POST", f"/invoices/{invoice_id}/status/sent", content=b"null"))
    assert ok(api("GET", f"/invoices/{invoice_id}"))["invoice"]["status"] in ("sent", "overdue")
    # A top-level scalar is still not a body.
    error(api("POST", f"/invoices/{invoice_id}/status/sent", content=b"12"), 400, (1038,))


# --- 3. custom fields: array and object forms ----------------------------------------------


@pytest.mark.parametrize(
    ("singular", "plural", "key"),
    [
        ("invoice", "invoices", "invoice_id"),
        ("item", "items", "item_id"),
        ("customerpayment", "customerpayments", "payment_id"),
        ("bill", "bills", "bill_id"),
    ],
)
def test_custom_fields_accept_the_bare_array_and_the_object(
    api: Api, singular: str, plural: str, key: str
) -> None:
    listed = ok(api("GET", f"/{plural}"))
    record_id = next(v for k, v in listed.items() if isinstance(v, list) and v)[0][key]
    path = f"/{singular}/{record_id}/customfields"
    ok(api("PUT", path, json_body=[]))
    ok(api("PUT", path, json_body=[{"api_name": "cf_region", "value": "North"}]))
    ok(api("PUT", path, json_body={"custom_fields": [{"api_name": "cf_tier", "value": "A"}]}))
    ok(api("PUT", path, json_body=[{"api_name": "cf_region", "value": "South"}]))
    record = next(
        v for v in ok(api("GET", f"/{plural}/{record_id}")).values() if isinstance(v, dict)
    )
    values = {f["api_name"]: f["value"] for f in record["custom_fields"] if "api_name" in f}
    assert values == {"cf_region": "South", "cf_tier": "A"}
    error(api("PUT", path, json_body=[1, 2]), 400, (4,))
    error(api("PUT", "/invoices", content=b"[]"), 400, (1038,))  # no array elsewhere


# --- 4. no 500s ------------------------------------------------------------------------------


def _invoice_body(api: Api, **line: Any) -> dict[str, Any]:
    return {
        "customer_id": contact(api, "customer"),
        "line_items": [{"name": "Probe", "rate": 10, "quantity": 1, **line}],
    }


@pytest.mark.parametrize(
    "raw",
    [
        b'{"customer_id": "\\ud800"}',  # a lone surrogate
        b"[" * 5000 + b"]" * 5000,
        b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"customer_id": 1' + b"0" * 400 + b"}",
    ],
    ids=["surrogate", "deep-array", "deep-field", "huge-int"],
)
def test_hostile_bodies_get_a_400(api: Api, raw: bytes) -> None:
    error(api("POST", "/invoices", content=raw), 400, (4, 1038))


@pytest.mark.parametrize("value", ["1e300", "1e308", "1" + "0" * 400, '"1e999"', "1e999"])
@pytest.mark.parametrize("field", ["rate", "quantity"])
def test_impossible_numbers_get_400_code_4(api: Api, field: str, value: str) -> None:
    body = json.dumps(_invoice_body(api)).replace(f'"{field}": 1', f'"{field}": {value}')
    if field == "rate":
        body = json.dumps(_invoice_body(api)).replace('"rate": 10', f'"rate": {value}')
    assert value in body
    error(api("POST", "/invoices", content=body.encode()), 400, (4,))


@pytest.mark.parametrize("value", ["1e300", "-1", "0", '"1e999"'])
def test_impossible_exchange_rates_and_bank_charges(api: Api, value: str) -> None:
    invoice = json.dumps({**_invoice_body(api), "exchange_rate": 1}).replace(
        '"exchange_rate": 1', f'"exchange_rate": {value}'
    )
    error(api("POST", "/invoices", content=invoice.encode()), 400, (4,))
    if value != "0":  # no bank charge is fine
        payment = {
            "customer_id": contact(api, "customer"),
            "payment_mode": "cash",
            "amount": 10,
            "bank_charges": 1,
        }
        raw = json.dumps(payment).replace('"bank_charges": 1', f'"bank_charges": {value}')
        error(api("POST", "/customerpayments", content=raw.encode()), 400, (4,))


@pytest.mark.parametrize("page", [str(2**63), str(2**64), "9" * 30])
def test_page_past_64_bits_gets_400_code_4(api: Api, page: str) -> None:
    for path in ("/invoices", "/contacts", "/items", "/bills", "/expenses", "/customerpayments"):
        error(api("GET", path, params={"page": page}), 400, (4,))


# --- 5. the legacy base path -------------------------------------------------------------


def test_legacy_api_v3_base_path_is_served_like_books_v3(sandbox: Sandbox, token: str) -> None:
    legacy, current = Api(sandbox, token, "/api/v3"), Api(sandbox, token)
    assert ok(legacy("GET", "/contacts"))["contacts"] == ok(current("GET", "/contacts"))["contacts"]
    error(legacy("GET", "/nonexistent"), 404, (5,))
    created = ok(legacy("POST", "/items", json_body={"name": "Legacy path item", "rate": 3}), 201)
    item_id = created["item"]["item_id"]
    assert ok(current("GET", f"/items/{item_id}"))["item"]["name"] == "Legacy path item"


# --- 6. unknown scopes are refused at consent ------------------------------------------------


def test_unknown_scope_is_refused_at_the_consent_step(sandbox: Sandbox) -> None:
    app = sandbox.control(
        "POST", "/clients", name="Scopes", redirect_uris=["http://127.0.0.1:9/cb"]
    )
    query = {
        "client_id": app["client_id"],
        "redirect_uri": "http://127.0.0.1:9/cb",
        "response_type": "code",
        "access_type": "offline",
    }
    url = f"{sandbox.base_url}/oauth/v2/auth"
    bogus = httpx2.get(f"{url}?{urlencode({**query, 'scope': 'ZohoBooks.bogus.FOO'})}")
    assert bogus.status_code == 400 and "Invalid OAuth Scope" in bogus.text
    assert "code=" not in bogus.headers.get("location", "")
    real = httpx2.get(f"{url}?{urlencode({**query, 'scope': 'ZohoBooks.invoices.READ'})}")
    assert real.status_code in (200, 302), real.text
    # The console's code for a Self Client refuses it too.
    client = sandbox.control("POST", "/clients", name="self2", client_type="self")
    response = httpx2.post(
        f"{sandbox.base_url}/_sandbox/self-client/code",
        headers={"Authorization": f"Bearer {sandbox.config.control_token}"},
        json={"client_id": client["client_id"], "scope": "ZohoBooks.bogus.FOO"},
    )
    assert response.status_code == 400


# --- 7. rate headers on every answer ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/books/v3/nonexistent/path", {}),
        ("/books/v3/invoices/1/nonexistent", {}),
        ("/api/v3/nonexistent", {}),
        ("/definitely/not/zoho", {}),
        ("/books/v3/invoices", {"organization_id": "not-a-number"}),
        ("/books/v3/invoices", {"organization_id": "999999999"}),
    ],
)
def test_rate_limit_headers_on_every_answer(
    sandbox: Sandbox, api: Api, path: str, query: dict[str, str]
) -> None:
    response = httpx2.get(sandbox.base_url + path, headers=api.headers, params=query, timeout=30)
    assert response.status_code in (400, 404), response.text
    assert response.json()["code"] in (2, 5, 6041)
    for name in RATE_HEADERS:
        assert response.headers.get(name, "").isdigit(), (name, dict(response.headers))
    # A 401 stays without them, as Zoho's own 401s were observed (api-facts Appendix D).
    anonymous = httpx2.get(sandbox.base_url + "/books/v3/invoices", timeout=30)
    assert anonymous.status_code == 401 and "x-rate-limit-limit" not in anonymous.headers


# --- 8. no invented rules -----------------------------------------------------------------


def test_a_draft_invoice_takes_a_payment(api: Api) -> None:
    customer = contact(api, "customer")
    invoice = ok(api("POST", "/invoices", json_body=_invoice_body(api)), 201)["invoice"]
    assert invoice["status"] == "draft"
    payment = {
        "customer_id": invoice["customer_id"],
        "payment_mode": "cash",
        "amount": 4,
        "invoices": [{"invoice_id": invoice["invoice_id"], "amount_applied": 4}],
    }
    assert invoice["customer_id"] == customer
    ok(api("POST", "/customerpayments", json_body=payment), 201)
    after = ok(api("GET", f"/invoices/{invoice['invoice_id']}"))["invoice"]
    assert after["status"] in ("partially_paid", "overdue") and after["balance"] == 6.0


def test_auto_number_error_uses_zohos_generic_wording(api: Api) -> None:
    body = {**_invoice_body(api), "invoice_number": "MY-OWN-1"}
    refused = error(api("POST", "/invoices", json_body=body), 400, (4,))
    assert refused["message"] == "Invalid value passed for invoice_number"
    taken = api(
        "POST", "/invoices", json_body=body, params={"ignore_auto_number_generation": "true"}
    )
    assert ok(taken, 201)["invoice"]["invoice_number"] == "MY-OWN-1"


# --- 9. reset gives exactly a fresh start ---------------------------------------------------

# Timestamps, and the hour:minute of history entries ("time":"10:09"): the clock aside.
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)?")
_HOUR_MINUTE = re.compile(r'("time":\s?")\d{2}:\d{2}(:\d{2})?"')


def _blank_clock(value: object) -> str:
    return _HOUR_MINUTE.sub(r'\1<time>"', _TIME.sub("<time>", str(value)))


def _dump(path: str) -> dict[str, list[tuple[str, ...]]]:
    """Every Books table, rows sorted, timestamps blanked (Accounts tables are kept by a
    reset on purpose, so tokens survive it)."""
    with sqlite3.connect(path) as conn:
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: sorted(
                tuple(_blank_clock(v) for v in row)
                for row in conn.execute(f'SELECT * FROM "{table}"')
            )
            for table in tables
            if not table.startswith("accounts_")
        }


@pytest.fixture
def workdir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="zbooks-reset-") as path:
        yield path


def test_reset_gives_the_state_of_a_fresh_demo_start(
    workdir: str, caplog: pytest.LogCaptureFixture
) -> None:
    def config(name: str) -> SandboxConfig:
        return SandboxConfig(
            port=0,
            seed="demo",
            auto_approve=True,
            client_secret="same-secret-for-both",
            db_path=os.path.join(workdir, name),
        )

    fresh = config("fresh.db")
    with SandboxServer(fresh):
        pass
    used = config("used.db")
    with SandboxServer(used) as server:
        sandbox = Sandbox(server, used)
        api = Api(sandbox, _token(sandbox))
        before = {m: _count(api, m) for m in _MODULES}
        assert all(before.values()), before
        ok(api("POST", "/items", json_body={"name": "Gone after reset", "rate": 1}), 201)
        sandbox.control("POST", "/organizations", name="Second org")
        caplog.clear()
        sandbox.control("POST", "/reset")
        assert not [r for r in caplog.records if r.exc_info], "reset logged a traceback"
        assert {m: _count(api, m) for m in _MODULES} == before  # the token survives
        # Seeding after a reset works (it answered 500 when the chart was missing).
        sandbox.control("POST", "/seed", module="bills", count=2)
        assert _count(api, "bills") == before["bills"] + 2
        sandbox.control("POST", "/reset")
    after_reset, after_start = _dump(used.db_path), _dump(fresh.db_path)
    differing = {
        table: (
            sorted(set(after_reset.get(table, [])) - set(after_start.get(table, [])))[:3],
            sorted(set(after_start.get(table, [])) - set(after_reset.get(table, [])))[:3],
        )
        for table in set(after_reset) | set(after_start)
        if after_reset.get(table) != after_start.get(table)
    }
    assert not differing, differing


_MODULES = (
    "invoices",
    "contacts",
    "items",
    "customerpayments",
    "bills",
    "vendorpayments",
    "purchaseorders",
    "expenses",
    "journals",
    "vendorcredits",
)


def _token(sandbox: Sandbox) -> str:
    client_id, secret, code = sandbox.self_client()
    return code_login(
        code, accounts_url=sandbox.base_url, client_id=client_id, client_secret=secret
    ).token.access_token


def _count(api: Api, module: str) -> int:
    body = ok(api("GET", f"/{module}", params={"per_page": "200"}))
    return len(next(v for k, v in body.items() if isinstance(v, list)))
