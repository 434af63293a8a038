"""Everything a sandbox run can be told; defaults are Zoho's real numbers (api-facts §1.6, §5)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


def _client_secret() -> str:
    return secrets.token_hex(21)


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    db_path: str | None = None  # None: a fresh temporary file for this run
    seed: str = "demo"  # "demo" or "empty"

    # The demo client registered at start-up (server-based client with a redirect URI).
    client_id: str = "1000.SANDBOXDEMOCLIENT0000000000000"
    client_secret: str = field(default_factory=_client_secret)
    redirect_uri: str = "http://127.0.0.1:8787/oauth-callback"
    client_name: str = "zbooks demo"
    user_email: str = "demo@zbooks.sandbox"
    user_name: str = "Demo User"
    auto_approve: bool = False

    # Accounts limits (api-facts §1.6); every one configurable.
    token_ttl: int = 3600
    code_ttl: int = 120
    self_client_code_ttl: int = 180
    max_access_tokens_per_refresh_token: int = 10
    token_requests_per_window: int = 10
    token_request_window: int = 600
    max_refresh_tokens_per_user_client: int = 20
    codes_per_client_per_window: int = 10
    code_window: int = 600
    oauth_error_status: int = 200  # Zoho answers most token errors with HTTP 200

    # Books limits (api-facts §5).
    rate_limit: int = 100
    rate_window: float = 60.0
    plan: str = "premium"  # free | standard | professional | premium
    daily_limits: dict[str, int] = field(
        default_factory=lambda: {
            "free": 1000,
            "standard": 2000,
            "professional": 5000,
            "premium": 10000,
        }
    )
    concurrency_limits: dict[str, int] = field(
        default_factory=lambda: {"free": 5, "standard": 10, "professional": 10, "premium": 10}
    )
    send_retry_after: bool = False
    accept_bearer: bool = True

    control_token: str = field(default_factory=lambda: "sbx_" + secrets.token_hex(16))
    # Seconds the sandbox clock starts ahead of (or, negative, behind) real time. Tests
    # that must not cross midnight (statuses such as overdue are derived from the date)
    # pin the sandbox to mid-day with it.
    clock_offset: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def daily_limit(self) -> int:
        return self.daily_limits[self.plan]

    @property
    def concurrency_limit(self) -> int:
        return self.concurrency_limits[self.plan]


def parse_rate_limit(text: str) -> tuple[int, float]:
    """``"100/60s"`` -> (100, 60.0); also ``"100/1m"`` and ``"100/6s"``."""
    count, _, window = text.partition("/")
    window = window.strip().lower() or "60s"
    unit = window[-1]
    number = float(window[:-1]) if unit in "smh" else float(window)
    scale = {"s": 1, "m": 60, "h": 3600}.get(unit, 1)
    value = int(count)
    if value <= 0 or number <= 0:
        raise ValueError(f"invalid rate limit {text!r}; expected e.g. 100/60s")
    return value, number * scale
