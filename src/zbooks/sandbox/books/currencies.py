"""Routes of ``/settings/currencies`` and their exchange rates (scope settings)."""

from __future__ import annotations

from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, ok
from zbooks.sandbox.ledger import currencies as ledger_currencies
from zbooks.sandbox.ledger.listing import ListSpec, list_page
from zbooks.sandbox.ledger.store import Filter

SCOPE = "settings"

LIST_SPEC = ListSpec(
    module=ledger_currencies.MODULE,
    list_key="currencies",
    report_name="Currencies",
    sort_columns=frozenset({"currency_code", "currency_name", "created_time"}),
    default_filter="Currencies.All",
    filter_by={
        "Currencies.ExcludeBaseCurrency": lambda _l: [Filter("is_base_currency", "eq", False)],
    },
    text_fields=("currency_code",),
    date_fields=(),
    present=ledger_currencies.present_currency,
)

RATES_SPEC = ListSpec(
    module=ledger_currencies.RATE_MODULE,
    list_key="exchange_rates",
    report_name="Exchange Rates",
    sort_columns=frozenset({"effective_date", "rate", "created_time"}),
    default_sort="effective_date",
    exact_fields=("currency_id",),
    date_fields=("effective_date",),
    present=lambda _l, r: ledger_currencies.strip_times(r),
)


@REGISTRY.route("POST", "/settings/currencies", scope=SCOPE)
def create_currency(request: BooksRequest) -> BooksResponse:
    currency = ledger_currencies.create_currency(request.ledger, request.body)
    return ok(
        "The currency has been added.",
        status=201,
        currency=ledger_currencies.strip_times(currency),
    )


@REGISTRY.route("GET", "/settings/currencies", scope=SCOPE)
def list_currencies(request: BooksRequest) -> BooksResponse:
    ledger_currencies.ensure_base_currency(request.ledger)
    query = dict(request.query)
    if not query.get("sort_order"):
        query["sort_order"] = "A"  # base currency (created first) leads the list
    result = list_page(request.ledger, query, LIST_SPEC)
    return ok(currencies=result.records, page_context=result.page_context)


@REGISTRY.route("GET", "/settings/currencies/{currency_id}", scope=SCOPE)
def get_currency(request: BooksRequest) -> BooksResponse:
    currency = ledger_currencies.get_currency(request.ledger, request.path_params["currency_id"])
    return ok(currency=ledger_currencies.strip_times(currency))


@REGISTRY.route("PUT", "/settings/currencies/{currency_id}", scope=SCOPE)
def update_currency(request: BooksRequest) -> BooksResponse:
    currency = ledger_currencies.update_currency(
        request.ledger, request.path_params["currency_id"], request.body
    )
    return ok(
        "Currency information has been saved.", currency=ledger_currencies.strip_times(currency)
    )


@REGISTRY.route("DELETE", "/settings/currencies/{currency_id}", scope=SCOPE)
def delete_currency(request: BooksRequest) -> BooksResponse:
    ledger_currencies.delete_currency(request.ledger, request.path_params["currency_id"])
    return ok("The currency has been deleted.")


# Exchange rates. OAS currency.yml types ``exchange_rate`` in the single responses as a
# number (a schema-name collision with the currency's rate field); we return the rate
# object, which is what the operation describes.
@REGISTRY.route("GET", "/settings/currencies/{currency_id}/exchangerates", scope=SCOPE)
def list_exchange_rates(request: BooksRequest) -> BooksResponse:
    currency_id = request.path_params["currency_id"]
    ledger_currencies.get_currency(request.ledger, currency_id)
    if request.flag("is_current_date"):
        today = request.ledger.today()
        rates = ledger_currencies.exchange_rates(request.ledger, currency_id)
        current = [r for r in rates if r["effective_date"] <= today][:1]
        return ok(exchange_rates=[ledger_currencies.strip_times(r) for r in current])
    query = {k: v for k, v in request.query.items() if k != "from_date"}
    if request.query.get("from_date"):
        query["effective_date_start"] = request.query["from_date"]
    query["currency_id"] = currency_id
    result = list_page(request.ledger, query, RATES_SPEC)
    context = {k: v for k, v in result.page_context.items() if k != "search_criteria"}
    return ok(exchange_rates=result.records, page_context=context)


@REGISTRY.route("POST", "/settings/currencies/{currency_id}/exchangerates", scope=SCOPE)
def create_exchange_rate(request: BooksRequest) -> BooksResponse:
    rate = ledger_currencies.create_exchange_rate(
        request.ledger, request.path_params["currency_id"], request.body
    )
    return ok(
        "The exchange rate has been added.",
        status=201,
        exchange_rate=ledger_currencies.strip_times(rate),
    )


_ONE = "/settings/currencies/{currency_id}/exchangerates/{exchange_rate_id}"


@REGISTRY.route("GET", _ONE, scope=SCOPE)
def get_exchange_rate(request: BooksRequest) -> BooksResponse:
    params = request.path_params
    rate = ledger_currencies.get_exchange_rate(
        request.ledger, params["currency_id"], params["exchange_rate_id"]
    )
    return ok(exchange_rate=ledger_currencies.strip_times(rate))


@REGISTRY.route("PUT", _ONE, scope=SCOPE)
def update_exchange_rate(request: BooksRequest) -> BooksResponse:
    params = request.path_params
    ledger_currencies.update_exchange_rate(
        request.ledger, params["currency_id"], params["exchange_rate_id"], request.body
    )
    return ok("The exchange rate has been updated.")


@REGISTRY.route("DELETE", _ONE, scope=SCOPE)
def delete_exchange_rate(request: BooksRequest) -> BooksResponse:
    params = request.path_params
    ledger_currencies.delete_exchange_rate(
        request.ledger, params["currency_id"], params["exchange_rate_id"]
    )
    return ok("Exchange rate successfully deleted")
