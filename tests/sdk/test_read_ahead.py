"""Typed lists read one page ahead from the second page on (issue 15, wall time): the
next request is out while the current page is parsed and used, the first page is never
read ahead, at most one page is ahead, nothing outlives a loop that stops early, and an
error on a page read ahead is raised when the caller reaches that page."""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
from typing import Any

import httpx2
import pytest

from zbooks import AsyncClient, Client
from zbooks.errors import APIError

PAGES = 4
PER_PAGE = 3
WAIT = 5.0  # seconds; only reached when the behaviour is missing


def _body(number: int, *, more: bool | None = None) -> bytes:
    items = [
        {"invoice_id": f"{number}{i:02d}", "total": 10.5, "date": "2026-10-01"}
        for i in range(PER_PAGE)
    ]
    has_more = number < PAGES if more is None else more
    return json.dumps(
        {
            "code": 0,
            "message": "success",
            "invoices": items,
            "page_context": {"page": number, "per_page": PER_PAGE, "has_more_page": has_more},
        }
    ).encode()


class Server:
    """Answers list pages and remembers which pages were asked for, and when."""

    def __init__(self, bodies: dict[int, tuple[int, bytes]] | None = None) -> None:
        self.asked: list[int] = []
        self.finished: list[int] = []
        self.asked_for = {n: threading.Event() for n in range(1, PAGES + 2)}
        self.bodies = bodies or {}
        self.delay: dict[int, float] = {}
        self.seen_context: list[str | None] = []

    def answer(self, number: int) -> httpx2.Response:
        self.asked.append(number)
        self.asked_for[number].set()
        self.seen_context.append(REQUEST_TAG.get())
        time.sleep(self.delay.get(number, 0.0))
        status, content = self.bodies.get(number, (200, _body(number)))
        self.finished.append(number)
        return httpx2.Response(
            status, content=content, headers={"content-type": "application/json"}
        )

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(lambda request: self.answer(_page_of(request)))

    def async_transport(self) -> httpx2.MockTransport:
        async def handle(request: httpx2.Request) -> httpx2.Response:
            number = _page_of(request)
            self.asked.append(number)
            self.asked_for[number].set()
            await asyncio.sleep(self.delay.get(number, 0.0))
            status, content = self.bodies.get(number, (200, _body(number)))
            self.finished.append(number)
            headers = {"content-type": "application/json"}
            return httpx2.Response(status, content=content, headers=headers)

        return httpx2.MockTransport(handle)


REQUEST_TAG: contextvars.ContextVar[str | None] = contextvars.ContextVar("tag", default=None)


def _page_of(request: httpx2.Request) -> int:
    return int(request.url.params["page"])


def _options(transport: httpx2.MockTransport) -> dict[str, Any]:
    return {
        "access_token": "1000.token",
        "organization_id": "10234695",
        "api_url": "https://books.test/books/v3",
        "rate_limiter": False,
        "transport": transport,
        "env": {},
    }


def _ids(page: int) -> list[str]:
    return [f"{page}{i:02d}" for i in range(PER_PAGE)]


def test_every_record_comes_once_in_order_with_one_request_per_page() -> None:
    server = Server()
    with Client(**_options(server.transport())) as client:
        ids = [invoice.invoice_id for invoice in client.invoices.list(per_page=PER_PAGE)]
    assert ids == [i for page in range(1, PAGES + 1) for i in _ids(page)]
    assert sorted(server.asked) == list(range(1, PAGES + 1))


def test_the_next_page_is_requested_while_the_caller_holds_this_one() -> None:
    server = Server()
    with Client(**_options(server.transport())) as client:
        pages = client.invoices.list(per_page=PER_PAGE).pages()
        first = next(pages)
        # The first page is never read ahead: a caller that stops here paid one request.
        assert not server.asked_for[2].wait(0.2)
        assert server.asked == [1]
        second = next(pages)
        # Page 3 is asked for without the caller asking: it is out while page 2 is used.
        assert server.asked_for[3].wait(WAIT)
        assert [i.invoice_id for i in first.items + second.items] == _ids(1) + _ids(2)
        # ...and never more than one page ahead.
        assert not server.asked_for[4].wait(0.2)
        rest = list(pages)
    assert [p.number for p in rest] == [3, 4]
    assert sorted(server.asked) == [1, 2, 3, 4]


def test_read_ahead_off_asks_for_each_page_only_when_the_last_is_used_up() -> None:
    server = Server()
    with Client(**_options(server.transport())) as client:
        pages = client.invoices.list(per_page=PER_PAGE).pages(read_ahead=False)
        next(pages)
        next(pages)
        assert not server.asked_for[3].wait(0.2)
        assert server.asked == [1, 2]
        assert [p.number for p in pages] == [3, 4]


def test_a_loop_that_stops_early_waits_for_the_request_ahead_and_sends_no_more() -> None:
    server = Server()
    server.delay[3] = 0.3
    with Client(**_options(server.transport())) as client:
        for invoice in client.invoices.list(per_page=PER_PAGE):
            if invoice.invoice_id == _ids(2)[0]:
                break
        # The request read ahead has finished by the time the loop is over.
        assert server.finished.count(3) == 1
        asked = list(server.asked)
        time.sleep(0.2)
        assert server.asked == asked
    assert sorted(asked) == [1, 2, 3]


def test_an_error_on_a_page_read_ahead_is_raised_when_the_caller_reaches_it() -> None:
    refusal = json.dumps({"code": 1002, "message": "Invoice does not exist."}).encode()
    server = Server({3: (404, refusal)})
    seen: list[str] = []
    with Client(**_options(server.transport())) as client, pytest.raises(APIError) as raised:
        for invoice in client.invoices.list(per_page=PER_PAGE):
            seen.append(invoice.invoice_id)
    assert raised.value.code == 1002
    assert seen == _ids(1) + _ids(2)  # every record before the bad page reached the caller


@pytest.mark.parametrize(
    "body",
    [
        # Zoho's error with HTTP 200: not a success envelope, checked where it arrives.
        json.dumps({"code": 1002, "message": "Invoice does not exist."}).encode(),
        # Looks like a success, is not JSON: checked when the caller reaches it.
        b'{"code":0,"message":"success","invoices":[{"invoice_id": ',
    ],
    ids=["error-code-with-200", "truncated-success"],
)
def test_a_bad_body_read_ahead_raises_the_same_error_as_read_in_turn(body: bytes) -> None:
    def error_of(read_ahead: bool) -> APIError:
        server = Server({3: (200, body)})
        with Client(**_options(server.transport())) as client:
            pages = client.invoices.list(per_page=PER_PAGE).pages(read_ahead=read_ahead)
            with pytest.raises(APIError) as raised:
                list(pages)
        return raised.value

    ahead, in_turn = error_of(True), error_of(False)
    assert type(ahead) is type(in_turn)
    assert (ahead.status, ahead.code, str(ahead)) == (in_turn.status, in_turn.code, str(in_turn))


def test_a_page_that_only_seems_to_promise_more_ends_the_list_where_zoho_says() -> None:
    # The bytes contain the marker (in a record's text), but page_context says no more.
    odd = json.loads(_body(2, more=False))
    odd["invoices"][0]["notes"] = '"has_more_page":true'
    server = Server({2: (200, json.dumps(odd, separators=(",", ":")).encode())})
    with Client(**_options(server.transport())) as client:
        ids = [invoice.invoice_id for invoice in client.invoices.list(per_page=PER_PAGE)]
    assert ids == _ids(1) + _ids(2)
    assert server.finished.count(3) <= 1  # at most the one guessed request, finished


def test_the_request_read_ahead_carries_the_callers_context_variables() -> None:
    server = Server()
    token = REQUEST_TAG.set("caller")
    try:
        with Client(**_options(server.transport())) as client:
            list(client.invoices.list(per_page=PER_PAGE))
    finally:
        REQUEST_TAG.reset(token)
    assert server.seen_context == ["caller"] * PAGES


def test_async_lists_read_one_page_ahead_and_settle_when_stopped() -> None:
    async def scenario() -> tuple[Server, list[str], list[int]]:
        server = Server()
        server.delay[3] = 0.05
        async with AsyncClient(**_options(server.async_transport())) as client:
            pages = client.invoices.list(per_page=PER_PAGE).pages()
            await pages.__anext__()
            await asyncio.sleep(0.05)
            assert server.asked == [1]
            second = await pages.__anext__()
            # Page 3 was sent before page 2 reached the caller.
            assert server.asked_for[3].is_set()
            await pages.aclose()
            asked_when_closed = list(server.asked)
            await asyncio.sleep(0.1)
            return server, [i.invoice_id for i in second.items], asked_when_closed

    server, second_ids, asked = asyncio.run(scenario())
    assert second_ids == _ids(2)
    assert server.asked == asked == [1, 2, 3]  # nothing sent after the loop was closed


def test_async_lists_give_every_record_once_in_order() -> None:
    async def scenario() -> list[str]:
        server = Server()
        async with AsyncClient(**_options(server.async_transport())) as client:
            return [i.invoice_id async for i in client.invoices.list(per_page=PER_PAGE)]

    assert asyncio.run(scenario()) == [i for page in range(1, PAGES + 1) for i in _ids(page)]


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "zbooks-read-ahead"]


def test_one_reader_thread_per_listing_and_none_left_when_it_ends() -> None:
    server = Server()
    with Client(**_options(server.transport())) as client:
        seen: list[int] = []
        for _page in client.invoices.list(per_page=PER_PAGE).pages():
            seen.append(len(_readers()))
        assert not _readers()  # a listing read to its end leaves no thread behind
        for invoice in client.invoices.list(per_page=PER_PAGE):
            if invoice.invoice_id == _ids(3)[0]:
                break
        assert not _readers()  # nor does one that stops
    assert seen == [0, 1, 1, 1]  # none for the first page, then the same one


def test_the_pipeline_says_a_request_is_leaving_just_before_it_is_sent() -> None:
    from zbooks.core.pipeline import SENDING

    order: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        order.append("sent")
        return httpx2.Response(200, json={"code": 0, "message": "success", "invoice": {}})

    with Client(**_options(httpx2.MockTransport(answer))) as client:
        client.get("/invoices/1")  # nobody listening: nothing is called
        token = SENDING.set(lambda: order.append("leaving"))
        try:
            client.get("/invoices/1")
        finally:
            SENDING.reset(token)
    assert order == ["sent", "leaving", "sent"]


def test_submit_returns_once_the_request_is_leaving_not_when_it_is_answered() -> None:
    from zbooks.core.pipeline import SENDING
    from zbooks.core.readahead import Ahead

    answered, finished = threading.Event(), threading.Event()

    def call() -> str:
        leaving = SENDING.get()
        assert leaving is not None
        leaving()
        answered.wait(WAIT)  # the answer comes only after submit has returned
        finished.set()
        return "page"

    ahead: Ahead[str] = Ahead()
    try:
        ahead.submit(call)
        assert not finished.is_set()  # submit did not wait for the answer
        answered.set()
        assert ahead.result() == "page"

        def fails_before_sending() -> str:
            raise RuntimeError("no token")

        ahead.submit(fails_before_sending)  # returns: the call ended without sending
        with pytest.raises(RuntimeError, match="no token"):
            ahead.result()
    finally:
        ahead.close()


def test_a_page_ahead_waiting_for_the_rate_limiter_does_not_hold_back_the_page_here() -> None:
    from zbooks.core.ratelimit import RateLimiter

    server = Server()
    limiter = RateLimiter(requests_per_window=2, window=1.0)  # page 3 waits for the window
    with Client(**{**_options(server.transport()), "rate_limiter": limiter}) as client:
        pages = client.invoices.list(per_page=PER_PAGE).pages()
        next(pages)
        second = next(pages)
        # Page 2 reached the caller while page 3's request still waited for its slot.
        assert server.asked == [1, 2]
        assert [i.invoice_id for i in second.items] == _ids(2)
        assert [p.number for p in pages] == [3, 4]
    assert server.asked == [1, 2, 3, 4]


def test_async_a_page_ahead_waiting_for_the_rate_limiter_does_not_hold_back_this_one() -> None:
    from zbooks.core.ratelimit import RateLimiter

    async def scenario() -> tuple[list[int], list[int], list[int]]:
        server = Server()
        limiter = RateLimiter(requests_per_window=2, window=1.0)
        options = {**_options(server.async_transport()), "rate_limiter": limiter}
        async with AsyncClient(**options) as client:
            pages = client.invoices.list(per_page=PER_PAGE).pages()
            await pages.__anext__()
            await pages.__anext__()
            asked_at_second = list(server.asked)
            rest = [p.number async for p in pages]
        return asked_at_second, rest, server.asked

    asked_at_second, rest, asked = asyncio.run(scenario())
    assert asked_at_second == [1, 2]
    assert rest == [3, 4]
    assert asked == [1, 2, 3, 4]


def test_a_loop_that_stops_never_sends_the_page_ahead_still_waiting_to_leave() -> None:
    from zbooks.core.ratelimit import RateLimiter

    server = Server()
    limiter = RateLimiter(requests_per_window=2, window=1.0)  # page 3 waits for the window
    with Client(**{**_options(server.transport()), "rate_limiter": limiter}) as client:
        for invoice in client.invoices.list(per_page=PER_PAGE):
            if invoice.invoice_id == _ids(2)[0]:
                break  # page 3 is waiting for its slot: the loop does not wait for it
        assert server.asked == [1, 2]
        time.sleep(1.5)  # the slot comes: the page is still not sent, the thread ends
        assert server.asked == [1, 2]
        assert not _readers()
