"""Associations between records, kept in both directions with HubSpot's default type ids.

HubSpot association types are one-way; each has an inverse (deal→company primary 5 ⇄ company→deal
primary 6). Storing both sides lets every read be a dictionary lookup.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .errors import ApiError


@dataclass(frozen=True)
class AssocType:
    from_type: str
    to_type: str
    type_id: int
    name: str
    label: str | None = None


# (from, to, id, v3 name, label) and its inverse; HubSpot's HUBSPOT_DEFINED defaults.
_PAIRS = [
    (
        ("deals", "companies", 341, "deal_to_company_unlabeled", None),
        ("companies", "deals", 342, "company_to_deal_unlabeled", None),
    ),
    (
        ("deals", "companies", 5, "deal_to_company", "Primary"),
        ("companies", "deals", 6, "company_to_deal", "Primary"),
    ),
    (("deals", "contacts", 3, "deal_to_contact", None), ("contacts", "deals", 4, "contact_to_deal", None)),
    (
        ("contacts", "companies", 279, "contact_to_company_unlabeled", None),
        ("companies", "contacts", 280, "company_to_contact_unlabeled", None),
    ),
    (
        ("contacts", "companies", 1, "contact_to_company", "Primary"),
        ("companies", "contacts", 2, "company_to_contact", "Primary"),
    ),
    (("notes", "deals", 214, "note_to_deal", None), ("deals", "notes", 213, "deal_to_note", None)),
    (
        ("notes", "contacts", 202, "note_to_contact", None),
        ("contacts", "notes", 201, "contact_to_note", None),
    ),
    (
        ("notes", "companies", 190, "note_to_company", None),
        ("companies", "notes", 189, "company_to_note", None),
    ),
    (("tasks", "deals", 216, "task_to_deal", None), ("deals", "tasks", 215, "deal_to_task", None)),
    (
        ("tasks", "contacts", 204, "task_to_contact", None),
        ("contacts", "tasks", 203, "contact_to_task", None),
    ),
    (
        ("tasks", "companies", 192, "task_to_company", None),
        ("companies", "tasks", 191, "company_to_task", None),
    ),
]
TYPES: dict[tuple[str, str, int], AssocType] = {}
INVERSE: dict[tuple[str, str, int], int] = {}
BY_NAME: dict[str, AssocType] = {}
for _a, _b in _PAIRS:
    for this, other in ((_a, _b), (_b, _a)):
        TYPES[this[:3]] = AssocType(*this)
        INVERSE[this[:3]] = other[2]
        BY_NAME[this[3]] = TYPES[this[:3]]

# The unlabeled type the default endpoints create, and the primary one added when there is none yet.
DEFAULT_TYPE = {(t.from_type, t.to_type): t.type_id for t in TYPES.values() if t.label is None}
PRIMARY_TYPE = {(t.from_type, t.to_type): t.type_id for t in TYPES.values() if t.label == "Primary"}


TARGET_BY_TYPE = {(t.from_type, t.type_id): t.to_type for t in TYPES.values()}


def resolve_type_id(type_id: object) -> int:
    try:
        return int(str(type_id))
    except ValueError:
        raise ApiError(400, f"associationTypeId {type_id!r} is not a number") from None


def resolve_type(from_type: str, to_type: str, category: str | None, type_id: object) -> int:
    tid = resolve_type_id(type_id)
    if (category or "HUBSPOT_DEFINED") == "HUBSPOT_DEFINED" and (from_type, to_type, tid) not in TYPES:
        raise ApiError(
            400,
            f"{tid} is not a valid HUBSPOT_DEFINED association type from {from_type} to {to_type}",
            subCategory="crm.associations.INVALID_ASSOCIATION_TYPE",
        )
    return tid


def type_json(from_type: str, to_type: str, tid: int) -> dict[str, object]:
    known = TYPES.get((from_type, to_type, tid))
    category = "HUBSPOT_DEFINED" if known else "USER_DEFINED"
    return {"category": category, "typeId": tid, "label": known.label if known else None}


class AssociationStore:
    """links[(from_type, to_type)][from_id][to_id] = set of type ids; every write mirrored."""

    def __init__(self) -> None:
        self.links: defaultdict[tuple[str, str], defaultdict[str, dict[str, set[int]]]] = defaultdict(
            lambda: defaultdict(dict)
        )

    def add(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: set[int] | list[int]
    ) -> bool:
        """Add types; True when something new was linked."""
        forward = self.links[(from_type, to_type)][from_id].setdefault(to_id, set())
        backward = self.links[(to_type, from_type)][to_id].setdefault(from_id, set())
        before = len(forward)
        type_ids = set(type_ids)
        default = DEFAULT_TYPE.get((from_type, to_type))
        if default is not None:  # a labelled association always carries the unlabeled one too
            type_ids.add(default)
        for tid in type_ids:
            forward.add(tid)
            backward.add(INVERSE.get((from_type, to_type, tid), tid))
        return len(forward) != before

    def default_types(self, from_type: str, from_id: str, to_type: str) -> set[int]:
        """HubSpot's default association: unlabeled, plus primary if the record has no primary yet."""
        types = {DEFAULT_TYPE[(from_type, to_type)]} if (from_type, to_type) in DEFAULT_TYPE else set()
        primary = PRIMARY_TYPE.get((from_type, to_type))
        if primary is not None and from_type != "companies":
            current = self.links[(from_type, to_type)].get(from_id, {})
            if not any(primary in tids for tids in current.values()):
                types.add(primary)
        if not types:
            raise ApiError(400, f"No default association type from {from_type} to {to_type}")
        return types

    def remove(self, from_type: str, from_id: str, to_type: str, to_id: str) -> bool:
        forward = self.links[(from_type, to_type)].get(from_id, {})
        backward = self.links[(to_type, from_type)].get(to_id, {})
        found = forward.pop(to_id, None) is not None
        backward.pop(from_id, None)
        return found

    def get(self, from_type: str, from_id: str, to_type: str) -> dict[str, set[int]]:
        return self.links[(from_type, to_type)].get(from_id, {})

    def drop_object(self, object_type: str, object_id: str) -> list[tuple[str, str, set[int]]]:
        """Remove every link of a record (it was archived); returns (to_type, to_id, types) removed."""
        removed = []
        for (from_type, to_type), by_from in list(self.links.items()):
            if from_type != object_type or object_id not in by_from:
                continue
            for to_id, tids in by_from.pop(object_id).items():
                self.links[(to_type, from_type)].get(to_id, {}).pop(object_id, None)
                removed.append((to_type, to_id, tids))
        return removed

    def clear(self) -> None:
        self.links.clear()
