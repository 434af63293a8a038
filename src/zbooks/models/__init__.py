"""Pydantic models of Zoho Books objects, generated from Zoho's OpenAPI files.

Each Zoho module has its own module (``zbooks.models.invoices``); the names that are
unique across modules (and every module's main model: ``Invoice``, ``Contact``, ...)
are also reachable here, imported on first access::

    from zbooks.models import Invoice
    from zbooks.models.invoices import InvoiceLineItem
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zbooks.models.wire import ZohoEnum

if TYPE_CHECKING:
    from zbooks.models.base import ZohoModel

__all__ = ["ZohoEnum", "ZohoModel"]


def __getattr__(name: str) -> Any:
    # Even ``ZohoModel`` loads on first use: importing a resource module (which goes
    # through this package) must not import pydantic.
    if name == "ZohoModel":
        from zbooks.models.base import ZohoModel

        globals()[name] = ZohoModel
        return ZohoModel
    if not name[:1].isupper():
        # Models and enums are CamelCase. ``from zbooks.models import types`` asks here
        # first for every submodule: answer at once instead of loading the 1,100-name map.
        raise AttributeError(f"module 'zbooks.models' has no attribute {name!r}")
    from zbooks.models._index import MODELS

    module = MODELS.get(name)
    if module is None:
        raise AttributeError(f"module 'zbooks.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"zbooks.models.{module}"), name)
    globals()[name] = value
    return value
