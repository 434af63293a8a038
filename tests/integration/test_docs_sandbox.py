"""docs/sandbox.md is a walkthrough a reader will paste: run every block, in order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_docs_sandbox_examples_run(monkeypatch: Any, tmp_path: Path) -> None:
    # The doc's client must not pick up a developer's profile or environment.
    monkeypatch.setenv("ZBOOKS_CONFIG_DIR", str(tmp_path))
    blocks = _BLOCK.findall(DOC.read_text("utf-8"))
    assert len(blocks) >= 7  # the parser still finds the walkthrough
    namespace: dict[str, Any] = {"__name__": "docs_sandbox"}
    try:
        for number, code in enumerate(blocks, 1):
            exec(compile(code, f"docs/sandbox.md python block {number}", "exec"), namespace)
    finally:
        server = namespace.get("server")
        if server is not None:
            server.stop()  # idempotent: the last block stops it already
