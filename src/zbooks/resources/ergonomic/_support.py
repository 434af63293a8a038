"""What the hand-written helpers share.

- Typed list filters are folded into ``params``, so one rule serves filters the OAS
  documents for a module and those Zoho answers without documenting them (``date_start``
  on estimates, bills, payments ...): the pipeline converts dates, timestamps and enums.
- A body that carries its own document number switches auto-numbering off; otherwise
  Zoho rejects the number while auto-numbering is on (api-facts §2.2).
- Paying a document is one payment applied in full to it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zbooks.resources.base import plain

#: Keyword arguments that ``modified_since`` adds: the incremental-sync listing, oldest
#: change first (Zoho's filter is inclusive, so expect the boundary record again).
SINCE_ORDER = {"sort_column": "last_modified_time", "sort_order": "A"}


def zoho_time(value: _dt.datetime | str) -> _dt.datetime | str:
    """Zoho needs an offset; a naive datetime is taken as local time."""
    if isinstance(value, _dt.datetime) and value.tzinfo is None:
        return value.astimezone()
    return value


def list_options(options: Mapping[str, Any], **typed: Any) -> dict[str, Any]:
    """The generated ``list``'s keyword arguments with the typed filters (those not
    ``None``) folded into ``params``; ``modified_since`` becomes ``last_modified_time``."""
    extra = {name: value for name, value in typed.items() if value is not None}
    since = extra.pop("modified_since", None)
    if since is not None:
        extra["last_modified_time"] = zoho_time(since)
    if not extra:
        return dict(options)
    return {**options, "params": {**(options.get("params") or {}), **extra}}


def own_number(body: Any, field: str, explicit: bool | None) -> bool | None:
    """``ignore_auto_number_generation`` for a create/update query: on when the body
    names its own number, unless the caller decided."""
    if explicit is not None or body is None:
        return explicit
    return True if plain(body).get(field) else None


def own_number_in_body(body: Any, field: str) -> Any:
    """The same flag for modules that read it from the body (contacts)."""
    if body is None:
        return None
    fields = plain(body)
    if fields.get(field) and "ignore_auto_number_generation" not in fields:
        return {**fields, "ignore_auto_number_generation": True}
    return body


def payment_body(
    *,
    party: tuple[str, str],
    applied_to: tuple[str, str, str],
    amount: Decimal | float | str,
    payment_mode: str,
    date: _dt.date | None,
    optional: Mapping[str, Any],
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A payment applied in full to one document.

    ``party`` is (``customer_id``, id), ``applied_to`` is (``invoices``, ``invoice_id``,
    id); ``optional`` fields are sent when not ``None``; ``extra`` adds any other field."""
    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    key, id_field, document_id = applied_to
    body: dict[str, Any] = {
        **dict(extra or {}),
        party[0]: party[1],
        "payment_mode": payment_mode,
        "amount": value,
        "date": date or _dt.date.today(),
        key: [{id_field: document_id, "amount_applied": value}],
    }
    body.update({name: v for name, v in optional.items() if v is not None})
    return body
