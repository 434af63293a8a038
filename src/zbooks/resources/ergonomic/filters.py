"""Typed values for list filters that Zoho's OpenAPI files leave as plain text.

The generated modules already carry enums where the OAS lists the values (invoice
``status``, estimate ``filter_by`` ...). These cover the rest, from api-facts §2.4, so
``client.contacts.list(filter_by=ContactFilter.ACTIVE)`` needs no magic strings. Every
filter still accepts a plain string, since Zoho adds values without notice.
"""

from __future__ import annotations

from zbooks.models.wire import ZohoEnum


class SortOrder(ZohoEnum):
    """``sort_order`` of every list."""

    ASCENDING = "A"
    DESCENDING = "D"


class InvoiceFilter(ZohoEnum):
    """``filter_by`` of ``client.invoices.list``."""

    ALL = "Status.All"
    SENT = "Status.Sent"
    DRAFT = "Status.Draft"
    OVERDUE = "Status.OverDue"
    PAID = "Status.Paid"
    VOID = "Status.Void"
    UNPAID = "Status.Unpaid"
    PARTIALLY_PAID = "Status.PartiallyPaid"
    VIEWED = "Status.Viewed"
    PAYMENT_EXPECTED_DATE = "Date.PaymentExpectedDate"


class ContactFilter(ZohoEnum):
    """``filter_by`` of ``client.contacts.list``."""

    ALL = "Status.All"
    ACTIVE = "Status.Active"
    INACTIVE = "Status.Inactive"
    DUPLICATE = "Status.Duplicate"
    PORTAL_ENABLED = "Status.PortalEnabled"
    PORTAL_DISABLED = "Status.PortalDisabled"
    CREDIT_LIMIT_EXCEEDED = "Status.CreditLimitExceed"
    CRM = "Status.Crm"
    OVERDUE_INVOICES = "Invoice.OverDue"
    UNPAID_INVOICES = "Invoice.Unpaid"


class ContactType(ZohoEnum):
    """``contact_type`` of a contact (also a list filter)."""

    CUSTOMER = "customer"
    VENDOR = "vendor"


class ItemFilter(ZohoEnum):
    """``filter_by`` of ``client.items.list``."""

    ALL = "Status.All"
    ACTIVE = "Status.Active"
    INACTIVE = "Status.Inactive"


class PaymentModeFilter(ZohoEnum):
    """``filter_by`` of ``client.customer_payments.list`` and (UNCONFIRMED: the same
    constants) ``client.vendor_payments.list``."""

    ALL = "PaymentMode.All"
    CHECK = "PaymentMode.Check"
    CASH = "PaymentMode.Cash"
    BANK_TRANSFER = "PaymentMode.BankTransfer"
    PAYPAL = "PaymentMode.Paypal"
    CREDIT_CARD = "PaymentMode.CreditCard"
    GOOGLE_CHECKOUT = "PaymentMode.GoogleCheckout"
    CREDIT = "PaymentMode.Credit"
    AUTHORIZENET = "PaymentMode.Authorizenet"
    BANK_REMITTANCE = "PaymentMode.BankRemittance"
    PAYFLOWPRO = "PaymentMode.Payflowpro"
    STRIPE = "PaymentMode.Stripe"
    TWO_CHECKOUT = "PaymentMode.TwoCheckout"
    BRAINTREE = "PaymentMode.Braintree"
    OTHERS = "PaymentMode.Others"


class ExpenseFilter(ZohoEnum):
    """``filter_by`` of ``client.expenses.list``."""

    ALL = "Status.All"
    BILLABLE = "Status.Billable"
    NONBILLABLE = "Status.Nonbillable"
    REIMBURSED = "Status.Reimbursed"
    INVOICED = "Status.Invoiced"
    UNBILLED = "Status.Unbilled"


__all__ = [
    "ContactFilter",
    "ContactType",
    "ExpenseFilter",
    "InvoiceFilter",
    "ItemFilter",
    "PaymentModeFilter",
    "SortOrder",
]
