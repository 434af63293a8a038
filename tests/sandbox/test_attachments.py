"""Receipts and attachments over HTTP: kept on create, served back, deleted."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from zbooks.sandbox.app import SandboxApp
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.server import SandboxServer

PNG = b"\x89PNG\r\n\x1a\n" + b"receipt-bytes" * 10


@pytest.fixture
def client() -> Iterator[tuple[httpx2.Client, SandboxApp]]:
    server = SandboxServer(SandboxConfig(port=0, seed="demo"))
    with server, httpx2.Client(base_url=server.base_url) as http:
        app = server.app
        control = {"Authorization": f"Bearer {app.config.control_token}"}
        made = http.post(
            "/_sandbox/clients", headers=control, json={"name": "t", "client_type": "self"}
        ).json()
        code = http.post(
            "/_sandbox/self-client/code",
            headers=control,
            json={"client_id": made["client_id"], "scope": "ZohoBooks.fullaccess.all"},
        ).json()["code"]
        token = http.post(
            "/oauth/v2/token",
            data={
                "grant_type": "authorization_code",
                "client_id": made["client_id"],
                "client_secret": made["client_secret"],
                "code": code,
            },
        ).json()["access_token"]
        http.headers["Authorization"] = f"Zoho-oauthtoken {token}"
        http.params = {"organization_id": app.demo.org_id}  # type: ignore[assignment]
        yield http, app


def test_expense_receipt_sent_on_create_is_kept_and_served(
    client: tuple[httpx2.Client, SandboxApp],
) -> None:
    http, _ = client
    accounts = http.get("/books/v3/chartofaccounts").json()["chartofaccounts"]
    expense_account = next(a for a in accounts if a["account_type"] == "expense")
    paid_through = next(a for a in accounts if a["account_type"] in ("cash", "bank"))
    body = {
        "account_id": expense_account["account_id"],
        "amount": 12.5,
        "paid_through_account_id": paid_through["account_id"],
        "date": "2026-11-01",
    }
    import json

    created = http.post(
        "/books/v3/expenses",
        data={"JSONString": json.dumps(body)},
        files={"receipt": ("taxi.png", PNG, "image/png")},
    )
    assert created.status_code == 200, created.text
    expense = created.json()["expense"]
    assert expense["has_attachment"] is True
    got = http.get(f"/books/v3/expenses/{expense['expense_id']}/receipt")
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"].startswith("image/png")
    assert 'filename="taxi.png"' in got.headers["content-disposition"]
    deleted = http.delete(f"/books/v3/expenses/{expense['expense_id']}/receipt")
    assert deleted.json()["message"] == "The attached expense receipt has been deleted."
    again = http.get(f"/books/v3/expenses/{expense['expense_id']}/receipt")
    assert again.status_code == 404 and again.json()["code"] == 1002
    record = http.get(f"/books/v3/expenses/{expense['expense_id']}").json()["expense"]
    assert record["has_attachment"] is False


def test_invoice_attachment_upload_replace_and_unknown_invoice(
    client: tuple[httpx2.Client, SandboxApp],
) -> None:
    http, _ = client
    invoice_id = http.get("/books/v3/invoices").json()["invoices"][0]["invoice_id"]
    url = f"/books/v3/invoices/{invoice_id}/attachment"
    first = http.post(url, files={"attachment": ("a.pdf", b"%PDF-1 first", "application/pdf")})
    assert first.status_code == 200, first.text  # the OAS documents 200 here (bills: 201)
    assert first.json()["message"] == "Your file has been successfully attached to the invoice."
    http.post(url, files={"attachment": ("b.pdf", b"%PDF-1 second", "application/pdf")})
    assert http.get(url).content == b"%PDF-1 second"
    invoice = http.get(f"/books/v3/invoices/{invoice_id}").json()["invoice"]
    assert invoice["has_attachment"] is True
    missing = http.post(
        "/books/v3/invoices/460000009999999/attachment",
        files={"attachment": ("a.pdf", b"x", "application/pdf")},
    )
    assert missing.status_code == 404 and missing.json()["message"] == "Invoice does not exist."
    empty = http.post(url, data={"x": "1"}, files={"other": ("n.txt", b"", "text/plain")})
    assert empty.status_code == 400
