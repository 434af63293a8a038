"""Currencies and their exchange rates.

Every organization has exactly one base currency, taken from its ``currency_code``. It
is created lazily (the first time anything reads currencies) so organizations created
before this module existed, or by other code paths, still get one. The base currency
cannot be deleted and its code cannot change.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found, rule_violation
from zbooks.sandbox.ledger.base import Ledger, seeder
from zbooks.sandbox.ledger.organizations import get_organization, save_organization
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.totals import to_decimal

MODULE = "currencies"
RATE_MODULE = "exchangerates"

# ISO code -> (name, symbol). Enough for realistic data; unknown codes are rejected
# like Zoho rejects codes outside its own list.
KNOWN: dict[str, tuple[str, str]] = {
    "AED": ("UAE Dirham", "AED"),
    "AUD": ("Australian Dollar", "$"),
    "BRL": ("Brazilian Real", "R$"),
    "CAD": ("Canadian Dollar", "$"),
    "CHF": ("Swiss Franc", "CHF"),
    "CNY": ("Yuan Renminbi", "CNY"),
    "DKK": ("Danish Krone", "kr"),
    "EUR": ("Euro", "€"),
    "GBP": ("Pound Sterling", "£"),
    "HKD": ("Hong Kong Dollar", "$"),
    "INR": ("Indian Rupee", "₹"),
    "JPY": ("Japanese Yen", "¥"),
    "MXN": ("Mexican Peso", "$"),
    "NOK": ("Norwegian Krone", "kr"),
    "NZD": ("New Zealand Dollar", "$"),
    "SAR": ("Saudi Riyal", "SAR"),
    "SEK": ("Swedish Krona", "kr"),
    "SGD": ("Singapore Dollar", "$"),
    "USD": ("US Dollar", "$"),
    "ZAR": ("South African Rand", "R"),
}
_FORMATS = ("1,234,567.89", "1.234.567,89", "1 234 567,89", "1234567.89", "12,34,567.89")
_ZERO_DECIMALS = {"JPY"}


def _currency_name(code: str) -> str:
    return f"{code}- {KNOWN[code][0]}"


def _new_currency(ledger: Ledger, code: str, *, base: bool) -> dict[str, Any]:
    name, symbol = KNOWN.get(code, (code, code))
    return {
        "currency_id": ledger.store.new_id(),
        "currency_code": code,
        "currency_name": f"{code}- {name}",
        "currency_symbol": symbol,
        "price_precision": 0 if code in _ZERO_DECIMALS else 2,
        "currency_format": "1,234,567.89",
        "is_base_currency": base,
    }


def ensure_base_currency(ledger: Ledger) -> dict[str, Any]:
    """The organization's base currency record, created on first use.

    Also writes its id into the organization's ``currency_id`` so the organization
    object and the currency list agree.
    """
    store = ledger.store
    with ledger.db.transaction():
        found = store.find(MODULE, [Filter("is_base_currency", "eq", True)])
        if found:
            return found[0]
        org = get_organization(ledger.db, ledger.org_id) or {}
        code = str(org.get("currency_code") or "USD").upper()
        record = _new_currency(ledger, code, base=True)
        if org.get("price_precision") is not None:
            record["price_precision"] = int(org["price_precision"])
        if org.get("currency_symbol"):
            record["currency_symbol"] = str(org["currency_symbol"])
        store.insert(MODULE, record["currency_id"], record, ledger.now())
        if org:
            org["currency_id"] = record["currency_id"]
            save_organization(ledger.db, org)
        return record


def get_currency(ledger: Ledger, currency_id: str) -> dict[str, Any]:
    ensure_base_currency(ledger)
    record = ledger.store.get(MODULE, str(currency_id))
    if record is None:
        raise not_found("Currency")
    return record


def _validate_common(body: dict[str, Any], record: dict[str, Any]) -> None:
    if "currency_symbol" in body:
        if not isinstance(body["currency_symbol"], str):
            raise invalid_value("currency_symbol")
        record["currency_symbol"] = body["currency_symbol"]
    if "price_precision" in body:
        try:
            precision = int(body["price_precision"])
        except (TypeError, ValueError):
            raise invalid_value("price_precision") from None
        if precision not in (0, 1, 2, 3):
            raise invalid_value("price_precision")
        record["price_precision"] = precision
    if "currency_format" in body:
        if body["currency_format"] not in _FORMATS:
            raise invalid_value("currency_format")
        record["currency_format"] = body["currency_format"]


def _code(body: dict[str, Any]) -> str:
    code = body.get("currency_code")
    if not isinstance(code, str) or code.strip().upper() not in KNOWN:
        raise invalid_value("currency_code")
    return code.strip().upper()


def create_currency(ledger: Ledger, body: dict[str, Any]) -> dict[str, Any]:
    """Add a foreign currency. ``currency_code`` and ``currency_format`` are required."""
    ensure_base_currency(ledger)
    code = _code(body)
    if "currency_format" not in body:
        raise invalid_value("currency_format")
    with ledger.db.transaction():
        if ledger.store.find(MODULE, [Filter("currency_code", "eq", code)]):
            # UNCONFIRMED code and wording for a duplicate currency.
            raise rule_violation(f"The currency {code} already exists.", code=1001)
        record = _new_currency(ledger, code, base=False)
        _validate_common(body, record)
        ledger.store.insert(MODULE, record["currency_id"], record, ledger.now())
    return record


def update_currency(ledger: Ledger, currency_id: str, body: dict[str, Any]) -> dict[str, Any]:
    with ledger.db.transaction():
        record = get_currency(ledger, currency_id)
        if "currency_code" in body:
            code = _code(body)
            if code != record["currency_code"]:
                if record.get("is_base_currency"):
                    # UNCONFIRMED code; Zoho does not let the base currency change here.
                    raise rule_violation("The base currency code cannot be changed.")
                if ledger.store.find(MODULE, [Filter("currency_code", "eq", code)]):
                    raise rule_violation(f"The currency {code} already exists.", code=1001)
                record["currency_code"] = code
                record["currency_name"] = _currency_name(code)
        _validate_common(body, record)
        ledger.store.update(MODULE, record["currency_id"], record, ledger.now())
    return record


def delete_currency(ledger: Ledger, currency_id: str) -> None:
    with ledger.db.transaction():
        record = get_currency(ledger, currency_id)
        if record.get("is_base_currency"):
            # UNCONFIRMED code for this rule.
            raise rule_violation("The base currency cannot be deleted.")
        if ledger.store.count("contacts", [Filter("currency_id", "eq", record["currency_id"])]):
            raise rule_violation(
                "This currency cannot be deleted as it is associated with contacts."
            )
        for rate in ledger.store.find(RATE_MODULE, [Filter("currency_id", "eq", currency_id)]):
            ledger.store.delete(RATE_MODULE, rate["exchange_rate_id"])
        ledger.store.delete(MODULE, record["currency_id"])


# exchange rates --------------------------------------------------------------------
def _foreign(ledger: Ledger, currency_id: str) -> dict[str, Any]:
    record = get_currency(ledger, currency_id)
    if record.get("is_base_currency"):
        # UNCONFIRMED: the base currency's rate is always 1 and cannot be edited.
        raise rule_violation("Exchange rates cannot be added for the base currency.")
    return record


def _rate_fields(body: dict[str, Any], record: dict[str, Any]) -> None:
    from datetime import date

    if "effective_date" in body or "effective_date" not in record:
        try:
            record["effective_date"] = date.fromisoformat(
                str(body.get("effective_date", ""))
            ).isoformat()
        except ValueError:
            raise invalid_value("effective_date") from None
    if "rate" in body or "rate" not in record:
        rate = to_decimal(body.get("rate"), "rate")
        if rate <= 0:
            raise invalid_value("rate")
        record["rate"] = float(rate)


def create_exchange_rate(ledger: Ledger, currency_id: str, body: dict[str, Any]) -> dict[str, Any]:
    currency = _foreign(ledger, currency_id)
    record: dict[str, Any] = {
        "exchange_rate_id": ledger.store.new_id(),
        "currency_id": currency["currency_id"],
        "currency_code": currency["currency_code"],
    }
    _rate_fields(body, record)
    ledger.store.insert(RATE_MODULE, record["exchange_rate_id"], record, ledger.now())
    return record


def get_exchange_rate(ledger: Ledger, currency_id: str, rate_id: str) -> dict[str, Any]:
    get_currency(ledger, currency_id)
    record = ledger.store.get(RATE_MODULE, str(rate_id))
    if record is None or record.get("currency_id") != str(currency_id):
        raise not_found("Exchange rate")
    return record


def update_exchange_rate(
    ledger: Ledger, currency_id: str, rate_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    with ledger.db.transaction():
        record = get_exchange_rate(ledger, currency_id, rate_id)
        _rate_fields(body, record)
        ledger.store.update(RATE_MODULE, record["exchange_rate_id"], record, ledger.now())
    return record


def delete_exchange_rate(ledger: Ledger, currency_id: str, rate_id: str) -> None:
    record = get_exchange_rate(ledger, currency_id, rate_id)
    ledger.store.delete(RATE_MODULE, record["exchange_rate_id"])


def exchange_rates(ledger: Ledger, currency_id: str) -> list[dict[str, Any]]:
    """The currency's rates, latest effective date first."""
    get_currency(ledger, currency_id)
    rates = ledger.store.find(RATE_MODULE, [Filter("currency_id", "eq", str(currency_id))])
    return sorted(rates, key=lambda r: (r["effective_date"], r["created_time"]), reverse=True)


def exchange_rate_on(ledger: Ledger, currency_id: str, on: str | None = None) -> Decimal:
    """The rate in force on ``on`` (default today): 1 for the base currency, else the
    latest rate effective on or before that date (1 when none is recorded: UNCONFIRMED,
    Zoho would ask the user for one)."""
    currency = get_currency(ledger, currency_id)
    if currency.get("is_base_currency"):
        return Decimal(1)
    day = on or ledger.today()
    for rate in exchange_rates(ledger, currency_id):
        if rate["effective_date"] <= day:
            return to_decimal(rate["rate"], "rate")
    return Decimal(1)


def present_currency(ledger: Ledger, record: dict[str, Any]) -> dict[str, Any]:
    """A list row: the record plus the rate in force today and its effective date."""
    row = {k: v for k, v in record.items() if k not in ("created_time", "last_modified_time")}
    if record.get("is_base_currency"):
        row["exchange_rate"] = 1.0
        row["effective_date"] = ""
        return row
    today = ledger.today()
    current = next(
        (r for r in exchange_rates(ledger, record["currency_id"]) if r["effective_date"] <= today),
        None,
    )
    row["exchange_rate"] = float(current["rate"]) if current else 1.0
    row["effective_date"] = current["effective_date"] if current else ""
    return row


def strip_times(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("created_time", "last_modified_time")}


# seeding ----------------------------------------------------------------------------
_SEED_ORDER = ("EUR", "GBP", "CAD", "AUD", "INR", "JPY", "SGD", "CHF", "MXN", "NZD")
# Units of the base currency per unit of the foreign one, if the base is USD.
_USD_RATES = {
    "EUR": 1.08, "GBP": 1.27, "CAD": 0.73, "AUD": 0.66, "INR": 0.012, "JPY": 0.0067,
    "SGD": 0.74, "CHF": 1.12, "MXN": 0.058, "NZD": 0.61, "AED": 0.27, "BRL": 0.2,
    "CNY": 0.14, "DKK": 0.145, "HKD": 0.128, "NOK": 0.094, "SAR": 0.27, "SEK": 0.096,
    "ZAR": 0.054,
}  # fmt: skip


@seeder("currencies")
def seed_currencies(ledger: Ledger, count: int, rng: random.Random) -> list[str]:
    """Up to ``count`` foreign currencies (the base one always exists), each with a rate
    effective 30 days ago and a slightly different one effective today."""
    from datetime import date, timedelta

    base = ensure_base_currency(ledger)
    existing = {str(c["currency_code"]) for c in ledger.store.find(MODULE, [])}
    order = [c for c in _SEED_ORDER if c not in existing]
    order += sorted(c for c in KNOWN if c not in existing and c not in order)
    today = date.fromisoformat(ledger.today())
    base_usd = _USD_RATES.get(str(base["currency_code"]), 1.0)
    currencies: list[tuple[str, dict[str, Any], str]] = []
    rates: list[tuple[str, dict[str, Any], str]] = []
    with ledger.db.transaction():
        now = ledger.now()
        for code in order[: max(count, 0)]:
            record = _new_currency(ledger, code, base=False)
            currencies.append((record["currency_id"], record, now))
            mid = _USD_RATES.get(code, 1.0) / base_usd
            for days_ago in (30, 0):
                rate = {
                    "exchange_rate_id": ledger.store.new_id(),
                    "currency_id": record["currency_id"],
                    "currency_code": code,
                    "effective_date": (today - timedelta(days=days_ago)).isoformat(),
                    "rate": round(mid * rng.uniform(0.97, 1.03), 6),
                }
                rates.append((rate["exchange_rate_id"], rate, now))
        ledger.store.insert_many(MODULE, currencies)
        ledger.store.insert_many(RATE_MODULE, rates)
    return [currency_id for currency_id, _, _ in currencies]
