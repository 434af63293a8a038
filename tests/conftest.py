"""Shared fixtures. Tests talk only to loopback or in-process transports."""

from __future__ import annotations

import pytest

from tests.oasfiles import OAS_PRESENT, OAS_SKIP_REASON

# `pytester` runs small user test files against the zbooks pytest plugin (tests/testing).
pytest_plugins = ("pytester",)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line, not one per test, when Zoho's OpenAPI files are not there."""
    if OAS_PRESENT:
        return
    skipped = [
        r for r in terminalreporter.stats.get("skipped", []) if OAS_SKIP_REASON in str(r.longrepr)
    ]
    terminalreporter.write_line(f"{len(skipped)} tests skipped: {OAS_SKIP_REASON}")
