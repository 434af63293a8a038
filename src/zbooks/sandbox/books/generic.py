"""Every documented operation that no stateful module implements, over one generic store.

The stateful modules give ~150 operations real accounting rules. The other ~700 in
Zoho's OpenAPI files (projects, tasks, vendor credits, comments, e-invoicing, ...) must
still answer like Zoho: the documented status, message and envelope key, records that
round-trip (create, get, list, update, delete), 404 code 1002 for unknown ids, and
400s rather than crashes for bad input. ``spec_table`` (generated from the OAS) says
what each operation is; this module turns each table row into a handler.

Records live in the normal record store under ``generic:<collection>`` (e.g.
``generic:projects/tasks``), except collections that a stateful module owns
(``invoices``, ``contacts`` ...): there the generic store reads and writes the same
module name, so a comment on an invoice checks the real invoice exists.

This file loads last (``load_routes``), and never replaces a route that a stateful
module registered, even under another parameter spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, Registry, ok
from zbooks.sandbox.errors import invalid_url, invalid_value, method_not_allowed, not_found
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.listing import ListSpec, list_page
from zbooks.sandbox.ledger.organizations import get_organization, save_organization
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.spec_table import OPERATIONS, SpecOp

# Collections whose records a stateful module keeps, and the store module it uses
# (module names are Zoho's path collection names; see ledger.store).
STATEFUL_MODULES: dict[str, str] = {
    "bankaccounts": "bankaccounts",
    "banktransactions": "banktransactions",
    "bills": "bills",
    "chartofaccounts": "chartofaccounts",
    "contacts": "contacts",
    "contacts/contactpersons": "contactpersons",
    "creditnotes": "creditnotes",
    "customerpayments": "customerpayments",
    "estimates": "estimates",
    "expenses": "expenses",
    "invoices": "invoices",
    "items": "items",
    "journals": "journals",
    "purchaseorders": "purchaseorders",
    "salesorders": "salesorders",
    "settings/currencies": "currencies",
    "settings/taxes": "taxes",
    "settings/taxgroups": "taxgroups",
    "users": "users",
    "vendorcredits": "vendorcredits",
    "vendorpayments": "vendorpayments",
}
ORGANIZATIONS = "organizations"  # kept in their own table, not in the record store
CUSTOM_MODULE_PARAM = "module_name"
CUSTOM_MODULE_PREFIX = "cm_"  # Zoho's custom module API names, e.g. cm_debtor
SINGLETON_ID = "0"
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # safe as a JSON path in SQL
_DEFAULTS: dict[str, Callable[[], Any]] = {
    "object": dict,
    "array": list,
    "string": str,
    "number": int,
    "integer": int,
    "boolean": bool,
}

Handler = Callable[[BooksRequest], BooksResponse]


# --- naming ---------------------------------------------------------------------------


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _id_fields() -> dict[str, str]:
    fields: dict[str, str] = {}
    for op in OPERATIONS:
        if op.id_field:
            fields.setdefault(op.collection, op.id_field)
    return fields


ID_FIELDS = _id_fields()


def resource_label(collection: str) -> str:
    """``projects/tasks`` -> ``Task`` (for "Task does not exist.")."""
    field = ID_FIELDS.get(collection, "")
    stem = field[:-3] if field.endswith("_id") else singular(collection.rsplit("/", 1)[-1])
    words = stem.replace("_", " ").strip() or "Record"
    return words[0].upper() + words[1:]


def module_for(collection: str, params: Mapping[str, str]) -> str:
    """The store module of a collection; ``{module_name}`` is filled from the path."""
    if collection in STATEFUL_MODULES:
        return STATEFUL_MODULES[collection]
    if "{" in collection:
        collection = collection.format(**params)
    return f"generic:{collection}"


def _key_type(op: SpecOp, key: str) -> str:
    return dict(op.keys).get(key, "object")


def _fallback_key(op: SpecOp, plural: bool) -> str:
    """A key for an operation whose OAS example shows none. UNCONFIRMED: Zoho surely
    returns the record; naming it after the collection is the most plausible guess."""
    if op.key:
        return op.key
    last = op.collection.rsplit("/", 1)[-1].strip("{}")
    return last if plural else singular(last)


def _wrap(op: SpecOp, key: str, record: dict[str, Any]) -> Any:
    """The OAS types some singular keys as arrays (``module_record``, ``users``)."""
    return [record] if _key_type(op, key) == "array" else record


# --- existence and path checks --------------------------------------------------------


def _scoped_params(op: SpecOp, request: BooksRequest) -> dict[str, str]:
    """Path parameters that tie a sub-record to its parents (not the record's own id,
    not the custom module's name)."""
    return {
        name: value
        for name, value in request.path_params.items()
        if name not in (op.id_param, CUSTOM_MODULE_PARAM)
    }


def _exists(ledger: Ledger, collection: str, record_id: str, params: Mapping[str, str]) -> bool:
    if collection == ORGANIZATIONS:
        return get_organization(ledger.db, record_id) is not None
    return ledger.store.get(module_for(collection, params), record_id) is not None


def _check_parents(op: SpecOp, request: BooksRequest) -> None:
    for param, collection in op.parents:
        value = request.path_params.get(param, "")
        if not _exists(request.ledger, collection, value, request.path_params):
            raise not_found(resource_label(collection))


def _check_custom_module(request: BooksRequest) -> None:
    """``/{module_name}`` would otherwise swallow every unknown one-segment path.
    UNCONFIRMED: Zoho's custom module API names always start with ``cm_``."""
    name = request.path_params.get(CUSTOM_MODULE_PARAM)
    if name is not None and not name.startswith(CUSTOM_MODULE_PREFIX):
        raise _unknown_path(request.method, request.path)


def _unknown_path(method: str, path: str) -> Exception:
    """404 code 5, or 405 when a literal route knows the path under another method."""
    segments = tuple(s for s in path.strip("/").split("/") if s)
    for route in REGISTRY.routes():
        if not route.segments or route.segments[0].startswith("{"):
            continue
        if len(route.segments) != len(segments) or route.method == method.upper():
            continue
        if all(t.startswith("{") or t == s for t, s in zip(route.segments, segments, strict=True)):
            return method_not_allowed()
    return invalid_url()


def _load(op: SpecOp, request: BooksRequest) -> tuple[str, dict[str, Any]]:
    """The record named by the path, or 404 code 1002 (also when it belongs to
    another parent, e.g. a task of another project)."""
    module = module_for(op.collection, request.path_params)
    record_id = request.path_params[op.id_param]
    record = _get(request.ledger, op.collection, module, record_id)
    if record is None:
        raise not_found(resource_label(op.collection))
    for name, value in _scoped_params(op, request).items():
        if name in record and str(record[name]) != value:
            raise not_found(resource_label(op.collection))
    return module, record


def _get(ledger: Ledger, collection: str, module: str, record_id: str) -> dict[str, Any] | None:
    if collection == ORGANIZATIONS:
        return get_organization(ledger.db, record_id)
    return ledger.store.get(module, record_id)


def _body(request: BooksRequest) -> dict[str, Any]:
    return dict(request.body) if isinstance(request.body, dict) else {}


# --- handlers per kind ----------------------------------------------------------------


def _create(op: SpecOp, request: BooksRequest) -> BooksResponse:
    ledger = request.ledger
    module = module_for(op.collection, request.path_params)
    record = _body(request)
    record.update(_scoped_params(op, request))
    id_field = op.id_field or singular(op.collection.rsplit("/", 1)[-1]) + "_id"
    given = record.get(id_field)
    if not id_field.endswith("_id") and isinstance(given, str) and given:
        record_id = given  # e.g. a custom module's module_api_name is chosen by the client
        if ledger.store.get(module, record_id) is not None:
            raise invalid_value(id_field)
    else:
        record_id = ledger.store.new_id()
    record[id_field] = record_id
    ledger.store.insert(module, record_id, record, ledger.now())
    key = _fallback_key(op, plural=False)
    return ok(op.message, op.status, **{key: _wrap(op, key, record)})


def _read(op: SpecOp, request: BooksRequest) -> BooksResponse:
    _module, record = _load(op, request)
    key = _fallback_key(op, plural=False)
    return ok(op.message, op.status, **{key: _wrap(op, key, record)})


def _update(op: SpecOp, request: BooksRequest) -> BooksResponse:
    module, record = _load(op, request)
    protected = {op.id_field, op.id_param, *_scoped_params(op, request)}
    changes = {k: v for k, v in _body(request).items() if k not in protected}
    record.update(changes)
    if op.collection == ORGANIZATIONS:
        save_organization(request.ledger.db, record)
    else:
        record_id = request.path_params[op.id_param]
        request.ledger.store.update(module, record_id, record, request.ledger.now())
    key = _fallback_key(op, plural=False)
    return ok(op.message, op.status, **{key: _wrap(op, key, record)})


def _delete(op: SpecOp, request: BooksRequest) -> BooksResponse:
    module, _record = _load(op, request)
    if op.collection == ORGANIZATIONS:
        raise invalid_value(op.id_param)  # the sandbox never drops an organization
    request.ledger.store.delete(module, request.path_params[op.id_param])
    return ok(op.message, op.status)


def _list(op: SpecOp, request: BooksRequest) -> BooksResponse:
    key = _fallback_key(op, plural=True)
    module = module_for(op.collection, request.path_params)
    spec = _list_spec(module, key, op.collection, request.query, _scoped_params(op, request))
    result = list_page(request.ledger, request.query, spec)
    records: Any = result.records
    if _key_type(op, key) == "object" and not key.endswith("s"):
        records = result.records[0] if result.records else {}  # a one-object "list"
    return ok(op.message, op.status, **{key: records, "page_context": result.page_context})


def _list_spec(
    module: str, key: str, collection: str, query: Mapping[str, str], scope: Mapping[str, str]
) -> ListSpec:
    """A permissive list: any ``filter_by`` constant, sorting on any plain field name,
    ``<field>_startswith|_contains`` and exact ``*_id`` filters on whatever is stored."""
    sort_column = query.get("sort_column", "")
    if sort_column and not _FIELD.match(sort_column):
        raise invalid_value("sort_column")
    parent_filters = [Filter(name, "eq", value) for name, value in scope.items()]
    filter_by = query.get("filter_by", "") or "Status.All"
    text_fields = tuple(
        name[: -len(suffix)]
        for name in query
        for suffix in ("_startswith", "_contains")
        if name.endswith(suffix) and _FIELD.match(name)
    )
    exact_fields = tuple(
        name
        for name in query
        if name.endswith("_id") and name != "organization_id" and _FIELD.match(name)
    )
    return ListSpec(
        module=module,
        list_key=key,
        report_name=resource_label(collection) + "s",
        sort_columns=frozenset({"created_time", "last_modified_time", sort_column} - {""}),
        filter_by={filter_by: lambda _ledger: list(parent_filters)},
        default_filter="Status.All",
        text_fields=text_fields,
        exact_fields=exact_fields,
    )


def _upsert(op: SpecOp, request: BooksRequest) -> BooksResponse:
    """``PUT /<collection>`` with ``X-Unique-Identifier-Key/Value`` (and ``X-Upsert``)."""
    field = _header(request.headers, "X-Unique-Identifier-Key").strip()
    value = _header(request.headers, "X-Unique-Identifier-Value")
    if not field or not _FIELD.match(field):
        raise invalid_value("X-Unique-Identifier-Key")
    module = module_for(op.collection, request.path_params)
    match = request.ledger.store.find_one(module, field, value)
    if match is None:
        if _header(request.headers, "X-Upsert").strip().lower() != "true":
            raise not_found(resource_label(op.collection))  # UNCONFIRMED code
        return _create(op, request)
    id_field = op.id_field
    record_id = str(match.get(id_field, ""))
    changes = {k: v for k, v in _body(request).items() if k != id_field}
    match.update(changes)
    request.ledger.store.update(module, record_id, match, request.ledger.now())
    return ok(op.message, op.status, **{op.key: _wrap(op, op.key, match)})


def _bulk_delete(op: SpecOp, request: BooksRequest) -> BooksResponse:
    """``DELETE /<collection>?<x>_ids=1,2``: all ids must exist, then all go."""
    raw = next((v for k, v in request.query.items() if k.endswith("_ids")), "")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise invalid_value((op.id_field or "record_id") + "s")
    module = module_for(op.collection, request.path_params)
    store = request.ledger.store
    if any(store.get(module, record_id) is None for record_id in ids):
        raise not_found(resource_label(op.collection))
    for record_id in ids:
        store.delete(module, record_id)
    return ok(op.message, op.status)


def _singleton(op: SpecOp, request: BooksRequest) -> BooksResponse:
    """One settings object per organization (``/transactionlock``)."""
    store = request.ledger.store
    module = module_for(op.collection, request.path_params)
    current = store.get(module, SINGLETON_ID)
    if request.method == "DELETE":
        if current is not None:
            store.delete(module, SINGLETON_ID)
        return ok(op.message, op.status)
    if request.method in ("PUT", "POST"):
        merged = {**(current or {}), **_body(request)}
        if current is None:
            store.insert(module, SINGLETON_ID, merged, request.ledger.now())
        else:
            store.update(module, SINGLETON_ID, merged, request.ledger.now())
        current = merged
    keys = {op.key: current or {}} if op.key else {}
    return ok(op.message, op.status, **keys)


# Actions that change a generic record's state: the path's last segment(s) -> fields.
_STATE_ACTIONS: dict[str, dict[str, Any]] = {
    "active": {"status": "active", "is_active": True},
    "inactive": {"status": "inactive", "is_active": False},
    "markasopen": {"status": "open"},
    "markasongoing": {"status": "ongoing"},
    "markascompleted": {"status": "completed"},
}


def _action(op: SpecOp, request: BooksRequest) -> BooksResponse:
    """Anything else (status changes, emails, e-invoicing, reports): check the parents,
    record a state change on generic records, answer with the documented envelope."""
    target = _target(op, request)
    if target is not None:
        _collection, module, record_id, record = target
        changes = _state_change(request.path)
        if changes and module.startswith("generic:"):
            record.update(changes)
            request.ledger.store.update(module, record_id, record, request.ledger.now())
        elif _is_custom_fields_write(request) and module != ORGANIZATIONS:
            record["custom_fields"] = merge_custom_fields(
                record.get("custom_fields"), _body(request).get("custom_fields", [])
            )
            request.ledger.store.update(module, record_id, record, request.ledger.now())
    keys: dict[str, Any] = {}
    for name, kind in op.keys:
        if name == "page_context":
            keys[name] = {"page": 1, "per_page": 200, "has_more_page": False}
        elif target is not None and kind == "object" and name in _names_of(target[0]):
            keys[name] = target[3]
        else:
            keys[name] = _DEFAULTS.get(kind, dict)()
    if op.key and op.key not in keys:
        keys[op.key] = {}
    return ok(op.message, op.status, **keys)


def _is_custom_fields_write(request: BooksRequest) -> bool:
    return request.method in ("PUT", "POST") and request.path.rstrip("/").endswith("/customfields")


def merge_custom_fields(current: Any, given: Any) -> list[dict[str, Any]]:
    """``PUT .../customfields``: each given field (by ``customfield_id``, ``api_name`` or
    ``label``) replaces the record's field of the same name or is added; others stay."""
    if not isinstance(given, list) or not all(isinstance(f, dict) for f in given):
        raise invalid_value("custom_fields")
    merged = [dict(f) for f in current if isinstance(f, dict)] if isinstance(current, list) else []
    for field in given:
        key = next((n for n in ("customfield_id", "api_name", "label") if field.get(n)), None)
        if key is None:
            raise invalid_value("custom_fields")
        for existing in merged:
            if existing.get(key) == field[key]:
                existing.update(field)
                break
        else:
            merged.append(dict(field))
    return merged


def _target(op: SpecOp, request: BooksRequest) -> tuple[str, str, str, dict[str, Any]] | None:
    """The innermost parent record of an action (the project of ``/projects/{id}/clone``)."""
    if not op.parents:
        return None
    param, collection = op.parents[-1]
    record_id = request.path_params.get(param, "")
    module = module_for(collection, request.path_params)
    record = _get(request.ledger, collection, module, record_id)
    return None if record is None else (collection, module, record_id, record)


def _names_of(collection: str) -> set[str]:
    last = collection.rsplit("/", 1)[-1]
    field = ID_FIELDS.get(collection, "")
    return {singular(last), field[:-3] if field.endswith("_id") else ""} - {""}


def _state_change(path: str) -> dict[str, Any]:
    segments = [s for s in path.strip("/").split("/") if s]
    if len(segments) >= 2 and segments[-2] == "status":
        return {"status": segments[-1]}
    return dict(_STATE_ACTIONS.get(segments[-1] if segments else "", {}))


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


_KINDS: dict[str, Callable[[SpecOp, BooksRequest], BooksResponse]] = {
    "create": _create,
    "get": _read,
    "update": _update,
    "delete": _delete,
    "list": _list,
    "upsert": _upsert,
    "bulk_delete": _bulk_delete,
    "singleton": _singleton,
    "action": _action,
}


def make_handler(op: SpecOp) -> Handler:
    """The handler of one table row: path checks first, then the kind's behaviour."""
    behaviour = _KINDS[op.kind]

    def handle(request: BooksRequest) -> BooksResponse:
        _check_custom_module(request)
        _check_parents(op, request)
        return behaviour(op, request)

    handle.__name__ = f"generic_{op.operation_id or op.kind}"
    handle.__qualname__ = handle.__name__
    return handle


# --- registration ---------------------------------------------------------------------


def _shape(method: str, template: str) -> tuple[str, tuple[str, ...]]:
    segments = tuple(s for s in template.strip("/").split("/") if s)
    return method.upper(), tuple("{}" if s.startswith("{") else s for s in segments)


def register_generic(registry: Registry = REGISTRY) -> int:
    """Register a handler for every table row whose (method, path shape) has none yet.
    Returns how many were added."""
    taken = {_shape(r.method, r.template) for r in registry.routes()}
    added = 0
    for op in OPERATIONS:
        shape = _shape(op.method, op.path)
        if shape in taken:
            continue
        taken.add(shape)
        registry.add(op.method, op.path, make_handler(op), scope=op.scope, needs_org=op.needs_org)
        added += 1
    return added


def _reject(request: BooksRequest) -> BooksResponse:
    """An undocumented method on a custom module path (``POST /cm_debtor/1``)."""
    _check_custom_module(request)
    raise method_not_allowed()


def guard_custom_modules(registry: Registry = REGISTRY) -> None:
    """Register the undocumented methods of ``/{module_name}...`` paths as explicit
    rejections, so ``POST /nonexistent/1`` is 404 code 5 rather than the registry's 405
    for a path that only the wildcard template knows."""
    for op in OPERATIONS:
        if not op.path.startswith("/{"):
            continue
        for method in ("GET", "POST", "PUT", "DELETE"):
            if not registry.has(method, op.path):
                registry.add(method, op.path, _reject, scope=op.scope, needs_org=op.needs_org)


def _import_stateful_modules() -> None:
    """Import every other route module first: their routes must win even when this
    module is imported before ``load_routes`` runs (a test importing a helper)."""
    import importlib
    import pkgutil

    import zbooks.sandbox.books as package

    for name in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
        if not name.startswith(("generic", "registry", "_")):
            importlib.import_module(f"{package.__name__}.{name}")


_import_stateful_modules()
GENERIC_ROUTES = register_generic()
guard_custom_modules()
