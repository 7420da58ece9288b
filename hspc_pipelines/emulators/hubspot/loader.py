"""Bulk loading of seed data straight into the store: no HTTP, no per-value validation, no webhooks.

Seeds stand for data that already exists in a portal (possibly entered before a property's options
changed), so values are stored as given; that is also what makes 10,000 deals load in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import bad_request
from .objecttypes import CREATED_PROPERTY, canonical
from .state import State
from .timeutil import now_ms, parse_ms


def _ms(value: Any, fallback: int) -> int:
    parsed = parse_ms(value) if value not in (None, "") else None
    return fallback if parsed is None else parsed


def load_payload(state: State, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Insert `objects` ({type: [{id?, properties}]}), `associations` and `pipelines`; returns ids per type."""
    now = now_ms()
    store = state.store
    ids: dict[str, list[str]] = {}
    for type_name, items in (payload.get("objects") or {}).items():
        object_type = canonical(type_name)
        created_prop = CREATED_PROPERTY[object_type]
        out = ids.setdefault(object_type, [])
        for item in items:
            props = {
                k: (None if v == "" or v is None else str(v))
                for k, v in (item.get("properties") or {}).items()
            }
            created = _ms(props.get(created_prop), now)
            updated = _ms(props.pop("hs_lastmodifieddate", None), created)
            props.pop("lastmodifieddate", None)
            props.pop("hs_object_id", None)
            object_id = item.get("id")
            record = store.insert(
                object_type,
                props,
                now,
                object_id=None if object_id is None else str(object_id),
                created_ms=created,
                updated_ms=updated,
            )
            out.append(record.id)
    add = state.assoc.add
    for link in payload.get("associations") or []:
        try:
            from_type, to_type = canonical(link["from"]["type"]), canonical(link["to"]["type"])
            types = link.get("types") or [link["typeId"]]
            add(from_type, str(link["from"]["id"]), to_type, str(link["to"]["id"]), {int(t) for t in types})
        except (KeyError, TypeError, ValueError) as exc:
            raise bad_request(f"Bad association in seed: {link!r} ({exc})") from None
    for pipeline in payload.get("pipelines") or []:
        state.pipelines.add(pipeline)
    return {
        "ids": ids,
        "counts": {t: len(v) for t, v in ids.items()},
        "associations": len(payload.get("associations") or []),
    }
