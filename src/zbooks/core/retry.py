"""Which failures are retried, and how long to wait.

Retry only what is safe:
- 429 code 44 (per-minute) and 1070 (concurrency): Zoho did not process the request, so
  any method is retried after a wait (Retry-After when present; Zoho has not been seen
  sending it, so 60 s for 44 and a short jittered wait for 1070).
- 429 code 45 (daily quota): never; waiting hours inside a call helps nobody.
- The connection failed before the request was sent: any method.
- A 5xx, a timeout or a broken/truncated answer after the request was sent: GET, PUT
  and DELETE are retried (repeating them is harmless); a POST is **not**, because Zoho
  has no idempotency keys and a second POST can create a second invoice. It raises
  ``UncertainWriteError`` instead.
Backoff is exponential with full jitter, bounded by attempts and a total time budget.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from zbooks.errors import (
    APIError,
    CertificateError,
    ConcurrencyLimitError,
    DailyLimitExceededError,
    RateLimitError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    ZBooksError,
)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    total_timeout: float = 300.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    rate_limit_wait: float = 60.0
    concurrency_wait: float = 2.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**(attempt-1))]."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** max(attempt - 1, 0)))
        return rng.uniform(0, ceiling)


NO_RETRIES = RetryPolicy(max_attempts=1)


@dataclass(frozen=True)
class Decision:
    retry: bool
    wait: float = 0.0
    block_organization: float = 0.0  # the limiter holds every request of the org this long
    uncertain_write: bool = False  # raise UncertainWriteError instead of the error


def decide(
    error: ZBooksError,
    *,
    method: str,
    attempt: int,
    elapsed: float,
    policy: RetryPolicy,
    rng: random.Random,
) -> Decision:
    """What to do after attempt number ``attempt`` (1-based) failed with ``error``."""
    idempotent = method.upper() in IDEMPOTENT_METHODS
    decision = _classify(error, idempotent=idempotent, attempt=attempt, policy=policy, rng=rng)
    if decision.retry and (
        attempt >= policy.max_attempts or elapsed + decision.wait > policy.total_timeout
    ):
        return Decision(retry=False, uncertain_write=decision.uncertain_write)
    return decision


def _classify(
    error: ZBooksError,
    *,
    idempotent: bool,
    attempt: int,
    policy: RetryPolicy,
    rng: random.Random,
) -> Decision:
    if isinstance(error, DailyLimitExceededError):
        return Decision(retry=False)
    if isinstance(error, ConcurrencyLimitError):
        wait = error.retry_after or policy.concurrency_wait * (0.5 + rng.random())
        return Decision(retry=True, wait=wait)
    if isinstance(error, RateLimitError):
        wait = error.retry_after or policy.rate_limit_wait
        return Decision(retry=True, wait=wait, block_organization=wait)
    if isinstance(error, CertificateError):
        return Decision(retry=False)  # the same certificate comes back
    if isinstance(error, TransportError):
        if not error.sent:
            return Decision(retry=True, wait=policy.backoff(attempt, rng))
        if idempotent:
            return Decision(retry=True, wait=policy.backoff(attempt, rng))
        return Decision(retry=False, uncertain_write=True)
    if isinstance(error, ServerError) or (
        isinstance(error, UnexpectedResponseError) and error.status < 300
    ):
        # A 5xx, or a success status whose body was cut short: the request reached Zoho.
        if idempotent:
            return Decision(retry=True, wait=policy.backoff(attempt, rng))
        return Decision(retry=False, uncertain_write=True)
    if isinstance(error, APIError):
        return Decision(retry=False)
    return Decision(retry=False)
