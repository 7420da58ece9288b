"""A flat, normalised view of the HubSpot-owned fields of any opportunity-shaped dict.

A create request, an update request and the record GetOpportunity returns for them compare equal
through this view; the sync plan diffs views to decide whether anything needs writing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from .build import OWNED_KEYS, OWNED_PATHS, Path, owned_fields
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
    for logical in owned_fields(config):
        for path in OWNED_PATHS[logical]:
            try:
                view[OWNED_KEYS[path]] = normalise(path[-1], dig(opportunity_like, *path))
            except Exception:  # a junk value is shown as None rather than breaking the plan
                view[OWNED_KEYS[path]] = None
    return view


def diff_views(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The members whose normalised values differ, as (old, new), in key order."""
    return {k: (old.get(k), new.get(k)) for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)}


def same_raw(value: Any, other: Any) -> bool:
    """Equal as plain JSON data (str, list, dict, None leaves), so that `normalise` cannot tell them apart.

    `==` alone is not enough: 1 == 1.0 == True, but their views ("1", "1.0", "True") differ."""
    kind = type(value)
    if kind is not type(other):
        return False
    if kind is str or value is None:
        return bool(value == other)
    if kind is list:
        if len(value) != len(other):
            return False
        pairs: Any = zip(value, other, strict=True)
    elif kind is dict:
        if value.keys() != other.keys():
            return False
        pairs = ((item, other[key]) for key, item in value.items())
    else:
        return False
    for a, b in pairs:  # strings inline: most members are
        if type(a) is str:
            if type(b) is not str or a != b:
                return False
        elif not same_raw(a, b):
            return False
    return True


# owned paths as a tree ({"Project": {"Title": ("Project", "Title"), …}, …}: a leaf holds its path),
# per tuple of owned fields
Tree = dict[str, Any]


@functools.lru_cache(maxsize=64)
def _owned_tree(fields: tuple[str, ...]) -> Tree:
    tree: Tree = {}
    for logical in fields:
        for path in OWNED_PATHS[logical]:
            node = tree
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = path
    return tree


def _child(node: Any, key: str) -> Any:
    """One step of `dig`: None below anything that is not a mapping."""
    if type(node) is dict or isinstance(node, Mapping):
        return node.get(key)
    return None


def _same_owned(old: Any, new: Any, tree: Tree) -> bool:
    """`same_raw(dig(old, *path), dig(new, *path))` for every path of `tree`, each level read once."""
    for key, sub in tree.items():
        a = old.get(key) if type(old) is dict else _child(old, key)
        b = new.get(key) if type(new) is dict else _child(new, key)
        if type(sub) is tuple:
            if not same_raw(a, b):
                return False
        elif not _same_owned(a, b, sub):
            return False
    return True


def owned_leaves(record: Any, config: MappingConfig) -> list[tuple[Path, Any]]:
    """(path, `dig(record, *path)`) for every HubSpot-owned member, each level of `record` read once."""
    out: list[tuple[Path, Any]] = []
    _leaves(record, _owned_tree(owned_fields(config)), out)
    return out


def _leaves(node: Any, tree: Tree, out: list[tuple[Path, Any]]) -> None:
    for key, sub in tree.items():
        value = node.get(key) if type(node) is dict else _child(node, key)
        if type(sub) is tuple:
            out.append((sub, value))
        else:
            _leaves(value, sub, out)


def owned_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], config: MappingConfig
) -> dict[str, tuple[Any, Any]]:
    """`diff_views(hubspot_owned_view(old), hubspot_owned_view(new))`, without normalising anything
    when every HubSpot-owned member holds the same raw value on both sides (the usual case)."""
    try:
        same = _same_owned(old, new, _owned_tree(owned_fields(config)))
    except Exception:  # a hostile value: let the views decide
        same = False
    if same:
        return {}
    return diff_views(hubspot_owned_view(old, config), hubspot_owned_view(new, config))
