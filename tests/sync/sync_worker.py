"""A sync in its own process, for the kill -9 test: ``python sync_worker.py DB_URL MODULES``.

Credentials come from ``ZB_*`` variables (see ``support.Credentials.env``); the summary is
printed as JSON when the run completes. ``ZB_RATE_LIMIT=N/SECONDS`` sets the client's
per-window limit (default: none).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta

from zbooks import Client
from zbooks.core.ratelimit import RateLimiter
from zbooks.core.retry import RetryPolicy
from zbooks.sync import run

if __name__ == "__main__":
    env = os.environ
    base = env["ZB_BASE_URL"]
    per, _, window = env.get("ZB_RATE_LIMIT", f"{10**9}/60").partition("/")
    client = Client(
        client_id=env["ZB_CLIENT_ID"],
        client_secret=env["ZB_CLIENT_SECRET"],
        access_token=env["ZB_ACCESS_TOKEN"],
        refresh_token=env["ZB_REFRESH_TOKEN"],
        accounts_url=base,
        api_url=base + "/books/v3",
        organization_id=env["ZB_ORG_ID"],
        env={},
        rate_limiter=RateLimiter(
            requests_per_window=int(per), window=float(window), daily_limit=10**9,
            plan="premium"
        ),
        retry=RetryPolicy(max_attempts=8, backoff_base=0.01, backoff_max=0.2),
    )
    print("ready", flush=True)  # imports done: the test picks its kill point from here
    # The sandbox may run shifted from real time (support.CLOCK_OFFSET): use its clock.
    offset = timedelta(seconds=float(env.get("ZB_CLOCK_OFFSET", "0")))
    summary = run(client, sys.argv[1], modules=sys.argv[2], now=lambda: datetime.now(UTC) + offset)
    print(json.dumps(summary.as_dict()))
