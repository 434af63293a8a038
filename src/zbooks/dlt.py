"""``zbooks.dlt``: the Zoho Books source for dlt (install the ``dlt`` extra).

See ``zbooks.sync.dlt_source`` for how it reads incrementally.
"""

from __future__ import annotations

from zbooks.sync.dlt_source import zoho_books_source

__all__ = ["zoho_books_source"]
