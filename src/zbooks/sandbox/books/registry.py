"""Route table of the Books API: handlers declare (method, path template, scope).

The HTTP layer authenticates, resolves the organization, parses the body, then asks
the registry for the handler. Literal path segments beat parameters, so
``/invoices/pdf`` is never taken for ``/invoices/{invoice_id}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zbooks.sandbox.errors import invalid_url, method_not_allowed
from zbooks.sandbox.ledger.base import Ledger

_OPERATION_BY_METHOD = {"GET": "READ", "POST": "CREATE", "PUT": "UPDATE", "DELETE": "DELETE"}


@dataclass
class BooksRequest:
    """What a handler sees. ``path`` is relative to ``/books/v3`` without a trailing slash."""

    method: str
    path: str
    path_params: dict[str, str]
    query: Mapping[str, str]
    body: dict[str, Any]
    ledger: Ledger
    headers: Mapping[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    user_id: str = ""
    file_names: dict[str, str] = field(default_factory=dict)  # form field -> uploaded name

    @property
    def org_id(self) -> str:
        return self.ledger.org_id

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("true", "1", "yes")


@dataclass
class BooksResponse:
    """A JSON envelope (``body``) or raw bytes (``content``, e.g. a PDF)."""

    status: int = 200
    body: dict[str, Any] | None = None
    content: bytes | None = None
    media_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


def ok(message: str = "success", status: int = 200, **keys: Any) -> BooksResponse:
    """The success envelope ``{"code": 0, "message": ..., <key>: ...}``."""
    return BooksResponse(status=status, body={"code": 0, "message": message, **keys})


Handler = Callable[[BooksRequest], BooksResponse]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    scope: str  # full scope, e.g. "ZohoBooks.invoices.READ"
    needs_org: bool = True
    segments: tuple[str, ...] = ()

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(0 if s.startswith("{") else 1 for s in self.segments)


def _split(path: str) -> tuple[str, ...]:
    return tuple(s for s in path.strip("/").split("/") if s)


class Registry:
    def __init__(self) -> None:
        self._by_shape: dict[tuple[int, str], list[Route]] = {}
        self._wild_first: dict[int, list[Route]] = {}
        self._seen: set[tuple[str, str]] = set()
        self._shapes: dict[tuple[str, tuple[str, ...]], Route] = {}

    def add(
        self,
        method: str,
        template: str,
        handler: Handler,
        *,
        scope: str,
        needs_org: bool = True,
        replace: bool = False,
    ) -> None:
        """Register a handler. ``scope`` may be short (``"invoices"``): the operation
        is then derived from the method (GET -> READ, POST -> CREATE, ...)."""
        method = method.upper()
        key = (method, template)
        if key in self._seen and not replace:
            return  # first registration wins: stateful modules load before the generic store
        if scope.count(".") == 0:
            scope = f"ZohoBooks.{scope}.{_OPERATION_BY_METHOD[method]}"
        segments = _split(template)
        route = Route(method, template, handler, scope, needs_org, segments)
        self._shapes.clear()
        if key in self._seen:
            self._remove(method, template)
        self._seen.add(key)
        first = segments[0] if segments else ""
        if first.startswith("{"):
            self._wild_first.setdefault(len(segments), []).append(route)
        else:
            self._by_shape.setdefault((len(segments), first), []).append(route)

    def _remove(self, method: str, template: str) -> None:
        for table in (*self._by_shape.values(), *self._wild_first.values()):
            table[:] = [r for r in table if (r.method, r.template) != (method, template)]

    def route(
        self, method: str, template: str, *, scope: str, needs_org: bool = True
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self.add(method, template, handler, scope=scope, needs_org=needs_org)
            return handler

        return decorate

    def has(self, method: str, template: str) -> bool:
        return (method.upper(), template) in self._seen

    def routes(self) -> list[Route]:
        every = [r for table in self._by_shape.values() for r in table]
        every += [r for table in self._wild_first.values() for r in table]
        return every

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """Find the handler, or raise 404 code 5 (unknown path) / 405 code 37.

        Ids are digit strings, so the route chosen for a path depends only on its shape
        (digit segments replaced): that choice is cached, and only the binding of
        parameters is redone per request.
        """
        segments = _split(path)
        shape = (method.upper(), tuple("#" if s.isdigit() else s for s in segments))
        cached = self._shapes.get(shape)
        if cached is not None:
            params = _bind(cached.segments, segments)
            if params is not None:
                return cached, params
        route, params = self._match(method, segments)
        if len(self._shapes) >= _SHAPE_CACHE_SIZE:
            self._shapes.clear()
        self._shapes[shape] = route
        return route, params

    def _match(self, method: str, segments: tuple[str, ...]) -> tuple[Route, dict[str, str]]:
        candidates = self._by_shape.get((len(segments), segments[0] if segments else ""), [])
        candidates = candidates + self._wild_first.get(len(segments), [])
        best: tuple[Route, dict[str, str]] | None = None
        path_known = False
        for route in candidates:
            params = _bind(route.segments, segments)
            if params is None:
                continue
            path_known = True
            if route.method != method.upper():
                continue
            if best is None or route.specificity > best[0].specificity:
                best = (route, params)
        if best is not None:
            return best
        if path_known:
            raise method_not_allowed()
        raise invalid_url()


_SHAPE_CACHE_SIZE = 4096

# Path parameters that only match values of a known shape. Custom modules are served at
# ``/{module_name}``; without this, every unknown one-segment path would be taken for a
# custom module instead of answering 404 code 5. UNCONFIRMED: Zoho's custom-module API
# names start with ``cm_`` (as in its UI and docs examples).
PARAM_CONSTRAINTS: dict[str, re.Pattern[str]] = {"module_name": re.compile(r"^cm_")}


def _bind(template: tuple[str, ...], actual: tuple[str, ...]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for want, got in zip(template, actual, strict=True):
        if want.startswith("{"):
            name = want[1:-1]
            constraint = PARAM_CONSTRAINTS.get(name)
            if constraint is not None and not constraint.match(got):
                return None
            params[name] = got
        elif want != got:
            return None
    return params


# The one registry the HTTP layer serves. Route modules under ``zbooks.sandbox.books``
# register into it when imported (see ``load_routes``).
REGISTRY = Registry()


def load_routes() -> Registry:
    """Import every route module in this package (stateful ones first, generic last)."""
    import importlib
    import pkgutil

    import zbooks.sandbox.books as package

    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__))
    ordered = [n for n in names if not n.startswith(("generic", "registry", "_"))]
    ordered += [n for n in names if n.startswith("generic")]
    for name in ordered:
        importlib.import_module(f"{package.__name__}.{name}")
    return REGISTRY
