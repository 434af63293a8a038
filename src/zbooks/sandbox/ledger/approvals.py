"""The approval workflow: submit -> approve (or reject), one state machine for every module.

Zoho lets an organization require approval before a transaction takes effect
(api-facts §3.5 transitions): a ``draft`` is submitted (``pending_approval``), then an
approver approves it, after which the usual next step (mark sent, open, publish) applies.
What differs per module is only data (status names, what "approved" means for the
money), so each module is described by an ``ApprovalFlow`` instead of its own copy.

UNCONFIRMED: real Zoho accepts submit/approve only when approvals are enabled in the
organization's preferences; the sandbox always runs the workflow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from zbooks.sandbox.errors import rule_violation, too_long
from zbooks.sandbox.ledger import (
    bills,
    creditnotes,
    estimates,
    invoices,
    purchaseorders,
    salesorders,
)
from zbooks.sandbox.ledger import documents as docs
from zbooks.sandbox.ledger.base import Ledger

Hook = Callable[[Ledger, dict[str, Any]], None]


@dataclass(frozen=True)
class ApprovalFlow:
    """How one module spells the workflow.

    ``kind`` locates the record (module, id field, resource name for 404s); ``label``
    names it in messages ("invoice", "sales order"). ``rejected`` is where a rejected
    document lands; it may be submitted again, like a draft. ``on_approved`` adjusts
    the record once its status is ``approved`` (a bill becoming ``open`` settles its
    balance) and ``after_approved`` runs once it is saved (the vendor's payables are
    recomputed from stored bills).
    """

    kind: docs.DocumentKind
    label: str
    pending: str = "pending_approval"
    approved: str = "approved"
    rejected: str = "draft"
    draft: str = "draft"
    on_approved: Hook | None = None
    after_approved: Hook | None = None

    @property
    def submittable(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.draft, self.rejected)))


def _article(label: str) -> str:
    return "an" if label[:1].lower() in "aeiou" else "a"


def _move(
    ledger: Ledger,
    flow: ApprovalFlow,
    doc_id: str,
    *,
    allowed: Iterable[str],
    target: str,
    refusal: str,
    note: str,
    hook: Hook | None = None,
    after: Hook | None = None,
) -> dict[str, Any]:
    """One guarded transition; a wrong state raises 400 and changes nothing.

    Error wording and code 4 are UNCONFIRMED (Zoho answers these with a plain 400).
    """
    with ledger.db.transaction():
        record = docs.fetch(ledger, flow.kind, doc_id)
        current = str(record.get("status") or flow.draft)
        if current not in set(allowed):
            number = record.get(flow.kind.number_field, doc_id)
            raise rule_violation(
                f"{flow.label.capitalize()} {number} is in {current.replace('_', ' ')} "
                f"status; {refusal}"
            )
        record["status"] = target
        if hook is not None:
            hook(ledger, record)
        docs.add_history(record, note, ledger=ledger, operation="Updated")
        docs.save(ledger, flow.kind, record)
        if after is not None:
            after(ledger, record)
        return record


def submit(ledger: Ledger, flow: ApprovalFlow, doc_id: str) -> dict[str, Any]:
    """draft (or rejected) -> pending approval."""
    label = flow.label
    return _move(
        ledger,
        flow,
        doc_id,
        allowed=flow.submittable,
        target=flow.pending,
        refusal=f"only {_article(label)} {label} in draft can be submitted for approval.",
        note=f"{label.capitalize()} submitted for approval",
    )


def approve(ledger: Ledger, flow: ApprovalFlow, doc_id: str) -> dict[str, Any]:
    """pending approval -> approved (or the module's equivalent, e.g. a bill's ``open``)."""
    label = flow.label
    return _move(
        ledger,
        flow,
        doc_id,
        allowed=(flow.pending,),
        target=flow.approved,
        refusal=f"only {_article(label)} {label} pending approval can be approved.",
        note=f"{label.capitalize()} approved",
        hook=flow.on_approved,
        after=flow.after_approved,
    )


def reject(ledger: Ledger, flow: ApprovalFlow, doc_id: str, reason: str = "") -> dict[str, Any]:
    """pending approval -> rejected (``draft`` for most modules); the reason goes to the
    document's history, where Zoho shows it. Max 500 characters per the OAS."""
    if len(reason) > 500:
        raise too_long("reason", 500)
    label = flow.label
    note = f"{label.capitalize()} rejected" + (f": {reason}" if reason else "")
    return _move(
        ledger,
        flow,
        doc_id,
        allowed=(flow.pending,),
        target=flow.rejected,
        refusal=f"only {_article(label)} {label} pending approval can be rejected.",
        note=note,
    )


def submit_many(ledger: Ledger, flow: ApprovalFlow, ids: Iterable[str]) -> None:
    """Bulk submit, all or nothing: one refused document rolls the whole request back
    (UNCONFIRMED: Zoho may report per-document results instead)."""
    with ledger.db.transaction():
        for doc_id in ids:
            submit(ledger, flow, doc_id)


def approve_many(ledger: Ledger, flow: ApprovalFlow, ids: Iterable[str]) -> None:
    """Bulk approve, all or nothing (see ``submit_many``)."""
    with ledger.db.transaction():
        for doc_id in ids:
            approve(ledger, flow, doc_id)


# --- the modules -------------------------------------------------------------------------
def _bill_settled(ledger: Ledger, bill: dict[str, Any]) -> None:
    """An approved bill is an ordinary open bill: its balance and settlement status follow
    what was applied (due/overdue then follow from its due date at read time)."""
    bills.recompute(ledger, bill)


def _bill_payable(ledger: Ledger, bill: dict[str, Any]) -> None:
    """The saved open bill now counts in the vendor's outstanding payables."""
    bills.after_money_change(ledger, str(bill.get("vendor_id", "")))


# Approved statuses follow each module's documented status enum (OAS 2026-07): invoices,
# estimates, sales orders, purchase orders and credit notes list ``approved``; for bills
# the brief and api-facts §3.12 have approval make the bill ``open`` (UNCONFIRMED: the
# bill status filter also lists ``approved``). A rejected sales document goes back to
# ``draft`` to be edited and resubmitted (UNCONFIRMED: the filters also list ``rejected``).
FLOWS: dict[str, ApprovalFlow] = {
    "invoices": ApprovalFlow(invoices.KIND, "invoice"),
    "estimates": ApprovalFlow(estimates.KIND, "estimate"),
    "salesorders": ApprovalFlow(salesorders.KIND, "sales order"),
    "purchaseorders": ApprovalFlow(purchaseorders.KIND, "purchase order"),
    "creditnotes": ApprovalFlow(creditnotes.KIND, "credit note"),
    "bills": ApprovalFlow(
        bills.KIND,
        "bill",
        approved="open",
        on_approved=_bill_settled,
        after_approved=_bill_payable,
    ),
}
