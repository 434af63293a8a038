"""Fixtures: a demo sandbox in a child process, and credentials for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import Credentials, SandboxProc, sandbox_process


@pytest.fixture(scope="module")
def demo() -> Iterator[SandboxProc]:
    """The sandbox's demo organization (a few records of every stateful module)."""
    with sandbox_process(seed="demo") as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def demo_creds(demo: SandboxProc) -> Credentials:
    return demo.credentials()
