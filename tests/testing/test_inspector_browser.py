"""The inspector page in real headless Chromium (Playwright, Debian's chromium; no browser
download), against a sandbox served by ``zbooks sandbox serve`` in another process."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

import zbooks.testing
from tests.testing.conftest import ServedSandbox

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000

needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@needs_chromium
def test_inspector_follows_the_api_and_moves_the_clock(
    served: ServedSandbox, browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(served.inspector_link)  # the one-time link `serve` printed
    assert page.url == served.base_url + "/"  # the code left the address bar
    expect(page.locator("#orgs")).to_contain_text("Zylker Demo")

    with zbooks.testing.sandbox(url=served.base_url, token=served.token, patch_env=False) as sb:
        client = sb.client()
        customer = client.contacts.create(body={"contact_name": "Browser <b>Buyer</b>"})
        invoice = client.invoices.create(
            body={
                "customer_id": customer.contact_id,
                "date": sb.clock.today().isoformat(),
                "line_items": [{"name": "Inspection", "rate": 75, "quantity": 2}],
            }
        )

    # The request log is live: the create shows up without a reload.
    posted = page.locator("#requests tbody tr", has_text="/books/v3/invoices").filter(
        has_text="POST"
    )
    expect(posted.first).to_contain_text("201")

    # The invoice list of the demo organization shows it; opening it shows its JSON.
    page.locator("#orgs button[data-module='invoices']").click()
    row = page.locator(f"#records tbody tr[data-id='{invoice.invoice_id}']")
    expect(row).to_contain_text(str(invoice.invoice_number))
    row.click()
    expect(page.locator("#record-json")).to_contain_text(f'"invoice_id": "{invoice.invoice_id}"')
    # Client data is shown as text, never run as HTML.
    expect(page.locator("#record-json")).to_contain_text("Browser <b>Buyer</b>")

    # Advance the clock from the page.
    today = date.fromisoformat(page.locator("#clock-today").inner_text())
    page.fill("#advance-hours", "48")
    page.click("#advance-clock")
    expect(page.locator("#clock-today")).to_have_text((today + timedelta(days=2)).isoformat())
    answer = httpx2.get(
        served.base_url + "/_sandbox/clock",
        headers={"Authorization": f"Bearer {served.token}"},
    ).json()
    assert answer["today"] == (today + timedelta(days=2)).isoformat()

    # Search the module; fault rules and webhook deliveries (with attempts) show up too.
    page.fill("#search", "Browser")
    page.click("#search-form button")
    expect(page.locator("#records-title")).to_have_text("invoices: 1")
    receiver = _receiver()
    try:
        target = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        with zbooks.testing.sandbox(url=served.base_url, token=served.token, patch_env=False) as sb:
            sb.faults.add("slow", delay=0.01, path_prefix="/items")
            fired = sb.control.trigger("invoice.created", entity_id=invoice.invoice_id, url=target)
            assert fired["deliveries"][0]["status"] == "success"
        expect(page.locator("#faults tbody")).to_contain_text("slow")
        delivery = page.locator("#deliveries tbody tr", has_text=target)
        expect(delivery).to_contain_text("success")
        expect(delivery).to_contain_text("200 success")  # the attempt
    finally:
        receiver.shutdown()
        receiver.server_close()

    shot = tmp_path / "inspector.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"inspector screenshot: {shot}")
    context.close()


class _Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _receiver() -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@needs_chromium
def test_login_form_and_spent_links(served: ServedSandbox, browser: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(served.inspector_link)  # already used by the test above, or by this one
    page.goto(served.inspector_link)
    expect(page.locator(".error")).to_contain_text("already used")
    page.fill("#token", "sbx_wrong")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Wrong control token")
    page.fill("#token", served.token)
    page.click("button[type=submit]")
    expect(page.locator("#orgs")).to_contain_text("Zylker Demo")
    context.close()


def test_inspector_api_needs_a_session_and_the_write_header(served: ServedSandbox) -> None:
    api = served.base_url + "/_sandbox/inspector/api"
    assert httpx2.get(api + "/state").status_code == 401
    with httpx2.Client(base_url=served.base_url) as browserless:
        login = browserless.post("/_sandbox/inspector/login", data={"token": served.token})
        assert login.status_code == 303
        assert browserless.get("/_sandbox/inspector/api/state").status_code == 200
        refused = browserless.post("/_sandbox/inspector/api/clock/advance", json={"seconds": 1})
        assert refused.status_code == 403  # a cross-site form cannot add the header
        moved = browserless.post(
            "/_sandbox/inspector/api/clock/advance",
            json={"seconds": 1},
            headers={"X-Zbooks-Inspector": "1"},
        )
        assert moved.status_code == 200
        page = browserless.get("/")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert '<script src="/_sandbox/inspector/static/inspector.js"' in page.text
