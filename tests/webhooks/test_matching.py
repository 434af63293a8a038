"""Which changes fire which workflow rules: triggers, criteria, field updates, record-level
rules, customer/vendor contacts, and one net change per record per transaction."""

from __future__ import annotations

from typing import Any

import pytest

from zbooks.sandbox.db import Change
from zbooks.sandbox.webhooks.criteria import normalise_rule, rule_matches
from zbooks.sandbox.webhooks.engine import coalesce
from zbooks.sandbox.webhooks.workflows import fires_on_change, fires_on_trigger, parse_event

DRAFT = {"invoice_id": "1", "status": "draft", "total": 100, "customer_name": "Acme"}
SENT = {**DRAFT, "status": "sent"}
PAID = {**DRAFT, "status": "paid"}


def rule(rule_type: str, **extra: Any) -> dict[str, Any]:
    return {"entity": "invoice", "rule_type": rule_type, "is_active": True, **extra}


@pytest.mark.parametrize(
    ("rule_type", "fires"),
    [
        ("add", {"add"}),
        ("edit", {"edit", "paid-edit"}),
        ("add_edit", {"add", "edit", "paid-edit"}),
        ("delete", {"delete"}),
        ("paid", {"paid-edit"}),
        ("once", set()),
    ],
)
def test_triggers(rule_type: str, fires: set[str]) -> None:
    cases = {
        "add": ("add", None, DRAFT),
        "edit": ("edit", DRAFT, SENT),
        "paid-edit": ("edit", SENT, PAID),
        "delete": ("delete", SENT, None),
    }
    fired = {
        name
        for name, (action, before, after) in cases.items()
        if fires_on_change(rule(rule_type), action, before, after)
    }  # type: ignore[arg-type]
    assert fired == fires


def test_paid_fires_only_on_the_transition() -> None:
    assert not fires_on_change(rule("paid"), "edit", PAID, {**PAID, "notes": "x"})
    assert fires_on_change(rule("paid"), "add", None, PAID)  # created already paid
    assert not fires_on_change(rule("paid"), "delete", PAID, None)


def test_field_update_limits_edit_rules_to_changes_of_those_fields() -> None:
    on_status = rule("edit", field_update=["status"])
    assert fires_on_change(on_status, "edit", DRAFT, SENT)
    assert not fires_on_change(on_status, "edit", DRAFT, {**DRAFT, "total": 5})
    both = rule(
        "edit", field_update=[{"field_name": "status"}, "total"], field_update_comparator="and"
    )
    assert not fires_on_change(both, "edit", DRAFT, SENT)
    assert fires_on_change(both, "edit", DRAFT, {**SENT, "total": 5})
    unless = rule("edit", field_update=["notes"], field_update_comparator="except_or")
    assert fires_on_change(unless, "edit", DRAFT, SENT)
    assert not fires_on_change(unless, "edit", DRAFT, {**DRAFT, "notes": "n"})


def test_criteria_and_first_time_only() -> None:
    big = {"columns": [{"field": "total", "comparator": "greater_than", "value": "500"}]}
    assert not fires_on_change(rule("add", rule=big), "add", None, DRAFT)
    assert fires_on_change(rule("add", rule=big), "add", None, {**DRAFT, "total": 900})
    grown = {**DRAFT, "total": 900}
    always = rule("edit", rule=big)
    first_only = rule("edit", rule=big, apply_rule_always=False)
    assert fires_on_change(always, "edit", grown, {**grown, "notes": "x"})
    assert not fires_on_change(first_only, "edit", grown, {**grown, "notes": "x"})
    assert fires_on_change(first_only, "edit", DRAFT, grown)


def test_record_level_rules_and_contact_types() -> None:
    assert not fires_on_change(rule("add", entity_id="2"), "add", None, DRAFT)
    assert fires_on_change(rule("add", entity_id="1"), "add", None, DRAFT)
    customer = {"contact_id": "7", "contact_type": "customer"}
    vendor = {"contact_id": "8", "contact_type": "vendor"}
    on_customers = {"entity": "customer", "rule_type": "add"}
    on_contacts = {"entity": "contact", "rule_type": "add"}
    assert fires_on_change(on_customers, "add", None, customer)
    assert not fires_on_change(on_customers, "add", None, vendor)
    assert fires_on_change(on_contacts, "add", None, vendor)


def test_manual_triggers_cover_add_edit() -> None:
    assert fires_on_trigger(rule("add_edit"), "add", DRAFT)
    assert fires_on_trigger(rule("add_edit"), "edit", DRAFT)
    assert not fires_on_trigger(rule("delete"), "add", DRAFT)
    assert fires_on_trigger(rule("paid"), "paid", PAID)
    assert parse_event("invoice.created")[1] == "add"
    assert parse_event("sales_order.updated")[0].name == "salesorder"
    assert parse_event("bill.paid")[1] == "paid"
    with pytest.raises(ValueError, match="unknown event"):
        parse_event("invoice.exploded")
    with pytest.raises(ValueError):
        parse_event("spaceship.created")


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ("1 AND 2", False),
        ("1 OR 2", True),
        ("(1 OR 2) AND 3", True),
        ("1 AND (2 OR 3)", True),
        ("2 AND 3 OR 1", True),
        ("2 AND (3 OR 1)", False),
    ],
)
def test_criteria_strings(criteria: str, expected: bool) -> None:
    raw = {
        "columns": [
            {"field": "customer_name", "comparator": "starts_with", "value": "ac"},  # True
            {"field": "status", "comparator": "equal", "value": "paid"},  # False
            {"field": "total", "comparator": "less_equal", "value": 100},  # True
        ],
        "criteria_string": criteria,
    }
    assert rule_matches(normalise_rule(raw), DRAFT) is expected


@pytest.mark.parametrize(
    ("comparator", "value", "expected"),
    [
        ("equal", "100.00", True),
        ("not_equal", 100, False),
        ("greater_equal", 100, True),
        ("less_than", 99.5, False),
        ("contains", "CM", False),
        ("is_empty", None, False),
        ("is_not_empty", None, True),
    ],
)
def test_comparators_compare_numbers_as_numbers(
    comparator: str, value: Any, expected: bool
) -> None:
    raw = {"columns": [{"field": "total", "comparator": comparator, "value": value}]}
    assert rule_matches(normalise_rule(raw), DRAFT) is expected


def test_one_net_change_per_record_per_transaction() -> None:
    def change(action: str, rid: str, before: Any, after: Any) -> Change:
        return Change("o", "invoices", rid, action, before, after)  # type: ignore[arg-type]

    merged = coalesce(
        [
            change("add", "1", None, {"v": 1}),
            change("edit", "1", {"v": 1}, {"v": 2}),  # add + edit = add with the final state
            change("add", "2", None, {"v": 1}),
            change("delete", "2", {"v": 1}, None),  # add + delete = nothing
            change("edit", "3", {"v": 1}, {"v": 2}),
            change("edit", "3", {"v": 2}, {"v": 3}),  # edit + edit = one edit
            change("edit", "4", {"v": 1}, {"v": 2}),
            change("delete", "4", {"v": 2}, None),  # edit + delete = delete of the original
        ]
    )
    assert [(m[2], m[3], m[4], m[5]) for m in merged] == [
        ("1", "add", None, {"v": 2}),
        ("3", "edit", {"v": 1}, {"v": 3}),
        ("4", "delete", {"v": 1}, None),
    ]
