"""The CLI's rate limiting: one budget shared by every ``zbooks`` process, and visible.

Zoho counts 100 requests per minute and a daily budget per organization, across every
process (api-facts §5). With an in-memory limiter each CLI run starts from zero, so
back-to-back runs draw a 429 and then stall in silence. The CLI therefore uses the
SDK's SQLite backend in the user cache directory by default, and says why whenever it
waits more than ``ANNOUNCE_AFTER`` seconds (the limiter's window, Zoho's 429, a retry).

The last ``X-Rate-Limit-*`` headers seen per organization are kept next to the
database, so ``zbooks usage`` can show Zoho's own numbers without spending a call.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from zbooks.config import Settings
    from zbooks.core.ratelimit import RateLimiter

ANNOUNCE_AFTER = 2.0
DB_NAME = "ratelimit.sqlite3"
HEADERS_NAME = "ratelimit-headers.json"
_HEADERS_LOCK = threading.Lock()  # sync's worker threads answer concurrently


def cache_dir(env: dict[str, str] | None = None) -> Path:
    """``ZBOOKS_CACHE_DIR``, else the platform's user cache directory + ``zbooks``."""
    environ = os.environ if env is None else env
    explicit = environ.get("ZBOOKS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        base = Path(environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "zbooks"


def _say(message: str) -> None:
    sys.stderr.write(f"zbooks: {message}\n")
    sys.stderr.flush()


def announcing_sleep(reason: Callable[[], str]) -> Callable[[float], None]:
    """A ``sleep`` that first says why and for how long, when the wait is long."""

    def sleep(seconds: float) -> None:
        if seconds > ANNOUNCE_AFTER:
            _say(f"waiting {seconds:.0f} s for {reason()}")
        time.sleep(seconds)

    return sleep


def shared_limiter(settings: Settings) -> RateLimiter:
    """The per-organization limiter every CLI process on this machine shares."""
    from zbooks.core.ratelimit import RateLimiter, SQLiteBackend

    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    holder: list[RateLimiter] = []

    def why() -> str:
        limits = holder[0].limits
        per = "minute" if limits.window == 60 else f"{limits.window:.0f} s"
        return f"Zoho's {limits.requests_per_window}-per-{per} limit (shared by zbooks processes)"

    limiter = RateLimiter(
        plan=settings.plan or "premium",
        backend=SQLiteBackend(folder / DB_NAME),
        sleep=announcing_sleep(why),
    )
    holder.append(limiter)
    return limiter


class _RetryReason(logging.Handler):
    """Remembers why the pipeline is about to retry (it logs that before sleeping)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.last = "a retry"

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "retrying %s %s in %.2f s after %s" and len(record.args or ()) == 4:
            args = record.args
            assert isinstance(args, tuple)
            error = str(args[3])
            if "RateLimit" in error or "Throttl" in error:
                self.last = f"Zoho's rate limit (HTTP 429) before retrying {args[0]} {args[1]}"
            else:
                self.last = f"a retry of {args[0]} {args[1]} after {error}"


def announce_retries(client: Any) -> None:
    """Make the client's retry waits say why (429, 5xx) when they are long."""
    handler = _RetryReason()
    logger = logging.getLogger("zbooks")
    if not any(isinstance(h, _RetryReason) for h in logger.handlers):
        logger.addHandler(handler)
    else:
        handler = next(h for h in logger.handlers if isinstance(h, _RetryReason))
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    # Private on purpose: the pipeline's sleep is the one place every retry waits.
    client._pipeline._sleep = announcing_sleep(lambda: handler.last)


def remember_rate_headers(response: Any) -> None:
    """httpx2 response hook: keep the last ``X-Rate-Limit-*`` headers per organization."""
    found = {
        k.lower(): v for k, v in response.headers.items() if k.lower().startswith("x-rate-limit-")
    }
    if not found:
        return
    org = (parse_qs(urlsplit(str(response.request.url)).query).get("organization_id") or [""])[0]
    if not org:
        return
    path = cache_dir() / HEADERS_NAME
    with _HEADERS_LOCK:
        try:
            seen = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, ValueError):
            seen = {}
        if not isinstance(seen, dict):
            seen = {}
        seen[org] = {"headers": found, "seen_at": time.time()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Another process may write at the same time: each writes its own file and
            # renames it into place atomically; the last answer wins.
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(seen, indent=1), encoding="utf-8")
            temporary.replace(path)
        except OSError:
            pass  # a read-only cache must not fail the command


def seen_headers() -> dict[str, Any]:
    """The last ``X-Rate-Limit-*`` headers per organization (empty when none yet)."""
    path = cache_dir() / HEADERS_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
