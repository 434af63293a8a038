"""A stand-in for one ``zbooks.models.<module>`` that imports it on first use.

Resource modules refer to their models as ``m.Invoice``; with this stand-in the model
module (and pydantic with it) is imported by the first call that parses or builds a
model, not by ``client.invoices``. Measured in ``benchmarks/overhead.py``: a client
ready to call stays well under the cost of pydantic's own import.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class ModelsModule:
    """Attribute access forwards to ``zbooks.models.<name>``, imported on the first."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = f"zbooks.models.{name}"
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<models module {self._name!r} ({state})>"


def models_module(name: str) -> Any:
    """``zbooks.models.<name>``, imported when an attribute is first read."""
    return ModelsModule(name)


__all__ = ["ModelsModule", "models_module"]
