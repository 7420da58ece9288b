"""CRM object types the emulator knows: names in paths, HubSpot's type ids, and per-type property names."""

from __future__ import annotations

from .errors import ApiError

TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tasks": "0-27", "notes": "0-46"}
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal", "tasks": "task", "notes": "note"}

# HubSpot accepts plural, singular and type-id spellings in paths; all map to the plural name.
_ALIASES = {alias.lower(): name for name, tid in TYPE_IDS.items() for alias in (name, SINGULAR[name], tid)}

# Engagements (notes, tasks) name their creation date hs_createdate; contacts keep the legacy
# lastmodifieddate next to hs_lastmodifieddate.
CREATED_PROPERTY = {
    "deals": "createdate",
    "companies": "createdate",
    "contacts": "createdate",
    "notes": "hs_createdate",
    "tasks": "hs_createdate",
}
MODIFIED_PROPERTIES = {"contacts": ("hs_lastmodifieddate", "lastmodifieddate")}

# What a read returns when the caller names no properties (HubSpot's defaults per object).
DEFAULT_READ = {
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "notes": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    "tasks": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
}


def modified_properties(object_type: str) -> tuple[str, ...]:
    return MODIFIED_PROPERTIES.get(object_type, ("hs_lastmodifieddate",))


def always_read(object_type: str) -> tuple[str, ...]:
    """Returned even when the caller asks for other properties, as HubSpot does."""
    return (CREATED_PROPERTY[object_type], *modified_properties(object_type), "hs_object_id")


def canonical(name: str) -> str:
    try:
        return _ALIASES[name.lower()]
    except KeyError:
        raise ApiError(400, f"Unable to infer object type from: {name}", "VALIDATION_ERROR") from None
