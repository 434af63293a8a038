"""Run a docs page's Python blocks as a reader would paste them: in order, in one
namespace, with ``zbooks.Client()`` finding its settings in the environment."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from zbooks.auth.login import code_login

from .conftest import Sandbox

DOCS = Path(__file__).resolve().parents[2] / "docs"
_BLOCK = re.compile(r"(<!-- not run[^>]*-->\n)?```python\n(.*?)```", re.S)


def doc_blocks(page: str) -> list[str]:
    """The page's ``python`` blocks, in order, without those marked ``<!-- not run -->``."""
    text = (DOCS / page).read_text("utf-8")
    return [m.group(2) for m in _BLOCK.finditer(text) if not m.group(1)]


def point_environment_at(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, config_dir: Path
) -> dict[str, str]:
    """Log in to ``sandbox`` with a Self Client and put the settings in ``ZBOOKS_*``
    variables (and nothing else of the developer's), as the docs tell a reader to."""
    client_id, secret, code = sandbox.self_client()
    token = code_login(
        code, accounts_url=sandbox.base_url, client_id=client_id, client_secret=secret
    ).token
    for name in [n for n in os.environ if n.startswith("ZBOOKS_")]:
        monkeypatch.delenv(name)
    settings = {
        "ZBOOKS_CONFIG_DIR": str(config_dir),
        "ZBOOKS_CLIENT_ID": client_id,
        "ZBOOKS_CLIENT_SECRET": secret,
        "ZBOOKS_REFRESH_TOKEN": str(token.refresh_token),
        "ZBOOKS_ACCOUNTS_URL": sandbox.base_url,
        "ZBOOKS_API_URL": sandbox.api_url,
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return settings


def run_blocks(page: str, blocks: list[str]) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": f"docs_{Path(page).stem}"}
    for number, code in enumerate(blocks, 1):
        exec(compile(code, f"docs/{page} python block {number}", "exec"), namespace)
    return namespace
