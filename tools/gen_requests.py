"""The request side of the generator: what a user writes, typed so mistakes show early.

``tools/generate.py`` owns reading the OAS, naming and the response models; this module
owns what is specific to *sending*:

- which body fields are required (``required_fields``): the OAS ``required`` lists,
  corrected by ``REQUIRED_FIXES`` (the one reviewed table of Zoho's quirks);
- request model fields: amounts, rates and quantities accept ``int | float | str |
  Decimal`` and are held as ``Decimal``; dates accept ``date | str``; required fields
  have no default (``zbooks.models.request_types``);
- a ``TypedDict`` twin per request model (``CreateInvoiceRequestDict``) so dict bodies
  are checked too; ``body=`` takes the model or the twin, ``extra_body=`` the rest;
- method docstrings that name every parameter (written here from names, types and
  enumerations: the OAS prose is not copied).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # generate.py imports this module; the types only matter to mypy
    from generate import Model, ModelSet, Op, Param, Type

# --- required fields -------------------------------------------------------------------


@dataclass(frozen=True)
class Fix:
    """A correction of one operation's ``required`` list: the top level, or the list of
    the nested object (or array items) under ``field``."""

    drop: tuple[str, ...] = ()
    add: tuple[str, ...] = ()
    field: str = ""  # "" = the body itself; else the nested object/array field


# Reviewed against the OAS (2026-07) and the api-facts notes; each entry cites its
# evidence, and a list not listed here is taken as the OAS writes it. Keyed by
# operationId. Rule applied before the table: PUT bodies require nothing (api-facts §2
# "PUT updates: omitted fields are usually left unchanged, except line item arrays"):
# the OAS copies the create lists onto updates and upserts, which would force a user to
# resend (and so replace) line items to change a note.
REQUIRED_FIXES: dict[str, tuple[Fix, ...]] = {
    # Nested fields listed at top level: ``invoice_id``/``amount_applied`` belong to each
    # ``invoices[]`` entry (api-facts §3.8), where they stay required.
    "create_customer_payment": (
        Fix(drop=("invoice_id", "amount_applied")),
        Fix(add=("invoice_id", "amount_applied"), field="invoices"),
    ),
    # Same quirk: the body is ``invoices[]`` of ``{invoice_id, amount_applied}`` (the OAS
    # declares that array with both fields; ``credit_notes.apply`` sends only it).
    "apply_credit_note_to_invoice": (
        Fix(drop=("invoice_id", "amount_applied"), add=("invoices",)),
        Fix(add=("invoice_id", "amount_applied"), field="invoices"),
    ),
    # "Creating an account needs account_name and account_type (OAS marks none as
    # required, but the docs say these two are)" (api-facts §3.15).
    "create_chart_of_account": (Fix(add=("account_name", "account_type")),),
    # A line needs ``item_id`` *or* ``name`` + ``rate`` (api-facts §3.5, UNCONFIRMED
    # which one Zoho enforces): neither alone is required.
    "create_invoice": (Fix(drop=("item_id",), field="line_items"),),
    "preview_invoice_coupons": (Fix(drop=("item_id",), field="line_items"),),
    "create_customer_debit_note": (Fix(drop=("item_id",), field="line_items"),),
    # "creditnote_number (unless auto-numbered)" (api-facts §3.7, §2.2): auto-numbering
    # is the default, and a body with its own number turns it off (``own_number``).
    "create_credit_note": (Fix(drop=("creditnote_number",)),),
}


# Line item fields the OAS leaves out of some request bodies although Zoho takes them on
# every sales document: api-facts §3.5 lists them for invoice lines ("Fields as in 3.5"
# for sales orders), and a line without ``item_id`` needs ``name`` + ``rate``, so a
# credit note line without ``rate`` could not be priced. Added only where missing.
LINE_ITEM_FIELDS: dict[str, str] = {
    "account_id": "str",
    "description": "str",
    "discount": "discount",
    "item_id": "str",
    "item_order": "int",
    "line_item_id": "str",
    "name": "str",
    "quantity": "money",
    "rate": "money",
    "tax_id": "str",
    "unit": "str",
}
LINE_ITEM_MODULES = ("credit_notes", "estimates", "invoices", "sales_orders")


def add_line_item_fields(sets: dict[str, ModelSet], field_cls: Any, type_cls: Any) -> None:
    """Complete the request line item models of ``LINE_ITEM_MODULES``."""
    for attr in LINE_ITEM_MODULES:
        for model in sets[attr].models.values():
            if model.kind == "request-nested" and model.name.endswith("RequestLineItem"):
                for name, kind in LINE_ITEM_FIELDS.items():
                    if name not in model.fields:
                        model.fields[name] = field_cls(name, type_cls(kind))


def _nested_required(src: Any, schema: Any) -> dict[str, tuple[str, ...]]:
    """``{"line_items": ("item_id",)}``: required lists of nested objects and arrays."""
    out: dict[str, tuple[str, ...]] = {}
    schema = src.resolve(schema)
    if not isinstance(schema, dict):
        return out
    for name, sub in (schema.get("properties") or {}).items():
        sub = src.resolve(sub)
        if isinstance(sub, dict) and (sub.get("type") == "array" or "items" in sub):
            sub = src.resolve(sub.get("items") or {})
        if isinstance(sub, dict) and sub.get("required"):
            declared = set(sub.get("properties") or {})
            out[name] = tuple(r for r in sub["required"] if r in declared)
    return out


def corrected_required(op: Op) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """(top-level required fields, nested field -> its required fields) for ``op``."""
    if op.http == "PUT":
        return (), {}
    top = op.body_required
    nested = _nested_required(op.source, op.body_schema) if op.body_schema else {}
    for fix in REQUIRED_FIXES.get(op.operation_id, ()):
        if fix.field:
            kept = [r for r in nested.get(fix.field, ()) if r not in fix.drop]
            nested[fix.field] = tuple(kept + [r for r in fix.add if r not in kept])
        else:
            kept = [r for r in top if r not in fix.drop]
            top = tuple(kept + [r for r in fix.add if r not in kept])
    return top, {k: v for k, v in nested.items() if v}


def apply_requirements(ops: list[Op], sets: dict[str, ModelSet]) -> None:
    """Set ``required`` on request models (and their nested models) and the catalog's
    ``body_required`` from the corrected lists."""
    known = {op.operation_id for op in ops if op.body_model}
    stale = sorted(set(REQUIRED_FIXES) - known)
    if stale:
        raise SystemExit(f"gen_requests.py: REQUIRED_FIXES names unknown operations: {stale}")
    for op in ops:
        if not op.body_model:
            op.body_required = () if op.http == "PUT" else op.body_required
            continue
        ms = sets[op.info.attr]
        top, nested = corrected_required(op)
        model = ms.models[op.body_model]
        model.required = tuple(r for r in top if r in model.fields)
        op.body_required = model.required
        for name, fields in nested.items():
            f = model.fields.get(name)
            t = f.type if f else None
            while t is not None and t.kind == "list" and t.item is not None:
                t = t.item
            if t is None or t.kind != "model" or t.ref not in ms.models:
                continue
            inner = ms.models[t.ref]
            if inner.kind in ("request", "request-nested"):
                inner.required = tuple(r for r in fields if r in inner.fields)
        for fix in REQUIRED_FIXES.get(op.operation_id, ()):
            target = model if not fix.field else _nested_model(ms, model, fix.field)
            unknown = [f for f in fix.add if target is None or f not in target.fields]
            if unknown:
                raise SystemExit(f"gen_requests.py: {op.operation_id} adds unknown {unknown}")


def _nested_model(ms: ModelSet, model: Model, name: str) -> Model | None:
    f = model.fields.get(name)
    t = f.type if f else None
    while t is not None and t.kind == "list" and t.item is not None:
        t = t.item
    return ms.models.get(t.ref) if t is not None and t.kind == "model" else None


# --- request model fields ----------------------------------------------------------------

_IS_REQUEST = ("request", "request-nested")


def is_request(model: Model) -> bool:
    return model.kind in _IS_REQUEST


# (optional, required) annotations of scalar kinds in request models.
_REQUEST_SCALARS = {
    "money": ("_rq.Money", "_rq.ReqMoney"),
    "discount": ("_rq.Discount", "_rq.ReqDiscount"),
    "date": ("_rq.Date", "_rq.ReqDate"),
    "datetime": ("_rq.DateTime", "_rq.ReqDateTime"),
    "str": ("_t.Str", "_rq.ReqStr"),
    "int": ("_t.Int", "int"),
    "bool": ("_t.Bool", "bool"),
    "dict": ("dict[str, Any] | None", "dict[str, Any]"),
    "any": ("Any", "Any"),
    "unknown": ("Any", "Any"),
}
# Inside a list (no ``None`` members).
_REQUEST_ELEMENTS = {
    "money": "_rq.ReqMoney",
    "discount": "_rq.ReqDiscount",
    "date": "_rq.ReqDate",
    "datetime": "_rq.ReqDateTime",
    "str": "_rq.ReqStr",
    "int": "int",
    "bool": "bool",
    "dict": "dict[str, Any]",
}


def _element(t: Type) -> str:
    if t.kind == "model":
        return t.ref
    if t.kind == "enum":
        return f"{t.ref} | str"
    if t.kind == "list":
        return f"list[{_element(t.item) if t.item else 'Any'}]"
    return _REQUEST_ELEMENTS.get(t.kind, "Any")


def field_annotation(t: Type, required: bool) -> str:
    """The annotation of one request model field."""
    if t.kind == "model":
        return t.ref if required else f"{t.ref} | None"
    if t.kind == "enum":
        union = f"{t.ref} | str" if required else f"{t.ref} | str | None"
        return f"Annotated[{union}, Field(union_mode='left_to_right')]"
    if t.kind == "list":
        inner = f"list[{_element(t.item) if t.item else 'Any'}]"
        return inner if required else f"{inner} | None"
    optional, needed = _REQUEST_SCALARS[t.kind]
    return needed if required else optional


def render_request_model(model: Model, doc: str, py_name: Any, q: Any) -> list[str]:
    """The pydantic class of a request model: required fields first, without defaults."""
    block = [f"class {model.name}(ZohoModel):", f'    """{doc}"""', ""]
    if model.required:
        req = ", ".join(q(r) for r in model.required)
        block.append(f"    required_fields: ClassVar[tuple[str, ...]] = ({req},)")
    for wire in sorted(model.fields, key=lambda w: (w not in model.required, w)):
        t = model.fields[wire].type
        py = py_name(wire)
        required = wire in model.required
        annotation = field_annotation(t, required)
        if required:
            alias = f" = Field(alias={q(wire)})" if py != wire else ""
            block.append(f"    {py}: {annotation}{alias}")
        elif py != wire:
            block.append(f"    {py}: {annotation} = Field(default=None, alias={q(wire)})")
        else:
            block.append(f"    {py}: {annotation} = None")
    if block[-1] == "":
        block.pop()
    return block


def request_model_doc(model: Model) -> str:
    if model.kind == "request":
        if model.required:
            return (
                "Request body of one operation; the fields Zoho requires come first and "
                f"have no default. Dict form: ``{dict_name(model.name)}``."
            )
        return f"Request body of one operation. Dict form: ``{dict_name(model.name)}``."
    return f"Part of a request body. Dict form: ``{dict_name(model.name)}``."


# --- TypedDict twins ----------------------------------------------------------------------


def dict_name(model: str) -> str:
    return model + "Dict"


# Wire names that cannot be TypedDict class attributes (they would shadow the names the
# annotations use): such twins use the functional ``TypedDict("X", {...})`` form.
_SHADOWING = {
    "Any",
    "Decimal",
    "Mapping",
    "NotRequired",
    "Required",
    "Sequence",
    "TypedDict",
    "_dt",
    "bool",
    "dict",
    "float",
    "int",
    "list",
    "str",
}

_DICT_SCALARS = {
    "money": "Decimal | int | float | str",
    "discount": "Decimal | int | float | str",
    "date": "_dt.date | str",
    "datetime": "_dt.datetime | str",
    "str": "str",
    "int": "int",
    "bool": "bool",
    "dict": "Mapping[str, Any]",
}


def _dict_value(t: Type, models: dict[str, Model]) -> str:
    if t.kind == "model":
        inner = models.get(t.ref)
        if inner is not None and is_request(inner):
            return f"{dict_name(t.ref)} | {t.ref}"
        return f"{t.ref} | Mapping[str, Any]"
    if t.kind == "enum":
        return f"{t.ref} | str"
    if t.kind == "list":
        return f"Sequence[{_dict_value(t.item, models) if t.item else 'Any'}]"
    return _DICT_SCALARS.get(t.kind, "Any")


def render_typed_dict(model: Model, models: dict[str, Model], q: Any) -> list[str]:
    """``class XDict(TypedDict, total=False)`` with ``Required[...]`` keys."""
    rows: list[tuple[str, str]] = []
    for wire in sorted(model.fields, key=lambda w: (w not in model.required, w)):
        value = _dict_value(model.fields[wire].type, models)
        if wire in model.required:
            rows.append((wire, f"Required[{value}]"))
        else:
            rows.append((wire, f"NotRequired[{value} | None]"))
    name = dict_name(model.name)
    doc = f"``{model.name}`` as a plain dict (keys are Zoho's field names)."
    plain = all(
        w.isidentifier() and not keyword.iskeyword(w) and w not in _SHADOWING and w not in models
        for w, _ in rows
    )
    if plain:
        block = [f"class {name}(TypedDict, total=False):", f'    """{doc}"""', ""]
        block += [f"    {w}: {v}" for w, v in rows]
        if block[-1] == "":
            block.pop()
        return block
    # String annotations: evaluated lazily, like the class form's.
    block = [f"{name} = TypedDict(", f"    {q(name)},", "    {"]
    block += [f"        {q(w)}: {q(v)}," for w, v in rows]
    block += ["    },", "    total=False,", ")", f'"""{doc}"""']
    return block


def dicts_module(attr: str) -> str:
    """The module holding a models module's twins (imported only when one is used)."""
    return f"_dicts_{attr}"


def render_dicts_module(
    ms: ModelSet, ordered: list[Model], q: Any, assemble: Any, from_import: Any
) -> str:
    """``models/_dicts_<attr>.py``: the TypedDict twins of one module's request models."""
    blocks = [render_typed_dict(m, ms.models, q) for m in ordered if is_request(m)]
    if not blocks:
        return ""
    text = "\n".join(line for block in blocks for line in block if '"""' not in line)
    words = set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", text))
    ours = sorted(n for n in [*ms.models, *ms.enums] if n in words)
    typing_names = [n for n in ("Any", "NotRequired", "Required", "TypedDict") if n in words]
    std = ["import datetime as _dt"] if "_dt." in text else []
    abc = [n for n in ("Mapping", "Sequence") if n in words]
    std += from_import("collections.abc", abc) if abc else []
    std += ["from decimal import Decimal"] if "Decimal" in words else []
    std += from_import("typing", typing_names)
    # No ``from __future__ import annotations``: evaluated annotations let ``Required``
    # show at run time (``__required_keys__``); ``ordered`` puts nested twins first.
    imports = [std, from_import(f"zbooks.models.{ms.info.attr}", ours) if ours else []]
    doc = (
        f"Dict forms of the ``zbooks.models.{ms.info.attr}`` request models (``TypedDict``\n"
        "twins: keys are Zoho's field names, required keys are ``Required``). Import them\n"
        f"from ``zbooks.models.{ms.info.attr}``, which loads this module on first use.\n"
    )
    return str(assemble(doc, imports, blocks))


# --- method signatures and docstrings --------------------------------------------------------


def body_params(op: Op, models: str) -> list[str]:
    """The ``body``/``extra_body`` lines of a generated signature."""
    lines: list[str] = []
    if op.body_model:
        model = f"{models}.{op.body_model}"
        lines.append(f"        body: {model} | {models}.{dict_name(op.body_model)} | None = None,")
    elif op.http in ("POST", "PUT"):
        # The OAS documents no body here (some operations still take one): untyped.
        lines.append("        body: Mapping[str, Any] | None = None,")
    if op.body_model or op.http in ("POST", "PUT"):
        lines.append("        extra_body: Mapping[str, Any] | None = None,")
    return lines


_COMMON = {
    "search_text": "text to search for in the records' main fields",
    "sort_column": "the field to sort the results by",
    "sort_order": "``A`` for ascending or ``D`` for descending order",
    "filter_by": "a predefined view to restrict the results to",
    "accept": "the format of the answer",
    "print": "whether to open the print dialog on the PDF",
    "send": "whether Zoho also emails the record after saving it",
    "ignore_auto_number_generation": "keep the number given in the body instead of "
    "the next auto-generated one",
    "last_modified_time": "only records changed at or after this time",
    "date_start": "start of a date range (inclusive)",
    "date_end": "end of a date range (inclusive)",
    "attachment": "a file to upload with the record",
    "receipt": "a receipt file to upload",
    "file_name": "the name of the uploaded file",
    "doc": "the file to upload",
    "can_send_in_mail": "whether the file goes with the record's emails",
    "is_quick_create": "create with the minimal set of fields",
    "batch_payments": "record the payment as part of a batch",
    "email_template_id": "the email template to start from",
    "response_option": "how much detail the answer carries",
    "X-Unique-Identifier-Key": "the API name of the unique custom field to match on",
    "X-Unique-Identifier-Value": "the value of that custom field identifying the record",
    "X-Upsert": "create the record when no record matches",
}


def _words(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip()


def param_phrase(op: Op, p: Param) -> str:
    """One line on what a parameter does, from its name, kind and enumeration."""
    name = p.name
    if p.location == "path":
        if name.endswith("_id"):
            text = f"id of the {_words(name[:-3])}"
        else:
            text = f"the {_words(name)} in the path"
    elif name in _COMMON:
        text = _COMMON[name]
    elif p.location == "file":
        text = f"the {_words(name)} file to upload"
    elif name.endswith("_ids"):
        text = f"ids of the {_words(name[:-4])}s (a list, sent comma-separated)"
    elif name.endswith("_contains"):
        text = f"only records whose {_words(name[:-9])} contains this text"
    elif name.endswith("_startswith"):
        text = f"only records whose {_words(name[:-11])} starts with this text"
    elif name.endswith(("_before", "_after")):
        head, _, edge = name.rpartition("_")
        text = f"only records whose {_words(head)} is {edge} this date"
    elif name.endswith(("_start", "_end")):
        head, _, edge = name.rpartition("_")
        text = f"{edge} of the {_words(head)} range"
    elif p.kind == "bool":
        text = f"the {_words(name)} flag"
    elif op.http == "GET" and op.returns == "paginator":
        text = f"only records with this {_words(name)}"
    else:
        text = f"the {_words(name)}"
    if p.enum:
        shown = ", ".join(f"``{v}``" for v in p.enum[:8])
        more = " and others" if len(p.enum) > 8 else ""
        text += f"; one of {shown}{more}"
    if p.required and p.location != "path":
        text += " (required)"
    return text


def method_docstring(op: Op, summary: str, models: str, variant: bool) -> list[str]:
    """A Google-style docstring: the summary, then every parameter of the signature."""
    rows: list[tuple[str, str]] = []
    for p in op.path_params:
        rows.append((p.py, param_phrase(op, p)))
    paged = op.returns == "paginator" and not variant
    others = [p for p in op.params if p.location != "path"]
    for p in sorted(others, key=lambda q_: (not q_.required, q_.py)):
        if op.pdf_variant and p.name == "accept":
            continue
        if paged and p.name in ("page", "per_page"):
            continue
        rows.append((p.py, param_phrase(op, p)))
    if op.body_model:
        required = ", ".join(f"``{r}``" for r in op.body_required)
        need = f"; Zoho requires {required}" if required else ""
        rows.append(
            (
                "body",
                f"the fields to send: ``{models}.{op.body_model}`` or a dict typed by "
                f"``{models}.{dict_name(op.body_model)}`` (Zoho's field names){need}",
            )
        )
    elif op.http in ("POST", "PUT"):
        rows.append(("body", "a JSON object to send (the OAS documents none)"))
    if op.body_model or op.http in ("POST", "PUT"):
        rows.append(
            (
                "extra_body",
                "fields the OAS does not document yet, merged into the body last "
                "(they win over ``body``)",
            )
        )
    if paged:
        rows.append(("page", "the first page to fetch"))
        rows.append(("per_page", "records per page (Zoho allows at most 200)"))
    rows.append(("params", "more query parameters; the documented ones above win"))
    rows.append(("organization_id", "the organization to act on; the client's by default"))
    lines = [f'        """{summary}', "", "        Args:"]
    for name, text in rows:
        text = text.replace("\\", "\\\\")  # a regex parameter name (``cf_(\\w+)``)
        lines += _wrap(f"            {name}: {text[:1].upper()}{text[1:]}.", "                ")
    lines.append('        """')
    return lines


def _wrap(text: str, indent: str, width: int = 100) -> list[str]:
    words = text.split(" ")
    lead = len(text) - len(text.lstrip(" "))
    out: list[str] = []
    line = " " * lead
    for word in words[lead:]:
        candidate = f"{line} {word}" if line.strip() else f"{line}{word}"
        if len(candidate) > width and line.strip():
            out.append(line)
            line = f"{indent}{word}"
        else:
            line = candidate
    out.append(line)
    return out
