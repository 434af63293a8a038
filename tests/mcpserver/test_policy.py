"""Read-only by default; writes per module; destructive operations apart."""

from __future__ import annotations

import pytest

from zbooks.mcp.catalog import find
from zbooks.mcp.policy import Kind, Policy, WriteRefused, kind_of


@pytest.mark.parametrize(
    ("operation", "kind"),
    [
        ("invoices.list", Kind.read),
        ("invoices.update", Kind.write),
        ("invoices.create", Kind.write),
        ("invoices.delete", Kind.destructive),
        ("invoices.void", Kind.destructive),
        ("invoices.write_off", Kind.destructive),
        ("invoices.bulk_void", Kind.destructive),
        ("bills.void", Kind.destructive),
        ("contacts.delete", Kind.destructive),
    ],
)
def test_kinds(operation: str, kind: Kind) -> None:
    assert kind_of(find(operation)) is kind


def test_default_is_read_only_and_says_how_to_allow() -> None:
    policy = Policy.from_flags(None, False)
    assert policy.check(find("invoices.list")) is Kind.read
    with pytest.raises(WriteRefused, match=r"--allow-writes \(or --allow-writes invoices\)"):
        policy.check(find("invoices.update"))


def test_module_list_limits_writes() -> None:
    policy = Policy.from_flags("invoices, credit-notes", False)
    assert policy.check(find("invoices.update")) is Kind.write
    assert policy.check(find("credit_notes.create")) is Kind.write
    with pytest.raises(WriteRefused, match="allowed only to creditnotes, invoices"):
        policy.check(find("contacts.update"))


def test_destructive_needs_its_own_flag() -> None:
    with pytest.raises(WriteRefused, match="--allow-destructive"):
        Policy.from_flags("all", False).check(find("invoices.void"))
    assert Policy.from_flags("all", True).check(find("invoices.void")) is Kind.destructive
