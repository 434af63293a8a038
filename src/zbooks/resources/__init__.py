"""Typed resources for every Zoho Books operation, and the registry that lists them.

``client.invoices``, ``client.contacts``, ... are generated from Zoho's OpenAPI files
(``tools/generate.py``); each module is imported the first time it is used, so this
package costs nothing at ``import zbooks``. ``operations()`` describes every generated
method as plain data (the CLI builds its per-resource commands from it)::

    for op in operations("invoices"):
        print(op.method, op.http_method, op.path)
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Param:
    """One documented parameter of an operation."""

    name: str  # as Zoho spells it on the wire
    python_name: str  # the method's argument
    location: str  # path | query | header | file
    required: bool
    kind: str  # str int bool number date datetime ids list file enum
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    """One generated method: ``client.<module>.<method>(...)``."""

    module: str
    method: str
    http_method: str
    path: str  # with named parameters, e.g. /invoices/{invoice_id}
    oas_path: str  # as written in the OAS file (a few use regex segments)
    operation_id: str  # Zoho's operationId, for reference
    source: str  # e.g. 2026-07/invoices.yml
    scope: str  # OAuth scope, e.g. ZohoBooks.invoices.CREATE
    params: tuple[Param, ...]
    body_model: str  # request model class name ("" without a JSON body)
    body_required: tuple[str, ...]
    returns: str  # paginator | model | models | record | envelope | bytes
    keys: tuple[str, ...]  # envelope keys holding the result
    model: str  # result model class name ("" for envelope/bytes)
    summary: str
    pdf_variant: bool  # the resource also has ``pdf(...)``: this GET with accept=pdf
    # (``accept`` is then left out of the JSON method's arguments)

    @property
    def path_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "path")

    @property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "query")

    @property
    def header_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "header")

    @property
    def file_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "file")

    @property
    def accepts_body(self) -> bool:
        """The method takes ``body=`` (a documented model, or any mapping on POST/PUT)."""
        return bool(self.body_model) or self.http_method in ("POST", "PUT")

    @property
    def paginated(self) -> bool:
        return self.returns == "paginator"

    @property
    def model_path(self) -> str:
        """``zbooks.models.invoices.Invoice`` style dotted name, or ``""``."""
        return f"zbooks.models.{self.module}.{self.model}" if self.model else ""


@lru_cache(maxsize=1)
def _all() -> tuple[Operation, ...]:
    from zbooks.resources._catalog import OPERATIONS

    found = []
    for row in OPERATIONS:
        (module, method, http, path, oas_path, op_id, source, scope, params, body_model,
         body_required, returns, keys, model, summary, pdf_variant) = row  # fmt: skip
        found.append(
            Operation(
                module=module,
                method=method,
                http_method=http,
                path=path,
                oas_path=oas_path,
                operation_id=op_id,
                source=source,
                scope=scope,
                params=tuple(Param(*p) for p in params),
                body_model=body_model,
                body_required=body_required,
                returns=returns,
                keys=keys,
                model=model,
                summary=summary,
                pdf_variant=pdf_variant,
            )
        )
    return tuple(found)


def operations(module: str | None = None) -> list[Operation]:
    """Every generated method (of one module when given), sorted by module and name."""
    return [op for op in _all() if module is None or op.module == module]


def modules() -> list[str]:
    """The ``client.<name>`` resource names."""
    from zbooks.resources._modules import MODULES

    return sorted(MODULES)


def resource_class(name: str, *, asynchronous: bool = False) -> type[Any]:
    """The generated class behind ``client.<name>`` (imports its module)."""
    from zbooks.resources._modules import MODULES

    try:
        module_name, sync_name, async_name, _ = MODULES[name]
    except KeyError:
        raise AttributeError(f"no Zoho Books resource named {name!r}") from None
    module = importlib.import_module(module_name)
    cls: type[Any] = getattr(module, async_name if asynchronous else sync_name)
    return cls


def bind(client: Any, name: str) -> Any:
    """``client.<name>``: the resource for that client, created once and cached on it."""
    cached = client.__dict__.get(name)
    if cached is not None:
        return cached
    from zbooks.core.client import AsyncClient

    try:
        cls = resource_class(name, asynchronous=isinstance(client, AsyncClient))
    except AttributeError:
        raise AttributeError(
            f"{type(client).__name__!r} object has no attribute {name!r}"
        ) from None
    resource = cls(client)
    client.__dict__[name] = resource
    return resource


__all__ = ["Operation", "Param", "bind", "modules", "operations", "resource_class"]
