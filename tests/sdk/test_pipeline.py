"""Retry rules, auth replay, organization handling and pagination through the pipeline."""

from __future__ import annotations

import httpx2
import pytest

from zbooks import AsyncClient, Client
from zbooks.auth.tokens import MemoryStore, Token
from zbooks.core.retry import RetryPolicy
from zbooks.errors import (
    AuthenticationError,
    DailyLimitExceededError,
    NotFoundError,
    OrganizationError,
    ServerError,
    UncertainWriteError,
    ValidationError,
)

from .fakes import ACCOUNTS, API, FakeZoho, body, envelope, error

FAST = RetryPolicy(
    backoff_base=0.001, backoff_max=0.002, rate_limit_wait=0.001, concurrency_wait=0.001
)
ENV: dict[str, str] = {}


def make_client(fake: FakeZoho, **kwargs: object) -> Client:
    options: dict[str, object] = {
        "client_id": "1000.CID",
        "client_secret": "s3cret-client",
        "refresh_token": "1000.refresh.token",
        "organization_id": "777",
        "accounts_url": ACCOUNTS,
        "api_url": API,
        "retry": FAST,
        "rate_limiter": False,
        "transport": fake.transport(),
        "env": ENV,
    }
    options.update(kwargs)
    return Client(**options)  # type: ignore[arg-type]


def test_get_sends_auth_header_and_organization_id() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices/1", envelope(invoice={"invoice_id": "1"}))
    with make_client(fake) as client:
        result = client.get("/invoices/1")
    assert result["invoice"]["invoice_id"] == "1"
    request = fake.calls("GET", "/invoices/1")[0]
    assert request.headers["authorization"].startswith("Zoho-oauthtoken 1000.access")
    assert request.url.params["organization_id"] == "777"


def test_get_is_retried_on_503() -> None:
    fake = FakeZoho()
    fake.on("GET", "/items", httpx2.Response(503, text="<html>busy</html>"), envelope(items=[]))
    with make_client(fake) as client:
        assert client.get("/items")["items"] == []
    assert len(fake.calls("GET", "/items")) == 2


def test_post_on_503_raises_uncertain_write_and_is_sent_once() -> None:
    fake = FakeZoho()
    fake.on("POST", "/invoices", httpx2.Response(503, text="<html>busy</html>"))
    with make_client(fake) as client, pytest.raises(UncertainWriteError) as info:
        client.post("/invoices", json={"customer_id": "1"})
    assert len(fake.calls("POST", "/invoices")) == 1
    assert isinstance(info.value.cause, ServerError)


def test_post_is_retried_after_429_code_44() -> None:
    fake = FakeZoho()
    fake.on(
        "POST", "/invoices", error(429, 44, "blocked"), envelope(201, invoice={"invoice_id": "9"})
    )
    with make_client(fake) as client:
        assert client.post("/invoices", json={"a": 1})["invoice"]["invoice_id"] == "9"
    posts = fake.calls("POST", "/invoices")
    assert len(posts) == 2 and body(posts[1]) == {"a": 1}


def test_post_is_retried_after_concurrency_1070() -> None:
    fake = FakeZoho()
    fake.on("POST", "/bills", error(429, 1070), envelope(201, bill={"bill_id": "2"}))
    with make_client(fake) as client:
        assert client.post("/bills", json={})["bill"]["bill_id"] == "2"
    assert len(fake.calls("POST", "/bills")) == 2


def test_post_is_retried_after_refused_connection() -> None:
    fake = FakeZoho()
    attempts = {"n": 0}

    def flaky(request: httpx2.Request) -> httpx2.Response:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise httpx2.ConnectError("refused", request=request)
        return envelope(201, contact={"contact_id": "5"})

    fake.on("POST", "/contacts", flaky)
    with make_client(fake) as client:
        assert client.post("/contacts", json={"contact_name": "A"})["contact"]["contact_id"] == "5"
    assert attempts["n"] == 2


def test_post_read_timeout_after_sending_is_uncertain() -> None:
    fake = FakeZoho()

    def timeout(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=request)

    fake.on("POST", "/invoices", timeout)
    with make_client(fake) as client, pytest.raises(UncertainWriteError):
        client.post("/invoices", json={})
    assert len(fake.calls("POST", "/invoices")) == 1


def test_put_and_delete_are_retried_on_5xx() -> None:
    fake = FakeZoho()
    fake.on("PUT", "/items/1", error(500, 1000, "Internal error"), envelope(item={}))
    fake.on("DELETE", "/items/1", httpx2.Response(502, text="bad gateway"), envelope())
    with make_client(fake) as client:
        client.put("/items/1", json={"rate": 1})
        client.delete("/items/1")
    assert len(fake.calls("PUT", "/items/1")) == 2
    assert len(fake.calls("DELETE", "/items/1")) == 2


def test_daily_limit_45_is_not_retried() -> None:
    fake = FakeZoho()
    fake.on("GET", "/items", error(429, 45, "exceeded the maximum call rate limit of 1,000."))
    with make_client(fake) as client, pytest.raises(DailyLimitExceededError):
        client.get("/items")
    assert len(fake.calls("GET", "/items")) == 1


def test_retries_are_bounded_by_attempts() -> None:
    fake = FakeZoho()
    fake.on("GET", "/items", httpx2.Response(503, text="down"))
    policy = RetryPolicy(max_attempts=3, backoff_base=0.001)
    with make_client(fake, retry=policy) as client, pytest.raises(ServerError):
        client.get("/items")
    assert len(fake.calls("GET", "/items")) == 3


def test_4xx_is_not_retried_and_code_nonzero_with_200_raises() -> None:
    fake = FakeZoho()
    fake.on("POST", "/items", error(400, 4, "Invalid value passed for rate"))
    fake.on("GET", "/weird", httpx2.Response(200, json={"code": 4, "message": "bad"}))
    with make_client(fake) as client:
        with pytest.raises(ValidationError):
            client.post("/items", json={})
        with pytest.raises(ValidationError):
            client.get("/weird")
    assert len(fake.calls("POST", "/items")) == 1


def test_401_57_refreshes_once_and_replays_once() -> None:
    fake = FakeZoho()
    fake.on(
        "GET",
        "/invoices",
        error(401, 57, "You are not authorized to perform this operation"),
        envelope(invoices=[]),
    )
    store = MemoryStore(
        Token(access_token="1000.old.token", refresh_token="1000.r.t", expires_at=10**10)
    )
    with make_client(fake, token_store=store, refresh_token=None) as client:
        client.get("/invoices")
    assert fake.token_counter == 1
    calls = fake.calls("GET", "/invoices")
    assert calls[0].headers["authorization"] == "Zoho-oauthtoken 1000.old.token"
    assert calls[1].headers["authorization"] != calls[0].headers["authorization"]


def test_persistent_57_raises_after_one_replay() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices", error(401, 57, "You are not authorized to perform this operation"))
    with make_client(fake) as client, pytest.raises(AuthenticationError) as info:
        client.get("/invoices")
    assert len(fake.calls("GET", "/invoices")) == 2
    assert fake.token_counter == 2
    assert "scope" in (info.value.hint or "")


def test_valid_cached_token_is_used_without_refresh() -> None:
    fake = FakeZoho()
    fake.on("GET", "/items", envelope(items=[]))
    store = MemoryStore(
        Token(access_token="1000.cached.t", refresh_token="1000.r.t", expires_at=10**10)
    )
    with make_client(fake, token_store=store, refresh_token=None) as client:
        client.get("/items")
        client.get("/items")
    assert fake.token_counter == 0


def test_organization_is_discovered_when_user_has_exactly_one() -> None:
    fake = FakeZoho()
    fake.on("GET", "/organizations", envelope(organizations=[{"organization_id": "42"}]))
    fake.on("GET", "/items", envelope(items=[]))
    with make_client(fake, organization_id=None) as client:
        client.get("/items")
        client.get("/items")
    assert [r.url.params["organization_id"] for r in fake.calls("GET", "/items")] == ["42", "42"]
    assert len(fake.calls("GET", "/organizations")) == 1
    assert "organization_id" not in fake.calls("GET", "/organizations")[0].url.params


def test_several_organizations_without_id_raise_with_candidates() -> None:
    fake = FakeZoho()
    orgs = [{"organization_id": "1", "name": "A"}, {"organization_id": "2", "name": "B"}]
    fake.on("GET", "/organizations", envelope(organizations=orgs))
    with (
        make_client(fake, organization_id=None) as client,
        pytest.raises(OrganizationError) as info,
    ):
        client.get("/items")
    assert [o["organization_id"] for o in info.value.organizations] == ["1", "2"]


def test_per_call_organization_override() -> None:
    fake = FakeZoho()
    fake.on("GET", "/items", envelope(items=[]))
    with make_client(fake) as client:
        client.get("/items", organization_id="999")
    assert fake.calls("GET", "/items")[0].url.params["organization_id"] == "999"


def _paged(request: httpx2.Request) -> httpx2.Response:
    page = int(request.url.params["page"])
    per_page = int(request.url.params["per_page"])
    items = [{"invoice_id": str((page - 1) * per_page + i)} for i in range(per_page)]
    return envelope(invoices=items, page_context={"page": page, "has_more_page": page < 3})


def test_pagination_over_three_pages_is_lazy() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices", _paged)
    with make_client(fake) as client:
        iterator = client.paginate("/invoices", per_page=2, params={"status": "sent"})
        assert fake.calls("GET", "/invoices") == []
        first = next(iterator)
        assert first["invoice_id"] == "0" and len(fake.calls("GET", "/invoices")) == 1
        rest = list(iterator)
    assert [r["invoice_id"] for r in [first, *rest]] == [str(i) for i in range(6)]
    assert [r.url.params["page"] for r in fake.calls("GET", "/invoices")] == ["1", "2", "3"]
    assert all(r.url.params["status"] == "sent" for r in fake.calls("GET", "/invoices"))


def test_pages_expose_page_context() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices", _paged)
    with make_client(fake) as client:
        pages = list(client.pages("/invoices", per_page=1))
    assert [p.number for p in pages] == [1, 2, 3]
    assert [p.has_more for p in pages] == [True, True, False]


def test_binary_call_returns_bytes() -> None:
    fake = FakeZoho()
    fake.on(
        "GET",
        "/invoices/1",
        httpx2.Response(
            200, content=b"%PDF-1.4 ...%%EOF", headers={"content-type": "application/pdf"}
        ),
    )
    with make_client(fake) as client:
        pdf = client.get("/invoices/1", params={"accept": "pdf"}, binary=True)
    assert pdf.startswith(b"%PDF")


def test_not_found_error_has_path_without_query() -> None:
    fake = FakeZoho()
    with make_client(fake) as client, pytest.raises(NotFoundError) as info:
        client.get("/nope", params={"secret_thing": "x"})
    assert info.value.path == "/nope" and "secret_thing" not in str(info.value)


async def test_async_client_retries_and_paginates() -> None:
    fake = FakeZoho()
    fake.on("GET", "/invoices", _paged)
    fake.on("POST", "/invoices", httpx2.Response(503, text="busy"))
    async with AsyncClient(
        client_id="c",
        client_secret="s",
        refresh_token="1000.r.t",
        organization_id="1",
        accounts_url=ACCOUNTS,
        api_url=API,
        retry=FAST,
        rate_limiter=False,
        transport=fake.transport(),
        env=ENV,
    ) as client:
        ids = [i["invoice_id"] async for i in client.paginate("/invoices", per_page=2)]
        with pytest.raises(UncertainWriteError):
            await client.post("/invoices", json={})
    assert len(ids) == 6
    assert len(fake.calls("POST", "/invoices")) == 1
