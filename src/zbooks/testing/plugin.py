"""The pytest plugin (entry point ``pytest11: zbooks``, installed with ``zbooks[sandbox]``).

- ``zbooks_sandbox``: a fresh sandbox for each test. Behind it runs one in-process
  server per distinct set of marker options, started at first use and kept for the
  session; before each test it is brought back to its start state (a snapshot restore:
  records, counters and clock; fault rules and the request log cleared), which costs
  milliseconds instead of a restart.
- ``zbooks_sandbox_session``: the default sandbox for a whole session, never reset by
  itself (state carries over between the tests that use it; call ``.reset()``).
- ``@pytest.mark.zbooks_sandbox(seed="empty", plan="free", rate_limit="100/60s")``
  chooses the options for a test, a class or a module (``pytestmark``).

This module imports only pytest at load time: every pytest run of a project with zbooks
installed loads it, and most of those runs never ask for a sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from zbooks.testing import LocalSandbox, Sandbox, SandboxOptions

MARKER = "zbooks_sandbox"


class SandboxPool:
    """The session's running sandboxes, one per options; stopped at the end."""

    def __init__(self) -> None:
        self._running: dict[SandboxOptions, LocalSandbox] = {}

    def get(self, options: SandboxOptions) -> Sandbox:
        from zbooks.testing import LocalSandbox

        local = self._running.get(options)
        if local is None or local.handle is None:
            local = LocalSandbox(options)
            local.start()
            self._running[options] = local
        assert local.handle is not None
        return local.handle

    def close(self) -> None:
        running, self._running = self._running, {}
        for local in running.values():
            local.stop()


_POOL = pytest.StashKey[SandboxPool]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(seed='demo', plan='premium', rate_limit='100/60s'): options of the "
        "zbooks_sandbox fixture's sandbox for this test",
    )
    config.stash[_POOL] = SandboxPool()


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(_POOL, None)
    if pool is not None:
        pool.close()


def _options(marker: pytest.Mark | None) -> SandboxOptions:
    from zbooks.testing import SandboxOptions

    if marker is None:
        return SandboxOptions()
    if marker.args:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER} takes keyword arguments only: seed=, plan=, rate_limit="
        )
    unknown = set(marker.kwargs) - {"seed", "plan", "rate_limit"}
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER} got unknown options {sorted(unknown)}; "
            "it takes seed=, plan= and rate_limit="
        )
    try:
        return SandboxOptions(**marker.kwargs)
    except ValueError as exc:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: {exc}") from None


@pytest.fixture(scope="session")
def zbooks_sandbox_session(pytestconfig: pytest.Config) -> Sandbox:
    """One sandbox (default options) for the whole session; state carries over."""
    from zbooks.testing import SandboxOptions

    return pytestconfig.stash[_POOL].get(SandboxOptions())


@pytest.fixture
def zbooks_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox in its start state for this test (see the module docstring)."""
    options = _options(request.node.get_closest_marker(MARKER))
    handle = request.config.stash[_POOL].get(options)
    handle.reset()
    yield handle
    handle.close_clients()
