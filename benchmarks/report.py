"""Write one benchmark's results into its own section of docs/benchmarks.md.

Each benchmark owns a section delimited by HTML comments, so running one benchmark
never erases another's numbers.
"""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Numbers from `python benchmarks/<name>.py` on the project's CI-class machine "
    "(2 cores). Machines here are noisy, so every target is a ratio measured side by "
    "side in one run, never an absolute time in a unit test.\n"
)


def write_section(name: str, body: str) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    stamp = (
        f"_Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {sys.version.split()[0]}, "
        f"{platform.machine()}._"
    )
    section = f"{start}\n{body.rstrip()}\n\n{stamp}\n{end}"
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + section + after
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
