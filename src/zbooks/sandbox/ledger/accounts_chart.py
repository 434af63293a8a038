"""Chart of accounts: the default chart every organization starts with, account CRUD,
and the general-ledger view (``accounttransactions``) derived from stored documents.

Every account, bank and credit-card accounts included, is one record of module
``chartofaccounts``; the banking module presents the bank ones with their bank fields.
Postings are not stored: they are derived on demand from journals, expenses, bills,
vendor payments, customer payments and bank transactions, so they can never drift
from the documents that cause them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import ApiError, invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.currencies import ensure_base_currency
from zbooks.sandbox.ledger.listing import ListSpec
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.totals import to_decimal

MODULE = "chartofaccounts"

ASSET_TYPES = (
    "other_asset",
    "other_current_asset",
    "cash",
    "bank",
    "fixed_asset",
    "stock",
    "payment_clearing",
    "input_tax",
    "accounts_receivable",
)
LIABILITY_TYPES = (
    "other_current_liability",
    "credit_card",
    "long_term_liability",
    "other_liability",
    "output_tax",
    "accounts_payable",
)
EQUITY_TYPES = ("equity",)
INCOME_TYPES = ("income", "other_income")
EXPENSE_TYPES = ("expense", "cost_of_goods_sold", "other_expense")
ACCOUNT_TYPES = ASSET_TYPES + LIABILITY_TYPES + EQUITY_TYPES + INCOME_TYPES + EXPENSE_TYPES
BANK_TYPES = ("bank", "credit_card")

# (name, account_type, system account). Names follow Zoho's default chart so code that
# looks accounts up by name ("Undeposited Funds", "Petty Cash") finds them.
DEFAULT_ACCOUNTS: tuple[tuple[str, str, bool], ...] = (
    ("Accounts Receivable", "accounts_receivable", True),
    ("Undeposited Funds", "cash", True),
    ("Petty Cash", "cash", True),
    ("Prepaid Expenses", "other_current_asset", False),
    ("Employee Advance", "other_current_asset", True),
    ("Inventory Asset", "stock", True),
    ("Furniture and Equipment", "fixed_asset", False),
    ("Business Checking", "bank", False),
    ("Accounts Payable", "accounts_payable", True),
    ("Tax Payable", "other_current_liability", True),
    ("Unearned Revenue", "other_current_liability", False),
    ("Employee Reimbursements", "other_current_liability", True),
    ("Opening Balance Adjustments", "other_current_liability", True),
    ("Owner's Equity", "equity", False),
    ("Retained Earnings", "equity", True),
    ("Drawings", "equity", False),
    ("Opening Balance Offset", "equity", True),
    ("Sales", "income", True),
    ("General Income", "income", False),
    ("Shipping Charge", "income", True),
    ("Discount", "income", True),
    ("Late Fee Income", "income", False),
    ("Interest Income", "other_income", False),
    ("Cost of Goods Sold", "cost_of_goods_sold", True),
    ("Office Supplies", "expense", False),
    ("Travel Expense", "expense", False),
    ("Advertising And Marketing", "expense", False),
    ("Rent Expense", "expense", False),
    ("Telephone Expense", "expense", False),
    ("Meals and Entertainment", "expense", False),
    ("IT and Internet Expenses", "expense", False),
    ("Bank Fees and Charges", "expense", False),
    ("Salaries and Employee Wages", "expense", False),
    ("Lodging", "expense", False),
    ("Fuel/Mileage Expenses", "expense", False),
    ("Exchange Gain or Loss", "other_expense", True),
)

# Fields a client may write on create/update.
_WRITABLE = (
    "account_name",
    "account_code",
    "account_type",
    "description",
    "currency_id",
    "show_on_dashboard",
    "can_show_in_ze",
    "include_in_vat_return",
    "custom_fields",
    "parent_account_id",
)
_BOOL_FIELDS = ("show_on_dashboard", "can_show_in_ze", "include_in_vat_return")

# The fields of the COA response objects (OAS chart-of-accounts.yml). ``depth``,
# ``is_child_present`` and ``child_count`` are typed string there; we follow the OAS.
_ACCOUNT_FIELDS = (
    "account_id",
    "account_name",
    "account_code",
    "account_type",
    "description",
    "is_active",
    "is_user_created",
    "is_system_account",
    "is_standalone_account",
    "show_on_dashboard",
    "can_show_in_ze",
    "include_in_vat_return",
    "is_involved_in_transaction",
    "currency_id",
    "currency_code",
    "custom_fields",
    "parent_account_id",
    "parent_account_name",
    "depth",
    "has_attachment",
    "is_child_present",
    "child_count",
    "documents",
    "created_time",
    "last_modified_time",
)


def _meta_key(ledger: Ledger) -> str:
    return f"org:{ledger.org_id}:default_accounts"


def blank_account(
    ledger: Ledger, name: str, account_type: str, currency: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    if currency is None:
        currency = ensure_base_currency(ledger)
    return {
        "account_id": ledger.store.new_id(),
        "account_name": name,
        "account_code": "",
        "account_type": account_type,
        "description": "",
        "is_active": True,
        "is_user_created": True,
        "is_system_account": False,
        "is_standalone_account": False,
        "show_on_dashboard": False,
        "can_show_in_ze": False,
        "include_in_vat_return": False,
        "is_involved_in_transaction": False,
        "currency_id": str(currency.get("currency_id", "")),
        "currency_code": str(currency.get("currency_code", "")),
        "custom_fields": [],
        "parent_account_id": "",
        "parent_account_name": "",
        "depth": "0",
        "has_attachment": False,
        "is_child_present": "false",
        "child_count": "0",
        "documents": [],
    }


def ensure_default_accounts(ledger: Ledger) -> None:
    """Create the default chart the first time anything needs an account.

    Lazy so that organizations created by any path (control plane, POST /organizations,
    test fixtures) get a chart without every creator knowing about it.
    """
    if ledger.db.get_meta(_meta_key(ledger)) is not None:
        return
    with ledger.db.transaction():
        if ledger.db.get_meta(_meta_key(ledger)) is not None:
            return
        now = ledger.now()
        currency = ensure_base_currency(ledger)
        rows = []
        for name, account_type, system in DEFAULT_ACCOUNTS:
            record = blank_account(ledger, name, account_type, currency)
            record["is_user_created"] = False
            record["is_system_account"] = system
            if account_type in BANK_TYPES:
                record.update(bank_defaults(ledger))
                record["is_primary_account"] = True
            rows.append((record["account_id"], record, now))
        ledger.store.insert_many(MODULE, rows)
        ledger.db.set_meta(_meta_key(ledger), "1")


def bank_defaults(ledger: Ledger) -> dict[str, Any]:
    """The bank-only fields a bank or credit-card account carries (OAS bank-accounts.yml)."""
    currency = ensure_base_currency(ledger)
    return {
        "account_number": "",
        "bank_name": "",
        "routing_number": "",
        "is_primary_account": False,
        "is_paypal_account": False,
        "paypal_type": "",
        "paypal_email_address": "",
        "currency_symbol": str(currency.get("currency_symbol", "")),
        "price_precision": int(currency.get("price_precision", ledger.precision)),
        "is_feeds_subscribed": False,
        "is_feeds_active": False,
        "refresh_status_code": "",
        "feeds_last_refresh_date": "",
        "service_id": "",
        "is_show_warning_for_feeds_refresh": False,
    }


def account_by_name(ledger: Ledger, name: str) -> dict[str, Any] | None:
    """The account called ``name`` (exact match), e.g. ``"Undeposited Funds"``."""
    ensure_default_accounts(ledger)
    return ledger.store.find_one(MODULE, "account_name", name)


def default_account_id(ledger: Ledger, name: str) -> str:
    """The id of a default account by name ("" if the organization renamed it away)."""
    account = account_by_name(ledger, name)
    return "" if account is None else str(account["account_id"])


def get_account(ledger: Ledger, account_id: str, resource: str = "Account") -> dict[str, Any]:
    """The stored account, or 404 code 1002 ``<resource> does not exist.``"""
    ensure_default_accounts(ledger)
    record = ledger.store.get(MODULE, str(account_id))
    if record is None:
        raise not_found(resource)
    return record


def require_account(ledger: Ledger, account_id: Any, field: str) -> dict[str, Any]:
    """Resolve an account id sent in a request field; unknown -> 400 invalid value.

    A bad account reference inside a document is a validation error of that document,
    not a missing URL resource, hence 400 code 4 rather than 404.
    """
    ensure_default_accounts(ledger)
    record = ledger.store.get(MODULE, str(account_id or ""))
    if record is None:
        raise invalid_value(field)
    return record


def mark_account_used(ledger: Ledger, account_id: str) -> None:
    """Remember that a transaction references the account (it can no longer be deleted)."""
    if not account_id:
        return
    with ledger.db.transaction():
        record = ledger.store.get(MODULE, str(account_id))
        if record is None or record.get("is_involved_in_transaction") is True:
            return
        record["is_involved_in_transaction"] = True
        ledger.store.update(MODULE, str(account_id), record, ledger.now(), touch=False)


def _duplicate_name(ledger: Ledger, name: str, except_id: str = "") -> bool:
    found = ledger.store.find(MODULE, [Filter("account_name", "eq", name)])
    return any(str(r["account_id"]) != except_id for r in found)


def apply_account_fields(
    ledger: Ledger, record: dict[str, Any], body: Mapping[str, Any], *, creating: bool
) -> None:
    """Validate and copy the writable fields of ``body`` into ``record``."""
    for key in _WRITABLE:
        if key not in body:
            continue
        value = body[key]
        if key in _BOOL_FIELDS:
            record[key] = bool(value)
        elif key == "custom_fields":
            if not isinstance(value, list):
                raise invalid_value("custom_fields")
            record[key] = value
        else:
            record[key] = "" if value is None else str(value).strip()
    name = str(record.get("account_name") or "")
    if not name:
        raise invalid_value("account_name")
    if len(name) > 100:
        raise ApiError(400, 15, "Please ensure that the account_name has less than 100 characters.")
    if record.get("account_type") not in ACCOUNT_TYPES:
        raise invalid_value("account_type")
    if _duplicate_name(ledger, name, "" if creating else str(record["account_id"])):
        # UNCONFIRMED code and wording: Zoho rejects duplicate account names.
        raise rule_violation(f'The account name "{name}" already exists.', code=1001)
    parent_id = str(record.get("parent_account_id") or "")
    if parent_id:
        parent = ledger.store.get(MODULE, parent_id)
        if parent is None or parent_id == str(record.get("account_id")):
            raise invalid_value("parent_account_id")
        record["parent_account_name"] = parent["account_name"]
        record["depth"] = str(int(parent.get("depth") or 0) + 1)
    else:
        record["parent_account_name"] = ""
        record["depth"] = "0"


def create_account(
    ledger: Ledger, body: Mapping[str, Any], extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Create a user account (``extra`` lets the banking module add its bank fields)."""
    ensure_default_accounts(ledger)
    record = blank_account(ledger, str(body.get("account_name") or ""), "")
    if extra:
        record.update(extra)
    apply_account_fields(ledger, record, body, creating=True)
    with ledger.db.transaction():
        ledger.store.insert(MODULE, record["account_id"], record, ledger.now())
        _refresh_children(ledger, str(record.get("parent_account_id") or ""))
    return record


def update_account(
    ledger: Ledger, account_id: str, body: Mapping[str, Any], resource: str = "Account"
) -> dict[str, Any]:
    record = get_account(ledger, account_id, resource)
    old_parent = str(record.get("parent_account_id") or "")
    changes_type = "account_type" in body and body["account_type"] != record["account_type"]
    if record.get("is_system_account") and changes_type:
        # UNCONFIRMED wording: system accounts keep their type.
        raise rule_violation("The account type of a system account cannot be changed.")
    if changes_type and record.get("is_involved_in_transaction"):
        # Its postings were made under the old type (a bank account stays a bank account).
        raise rule_violation("The account type cannot be changed as the account has transactions.")
    apply_account_fields(ledger, record, body, creating=False)
    with ledger.db.transaction():
        ledger.store.update(MODULE, account_id, record, ledger.now())
        for parent in {old_parent, str(record.get("parent_account_id") or "")}:
            _refresh_children(ledger, parent)
    return record


def _refresh_children(ledger: Ledger, parent_id: str) -> None:
    if not parent_id:
        return
    parent = ledger.store.get(MODULE, parent_id)
    if parent is None:
        return
    count = ledger.store.count(MODULE, [Filter("parent_account_id", "eq", parent_id)])
    parent["child_count"] = str(count)
    parent["is_child_present"] = "true" if count else "false"
    ledger.store.update(MODULE, parent_id, parent, ledger.now(), touch=False)


def delete_account(ledger: Ledger, account_id: str, resource: str = "Account") -> None:
    """Delete an account; system accounts and accounts with postings are protected."""
    record = get_account(ledger, account_id, resource)
    # UNCONFIRMED codes and wording for both protections.
    if record.get("is_system_account"):
        raise rule_violation("System accounts cannot be deleted.")
    if record.get("is_involved_in_transaction") or any(True for _ in postings(ledger, account_id)):
        raise rule_violation(
            "The account cannot be deleted as it is associated with one or more transactions."
        )
    if ledger.store.count(MODULE, [Filter("parent_account_id", "eq", account_id)]):
        raise rule_violation("The account cannot be deleted as it has sub accounts.")
    with ledger.db.transaction():
        ledger.store.delete(MODULE, account_id)
        _refresh_children(ledger, str(record.get("parent_account_id") or ""))


def set_account_active(
    ledger: Ledger, account_id: str, active: bool, resource: str = "Account"
) -> dict[str, Any]:
    record = get_account(ledger, account_id, resource)
    if not active and record.get("account_type") in ("accounts_receivable", "accounts_payable"):
        raise rule_violation("System accounts cannot be marked as inactive.")
    record["is_active"] = active
    ledger.store.update(MODULE, account_id, record, ledger.now())
    return record


# Presentation -------------------------------------------------------------------------


def present_account(ledger: Ledger, record: Mapping[str, Any]) -> dict[str, Any]:
    """The chart-of-accounts object (single and list share it; extra keys are harmless)."""
    return {key: record.get(key, "") for key in _ACCOUNT_FIELDS}


def present_account_detail(ledger: Ledger, record: Mapping[str, Any]) -> dict[str, Any]:
    shaped = present_account(ledger, record)
    shaped["closing_balance"] = ledger.money(account_balance(ledger, str(record["account_id"])))
    return shaped


def present_account_with_balance(ledger: Ledger, record: dict[str, Any]) -> dict[str, Any]:
    shaped = present_account(ledger, record)
    shaped["current_balance"] = ledger.money(account_balance(ledger, str(record["account_id"])))
    return shaped


def _types(types: tuple[str, ...]) -> Any:
    return lambda ledger: [Filter("account_type", "in", list(types))]


COA_FILTERS: dict[str, Any] = {
    "AccountType.Active": lambda ledger: [Filter("is_active", "eq", True)],
    "AccountType.Inactive": lambda ledger: [Filter("is_active", "eq", False)],
    "AccountType.Asset": _types(ASSET_TYPES),
    "AccountType.Liability": _types(LIABILITY_TYPES),
    "AccountType.Equity": _types(EQUITY_TYPES),
    "AccountType.Income": _types(INCOME_TYPES),
    "AccountType.Expense": _types(EXPENSE_TYPES),
}

COA_LIST = ListSpec(
    module=MODULE,
    list_key="chartofaccounts",
    report_name="Chart of Accounts",
    sort_columns=frozenset(
        {"account_name", "account_type", "account_code", "created_time", "last_modified_time"}
    ),
    default_sort="account_name",
    filter_by=COA_FILTERS,
    default_filter="AccountType.All",
    search_fields=("account_name", "account_code", "description"),
    text_fields=("account_name", "account_code"),
    exact_fields=("account_id",),
    date_fields=(),
    present=present_account,
)


# General ledger -----------------------------------------------------------------------


def _d(value: Any) -> Decimal:
    try:
        return to_decimal(value, "amount")
    except ApiError:
        return Decimal(0)


def _posting(
    source: Mapping[str, Any],
    *,
    account_id: str,
    debit: Decimal,
    credit: Decimal,
    transaction_id: str,
    transaction_type: str,
    date: str,
    offset_account_name: str = "",
    payee: str = "",
    entry_number: str = "",
    customer_id: str = "",
) -> dict[str, Any]:
    return {
        "categorized_transaction_id": "",
        "transaction_type": transaction_type,
        "transaction_status": str(source.get("status", "")),
        "transaction_source": transaction_type,
        "transaction_id": transaction_id,
        "transaction_date": date,
        "account_id": account_id,
        "customer_id": customer_id,
        "payee": payee,
        "entry_number": entry_number,
        "currency_id": str(source.get("currency_id", "")),
        "currency_code": str(source.get("currency_code", "")),
        "debit_or_credit": "debit" if debit else "credit",
        "offset_account_name": offset_account_name,
        "reference_number": str(source.get("reference_number", "")),
        "reconcile_status": "unreconciled",
        "debit_amount": debit,
        "credit_amount": credit,
    }


# Where each source module names accounts: top-level fields compared exactly, and
# whether its line items carry account ids.
_ACCOUNT_FIELDS_BY_MODULE: dict[str, tuple[tuple[str, ...], bool]] = {
    "journals": ((), True),
    "expenses": (("account_id", "paid_through_account_id"), False),
    "bills": ((), True),
    "vendorpayments": (("paid_through_account_id",), False),
    "customerpayments": (("account_id",), False),
    "banktransactions": (("to_account_id", "from_account_id"), False),
}


def _mentions(ledger: Ledger, module: str, account_id: str | None) -> list[dict[str, Any]]:
    """Records of ``module`` that may post to ``account_id`` (all when None).

    Exact comparisons on the account fields; line items are matched textually (ids are
    globally unique, so a match is a real reference) and callers check each line.
    """
    if account_id is None:
        return ledger.store.find(module, [])
    fields, has_lines = _ACCOUNT_FIELDS_BY_MODULE[module]
    found: dict[int, dict[str, Any]] = {}
    queries = [[Filter(field, "eq", account_id)] for field in fields]
    if has_lines:
        queries.append([Filter("$.line_items", "contains", account_id)])
    for filters in queries:
        for record in ledger.store.find(module, filters):
            found.setdefault(id(record), record)
    records = list(found.values())
    if len(queries) > 1:
        # The same record may match two fields (a transfer); keep one copy of each.
        unique: dict[str, dict[str, Any]] = {}
        for record in records:
            unique.setdefault(_record_key(record), record)
        records = sorted(unique.values(), key=lambda r: str(r.get("created_time", "")))
    return records


def _record_key(record: Mapping[str, Any]) -> str:
    for key in ("journal_id", "expense_id", "bill_id", "payment_id", "transaction_id"):
        if record.get(key):
            return str(record[key])
    return str(id(record))


def postings(ledger: Ledger, account_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every general-ledger posting (of one account, or all), oldest document first.

    Sources: published journals, expenses, open/paid bills, vendor payments, customer
    payments (their deposit account) and categorized bank transactions. Invoices post
    to Accounts Receivable and Sales, which this view leaves out (UNCONFIRMED scope).
    """
    ensure_default_accounts(ledger)
    names = _account_names(ledger)
    ap_id = default_account_id(ledger, "Accounts Payable")
    ar_id = default_account_id(ledger, "Accounts Receivable")
    tax_id = default_account_id(ledger, "Tax Payable")

    def wanted(acc: str) -> bool:
        return account_id is None or acc == account_id

    for journal in _mentions(ledger, "journals", account_id):
        if journal.get("status") != "published":
            continue
        for line in journal.get("line_items") or []:
            acc = str(line.get("account_id", ""))
            if not wanted(acc):
                continue
            amount = _d(line.get("amount"))
            is_debit = line.get("debit_or_credit") == "debit"
            yield _posting(
                journal,
                account_id=acc,
                debit=amount if is_debit else Decimal(0),
                credit=Decimal(0) if is_debit else amount,
                transaction_id=str(journal["journal_id"]),
                transaction_type="journal",
                date=str(journal.get("journal_date", "")),
                entry_number=str(journal.get("entry_number", "")),
                customer_id=str(line.get("customer_id", "")),
            )
    for expense in _mentions(ledger, "expenses", account_id):
        total = _d(expense.get("total"))
        paid = str(expense.get("paid_through_account_id", ""))
        acc = str(expense.get("account_id", ""))
        common = {
            "transaction_id": str(expense["expense_id"]),
            "transaction_type": "expense",
            "date": str(expense.get("date", "")),
            "payee": str(expense.get("vendor_name", "")),
        }
        if wanted(acc):
            yield _posting(
                expense,
                account_id=acc,
                debit=total,
                credit=Decimal(0),
                offset_account_name=names.get(paid, ""),
                **common,
            )
        if wanted(paid):
            yield _posting(
                expense,
                account_id=paid,
                debit=Decimal(0),
                credit=total,
                offset_account_name=names.get(acc, ""),
                **common,
            )
    bills = (
        ledger.store.find("bills", [Filter("status", "in", ["open", "partially_paid", "paid"])])
        if account_id in (None, ap_id, tax_id)
        else _mentions(ledger, "bills", account_id)
    )
    for bill in bills:
        if bill.get("status") in ("draft", "void"):
            continue
        common = {
            "transaction_id": str(bill["bill_id"]),
            "transaction_type": "bills",
            "date": str(bill.get("date", "")),
            "payee": str(bill.get("vendor_name", "")),
            "entry_number": str(bill.get("bill_number", "")),
        }
        for line in bill.get("line_items") or []:
            acc = str(line.get("account_id", ""))
            if wanted(acc):
                yield _posting(
                    bill,
                    account_id=acc,
                    debit=_d(line.get("item_total")),
                    credit=Decimal(0),
                    offset_account_name="Accounts Payable",
                    **common,
                )
        tax_total = _d(bill.get("tax_total"))
        if tax_total and tax_id and wanted(tax_id):
            yield _posting(
                bill,
                account_id=tax_id,
                debit=tax_total,
                credit=Decimal(0),
                offset_account_name="Accounts Payable",
                **common,
            )
        if ap_id and wanted(ap_id):
            yield _posting(
                bill, account_id=ap_id, debit=Decimal(0), credit=_d(bill.get("total")), **common
            )
    payments = (
        ledger.store.find("vendorpayments", [])
        if account_id in (None, ap_id)
        else _mentions(ledger, "vendorpayments", account_id)
    )
    for payment in payments:
        paid = str(payment.get("paid_through_account_id", ""))
        amount = _d(payment.get("amount"))
        common = {
            "transaction_id": str(payment["payment_id"]),
            "transaction_type": "vendor_payment",
            "date": str(payment.get("date", "")),
            "payee": str(payment.get("vendor_name", "")),
            "entry_number": str(payment.get("payment_number", "")),
        }
        if ap_id and wanted(ap_id):
            yield _posting(
                payment,
                account_id=ap_id,
                debit=amount,
                credit=Decimal(0),
                offset_account_name=names.get(paid, ""),
                **common,
            )
        if wanted(paid):
            yield _posting(
                payment,
                account_id=paid,
                debit=Decimal(0),
                credit=amount,
                offset_account_name="Accounts Payable",
                **common,
            )
    if account_id != ar_id:
        for payment in _mentions(ledger, "customerpayments", account_id):
            acc = str(payment.get("account_id", ""))
            if not acc or not wanted(acc):
                continue
            yield _posting(
                payment,
                account_id=acc,
                debit=_d(payment.get("amount")),
                credit=Decimal(0),
                transaction_id=str(payment.get("payment_id", "")),
                transaction_type="customer_payment",
                date=str(payment.get("date", "")),
                offset_account_name="Accounts Receivable",
                payee=str(payment.get("customer_name", "")),
                entry_number=str(payment.get("payment_number", "")),
                customer_id=str(payment.get("customer_id", "")),
            )
    for txn in _mentions(ledger, "banktransactions", account_id):
        if txn.get("status") in ("uncategorized", "excluded"):
            continue
        amount = _d(txn.get("amount"))
        to_acc = str(txn.get("to_account_id", ""))
        from_acc = str(txn.get("from_account_id", ""))
        common = {
            "transaction_id": str(txn["transaction_id"]),
            "transaction_type": str(txn.get("transaction_type", "")),
            "date": str(txn.get("date", "")),
            "payee": str(txn.get("customer_name") or txn.get("vendor_name") or ""),
            "customer_id": str(txn.get("customer_id", "")),
        }
        if to_acc and wanted(to_acc):
            yield _posting(
                txn,
                account_id=to_acc,
                debit=amount,
                credit=Decimal(0),
                offset_account_name=names.get(from_acc, ""),
                **common,
            )
        if from_acc and wanted(from_acc):
            yield _posting(
                txn,
                account_id=from_acc,
                debit=Decimal(0),
                credit=amount,
                offset_account_name=names.get(to_acc, ""),
                **common,
            )


def _account_names(ledger: Ledger) -> dict[str, str]:
    return {str(r["account_id"]): str(r["account_name"]) for r in ledger.store.find(MODULE, [])}


def account_balance(ledger: Ledger, account_id: str) -> Decimal:
    """Debits minus credits of the account, sign flipped for credit-nature accounts.

    Same postings as ``postings()``, summed in SQL: a busy bank account has thousands of
    them and its balance is shown on every bank-account read. The control accounts that
    every bill touches (Accounts Payable/Receivable, Tax Payable) use the Python path.
    """
    record = ledger.store.get(MODULE, account_id)
    controls = {
        default_account_id(ledger, name)
        for name in ("Accounts Payable", "Accounts Receivable", "Tax Payable")
    }
    if account_id in controls:
        total = sum(
            (p["debit_amount"] - p["credit_amount"] for p in postings(ledger, account_id)),
            Decimal(0),
        )
    else:
        total = _net_debit_sql(ledger, account_id, str((record or {}).get("account_type", "")))
    account_type = str((record or {}).get("account_type", ""))
    if account_type in LIABILITY_TYPES + EQUITY_TYPES + INCOME_TYPES:
        return -total
    return total


_LINE_SUMS = (
    # (module, statuses that post, SQL expression of the signed line amount)
    (
        "journals",
        ("published",),
        "CASE WHEN json_extract(l.value, '$.debit_or_credit') = 'debit' THEN 1 ELSE -1 END"
        " * json_extract(l.value, '$.amount')",
    ),
    ("bills", ("open", "partially_paid", "paid"), "json_extract(l.value, '$.item_total')"),
)
_FIELD_SUMS: dict[str, tuple[tuple[int, str, str], ...]] = {
    # module -> (sign, account field, amount field) for each way it touches an account
    "expenses": ((1, "account_id", "total"), (-1, "paid_through_account_id", "total")),
    "vendorpayments": ((-1, "paid_through_account_id", "amount"),),
    "customerpayments": ((1, "account_id", "amount"),),
    "banktransactions": ((1, "to_account_id", "amount"), (-1, "from_account_id", "amount")),
}
_NOT_POSTED = ("uncategorized", "excluded")
# Bill lines never name these (purchase_lines refuses them), so their scan is skipped.
NO_BILL_LINE_TYPES = (*BANK_TYPES, "accounts_receivable", "accounts_payable")


def _net_debit_sql(ledger: Ledger, account_id: str, account_type: str = "") -> Decimal:
    """One SQL pass per source module (no rows loaded into Python)."""
    total = Decimal(0)
    with ledger.db.read() as conn:
        for module, statuses, expression in _LINE_SUMS:
            if module == "bills" and account_type in NO_BILL_LINE_TYPES:
                continue
            marks = ",".join("?" * len(statuses))
            row = conn.execute(
                f"SELECT TOTAL({expression}) AS s FROM records r, "
                "json_each(r.data, '$.line_items') l WHERE r.org_id = ? AND r.module = ? "
                f"AND json_extract(r.data, '$.status') IN ({marks}) "
                "AND json_extract(l.value, '$.account_id') = ?",
                (ledger.org_id, module, *statuses, account_id),
            ).fetchone()
            total += Decimal(str(row["s"]))
        for module, uses in _FIELD_SUMS.items():
            cases = " + ".join(
                f"CASE WHEN json_extract(data, '$.{field}') = ? "
                f"THEN {sign} * json_extract(data, '$.{amount}') ELSE 0 END"
                for sign, field, amount in uses
            )
            row = conn.execute(
                f"SELECT TOTAL({cases}) AS s FROM records WHERE org_id = ? AND module = ? "
                "AND coalesce(json_extract(data, '$.status'), '') NOT IN (?, ?)",
                (*([account_id] * len(uses)), ledger.org_id, module, *_NOT_POSTED),
            ).fetchone()
            total += Decimal(str(row["s"]))
    return total.quantize(Decimal(1).scaleb(-ledger.precision))


_TXN_SORTS = {
    "transaction_date",
    "payee",
    "reconcile_status",
    "debit_amount",
    "credit_amount",
    "transaction_type_formatted",
    "glname",
}


def account_transactions(
    ledger: Ledger, query: Mapping[str, str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``GET /chartofaccounts/accounttransactions``: postings filtered, sorted, paged."""
    account_id = query.get("account_id") or None
    if account_id is not None:
        get_account(ledger, account_id)
    rows = list(postings(ledger, account_id))
    wanted_type = query.get("transaction_type", "")
    if wanted_type:
        rows = [r for r in rows if r["transaction_type"] == wanted_type]
    rows = _date_filter(rows, query)
    rows = _amount_filter(rows, query)
    sort_column = query.get("sort_column") or "transaction_date"
    if sort_column not in _TXN_SORTS:
        raise invalid_value("sort_column")
    key = {"glname": "offset_account_name", "transaction_type_formatted": "transaction_type"}.get(
        sort_column, sort_column
    )
    descending = (query.get("sort_order") or "A").upper() == "D"
    rows.sort(key=lambda r: r[key], reverse=descending)
    page, per_page = _paging(query)
    chunk = rows[(page - 1) * per_page : page * per_page]
    shaped = [
        {
            **r,
            "debit_amount": ledger.money(r["debit_amount"]),
            "credit_amount": ledger.money(r["credit_amount"]),
        }
        for r in chunk
    ]
    context = {
        "page": page,
        "per_page": per_page,
        "has_more_page": len(rows) > page * per_page,
        "report_name": "Account Transactions",
        "applied_filter": "TransactionType.All",
        "sort_column": sort_column,
        "sort_order": "D" if descending else "A",
    }
    return shaped, context


def _paging(query: Mapping[str, str]) -> tuple[int, int]:
    try:
        page = int(query.get("page") or 1)
        per_page = int(query.get("per_page") or 200)
    except ValueError:
        raise invalid_value("page") from None
    if page < 1 or per_page < 1:
        raise invalid_value("page")
    return page, min(per_page, 200)


def _date_filter(rows: list[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
    checks: dict[str, Callable[[str, str], bool]] = {
        "date": lambda d, v: d == v,
        "date_start": lambda d, v: d >= v,
        "date_end": lambda d, v: d <= v,
        "date_before": lambda d, v: d < v,
        "date_after": lambda d, v: d > v,
    }
    for name, check in checks.items():
        value = query.get(name, "")
        if value:
            rows = [r for r in rows if check(r["transaction_date"], value)]
    return rows


def _amount_filter(rows: list[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
    checks: dict[str, Callable[[Decimal, Decimal], bool]] = {
        "amount": lambda a, v: a == v,
        "amount_less_than": lambda a, v: a < v,
        "amount_less_equals": lambda a, v: a <= v,
        "amount_greater_than": lambda a, v: a > v,
        "amount_greater_equals": lambda a, v: a >= v,
    }
    for name, check in checks.items():
        raw = query.get(name, "")
        if raw:
            value = to_decimal(raw, name)
            rows = [r for r in rows if check(max(r["debit_amount"], r["credit_amount"]), value)]
    return rows
