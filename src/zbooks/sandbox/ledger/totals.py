"""Document arithmetic shared by invoices, estimates, sales orders, credit notes, bills
and purchase orders: line totals, discounts, taxes, sub_total, tax_total and total.

Rules (api-facts §3.5):
- ``item_total = rate * quantity - line discount``; a line discount is ``"n%"`` of
  ``rate * quantity`` or an absolute amount.
- ``sub_total = sum(item_total)``.
- Entity-level ``discount`` (``"n%"`` of sub_total, or absolute) applies before tax when
  ``is_discount_before_tax`` (the default), so each line's taxable amount shrinks in
  proportion; after tax, it comes off ``sub_total + tax_total``.
- Taxes aggregate per tax into ``taxes[] = {tax_id, tax_name, tax_amount}``; a tax group
  applies each member; a compound tax applies to (amount + the other taxes of the line).
- ``total = sub_total - discount_amount + tax_total + shipping_charge + adjustment``;
  with ``is_inclusive_tax`` the line totals already contain tax, so tax is not added again
  (UNCONFIRMED presentation of sub_total for inclusive documents; we keep it inclusive).
Amounts are rounded half-up to the organization's precision; tax is rounded per tax
aggregate, not per line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from zbooks.sandbox.errors import invalid_value


@dataclass(frozen=True)
class TaxRate:
    tax_id: str
    tax_name: str
    percentage: Decimal
    compound: bool = False
    members: tuple[TaxRate, ...] = field(default=())  # non-empty for a tax group


# UNCONFIRMED: Zoho's largest amount. 15 integer digits hold any real ledger and keep
# every product and rounding below Decimal's 28 digits (1e300 would overflow it -> 500).
MAX_AMOUNT = Decimal(10) ** 15


def bounded(value: Decimal, field_name: str) -> Decimal:
    """``value`` if it is a finite amount Zoho could hold, else 400 code 4."""
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise invalid_value(field_name)
    return value


def to_decimal(value: Any, field_name: str) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise invalid_value(field_name) from None
    return bounded(result, field_name)


def parse_discount(value: Any, base: Decimal, field_name: str = "discount") -> Decimal:
    """``"10%"`` -> 10% of ``base``; ``"12.5"``/``12.5`` -> 12.5 absolute."""
    if isinstance(value, str) and value.strip().endswith("%"):
        percent = to_decimal(value.strip()[:-1], field_name)
        return base * percent / Decimal(100)
    return to_decimal(value, field_name)


def _q(value: Decimal, precision: int) -> Decimal:
    # A product of bounded inputs (rate x quantity x exchange rate) can still be too big.
    return bounded(value, "amount").quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)


def _leaf_rates(rate: TaxRate) -> list[TaxRate]:
    return list(rate.members) if rate.members else [rate]


@dataclass
class DocumentTotals:
    line_items: list[dict[str, Any]]
    sub_total: Decimal
    discount_amount: Decimal
    taxes: list[dict[str, Any]]
    tax_total: Decimal
    shipping_charge: Decimal
    adjustment: Decimal
    total: Decimal

    def as_fields(self) -> dict[str, Any]:
        """The computed fields as JSON numbers, ready to merge into the document."""
        return {
            "line_items": self.line_items,
            "sub_total": float(self.sub_total),
            "discount_amount": float(self.discount_amount),
            "taxes": self.taxes,
            "tax_total": float(self.tax_total),
            "shipping_charge": float(self.shipping_charge),
            "adjustment": float(self.adjustment),
            "total": float(self.total),
        }


def compute_totals(
    doc: Mapping[str, Any],
    tax_rates: Mapping[str, TaxRate],
    precision: int = 2,
) -> DocumentTotals:
    """Compute every derived money field of a sales or purchase document.

    ``tax_rates`` maps tax_id -> TaxRate (taxes and tax groups of the organization);
    an unknown ``tax_id`` on a line is a 400 ``Invalid value passed for tax_id``.
    """
    lines_in: Sequence[Mapping[str, Any]] = doc.get("line_items") or []
    inclusive = bool(doc.get("is_inclusive_tax", False))
    before_tax = bool(doc.get("is_discount_before_tax", True))
    discount_type = doc.get("discount_type") or "entity_level"

    lines: list[dict[str, Any]] = []
    gross: list[Decimal] = []
    for index, raw in enumerate(lines_in):
        line = dict(raw)
        rate = to_decimal(line.get("rate"), "rate")
        quantity = to_decimal(
            line.get("quantity", 1) if line.get("quantity") != "" else 1, "quantity"
        )
        amount = rate * quantity
        line_discount = parse_discount(line.get("discount", 0), amount)
        item_total = _q(amount - line_discount, precision)
        line["rate"] = float(rate)
        line["quantity"] = float(quantity)
        line["discount_amount"] = float(_q(line_discount, precision))
        line["item_total"] = float(item_total)
        line.setdefault("item_order", index + 1)
        lines.append(line)
        gross.append(item_total)

    sub_total = _q(sum(gross, Decimal(0)), precision)
    entity_discount = Decimal(0)
    if discount_type != "item_level" and doc.get("discount") not in (None, "", 0, "0"):
        entity_discount = parse_discount(doc.get("discount"), sub_total)
    if entity_discount < 0:
        raise invalid_value("discount")

    ratio = Decimal(1)
    if before_tax and sub_total and entity_discount:
        ratio = (sub_total - entity_discount) / sub_total

    tax_sums: dict[str, Decimal] = {}
    tax_names: dict[str, str] = {}
    tax_percent: dict[str, Decimal] = {}
    for line, line_total in zip(lines, gross, strict=True):
        tax_id = str(line.get("tax_id") or "")
        if not tax_id:
            continue
        tax = tax_rates.get(tax_id)
        if tax is None:
            raise invalid_value("tax_id")
        leaves = _leaf_rates(tax)
        simple = sum((t.percentage for t in leaves if not t.compound), Decimal(0))
        taxable = line_total * ratio
        if inclusive:
            # Back the net amount out of the tax-inclusive line total.
            compound = [t.percentage for t in leaves if t.compound]
            factor = Decimal(1) + simple / 100
            for pct in compound:
                factor *= Decimal(1) + pct / 100
            taxable = taxable / factor
        line_tax = Decimal(0)
        for leaf in leaves:
            base = taxable + (taxable * simple / 100 if leaf.compound else Decimal(0))
            amount = base * leaf.percentage / 100
            tax_sums[leaf.tax_id] = tax_sums.get(leaf.tax_id, Decimal(0)) + amount
            tax_names[leaf.tax_id] = leaf.tax_name
            tax_percent[leaf.tax_id] = leaf.percentage
            line_tax += amount
        line["tax_name"] = tax.tax_name
        line["tax_percentage"] = float(sum((t.percentage for t in leaves), Decimal(0)))
        line["tax_amount"] = float(_q(line_tax, precision))

    taxes = [
        {
            "tax_id": tax_id,
            "tax_name": tax_names[tax_id],
            "tax_percentage": float(tax_percent[tax_id]),
            "tax_amount": float(_q(amount, precision)),
        }
        for tax_id, amount in tax_sums.items()
    ]
    tax_total = sum((_q(a, precision) for a in tax_sums.values()), Decimal(0))
    if not before_tax and entity_discount and not inclusive:
        # A percentage discount after tax is taken from the taxed amount.
        raw_discount = doc.get("discount")
        if isinstance(raw_discount, str) and raw_discount.strip().endswith("%"):
            entity_discount = parse_discount(raw_discount, sub_total + tax_total)
    discount_amount = _q(entity_discount, precision)
    shipping = _q(to_decimal(doc.get("shipping_charge"), "shipping_charge"), precision)
    adjustment = _q(to_decimal(doc.get("adjustment"), "adjustment"), precision)
    total = sub_total - discount_amount + shipping + adjustment
    if not inclusive:
        total += tax_total
    return DocumentTotals(
        line_items=lines,
        sub_total=sub_total,
        discount_amount=discount_amount,
        taxes=taxes,
        tax_total=_q(tax_total, precision),
        shipping_charge=shipping,
        adjustment=adjustment,
        total=_q(total, precision),
    )
