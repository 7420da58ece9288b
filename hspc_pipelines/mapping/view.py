"""A flat, normalised view of the HubSpot-owned fields of any opportunity-shaped dict.

A create request, an update request and the record GetOpportunity returns for them compare equal
through this view; the sync plan diffs views to decide whether anything needs writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .build import OWNED_PATHS
from .config import MappingConfig
from .values import canonical_amount, date_text, dig

ViewValue = str | list[str] | None
_SORTED_LISTS = {"DeliveryModels", "PrimaryNeedsFromAws"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    out = str(value).strip()
    return out or None


def _spend(value: Any) -> list[str] | None:
    if not isinstance(value, list | tuple):
        return None
    out = []
    for entry in value:
        if isinstance(entry, Mapping):
            parts = (
                canonical_amount(entry.get("Amount")),
                entry.get("CurrencyCode"),
                entry.get("Frequency"),
                entry.get("TargetCompany"),
            )
            out.append("|".join(_text(p) or "" for p in parts))
    return sorted(out) or None


def _contacts(value: Any) -> list[str] | None:
    if not isinstance(value, list | tuple):
        return None
    out = []
    for c in value:
        if isinstance(c, Mapping):
            email = (_text(c.get("Email")) or "").lower()
            parts = [email] + [
                _text(c.get(k)) or "" for k in ("FirstName", "LastName", "BusinessTitle", "Phone")
            ]
            out.append("|".join(parts))
    return sorted(out) or None


def normalise(member: str, value: Any) -> ViewValue:
    if member == "ExpectedCustomerSpend":
        return _spend(value)
    if member == "Contacts":
        return _contacts(value)
    if member == "TargetCloseDate":
        return date_text(value) or _text(value)
    if member in _SORTED_LISTS:
        items = sorted({t for t in (_text(v) for v in value) if t}) if isinstance(value, list | tuple) else []
        return items or None
    return _text(value)


def hubspot_owned_view(opportunity_like: Mapping[str, Any], config: MappingConfig) -> dict[str, object]:
    """`{"Project.Title": …, "LifeCycle.Stage": …}` for every member of every HubSpot-owned field."""
    view: dict[str, object] = {}
    for logical, paths in OWNED_PATHS.items():
        if not config.hubspot_owns(logical):
            continue
        for path in paths:
            try:
                view[".".join(path)] = normalise(path[-1], dig(opportunity_like, *path))
            except Exception:  # a junk value is shown as None rather than breaking the plan
                view[".".join(path)] = None
    return view
