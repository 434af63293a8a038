"""Where Zoho's OpenAPI files are, for the tests that use them as an oracle.

The files are never committed (they are Zoho's). ``ZBOOKS_OAS_DIR`` names the folder of
one snapshot (``…/zoho-books/2026-07``); without it the default is the copy CI lays next
to the checkout, ``../shared/oas/zoho-books/2026-07``. The older snapshot (``2026-04``) is
looked up beside it. When the folder is absent the tests that need it skip with one
line that says how to point at the files; everything else still runs. ``.ci/run`` sets
the variable and fails if the folder is missing, so CI never skips them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OAS_DIR = REPO_ROOT.parent / "shared" / "oas" / "zoho-books" / "2026-07"

OAS_DIR = Path(os.environ.get("ZBOOKS_OAS_DIR") or DEFAULT_OAS_DIR).resolve()
"""The primary snapshot (2026-07): one ``<module>.yml`` per Zoho API page."""

BOOKS_OAS = OAS_DIR.parent
"""The folder that holds the snapshots side by side (``2026-07``, ``2026-04``)."""

OAS_04_DIR = BOOKS_OAS / "2026-04"

OAS_PRESENT = OAS_DIR.is_dir()

OAS_SKIP_REASON = (
    f"Zoho's OpenAPI files are not at {OAS_DIR}: set ZBOOKS_OAS_DIR to the 2026-07 folder"
)

requires_oas = pytest.mark.skipif(not OAS_PRESENT, reason=OAS_SKIP_REASON)
requires_oas_04 = pytest.mark.skipif(
    not OAS_04_DIR.is_dir(),
    reason=f"Zoho's 2026-04 OpenAPI files are not at {OAS_04_DIR}: set ZBOOKS_OAS_DIR",
)
