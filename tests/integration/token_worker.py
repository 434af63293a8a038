"""Run in a separate OS process: many clients of one profile, one GET each.

    python token_worker.py MODE COUNT START_AT

``MODE`` is ``threads`` (``COUNT`` sync clients, one per thread), ``threads-store`` (the
same, each client also given a ``FileStore`` on ``$ZBOOKS_WORKER_TOKEN_STORE`` while the
refresh token comes from the environment) or ``tasks`` (``COUNT`` async clients gathered
on one loop). ``START_AT`` is a ``time.monotonic()`` value: one clock for every process,
which the shifted-clock CI run leaves alone. Settings come from the environment
(``ZBOOKS_*``), as for a user's worker. Prints one JSON line: how many calls
succeeded, the errors, the refreshes this process made and the longest lock wait.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from typing import Any

import zbooks
from zbooks.auth.tokens import FileStore


def one_sync(
    results: list[Any], waits: list[float], refreshes: list[int], store: str | None
) -> None:
    try:
        options: dict[str, Any] = {"token_store": FileStore(store)} if store else {}
        with zbooks.Client(**options) as client:
            client.get("/contacts", params={"per_page": 1})
            waits.append(client._tokens.lock_wait_seconds)
            refreshes.append(client._tokens.refresh_count)
        results.append("ok")
    except Exception as exc:  # reported, not raised: the parent counts failures
        results.append(f"{type(exc).__name__}: {exc}")


async def one_async(waits: list[float], refreshes: list[int]) -> str:
    try:
        async with zbooks.AsyncClient() as client:
            await client.get("/contacts", params={"per_page": 1})
            waits.append(client._tokens.lock_wait_seconds)
            refreshes.append(client._tokens.refresh_count)
        return "ok"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def main() -> None:
    mode, count, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    results: list[Any] = []
    waits: list[float] = []
    refreshes: list[int] = []
    while time.monotonic() < start_at:  # one clock for all processes, never shifted
        time.sleep(0.001)
    if mode.startswith("threads"):
        store = os.environ["ZBOOKS_WORKER_TOKEN_STORE"] if mode == "threads-store" else None
        threads = [
            threading.Thread(target=one_sync, args=(results, waits, refreshes, store))
            for _ in range(count)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:

        async def gather() -> list[str]:
            return list(await asyncio.gather(*(one_async(waits, refreshes) for _ in range(count))))

        results = asyncio.run(gather())
    print(
        json.dumps(
            {
                "ok": results.count("ok"),
                "errors": sorted({r for r in results if r != "ok"}),
                "refreshes": sum(refreshes),
                "max_wait": max(waits, default=0.0),
            }
        )
    )


if __name__ == "__main__":
    main()
