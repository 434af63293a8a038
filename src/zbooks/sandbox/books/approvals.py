"""Approval routes (submit / approve / reject) of the sales and purchase documents.

Every module has the same operations with its own path parameter, scope and success
messages (OAS 2026-07 examples, api-facts Appendix C), so the routes are generated from
one table rather than written six times. The rules live in ``ledger.approvals``.
Journals keep their approval routes in ``books/journals.py`` next to publish/reverse.
"""

from __future__ import annotations

from dataclasses import dataclass

from zbooks.sandbox.books.invoices import id_list
from zbooks.sandbox.books.registry import REGISTRY, BooksRequest, BooksResponse, Handler, ok
from zbooks.sandbox.ledger import approvals
from zbooks.sandbox.ledger.approvals import ApprovalFlow

# UNCONFIRMED: the OAS gives no maximum for bulk submit/approve; 25 matches the other
# invoice bulk actions.
BULK_LIMIT = 25


@dataclass(frozen=True)
class Operation:
    """One documented approval operation: its message and HTTP status (200 unless the
    OAS says otherwise, as for purchase-order reject)."""

    message: str
    status: int = 200


@dataclass(frozen=True)
class ModuleRoutes:
    collection: str  # path collection, also the ``FLOWS`` key
    id_param: str
    scope: str
    submit: Operation
    approve: Operation
    final: Operation | None = None  # POST .../{id}/approve/final (multi-level approval)
    reject: Operation | None = None
    bulk_submit: Operation | None = None
    bulk_approve: Operation | None = None
    bulk_ids: str = ""


MODULES: tuple[ModuleRoutes, ...] = (
    ModuleRoutes(
        "invoices",
        "invoice_id",
        "invoices",
        submit=Operation("The invoice has been submitted for approval successfully."),
        approve=Operation("You have approved the invoice."),
        final=Operation("The invoice has been approved."),
        reject=Operation("The invoice has been rejected."),
        bulk_submit=Operation("The invoices have been submitted for approval."),
        bulk_approve=Operation("The selected invoices have been approved."),
        bulk_ids="invoice_ids",
    ),
    ModuleRoutes(
        "estimates",
        "estimate_id",
        "estimates",
        submit=Operation("The estimate has been successfully submitted for approval"),
        approve=Operation("You have approved the estimate."),
    ),
    ModuleRoutes(
        "salesorders",
        "salesorder_id",
        "salesorders",
        submit=Operation("The Sales Order has been successfully submitted for approval."),
        approve=Operation("You have approved the Sales Order."),
    ),
    ModuleRoutes(
        "purchaseorders",
        "purchaseorder_id",
        "purchaseorders",
        submit=Operation("The purchase order has been successfully submitted for approval."),
        approve=Operation("You have approved the Purchase Order."),
        reject=Operation("You have rejected the Purchase order successfully.", status=201),
    ),
    ModuleRoutes(
        "creditnotes",
        "creditnote_id",
        "creditnotes",
        submit=Operation("The Credit Note has been successfully submitted for approval."),
        approve=Operation("You have approved the Credit Note."),
        final=Operation("The credit note has been approved."),
        reject=Operation("The credit note has been rejected."),
        bulk_submit=Operation("The selected credit notes have been submitted for approval."),
        bulk_approve=Operation("The selected credit notes have been approved."),
        bulk_ids="creditnote_ids",
    ),
    ModuleRoutes(
        "bills",
        "bill_id",
        "bills",
        submit=Operation("The bill has been submitted for approval successfully."),
        approve=Operation("success"),
    ),
)


def _one(flow: ApprovalFlow, id_param: str, action: str, done: Operation) -> Handler:
    def handler(request: BooksRequest) -> BooksResponse:
        doc_id = request.path_params[id_param]
        if action == "submit":
            approvals.submit(request.ledger, flow, doc_id)
        elif action == "approve":
            approvals.approve(request.ledger, flow, doc_id)
        else:
            approvals.reject(request.ledger, flow, doc_id, request.query.get("reason", ""))
        return ok(done.message, status=done.status)

    handler.__name__ = f"{action}_{flow.kind.module}"
    return handler


def _bulk(flow: ApprovalFlow, ids_param: str, action: str, done: Operation) -> Handler:
    def handler(request: BooksRequest) -> BooksResponse:
        ids = id_list(request, ids_param, BULK_LIMIT)
        if action == "submit":
            approvals.submit_many(request.ledger, flow, ids)
        else:
            approvals.approve_many(request.ledger, flow, ids)
        return ok(done.message, status=done.status)

    handler.__name__ = f"bulk_{action}_{flow.kind.module}"
    return handler


def register(module: ModuleRoutes) -> None:
    flow = approvals.FLOWS[module.collection]
    base = f"/{module.collection}/{{{module.id_param}}}"
    singles = [("submit", "submit", module.submit), ("approve", "approve", module.approve)]
    if module.final is not None:
        # Single-level approval in the sandbox: the final approval is the approval.
        singles.append(("approve/final", "approve", module.final))
    if module.reject is not None:
        singles.append(("reject", "reject", module.reject))
    for suffix, action, done in singles:
        REGISTRY.route("POST", f"{base}/{suffix}", scope=module.scope)(
            _one(flow, module.id_param, action, done)
        )
    for action, bulk in (("submit", module.bulk_submit), ("approve", module.bulk_approve)):
        if bulk is not None:
            REGISTRY.route("POST", f"/{module.collection}/{action}", scope=module.scope)(
                _bulk(flow, module.bulk_ids, action, bulk)
            )


for _module in MODULES:
    register(_module)
