"""Reading a typed list one page ahead, so Zoho works while this process parses.

Iterating ``client.invoices.list()`` used to be strictly serial: request a page, wait
for Zoho, parse 200 records into models, then request the next. Parsing and Zoho's
answer each take milliseconds per page, and nothing overlapped them. From a list's
second page on, the next page's request now goes out as soon as the current page's
bytes arrive, *before* they are parsed, so the server (or the network) works while
the models are built and while the caller uses them:

- the first page is never read ahead: ``first()`` and a loop that stops within the
  first page cost one request, as before;
- at most one page is ever ahead of the caller; a loop that stops at a later page
  may have asked for one page it will not use (one request of the budget): if that
  request is out, the loop waits for its answer before it ends, so no request
  outlives the loop; if it is still waiting to leave (for the rate limiter's next
  slot, or a token), it is never sent (an ``async for`` cancels it either way);
- a sync listing sends from one worker thread of its own, started with its second
  page and ended with the loop; an async listing from a task;
- a page read ahead is parsed by the caller's thread, when the caller reaches it,
  with the same checks as any answer (an error envelope raises there, as it would
  have without reading ahead).

``pages(read_ahead=False)`` on a paginator keeps the strict one-page-at-a-time order.
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from zbooks.core.pipeline import Call

T = TypeVar("T")

#: A success envelope starts ``{"code":0,``; Zoho and the sandbox write ``code`` first.
#: Anything else (an error with HTTP 200, another key order) is read at once, in the
#: thread that received it, exactly as without reading ahead.
_SUCCESS = re.compile(rb'\s*\{\s*"code"\s*:\s*0\s*[,}]')
_MORE = (b'"has_more_page":true', b'"has_more_page": true')

#: Seconds the caller waits for the page ahead's request to leave before it parses the
#: page it has. A request leaves within a fraction of a millisecond unless it waits for
#: the rate limiter or a token; that wait must not hold back the page already here.
LEAVING_WAIT = 0.05


@dataclass(frozen=True, slots=True)
class HeldPage:
    """A list page's success answer, received but not yet parsed."""

    content: bytes
    call: Call

    @property
    def promises_more(self) -> bool:
        """Whether the bytes say ``has_more_page: true``: a guess, good enough to start
        the next request early; the parsed ``page_context`` decides what is used."""
        return any(marker in self.content for marker in _MORE)

    def parse(self) -> Any:
        """What the call would have returned had it not been held: its decoded page,
        or the checked JSON envelope when the fast decode declines."""
        from zbooks.core.pipeline import read_envelope

        decode = self.call.decode
        decoded = decode(self.content) if decode is not None else None
        return decoded if decoded is not None else read_envelope(self.content, self.call)


def holding(call: Call) -> Call:
    """``call`` whose success body comes back as a :class:`HeldPage` instead of parsed.

    An answer that does not look like a success envelope is decoded at once, so
    retries and error checks in the pipeline see it as they always did."""
    decode = call.decode

    def hold(content: bytes) -> Any:
        if _SUCCESS.match(content):
            return HeldPage(content, call)
        return decode(content) if decode is not None else None

    return replace(call, decode=hold)


class Abandoned(Exception):
    """Raised in a read-ahead worker, where its request would leave, once the caller
    has stopped: a page nobody will read is not sent."""


class Ahead(Generic[T]):
    """One worker thread for a whole listing, running one call at a time for it.

    One thread per listing, not per page: starting and joining a thread for each of a
    listing's pages cost more CPU than the overlap saved (measured, issue 15). Each call
    runs with the context variables of the caller at ``submit``; ``result()`` returns
    its value or raises its error in the caller. ``close()`` (the caller stopped): a
    request already out is waited for and its answer dropped; one not out yet (waiting
    for the rate limiter or a token) is never sent, and the thread ends by itself.
    """

    def __init__(self) -> None:
        import queue  # loaded with the first listing that reads ahead

        self._todo: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[T | None, Exception | None]] = queue.SimpleQueue()
        self._pending = False
        self._lock = threading.Lock()
        self._left = False  # the pending call's request has left
        self._abandoned = False  # the caller stopped: nothing more may leave
        self._thread = threading.Thread(target=self._serve, name="zbooks-read-ahead", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (work := self._todo.get()) is not None:
            work()

    @property
    def pending(self) -> bool:
        """Whether a call was submitted and its result not taken yet."""
        return self._pending

    def submit(self, work: Callable[[], T]) -> None:
        """Run ``work`` on the thread; return once its request is leaving (or it ended),
        or after ``LEAVING_WAIT`` at most.

        Waiting for that is what makes the overlap: a page's parse holds the GIL for
        milliseconds, and a request still being built would wait behind it. The bound
        is for a request that waits before it leaves (the rate limiter's next slot, a
        token refresh): the caller then goes on with the page it has."""
        from zbooks.core.pipeline import SENDING

        context = contextvars.copy_context()
        leaving = threading.Event()

        def leave() -> None:  # in the worker, just before each attempt is sent
            with self._lock:
                if self._abandoned:
                    raise Abandoned("the listing was stopped before this page was sent")
                self._left = True
            leaving.set()

        context.run(SENDING.set, leave)

        def run() -> None:
            try:
                self._done.put((context.run(work), None))
            except Exception as exc:  # handed to the caller by result()
                self._done.put((None, exc))
            finally:
                leaving.set()

        with self._lock:
            self._left = False
        self._pending = True
        self._todo.put(run)
        leaving.wait(LEAVING_WAIT)

    def result(self) -> T:
        value, error = self._done.get()
        self._pending = False
        if error is not None:
            raise error
        return value  # type: ignore[return-value]

    def close(self) -> None:
        with self._lock:
            self._abandoned = True
            out = self._pending and self._left
        self._todo.put(None)
        if self._pending and not out:
            return  # not sent, and now never will be: the thread ends by itself
        if out:  # the request is on its way: wait for its answer (dropped)
            self._done.get()
        self._pending = False
        self._thread.join()


class AsyncAhead(Generic[T]):
    """The asyncio twin of :class:`Ahead`: a task started now, awaited later."""

    def __init__(self, work: Coroutine[Any, Any, T]) -> None:
        import asyncio  # only async code gets here: a sync client never imports it

        from zbooks.core.pipeline import SENDING

        self._asyncio = asyncio
        self._leaving = asyncio.Event()
        context = contextvars.copy_context()
        context.run(SENDING.set, self._leaving.set)
        self._task = asyncio.get_running_loop().create_task(work, context=context)

    async def started(self) -> None:
        """Let the task send its request before this coroutine goes on parsing (a
        parse blocks the event loop for milliseconds); ``LEAVING_WAIT`` at most."""
        asyncio = self._asyncio
        if not self._task.done():
            leaving = asyncio.ensure_future(self._leaving.wait())
            try:
                await asyncio.wait(
                    [self._task, leaving],
                    timeout=LEAVING_WAIT,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                leaving.cancel()
        await asyncio.sleep(0)  # one more turn of the loop: the request is written

    async def result(self) -> T:
        return await self._task

    async def close(self) -> None:
        """Cancel the request if it is still out; a cancellation of the caller itself
        still propagates."""
        if not self._task.done():
            self._task.cancel()
            await self._asyncio.wait([self._task])
        if not self._task.cancelled():
            self._task.exception()  # retrieved: no "never retrieved" warning


__all__ = ["Abandoned", "Ahead", "AsyncAhead", "HeldPage", "holding"]
