"""Contact persons: the people of a contact, exactly one of whom is primary.

Each person is its own record (module ``contactpersons``), the source of truth. The
contact keeps a denormalised copy (``contact_persons[]``, ``primary_contact_id`` and the
primary person's name, email and phones) because Zoho returns them inside the contact
and lets contact lists filter and sort on them in SQL. ``sync_contact`` rebuilds that
copy after every change, so the two can never drift.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from zbooks.sandbox.errors import invalid_value, not_found
from zbooks.sandbox.ledger.base import Ledger
from zbooks.sandbox.ledger.store import Filter
from zbooks.sandbox.ledger.taxes import bool_value, text_value

MODULE = "contactpersons"
CONTACTS = "contacts"

TEXT_FIELDS = (
    "salutation",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "designation",
    "department",
    "skype",
)
# Fields of the primary person copied onto the contact (list rows and list filters).
PRIMARY_FIELDS = ("salutation", "first_name", "last_name", "email", "phone", "mobile")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TIMES = ("created_time", "last_modified_time")


def _contact(ledger: Ledger, contact_id: str) -> dict[str, Any]:
    contact = ledger.store.get(CONTACTS, str(contact_id))
    if contact is None:
        raise not_found("Contact")
    return contact


def _apply(body: dict[str, Any], record: dict[str, Any]) -> None:
    for field in TEXT_FIELDS:
        if field in body:
            limit = 100 if field in ("first_name", "last_name", "email") else 0
            record[field] = text_value(body, field, limit).strip()
    if record.get("email") and not _EMAIL.match(record["email"]):
        raise invalid_value("email")
    for field in ("enable_portal", "is_primary_contact"):
        if field in body:
            record[field] = bool_value(body, field)
    if "communication_preference" in body:
        prefs = body["communication_preference"]
        if not isinstance(prefs, dict):
            raise invalid_value("communication_preference")
        merged = dict(record["communication_preference"])
        for key in merged:
            if key in prefs:
                merged[key] = bool_value(prefs, key)
        record["communication_preference"] = merged


def new_person(ledger: Ledger, contact_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A validated person record for ``contact_id`` (not stored yet)."""
    record: dict[str, Any] = {
        "contact_person_id": ledger.store.new_id(),
        "contact_id": str(contact_id),
        **{field: "" for field in TEXT_FIELDS},
        "is_primary_contact": False,
        "enable_portal": False,
        "is_added_in_portal": False,
        "communication_preference": {
            "is_email_enabled": True,
            "is_sms_enabled": False,
            "is_whatsapp_enabled": False,
        },
    }
    _apply(body, record)
    record["is_added_in_portal"] = record["enable_portal"]
    return record


def persons_of(ledger: Ledger, contact_id: str) -> list[dict[str, Any]]:
    """The contact's persons in creation order."""
    return ledger.store.find(MODULE, [Filter("contact_id", "eq", str(contact_id))])


def embedded(person: dict[str, Any]) -> dict[str, Any]:
    """A person as it appears inside the contact's ``contact_persons[]``."""
    return {k: v for k, v in person.items() if k not in _TIMES and k != "contact_id"}


def denormalised(persons: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The contact fields derived from its persons (primary first in the array)."""
    primary = next((p for p in persons if p.get("is_primary_contact")), None)
    ordered = sorted(persons, key=lambda p: not p.get("is_primary_contact"))
    fields: dict[str, Any] = {
        "contact_persons": [embedded(p) for p in ordered],
        "primary_contact_id": primary["contact_person_id"] if primary else "",
    }
    for field in PRIMARY_FIELDS:
        fields[field] = primary.get(field, "") if primary else ""
    return fields


def sync_contact(ledger: Ledger, contact_id: str, *, touch: bool = True) -> dict[str, Any]:
    """Make exactly one person primary (the oldest when none is) and refresh the
    contact's copy. Returns the saved contact."""
    with ledger.db.transaction():
        contact = _contact(ledger, contact_id)
        persons = persons_of(ledger, contact_id)
        primaries = [p for p in persons if p.get("is_primary_contact")]
        keep = primaries[-1] if primaries else (persons[0] if persons else None)
        now = ledger.now()
        for person in persons:
            should = keep is not None and person["contact_person_id"] == keep["contact_person_id"]
            if bool(person.get("is_primary_contact")) != should:
                person["is_primary_contact"] = should
                ledger.store.update(MODULE, person["contact_person_id"], person, now)
        contact.update(denormalised(persons))
        ledger.store.update(CONTACTS, str(contact_id), contact, now, touch=touch)
    return contact


def get_person(ledger: Ledger, person_id: str, contact_id: str = "") -> dict[str, Any]:
    person = ledger.store.get(MODULE, str(person_id))
    if person is None or (contact_id and person.get("contact_id") != str(contact_id)):
        raise not_found("Contact person")
    return person


def create_person(ledger: Ledger, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /contacts/contactpersons``: ``contact_id`` and ``first_name`` required.

    The first person of a contact becomes primary; ``is_primary_contact: true`` moves
    the primary flag to the new person.
    """
    contact_id = text_value(body, "contact_id").strip()
    if not contact_id:
        raise invalid_value("contact_id")
    if not text_value(body, "first_name").strip():
        raise invalid_value("first_name")
    with ledger.db.transaction():
        _contact(ledger, contact_id)
        person = new_person(ledger, contact_id, body)
        if person["is_primary_contact"]:
            _clear_primary(ledger, contact_id)
        ledger.store.insert(MODULE, person["contact_person_id"], person, ledger.now())
        sync_contact(ledger, contact_id)
        return get_person(ledger, person["contact_person_id"])


def _clear_primary(ledger: Ledger, contact_id: str, keep: str = "") -> None:
    for other in persons_of(ledger, contact_id):
        if other.get("is_primary_contact") and other["contact_person_id"] != keep:
            other["is_primary_contact"] = False
            ledger.store.update(MODULE, other["contact_person_id"], other, ledger.now())


def update_person(ledger: Ledger, person_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Partial update. A contact with persons always has one primary: un-flagging the
    primary hands the role to the oldest person (possibly the same one)."""
    with ledger.db.transaction():
        person = get_person(ledger, person_id)
        if "contact_id" in body and str(body["contact_id"]) != person["contact_id"]:
            raise invalid_value("contact_id")
        if "first_name" in body and not text_value(body, "first_name").strip():
            raise invalid_value("first_name")
        _apply(body, person)
        person["is_added_in_portal"] = person["enable_portal"]
        if person["is_primary_contact"]:
            _clear_primary(ledger, person["contact_id"], keep=person["contact_person_id"])
        ledger.store.update(MODULE, person["contact_person_id"], person, ledger.now())
        sync_contact(ledger, person["contact_id"])
        return get_person(ledger, person_id)


def delete_person(ledger: Ledger, person_id: str) -> None:
    """Delete a person; when it was primary, the oldest remaining person takes over
    (UNCONFIRMED: Zoho may instead refuse to delete the primary person)."""
    with ledger.db.transaction():
        person = get_person(ledger, person_id)
        ledger.store.delete(MODULE, person["contact_person_id"])
        sync_contact(ledger, person["contact_id"])


def mark_primary(ledger: Ledger, person_id: str) -> None:
    with ledger.db.transaction():
        person = get_person(ledger, person_id)
        _clear_primary(ledger, person["contact_id"], keep=person["contact_person_id"])
        if not person.get("is_primary_contact"):
            person["is_primary_contact"] = True
            ledger.store.update(MODULE, person["contact_person_id"], person, ledger.now())
        sync_contact(ledger, person["contact_id"])


def replace_persons(ledger: Ledger, contact_id: str, bodies: Any) -> None:
    """``contact_persons`` in a contact PUT replaces the set (api-facts §2.8): entries
    with a known ``contact_person_id`` are updated, others created, the rest deleted."""
    if not isinstance(bodies, list) or not all(isinstance(b, dict) for b in bodies):
        raise invalid_value("contact_persons")
    existing = {p["contact_person_id"]: p for p in persons_of(ledger, contact_id)}
    now = ledger.now()
    kept: set[str] = set()
    chosen = ""
    for body in bodies:
        person_id = str(body.get("contact_person_id") or "")
        if person_id:
            if person_id not in existing:
                raise invalid_value("contact_person_id")
            person = existing[person_id]
            _apply(body, person)
            person["is_added_in_portal"] = person["enable_portal"]
            ledger.store.update(MODULE, person_id, person, now)
        else:
            person = new_person(ledger, contact_id, body)
            ledger.store.insert(MODULE, person["contact_person_id"], person, now)
        kept.add(person["contact_person_id"])
        if body.get("is_primary_contact") is True and not chosen:
            chosen = person["contact_person_id"]
    for person_id in existing.keys() - kept:
        ledger.store.delete(MODULE, person_id)
    if chosen:
        _clear_primary(ledger, contact_id, keep=chosen)
