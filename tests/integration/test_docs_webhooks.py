"""docs/webhooks.md runs as written: receive, replay, use the pieces, reconcile, and
configure webhooks through the API, against a sandbox on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Sandbox
from .docblocks import doc_blocks, point_environment_at, run_blocks


def test_docs_webhooks_examples_run(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_environment_at(sandbox, monkeypatch, tmp_path / "config")
    monkeypatch.chdir(tmp_path)  # the page writes its seen-store and cursor files here
    blocks = doc_blocks("webhooks.md")
    assert len(blocks) == 5  # the parser still finds every example
    namespace = run_blocks("webhooks.md", blocks)
    # The reconcile block handled the demo organization's invoices once each, and the
    # delivery of the earlier block was not handled twice.
    handled = namespace["handled"]
    assert len(handled) == len(set(handled)) > 1
    assert (tmp_path / "webhooks-seen.sqlite3").is_file()
    assert (tmp_path / "invoices.cursor").read_text()
