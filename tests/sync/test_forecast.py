"""Counting a list without reading it: the forecast's page probes and its one-request
count, against a fake list whose size hypothesis picks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from zbooks.sync.forecast import Forecast, ModuleForecast, count_records
from zbooks.sync.results import days_of_budget


class FakeList:
    """``total`` records, ``per_page`` a page, as Zoho pages them; counts the requests."""

    def __init__(self, total: int, *, count_field: bool = True) -> None:
        self.total = total
        self.count_field = count_field
        self.calls: list[dict[str, Any]] = []

    def __call__(self, params: dict[str, Any]) -> Mapping[str, Any]:
        self.calls.append(dict(params))
        per_page, page = int(params["per_page"]), int(params["page"])
        if params.get("response_option") == "2":
            context: dict[str, Any] = {"page": 1, "has_more_page": False}
            if self.count_field:
                context["total"] = self.total
            return {"invoices": [], "page_context": context}
        start = (page - 1) * per_page
        rows = [{"n": i} for i in range(start, min(self.total, start + per_page))]
        return {"invoices": rows, "page_context": {"has_more_page": start + per_page < self.total}}


@given(total=st.integers(0, 250_000), per_page=st.sampled_from([1, 7, 200]))
def test_probing_finds_the_exact_count_in_logarithmic_requests(total: int, per_page: int) -> None:
    fake = FakeList(total)
    found, spent = count_records(fake, {"sort_column": "x"}, per_page=per_page, list_key="invoices")
    assert found == total
    assert spent == len(fake.calls)
    pages = max(1, math.ceil(total / per_page))
    assert spent <= 2 * math.ceil(math.log2(pages + 1)) + 2
    assert all(call["sort_column"] == "x" for call in fake.calls)  # the scan's own filters


@given(total=st.integers(0, 10**7))
def test_a_count_option_takes_one_request_and_falls_back_to_probing(total: int) -> None:
    fake = FakeList(total)
    found, spent = count_records(
        fake, {}, per_page=200, list_key="invoices", count_params=(("response_option", "2"),)
    )
    assert (found, spent) == (total, 1)
    silent = FakeList(min(total, 5_000), count_field=False)  # the count field is UNCONFIRMED
    found, spent = count_records(
        silent, {}, per_page=200, list_key="invoices", count_params=(("response_option", "2"),)
    )
    assert found == silent.total and spent == len(silent.calls) >= 2


def test_the_warning_states_the_days_from_the_dry_run_arithmetic() -> None:
    modules = (
        ModuleForecast("invoices", 4_000, 20, 4_000),
        ModuleForecast("contacts", 100, 1, 100),
    )
    tight = Forecast("42", modules, daily_remaining=900, daily_limit=1_000, counting_requests=3)
    assert tight.requests == 4_121
    assert tight.days == days_of_budget(4_121, 900, 1_000) == 5
    warning = tight.warning()
    assert warning is not None
    assert "about 4,121 requests needed (invoices 4,020, contacts 101)" in warning
    assert "900 left today" in warning and "5 days of budget at 1,000 a day" in warning
    assert "--details invoices=none" in warning
    roomy = Forecast("42", modules, daily_remaining=5_000, daily_limit=10_000, counting_requests=1)
    assert roomy.fits_today and roomy.warning() is None
    unknown = Forecast("42", modules, daily_remaining=None, daily_limit=None, counting_requests=1)
    assert unknown.days is None and unknown.warning() is None
