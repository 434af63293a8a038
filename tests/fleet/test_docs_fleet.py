"""docs/fleet.md is a walkthrough a reader will paste: run every python block, in order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "fleet.md"
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_docs_fleet_blocks_run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    redis_url: str,
    target_db: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = str(Path(__file__).resolve().parents[2] / "src")
    monkeypatch.setenv("PYTHONPATH", root)
    monkeypatch.setenv("ZBOOKS_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("DATABASE_URL", target_db)
    monkeypatch.delenv("ZBOOKS_ENCRYPTION_KEY", raising=False)
    blocks = _BLOCK.findall(DOC.read_text("utf-8"))
    assert len(blocks) == 5
    namespace: dict[str, Any] = {"__name__": "docs_fleet"}
    try:
        for number, code in enumerate(blocks, 1):
            exec(compile(code, f"docs/fleet.md python block {number}", "exec"), namespace)
    finally:
        server = namespace.get("server")
        if server is not None:
            server.stop()
        worker = namespace.get("worker")
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "docs-00000 True"
    assert out[1] == "[('docs-00000', 'active'), ('docs-00001', 'active')]"
    assert out[2] == "5"
    assert out[3] == "[('docs-00000', 'ok'), ('docs-00001', 'ok')]"
    assert out[4] == "['docs-00000', 'docs-00001'] ok"
