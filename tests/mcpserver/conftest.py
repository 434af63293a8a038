"""MCP tests: skip the whole folder with one line when the `mcp` extra is absent."""

from __future__ import annotations

import pytest

pytest.importorskip("mcp", reason="the MCP extra is not installed: pip install 'zbooks[mcp]'")
