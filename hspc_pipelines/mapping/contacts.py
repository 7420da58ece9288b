"""HubSpot contacts → Customer.Contacts (at most 10, E.164 phones, lower-case emails)."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import phonenumbers

from . import model
from .errors import FieldError
from .values import text

_EMAIL_PATTERN = model.pattern("Customer.Contacts.Email")
_PHONE = re.compile(r"\+[1-9]\d{1,14}")
_NAME_MAX = 80


@functools.lru_cache(maxsize=65_536)
def normalise_phone(raw: str, region: str | None) -> str | None:
    """E.164 (`+14155550123`) using the company's country as the hint for national numbers.

    Memoised: pure, and the same numbers (switchboards, formats) recur across contacts."""
    if len(raw) > 64:
        return None
    try:
        parsed = phonenumbers.parse(raw, region if region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return formatted if _PHONE.fullmatch(formatted) else None


def _cut(value: str | None, field: str, index: int, warnings: list[str]) -> str | None:
    if value is not None and len(value) > _NAME_MAX:
        warnings.append(f"contact_truncated: contact {index} {field} cut to {_NAME_MAX} characters")
        return value[:_NAME_MAX].rstrip() or None
    return value


def map_contacts(
    contacts: object, region: str | None, limit: int, warnings: list[str]
) -> list[dict[str, Any]]:
    """Contacts with an email or a name, deduplicated by email, in the order HubSpot gave them."""
    if not isinstance(contacts, Sequence) or isinstance(contacts, str | bytes):
        if contacts is not None:
            warnings.append(f"contacts_ignored: contacts is a {type(contacts).__name__}, expected a list")
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, props in enumerate(contacts):
        ignored: list[FieldError] = []  # a contact's bad field drops the field, never the deal
        email = text(props, "email", ignored)
        first = _cut(text(props, "firstname", ignored), "firstname", index, warnings)
        last = _cut(text(props, "lastname", ignored), "lastname", index, warnings)
        title = _cut(text(props, "jobtitle", ignored), "jobtitle", index, warnings)
        phone_raw = text(props, "phone", ignored) or text(props, "mobilephone", ignored)
        warnings += [f"contact_field_ignored: contact {index}: {e}" for e in ignored]
        if email is not None:
            email = email.lower()
            if not model.matches(_EMAIL_PATTERN, email):
                warnings.append(f"contact_email_dropped: contact {index} email {email[:80]!r} is not valid")
                email = None
        if email is None and first is None and last is None:
            continue  # nothing that identifies a person
        if email is not None:
            if email in seen:
                continue
            seen.add(email)
        contact: dict[str, Any] = {}
        if email:
            contact["Email"] = email
        if first:
            contact["FirstName"] = first
        if last:
            contact["LastName"] = last
        if title:
            contact["BusinessTitle"] = title
        if phone_raw:
            phone = normalise_phone(phone_raw, region)
            if phone:
                contact["Phone"] = phone
            else:
                warnings.append(
                    f"contact_phone_dropped: contact {index} phone {phone_raw[:40]!r} is not a "
                    "valid number (E.164, +<country code><number>)"
                )
        out.append(contact)
        if len(out) == limit:
            if index + 1 < len(contacts):
                warnings.append(
                    f"contacts_limited: {len(contacts)} contacts, only the first {limit} are sent"
                )
            break
    return out


def contact_to_hubspot(contact: object) -> dict[str, str | None]:
    get = contact.get if isinstance(contact, dict) else (lambda _k: None)
    return {
        "email": get("Email"),
        "firstname": get("FirstName"),
        "lastname": get("LastName"),
        "jobtitle": get("BusinessTitle"),
        "phone": get("Phone"),
    }
