"""The pytest plugin as users meet it: a test file of theirs, run by pytest (``pytester``)."""

from __future__ import annotations

import pytest

USER_TESTS = """
import subprocess
import sys
from datetime import timedelta

import pytest
import zbooks


def test_create_an_invoice(zbooks_sandbox):
    client = zbooks_sandbox.client()
    customer = client.contacts.create(body={"contact_name": "Pytester Ltd"})
    today = zbooks_sandbox.clock.today().isoformat()
    invoice = client.invoices.create(
        body={
            "customer_id": customer.contact_id,
            "date": today,
            "payment_terms": 15,
            "line_items": [{"name": "Work", "rate": 100, "quantity": 2}],
        }
    )
    assert invoice.total == 200
    posts = zbooks_sandbox.requests.filter(method="POST", path="/books/v3/invoices")
    assert [entry.status for entry in posts] == [201]
    client.invoices.mark_sent(invoice.invoice_id)
    zbooks_sandbox.clock.advance(timedelta(days=20))
    assert client.invoices.get(invoice.invoice_id).status == "overdue"


def test_each_test_starts_fresh(zbooks_sandbox):
    client = zbooks_sandbox.client()
    names = {c.contact_name for c in client.contacts.list()}
    assert "Pytester Ltd" not in names and names  # the demo data, without the last test's
    assert [e.path for e in zbooks_sandbox.requests] == ["/books/v3/contacts"]  # this test's
    assert zbooks_sandbox.faults.list() == []


def test_faults_snapshots_and_seed(zbooks_sandbox):
    client = zbooks_sandbox.client()
    saved = zbooks_sandbox.snapshot()
    before = len(list(client.invoices.list()))
    created = zbooks_sandbox.seed(contacts=2, invoices=7)
    assert len(created["invoices"]) == 7
    assert len(list(client.invoices.list())) == before + 7
    zbooks_sandbox.restore(saved)
    assert len(list(client.invoices.list())) == before
    zbooks_sandbox.faults.add("unavailable", count=1, method="GET", path_prefix="/contacts")
    assert list(client.contacts.list())  # the SDK retries the 503
    statuses = [e.status for e in zbooks_sandbox.requests.filter(path="/books/v3/contacts")]
    assert statuses == [503, 200]


def test_env_points_plain_clients_and_subprocesses_at_the_sandbox(zbooks_sandbox, monkeypatch):
    for key, value in zbooks_sandbox.env().items():
        monkeypatch.setenv(key, value)
    with zbooks.Client() as client:
        assert client.organization_id == zbooks_sandbox.org_id
        assert list(client.items.list())
    code = "import zbooks; print(len(list(zbooks.Client().contacts.list())))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) > 0


async def test_async_client(zbooks_sandbox):
    client = zbooks_sandbox.async_client()
    try:
        items = [item async for item in client.items.list()]
    finally:
        await client.aclose()
    assert items


@pytest.mark.zbooks_sandbox(seed="empty", plan="free", rate_limit="5/60s")
def test_marker_options(zbooks_sandbox):
    import httpx2

    assert list(zbooks_sandbox.client().invoices.list()) == []
    headers = {"Authorization": f"Zoho-oauthtoken {zbooks_sandbox.credentials.access_token}"}
    url = f"{zbooks_sandbox.api_url}/contacts?organization_id={zbooks_sandbox.org_id}"
    statuses = [httpx2.get(url, headers=headers).status_code for _ in range(6)]
    assert statuses.count(429) >= 1 and statuses[0] == 200  # 5 calls a minute
    answer = httpx2.get(url, headers=headers)
    assert answer.json()["code"] == 44
"""


def _ini(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )


def test_a_user_test_file_passes_with_only_the_fixture(pytester: pytest.Pytester) -> None:
    _ini(pytester)
    pytester.makepyfile(test_user=USER_TESTS)
    # A subprocess: the plugin must come from the installed `pytest11` entry point alone.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=6)


def test_session_fixture_keeps_state_until_reset(pytester: pytest.Pytester) -> None:
    _ini(pytester)
    pytester.makepyfile(
        test_session="""
        def test_one(zbooks_sandbox_session):
            zbooks_sandbox_session.client().contacts.create(body={"contact_name": "Kept"})

        def test_two(zbooks_sandbox_session):
            names = {c.contact_name for c in zbooks_sandbox_session.client().contacts.list()}
            assert "Kept" in names
            zbooks_sandbox_session.reset()
            names = {c.contact_name for c in zbooks_sandbox_session.client().contacts.list()}
            assert "Kept" not in names
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "-q").assert_outcomes(passed=2)


def test_a_bad_marker_is_a_usage_error(pytester: pytest.Pytester) -> None:
    _ini(pytester)
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.zbooks_sandbox(plan="gold")
        def test_it(zbooks_sandbox):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.stdout.fnmatch_lines(["*plan must be one of free, standard, professional, premium*"])
    assert result.ret != 0


def test_a_module_marker_applies_to_every_test_in_it(pytester: pytest.Pytester) -> None:
    _ini(pytester)
    pytester.makepyfile(
        test_module_marker="""
        import pytest

        pytestmark = pytest.mark.zbooks_sandbox(seed="empty", plan="standard")

        class TestEmpty:
            def test_no_invoices(self, zbooks_sandbox):
                assert list(zbooks_sandbox.client().invoices.list()) == []

            def test_seed_demo_fills_it(self, zbooks_sandbox):
                made = zbooks_sandbox.seed("demo")
                assert len(made["invoices"]) == 25
                assert zbooks_sandbox.credentials.plan == "standard"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "-q").assert_outcomes(passed=2)
