"""zbooks: the Python toolkit for the Zoho Books API.

Public names are resolved lazily so that ``import zbooks`` stays cheap: the CLI's
``--help`` and short scripts should not pay for pydantic models they never touch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Client": "zbooks.core.client",
    "AsyncClient": "zbooks.core.client",
    "Region": "zbooks.regions",
    "Token": "zbooks.auth.tokens",
    "ZBooksError": "zbooks.errors",
    "APIError": "zbooks.errors",
}

__all__ = [
    "APIError",
    "AsyncClient",
    "Client",
    "Region",
    "Token",
    "ZBooksError",
    "__version__",
]

if TYPE_CHECKING:
    from zbooks.auth.tokens import Token
    from zbooks.core.client import AsyncClient, Client
    from zbooks.errors import APIError, ZBooksError
    from zbooks.regions import Region


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'zbooks' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
