"""The base of every generated model.

Lenient on input because Zoho adds fields and statuses without notice: unknown fields
are kept (``extra="allow"``) and round-trip untouched, numbers coerce to the string ids
Zoho uses, and validation of a large module's models is deferred to first use so that
importing a resource stays cheap.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from zbooks.models.wire import ZohoEnum, json_default


class ZohoModel(BaseModel):
    """A Zoho Books object. Field names are Zoho's (aliases where Python needs a rename)."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        coerce_numbers_to_str=True,
        defer_build=True,
        protected_namespaces=(),
        use_enum_values=False,
    )

    #: Fields Zoho documents as required when this model is sent as a request body.
    required_fields: ClassVar[tuple[str, ...]] = ()

    def __repr_args__(self) -> Any:
        # Only what was set: a Zoho object has dozens of fields, most of them unset.
        shown = self.model_fields_set | set(self.__pydantic_extra__ or {})
        for name, value in super().__repr_args__():
            if name in shown:
                yield name, value

    def to_dict(self) -> dict[str, Any]:
        """What the SDK sends: Zoho's names, only fields that were set, Python values
        (``Decimal``, ``date``, ``datetime``) that the request pipeline encodes.

        A value a listing kept as Zoho sent it (``zbooks.models.parse``) goes back
        unchanged, without pydantic's "unexpected value" warning."""
        return self.model_dump(mode="python", by_alias=True, exclude_unset=True, warnings=False)

    def to_json(self) -> str:
        """The JSON Zoho expects: amounts as numbers, ``yyyy-mm-dd`` dates and
        ``2023-11-18T02:02:51-0800`` timestamps."""
        from zbooks.core.jsonwire import dumps  # exact Decimal digits, never a float

        return dumps(self.to_dict(), separators=(",", ":"))


__all__ = ["ZohoEnum", "ZohoModel", "json_default"]
