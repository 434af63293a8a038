"""The shifted-clock run really is shifted: proves the second CI pass is not a repeat.

The kernel stamps a new file with the real time; ``time.time()`` and ``date.today()``
must be ``CLOCK_SHIFT_DAYS`` ahead of it, in this process and in a child.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

SHIFT = os.environ.get("CLOCK_SHIFT_DAYS")
pytestmark = pytest.mark.skipif(
    not SHIFT, reason="only in the shifted-clock run (CLOCK_SHIFT_DAYS unset)"
)


def _real_now(tmp_path: Path) -> float:
    probe = tmp_path / "probe"
    probe.write_bytes(b"")
    return probe.stat().st_mtime


def test_this_process_and_its_children_are_shifted(tmp_path: Path) -> None:
    days = float(str(SHIFT))
    real = _real_now(tmp_path)
    assert abs(time.time() - real - days * 86400) < 3600
    expected = date.fromtimestamp(real + days * 86400)
    assert abs(date.today() - expected) <= timedelta(days=1)
    child = subprocess.run(
        [sys.executable, "-c", "import time; print(time.time())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert abs(float(child.stdout) - real - days * 86400) < 3600
