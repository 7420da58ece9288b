"""CRM search: filter groups (OR of ANDed filters), sorts, and paging with HubSpot's limits.

Scans the records of one type; values of number and datetime properties are compared as numbers
(datetimes as epoch ms), everything else as case-insensitive text, as HubSpot's index does.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from .errors import ApiError, bad_request
from .search_index import SearchIndex
from .store import ObjectStore, Record
from .timeutil import parse_ms

MAX_GROUPS = 5
MAX_FILTERS = 25
MAX_PAGE = 200
RESULT_CAP = 10_000
OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# Properties a free-text `query` looks in, per object (HubSpot's default searchable properties).
QUERY_PROPERTIES = {
    "deals": ("dealname", "description"),
    "companies": ("name", "domain", "website", "phone"),
    "contacts": ("firstname", "lastname", "email", "phone", "company"),
    "notes": ("hs_note_body",),
    "tasks": ("hs_task_subject", "hs_task_body"),
}

Predicate = Callable[[dict[str, str | None]], bool]


@lru_cache(maxsize=200_000)
def _ms(value: str) -> int | None:
    return parse_ms(value)


def _key_for(kind: str) -> Callable[[Any], Any]:
    """How a stored value becomes comparable: float, epoch ms, or lower-case text."""
    if kind == "number":

        def number(value: Any) -> Any:
            try:
                return float(value)
            except (TypeError, ValueError):
                return None

        return number
    if kind in ("datetime", "date"):
        return lambda value: _ms(str(value)) if value is not None else None
    return lambda value: str(value).lower() if value is not None else None


def _filter(f: Any, defs: dict[str, dict[str, Any]]) -> Predicate:
    if not isinstance(f, dict):
        raise bad_request("Each filter must be an object")
    name, op = f.get("propertyName"), str(f.get("operator", "")).upper()
    if op not in OPERATORS:
        raise bad_request(f"Unsupported operator {f.get('operator')!r}; use one of {sorted(OPERATORS)}")
    if name not in defs:
        raise bad_request(
            f"Property {name!r} does not exist and cannot be used in a filter",
            subCategory="PROPERTY_DOESNT_EXIST",
        )
    key = _key_for(defs[name]["type"])

    def arg(field: str) -> Any:
        if field not in f or f[field] is None:
            raise bad_request(f"Filter on {name} with operator {op} needs '{field}'")
        converted = key(f[field])
        if converted is None:
            raise bad_request(f"{f[field]!r} is not a valid value for {name} ({defs[name]['type']})")
        return converted

    if op == "HAS_PROPERTY":
        return lambda p: p.get(name) is not None
    if op == "NOT_HAS_PROPERTY":
        return lambda p: p.get(name) is None
    if op in ("IN", "NOT_IN"):
        raw = f.get("values")
        if not isinstance(raw, list):
            raise bad_request(f"Filter on {name} with operator {op} needs 'values' (a list)")
        values = {key(v) for v in raw}
        if op == "IN":
            return lambda p: key(p.get(name)) in values
        return lambda p: key(p.get(name)) not in values
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        wanted = str(f.get("value", "")).lower()
        pattern = wanted if "*" in wanted else None
        tokens = _TOKEN.findall(wanted)

        def contains(p: dict[str, str | None]) -> bool:
            text = p.get(name)
            if text is None:
                return False
            have = _TOKEN.findall(text.lower())
            if pattern is not None:
                return fnmatch.fnmatchcase(text.lower(), pattern) or any(
                    fnmatch.fnmatchcase(t, pattern) for t in have
                )
            return bool(tokens) and all(t in have for t in tokens)

        return contains if op == "CONTAINS_TOKEN" else (lambda p: not contains(p))
    if op == "BETWEEN":
        low, high = arg("value"), arg("highValue")

        def between(p: dict[str, str | None]) -> bool:
            v = key(p.get(name))
            return v is not None and low <= v <= high

        return between
    value = arg("value")
    if op == "EQ":
        return lambda p: key(p.get(name)) == value
    if op == "NEQ":
        return lambda p: key(p.get(name)) != value
    compare: Callable[[Any], bool] = {
        "GT": lambda a: a > value,
        "GTE": lambda a: a >= value,
        "LT": lambda a: a < value,
        "LTE": lambda a: a <= value,
    }[op]

    def ordered(p: dict[str, str | None]) -> bool:
        v = key(p.get(name))
        return v is not None and compare(v)

    return ordered


def compile_groups(groups: Any, defs: dict[str, dict[str, Any]]) -> Predicate:
    if groups is None:
        groups = []
    if not isinstance(groups, list):
        raise bad_request("filterGroups must be a list")
    total = sum(len(g.get("filters") or []) for g in groups if isinstance(g, dict))
    if len(groups) > MAX_GROUPS or total > MAX_FILTERS:
        raise bad_request(
            f"Too many filters: at most {MAX_GROUPS} filterGroups and {MAX_FILTERS} filters in all "
            f"(got {len(groups)} groups, {total} filters)",
            subCategory="TOO_MANY_FILTERS",
        )
    compiled = [[_filter(f, defs) for f in (g.get("filters") or [])] for g in groups]
    compiled = [g for g in compiled if g]
    if not compiled:
        return lambda p: True
    return lambda p: any(all(f(p) for f in group) for group in compiled)


def _sorts(raw: Any, defs: dict[str, dict[str, Any]]) -> list[tuple[str, bool, Callable[[Any], Any]]]:
    out = []
    for item in raw or []:
        if isinstance(item, str):  # HubSpot also accepts "createdate" / "-createdate"
            name, descending = item.lstrip("-"), item.startswith("-")
        elif isinstance(item, dict):
            name = str(item.get("propertyName"))
            descending = str(item.get("direction", "ASCENDING")).upper() == "DESCENDING"
        else:
            raise bad_request("sorts must be property names or {propertyName, direction}")
        if name not in defs:
            raise bad_request(f"Cannot sort on unknown property {name!r}")
        out.append((name, descending, _key_for(defs[name]["type"])))
    return out


def run_search(
    store: ObjectStore, object_type: str, body: Any, index: SearchIndex | None = None
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("Invalid input JSON: search body must be an object")
    defs = store.registry.names(object_type)
    try:
        limit = int(body.get("limit", 10))
        offset = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise bad_request("limit and after must be integers") from None
    if limit < 1 or limit > MAX_PAGE:
        raise bad_request(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    if offset >= RESULT_CAP or offset < 0:
        raise ApiError(
            400,
            f"Search can page through at most {RESULT_CAP} results; after={offset} is past that. "
            "Narrow the filters instead.",
            "VALIDATION_ERROR",
            subCategory="SEARCH_RESULT_LIMIT",
        )
    predicate = compile_groups(body.get("filterGroups"), defs)
    query = str(body.get("query") or "").strip().lower()
    matched: list[Record] = []
    table = store.live[object_type]
    for record in index.visible(object_type, table) if index is not None else table.values():
        if not predicate(record.props):
            continue
        if query and not any(
            query in (record.props.get(q) or "").lower() for q in QUERY_PROPERTIES[object_type]
        ):
            continue
        matched.append(record)
    # Ties (and the unsorted default) fall back to id order, so paging is stable.
    matched.sort(key=lambda r: int(r.id))
    for name, descending, key in reversed(_sorts(body.get("sorts"), defs)):
        keyed = [(key(r.props.get(name)), r) for r in matched]
        present = [pair for pair in keyed if pair[0] is not None]
        present.sort(key=lambda pair: pair[0], reverse=descending)  # stable: earlier order breaks ties
        matched = [r for _, r in present] + [r for k, r in keyed if k is None]
    end = min(offset + limit, len(matched), RESULT_CAP)
    properties = body.get("properties")
    if properties is not None and not isinstance(properties, list):
        raise bad_request("properties must be a list of names")
    result: dict[str, Any] = {
        "total": len(matched),
        "results": [store.render(object_type, r, properties) for r in matched[offset:end]],
    }
    if end < len(matched):
        result["paging"] = {"next": {"after": str(end)}}
    return result
