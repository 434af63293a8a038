"""Test against a local Zoho: the sandbox as a pytest fixture, a context manager and a
decorator.

In pytest (the plugin is registered by installing ``zbooks[sandbox]``)::

    def test_invoice(zbooks_sandbox):
        client = zbooks_sandbox.client()
        ...

Anywhere else::

    with zbooks.testing.sandbox() as sb:
        client = sb.client()

    @zbooks.testing.sandbox()          # zbooks.Client() inside talks to the sandbox
    def job(): ...

Everything is driven through the sandbox's control plane (``/_sandbox``), so
``sandbox(url=..., token=...)`` steers a sandbox running in another process the same way.
This package is a consumer of the library: nothing in ``zbooks.core`` imports it.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from zbooks.testing.control import ControlClient, SandboxControlError
from zbooks.testing.handle import (
    Credentials,
    Faults,
    LoggedRequest,
    RequestLog,
    Sandbox,
    SandboxClock,
    Snapshot,
)

F = TypeVar("F", bound=Callable[..., Any])

SEEDS = ("demo", "empty")
PLANS = ("free", "standard", "professional", "premium")
# Zoho caps tokens per refresh token and token requests per ten minutes (api-facts §1.6).
# A test suite that builds a client per test, or runs `zbooks.Client()` in subprocesses,
# would trip those caps, which is not what it is testing: the fixture's sandbox lifts
# them. (A test of the caps themselves runs zbooks.sandbox.server.SandboxServer directly.)
RELAXED_TOKEN_LIMIT = 1_000_000


@dataclass(frozen=True)
class SandboxOptions:
    """How to start a sandbox; the ``zbooks_sandbox`` marker's arguments."""

    seed: str = "demo"
    plan: str = "premium"
    rate_limit: str = "100/60s"

    def __post_init__(self) -> None:
        from zbooks.sandbox.config import parse_rate_limit

        if self.seed not in SEEDS:
            raise ValueError(f"seed must be one of {', '.join(SEEDS)}, not {self.seed!r}")
        if self.plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {self.plan!r}")
        try:
            parse_rate_limit(self.rate_limit)
        except ValueError:
            raise ValueError(
                f"rate_limit {self.rate_limit!r} is not COUNT/WINDOW such as '100/60s'"
            ) from None


class LocalSandbox:
    """A sandbox server in this process (a background thread on a free loopback port)
    and its ``Sandbox`` handle, with a baseline snapshot taken right after start."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self._server: Any = None
        self.handle: Sandbox | None = None

    def start(self) -> Sandbox:
        try:
            from zbooks.sandbox.config import SandboxConfig, parse_rate_limit
            from zbooks.sandbox.server import SandboxServer
        except ImportError as exc:  # the sandbox extra is not installed
            raise SandboxControlError(
                f"The sandbox is not installed ({exc.name} is missing).",
                hint="pip install 'zbooks[sandbox]'",
            ) from None
        calls, window = parse_rate_limit(self.options.rate_limit)
        config = SandboxConfig(
            port=0,
            seed=self.options.seed,
            plan=self.options.plan,
            rate_limit=calls,
            rate_window=window,
            max_access_tokens_per_refresh_token=RELAXED_TOKEN_LIMIT,
            token_requests_per_window=RELAXED_TOKEN_LIMIT,
        )
        server = SandboxServer(config).start()
        self._server = server
        try:
            self.handle = attach(server.base_url, config.control_token)
        except BaseException:
            server.stop()
            raise
        return self.handle

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.close_clients()
            self.handle.control.close()
            self.handle = None
        if self._server is not None:
            self._server.stop()
            self._server = None


def attach(base_url: str, token: str) -> Sandbox:
    """A handle on a running sandbox: registers a client, logs it in and saves the current
    state as the baseline that ``Sandbox.reset()`` returns to."""
    control = ControlClient(base_url, token)
    try:
        credentials = Credentials.mint(control)
        saved = control.snapshot("baseline")
    except BaseException:
        control.close()
        raise
    return Sandbox(control, credentials, baseline=Snapshot(str(saved["id"]), str(saved["name"])))


class sandbox:  # lower case: used like a function, `with sandbox() as sb`, `@sandbox()`
    """A sandbox for the length of a ``with`` block or a decorated function.

    ``url``/``token`` attach to a running sandbox instead of starting one. With
    ``patch_env`` (the default) the ``ZBOOKS_*`` variables point at the sandbox meanwhile,
    so ``zbooks.Client()`` with no arguments (and subprocesses) reach it.
    """

    def __init__(
        self,
        *,
        seed: str = "demo",
        plan: str = "premium",
        rate_limit: str = "100/60s",
        url: str | None = None,
        token: str | None = None,
        patch_env: bool = True,
    ) -> None:
        self._kwargs: dict[str, Any] = {
            "seed": seed,
            "plan": plan,
            "rate_limit": rate_limit,
            "url": url,
            "token": token,
            "patch_env": patch_env,
        }
        self.options = SandboxOptions(seed=seed, plan=plan, rate_limit=rate_limit)
        self._url = url
        self._token = token
        self._patch_env = patch_env
        self._local: LocalSandbox | None = None
        self._handle: Sandbox | None = None
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> Sandbox:
        if self._url is not None:
            from zbooks.testing.control import base_url_from, token_from

            self._handle = attach(base_url_from(self._url), token_from(self._token))
        else:
            self._local = LocalSandbox(self.options)
            self._handle = self._local.start()
        if self._patch_env:
            env = self._handle.env()
            self._saved_env = {key: os.environ.get(key) for key in env}
            os.environ.update(env)
        return self._handle

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}
        if self._local is not None:
            self._local.stop()
            self._local = None
        elif self._handle is not None:
            self._handle.close_clients()
            self._handle.control.close()
        self._handle = None

    def __call__(self, func: F) -> F:
        """Decorate ``func``: each call runs inside a fresh sandbox."""
        kwargs = self._kwargs
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kw: Any) -> Any:
                with sandbox(**kwargs):
                    return await func(*args, **kw)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kw: Any) -> Any:
            with sandbox(**kwargs):
                return func(*args, **kw)

        return run  # type: ignore[return-value]


__all__ = [
    "ControlClient",
    "Credentials",
    "Faults",
    "LocalSandbox",
    "LoggedRequest",
    "RequestLog",
    "Sandbox",
    "SandboxClock",
    "SandboxControlError",
    "SandboxOptions",
    "Snapshot",
    "attach",
    "sandbox",
]
