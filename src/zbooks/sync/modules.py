"""The modules ``zbooks sync`` copies, declared as data.

Each entry says where a module's list lives, which key holds it, how to fetch one
record, which nested arrays become child tables, which fields get typed columns, and,
most importantly for incremental sync, whether the list can **filter** and **sort** by
``last_modified_time`` (api-facts §2.4):

- filter and sort: read only what changed, in modification order, so a page boundary is
  a resumable position ("keyset" scan);
- filter only: read what changed, in a stable documented order, page by page;
- neither: list the whole module each run (one request per 200 rows) and fetch details
  only for rows whose ``last_modified_time`` (or, without one, whose content) changed.

Sources for the flags: the official OAS (``last_modified_time`` query parameter and the
``sort_column`` allowed values of each list) and api-facts §2.4 (invoices sorting and
contacts/items filtering were OBSERVED in sync tools, not documented).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "money", "int", "bool", "date", "timestamp"]
Strategy = Literal["keyset", "filtered", "full"]


@dataclass(frozen=True)
class Col:
    """A typed column copied from a top-level field of the record."""

    name: str
    type: ColumnType = "text"


@dataclass(frozen=True)
class ChildSpec:
    """A nested array of the detail record stored as its own table.

    ``id_field`` is the element's own id when Zoho gives one (kept as a column); rows are
    keyed by (organization_id, parent id, position) so arrays without ids work too.
    """

    key: str
    id_field: str | None
    columns: tuple[Col, ...] = ()

    def table_name(self, parent_table: str) -> str:
        return f"{parent_table}_{self.key}"


@dataclass(frozen=True)
class ModuleSpec:
    name: str  # our name and default table name
    path: str  # list path, relative to /books/v3
    list_key: str  # envelope key of the list
    id_field: str  # the record's id field
    detail_key: str | None  # envelope key of GET {path}/{id}; None: list rows are complete
    filter_modified: bool  # the list accepts last_modified_time=<ts> (records >= ts)
    sort_modified: bool  # the list accepts sort_column=last_modified_time
    scope: str  # OAuth scope family (ZohoBooks.<scope>.READ)
    columns: tuple[Col, ...] = ()
    children: tuple[ChildSpec, ...] = ()
    # A documented sort that keeps page boundaries stable when the list cannot be sorted
    # by modification time (new records land at the end instead of shifting pages).
    stable_sort: tuple[str, str] | None = ("created_time", "A")
    list_params: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # Parameters that make the list answer only the number of records (the forecast's
    # one-request count); empty where Zoho documents none.
    count_params: tuple[tuple[str, str], ...] = ()

    @property
    def has_modified_time(self) -> bool:
        """Whether records carry ``last_modified_time`` at all (currencies do not)."""
        return any(c.name == "last_modified_time" for c in self.columns)

    @property
    def strategy(self) -> Strategy:
        if self.filter_modified and self.sort_modified:
            return "keyset"
        if self.filter_modified:
            return "filtered"
        return "full"

    def detail_path(self, record_id: str) -> str:
        return f"{self.path}/{record_id}"


_TIMES = (Col("created_time", "timestamp"), Col("last_modified_time", "timestamp"))

_DOC_LINES = ChildSpec(
    "line_items",
    "line_item_id",
    (
        Col("item_order", "int"),
        Col("item_id"),
        Col("name"),
        Col("description"),
        Col("rate", "money"),
        Col("quantity", "money"),
        Col("discount"),  # a number or "10%"
        Col("item_total", "money"),
        Col("tax_id"),
        Col("tax_percentage", "money"),
        Col("account_id"),
    ),
)


def _sales_doc(
    name: str, number: str, detail_key: str, *, sort: bool, extra: tuple[Col, ...] = (),
    count_params: tuple[tuple[str, str], ...] = (),
) -> ModuleSpec:
    return ModuleSpec(
        count_params=count_params,
        name=name,
        path=f"/{name}",
        list_key=name,
        id_field=f"{detail_key}_id",
        detail_key=detail_key,
        filter_modified=True,
        sort_modified=sort,
        scope=name,
        columns=(
            Col(number),
            Col("status"),
            Col("date", "date"),
            Col("customer_id"),
            Col("customer_name"),
            Col("currency_code"),
            Col("exchange_rate", "money"),
            Col("sub_total", "money"),
            Col("tax_total", "money"),
            Col("total", "money"),
            Col("reference_number"),
            *extra,
            *_TIMES,
        ),
        children=(_DOC_LINES,),
    )


MODULES: dict[str, ModuleSpec] = {}


def _register(*specs: ModuleSpec) -> None:
    for spec in specs:
        MODULES[spec.name] = spec


_register(
    # Settings and masters first: documents refer to them.
    ModuleSpec(
        name="currencies",
        path="/settings/currencies",
        list_key="currencies",
        id_field="currency_id",
        detail_key=None,
        filter_modified=False,
        sort_modified=False,
        scope="settings",
        columns=(
            Col("currency_code"),
            Col("currency_name"),
            Col("currency_symbol"),
            Col("price_precision", "int"),
            Col("is_base_currency", "bool"),
            Col("exchange_rate", "money"),
            Col("effective_date", "date"),
        ),
        stable_sort=None,
    ),
    ModuleSpec(
        name="taxes",
        path="/settings/taxes",
        list_key="taxes",
        id_field="tax_id",
        detail_key=None,
        filter_modified=False,
        sort_modified=False,
        scope="settings",
        columns=(
            Col("tax_name"),
            Col("tax_percentage", "money"),
            Col("tax_type"),
            Col("is_default_tax", "bool"),
            Col("status"),
            *_TIMES,
        ),
        stable_sort=None,
    ),
    ModuleSpec(
        name="users",
        path="/users",
        list_key="users",
        id_field="user_id",
        detail_key=None,
        filter_modified=False,
        sort_modified=False,
        scope="settings",
        columns=(Col("name"), Col("email"), Col("user_role"), Col("status"), *_TIMES),
        stable_sort=None,
    ),
    ModuleSpec(
        name="chartofaccounts",
        path="/chartofaccounts",
        list_key="chartofaccounts",
        id_field="account_id",
        detail_key=None,
        filter_modified=True,
        sort_modified=False,  # OAS: account_name, account_type, account_code only
        scope="accountants",
        columns=(
            Col("account_name"),
            Col("account_code"),
            Col("account_type"),
            Col("is_active", "bool"),
            Col("currency_code"),
            Col("parent_account_id"),
            *_TIMES,
        ),
        stable_sort=("account_name", "A"),
    ),
    ModuleSpec(
        name="bankaccounts",
        path="/bankaccounts",
        list_key="bankaccounts",
        id_field="account_id",
        detail_key=None,
        filter_modified=False,
        sort_modified=False,
        scope="banking",
        columns=(
            Col("account_name"),
            Col("account_code"),
            Col("account_type"),
            Col("account_number"),
            Col("bank_name"),
            Col("currency_code"),
            Col("balance", "money"),
            Col("is_active", "bool"),
            Col("is_primary_account", "bool"),
            *_TIMES,
        ),
        stable_sort=("account_name", "A"),
    ),
    ModuleSpec(
        name="items",
        path="/items",
        list_key="items",
        id_field="item_id",
        detail_key="item",
        filter_modified=True,  # OBSERVED in sync tools (api-facts §2.4)
        sort_modified=False,  # OAS: name, rate, tax_name
        scope="settings",
        columns=(
            Col("name"),
            Col("sku"),
            Col("status"),
            Col("item_type"),
            Col("product_type"),
            Col("rate", "money"),
            Col("purchase_rate", "money"),
            Col("unit"),
            Col("tax_id"),
            Col("tax_name"),
            Col("tax_percentage", "money"),
            *_TIMES,
        ),
        stable_sort=("name", "A"),
    ),
    ModuleSpec(
        name="contacts",
        path="/contacts",
        list_key="contacts",
        id_field="contact_id",
        detail_key="contact",
        filter_modified=True,  # OBSERVED (api-facts §2.4)
        sort_modified=True,  # OAS sort_column allows last_modified_time
        scope="contacts",
        columns=(
            Col("contact_name"),
            Col("company_name"),
            Col("contact_type"),
            Col("customer_sub_type"),
            Col("status"),
            Col("email"),
            Col("phone"),
            Col("currency_code"),
            Col("payment_terms", "int"),
            Col("outstanding_receivable_amount", "money"),
            Col("outstanding_payable_amount", "money"),
            Col("unused_credits_receivable_amount", "money"),
            *_TIMES,
        ),
        children=(
            ChildSpec(
                "contact_persons",
                "contact_person_id",
                (
                    Col("first_name"),
                    Col("last_name"),
                    Col("email"),
                    Col("phone"),
                    Col("mobile"),
                    Col("is_primary_contact", "bool"),
                ),
            ),
        ),
    ),
    # Sales.
    _sales_doc(
        "invoices",
        "invoice_number",
        "invoice",
        sort=True,  # OBSERVED (api-facts §2.4)
        count_params=(("response_option", "2"),),  # OAS: "only the number of invoices"
        extra=(
            Col("due_date", "date"),
            Col("balance", "money"),
            Col("payment_made", "money"),
            Col("credits_applied", "money"),
            Col("write_off_amount", "money"),
            Col("salesperson_name"),
        ),
    ),
    _sales_doc("estimates", "estimate_number", "estimate", sort=False,
               extra=(Col("expiry_date", "date"),)),
    _sales_doc(
        "salesorders",
        "salesorder_number",
        "salesorder",
        sort=True,  # OAS sort_column allows last_modified_time
        extra=(Col("shipment_date", "date"), Col("invoiced_status"), Col("paid_status")),
    ),
    ModuleSpec(
        name="creditnotes",
        path="/creditnotes",
        list_key="creditnotes",
        id_field="creditnote_id",
        detail_key="creditnote",
        filter_modified=True,
        sort_modified=False,
        scope="creditnotes",
        columns=(
            Col("creditnote_number"),
            Col("status"),
            Col("date", "date"),
            Col("customer_id"),
            Col("customer_name"),
            Col("currency_code"),
            Col("total", "money"),
            Col("balance", "money"),
            Col("reference_number"),
            *_TIMES,
        ),
        children=(
            _DOC_LINES,
            ChildSpec(
                "invoices",
                "creditnote_invoice_id",
                (Col("invoice_id"), Col("invoice_number"), Col("amount", "money"),
                 Col("date", "date")),
            ),
        ),
    ),
    ModuleSpec(
        name="customerpayments",
        path="/customerpayments",
        list_key="customerpayments",
        id_field="payment_id",
        detail_key="payment",
        filter_modified=False,  # no last_modified_time parameter in the OAS
        sort_modified=False,
        scope="customerpayments",
        columns=(
            Col("payment_number"),
            Col("date", "date"),
            Col("customer_id"),
            Col("customer_name"),
            Col("payment_mode"),
            Col("amount", "money"),
            Col("unused_amount", "money"),
            Col("bank_charges", "money"),
            Col("account_id"),
            Col("currency_code"),
            Col("reference_number"),
            *_TIMES,
        ),
        children=(
            ChildSpec(
                "invoices",
                "invoice_payment_id",
                (
                    Col("invoice_id"),
                    Col("invoice_number"),
                    Col("amount_applied", "money"),
                    Col("tax_amount_withheld", "money"),
                    Col("date", "date"),
                ),
            ),
        ),
    ),
    # Purchases.
    ModuleSpec(
        name="bills",
        path="/bills",
        list_key="bills",
        id_field="bill_id",
        detail_key="bill",
        filter_modified=True,
        sort_modified=False,
        scope="bills",
        columns=(
            Col("bill_number"),
            Col("status"),
            Col("date", "date"),
            Col("due_date", "date"),
            Col("vendor_id"),
            Col("vendor_name"),
            Col("currency_code"),
            Col("sub_total", "money"),
            Col("tax_total", "money"),
            Col("total", "money"),
            Col("balance", "money"),
            Col("payment_made", "money"),
            Col("reference_number"),
            *_TIMES,
        ),
        children=(
            _DOC_LINES,
            ChildSpec(
                "payments",
                "bill_payment_id",
                (Col("payment_id"), Col("amount", "money"), Col("date", "date"),
                 Col("payment_mode")),
            ),
        ),
    ),
    ModuleSpec(
        name="vendorpayments",
        path="/vendorpayments",
        list_key="vendorpayments",
        id_field="payment_id",
        detail_key="vendorpayment",
        filter_modified=True,
        sort_modified=False,
        scope="vendorpayments",
        columns=(
            Col("payment_number"),
            Col("date", "date"),
            Col("vendor_id"),
            Col("vendor_name"),
            Col("payment_mode"),
            Col("amount", "money"),
            Col("balance", "money"),
            Col("paid_through_account_id"),
            Col("reference_number"),
            *_TIMES,
        ),
        children=(
            ChildSpec(
                "bills",
                "bill_payment_id",
                (Col("bill_id"), Col("bill_number"), Col("amount_applied", "money"),
                 Col("date", "date")),
            ),
        ),
        stable_sort=("date", "A"),  # OAS sorts: vendor_name, date, reference_number, ...
    ),
    ModuleSpec(
        name="purchaseorders",
        path="/purchaseorders",
        list_key="purchaseorders",
        id_field="purchaseorder_id",
        detail_key="purchaseorder",
        filter_modified=True,
        sort_modified=False,
        scope="purchaseorders",
        columns=(
            Col("purchaseorder_number"),
            Col("status"),
            Col("date", "date"),
            Col("delivery_date", "date"),
            Col("vendor_id"),
            Col("vendor_name"),
            Col("currency_code"),
            Col("total", "money"),
            Col("reference_number"),
            *_TIMES,
        ),
        children=(_DOC_LINES,),
    ),
    ModuleSpec(
        name="expenses",
        path="/expenses",
        list_key="expenses",
        id_field="expense_id",
        detail_key="expense",
        filter_modified=False,
        sort_modified=False,
        scope="expenses",
        columns=(
            Col("date", "date"),
            Col("account_id"),
            Col("account_name"),
            Col("paid_through_account_id"),
            Col("vendor_id"),
            Col("customer_id"),
            Col("status"),
            Col("is_billable", "bool"),
            Col("currency_code"),
            Col("amount", "money"),
            Col("total", "money"),
            Col("reference_number"),
            *_TIMES,
        ),
        children=(
            ChildSpec(
                "line_items",
                "line_item_id",
                (Col("account_id"), Col("description"), Col("amount", "money"),
                 Col("tax_id")),
            ),
        ),
    ),
    # Accountant and banking.
    ModuleSpec(
        name="journals",
        path="/journals",
        list_key="journals",
        id_field="journal_id",
        detail_key="journal",
        filter_modified=True,
        sort_modified=True,  # OAS sort_column allows last_modified_time
        scope="accountants",
        columns=(
            Col("entry_number"),
            Col("journal_date", "date"),
            Col("journal_type"),
            Col("status"),
            Col("reference_number"),
            Col("currency_id"),
            Col("total", "money"),
            *_TIMES,
        ),
        children=(
            ChildSpec(
                "line_items",
                "line_id",
                (
                    Col("account_id"),
                    Col("account_name"),
                    Col("debit_or_credit"),
                    Col("amount", "money"),
                    Col("customer_id"),
                    Col("tax_id"),
                ),
            ),
        ),
        stable_sort=("journal_date", "A"),
    ),
    ModuleSpec(
        name="banktransactions",
        path="/banktransactions",
        list_key="banktransactions",
        id_field="transaction_id",
        detail_key=None,  # list rows carry the transaction; a GET per row would double cost
        filter_modified=False,
        sort_modified=False,
        scope="banking",
        columns=(
            Col("date", "date"),
            Col("transaction_type"),
            Col("status"),
            Col("account_id"),
            Col("account_name"),
            Col("amount", "money"),
            Col("debit_or_credit"),
            Col("reference_number"),
            Col("payee"),
            Col("customer_id"),
            Col("vendor_id"),
            *_TIMES,
        ),
        stable_sort=("date", "A"),
    ),
)

DEFAULT_MODULES: tuple[str, ...] = tuple(MODULES)


def module_key(name: str) -> str:
    """``sales-orders`` (the CLI's command name), ``sales_orders`` and ``salesorders``
    (Zoho's) all name one module."""
    return name.strip().lower().replace("-", "").replace("_", "")


def resolve_modules(names: str | list[str] | tuple[str, ...] | None) -> list[ModuleSpec]:
    """``"invoices,contacts"`` or a list -> specs in dependency order; None = all.

    Names are Zoho's (``salesorders``) or the CLI's command names (``sales-orders``)."""
    if names is None:
        return list(MODULES.values())
    raw = names.split(",") if isinstance(names, str) else list(names)
    wanted = [module_key(n) for n in raw if n.strip()]
    unknown = [n.strip() for n in raw if n.strip() and module_key(n) not in MODULES]
    if unknown:
        known = ", ".join(MODULES)
        raise ValueError(f"unknown module(s): {', '.join(unknown)}; known modules: {known}")
    if not wanted:
        raise ValueError("no modules given")
    return [spec for name, spec in MODULES.items() if name in wanted]


# --- how much detail to pay for ----------------------------------------------------------
DetailMode = Literal["changed", "none"]
DETAIL_MODES: tuple[DetailMode, ...] = ("changed", "none")
Details = str | Mapping[str, str]


def _mode(value: str, where: str) -> DetailMode:
    cleaned = value.strip().lower()
    if cleaned == "changed":
        return "changed"
    if cleaned == "none":
        return "none"
    raise ValueError(f"{where}: {value!r} is not a detail mode; use 'changed' or 'none'")


def resolve_details(details: Details | None, specs: Sequence[ModuleSpec]
                    ) -> dict[str, DetailMode]:
    """The detail mode of every module in ``specs``.

    ``"changed"`` (the default: one GET per new or changed record) or ``"none"`` (list
    rows only) for all modules; ``"invoices=none,contacts=changed"`` or a mapping per
    module (unnamed modules: ``changed``); a bare mode among the pairs sets the default
    for the rest (``"none,contacts=changed"``). Module names as in ``resolve_modules``.
    """
    default: DetailMode = "changed"
    per_module: dict[str, DetailMode] = {}
    if details is None:
        pairs: list[tuple[str | None, str]] = []
    elif isinstance(details, str):
        pairs = []
        for part in details.split(","):
            if not part.strip():
                continue
            if "=" in part:
                name, _, value = part.partition("=")
                pairs.append((name, value))
            else:
                pairs.append((None, part))
        if not pairs:
            raise ValueError("no detail mode given; use 'changed', 'none' or "
                             "'invoices=none,contacts=changed'")
    else:
        pairs = [(str(k), str(v)) for k, v in details.items()]
    for label, value in pairs:
        if label is None:
            default = _mode(value, "details")
            continue
        name = label
        key = module_key(name)
        if key not in MODULES:
            raise ValueError(f"details: unknown module {name.strip()!r}; known modules: "
                             f"{', '.join(MODULES)}")
        per_module[key] = _mode(value, f"details for {name.strip()}")
    selected = {spec.name for spec in specs}
    stray = sorted(set(per_module) - selected)
    if stray:
        raise ValueError(f"details given for module(s) not being synced: {', '.join(stray)}")
    return {spec.name: per_module.get(spec.name, default) for spec in specs}
