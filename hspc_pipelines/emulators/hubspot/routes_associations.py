"""Associations (v4 and date-based): batch read/create/associate-default/archive, and per-record default/labelled/list/delete."""

from __future__ import annotations

from typing import Any

from .associations import resolve_type, type_json
from .errors import ApiError, bad_request
from .objecttypes import SINGULAR, TYPE_IDS, canonical
from .routes_objects import _batch_envelope, _inputs
from .routing import Call, Reply, Router
from .state import State
from .timeutil import now_ms

READ_LIMIT = 1_000
WRITE_LIMIT = 100  # v4 batch writes take 100 pairs a call (HubSpot's documented limit for create/archive)


def _pair(call: Call) -> tuple[str, str]:
    return canonical(call.params["from_type"]), canonical(call.params["to_type"])


def _id(value: Any, what: str) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or str(value) == "":
        raise bad_request(f"{what} needs an id")
    return str(value)


def _types(from_type: str, to_type: str, raw: Any) -> list[int]:
    if not isinstance(raw, list) or not raw:
        raise bad_request("types must be a non-empty list of {associationCategory, associationTypeId}")
    return [
        resolve_type(from_type, to_type, t.get("associationCategory"), t.get("associationTypeId"))
        for t in raw
    ]


def _spec_result(
    from_type: str, from_id: str, to_type: str, to_id: str, tids: list[int] | set[int]
) -> dict[str, Any]:
    return {
        "fromObjectTypeId": TYPE_IDS[from_type],
        "fromObjectId": int(from_id),
        "toObjectTypeId": TYPE_IDS[to_type],
        "toObjectId": int(to_id),
        "labels": [j["label"] for t in sorted(tids) if (j := type_json(from_type, to_type, t))["label"]],
    }


def _missing_error(object_type: str, ids: list[str]) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "subCategory": "crm.associations.INVALID_OBJECT_IDS",
        "message": f"No {SINGULAR[object_type]}s with ids {ids} exist",
        "context": {"ids": ids},
    }


def batch_read(state: State, call: Call) -> Reply:
    started = now_ms()
    from_type, to_type = _pair(call)
    ids = [_id(i, "each input") for i in _inputs(call.json_object(), READ_LIMIT)]
    results, errors = [], []
    for from_id in dict.fromkeys(ids):
        links = state.assoc.get(from_type, from_id, to_type)
        if not links:
            errors.append(
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                    "message": f"No {SINGULAR[to_type]} is associated with {SINGULAR[from_type]} {from_id}.",
                    "context": {"fromObjectId": [from_id]},
                }
            )
            continue
        results.append(
            {
                "from": {"id": from_id},
                "to": [
                    {
                        "toObjectId": int(to_id),
                        "associationTypes": [type_json(from_type, to_type, t) for t in sorted(tids)],
                    }
                    for to_id, tids in links.items()
                ],
            }
        )
    return Reply(207 if errors else 200, _batch_envelope(results, errors, started))


def batch_create(state: State, call: Call) -> Reply:
    started = now_ms()
    from_type, to_type = _pair(call)
    results, missing = [], []
    for item in _inputs(call.json_object(), WRITE_LIMIT):
        from_id, to_id = _id(item.get("from"), "from"), _id(item.get("to"), "to")
        tids = _types(from_type, to_type, item.get("types"))
        absent = [i for t, i in ((from_type, from_id), (to_type, to_id)) if state.store.get(t, i) is None]
        if absent:
            missing += absent
            continue
        state.associate(from_type, from_id, to_type, to_id, tids, call.source)
        results.append(_spec_result(from_type, from_id, to_type, to_id, tids))
    errors = [_missing_error(from_type, missing)] if missing else []
    return Reply(207 if errors else 201, _batch_envelope(results, errors, started))


def _default(
    state: State, call: Call, from_type: str, from_id: str, to_type: str, to_id: str
) -> list[dict[str, Any]]:
    state.require(from_type, from_id)
    state.require(to_type, to_id)
    tids = state.assoc.default_types(from_type, from_id, to_type)
    state.associate(from_type, from_id, to_type, to_id, tids, call.source)
    return [
        {
            "from": {"id": from_id},
            "to": {"id": to_id},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t},
        }
        for t in sorted(tids)
    ]


def batch_default(state: State, call: Call) -> Reply:
    started = now_ms()
    from_type, to_type = _pair(call)
    results: list[dict[str, Any]] = []
    for item in _inputs(call.json_object(), WRITE_LIMIT):
        results += _default(
            state, call, from_type, _id(item.get("from"), "from"), to_type, _id(item.get("to"), "to")
        )
    return Reply(200, _batch_envelope(results, [], started))


def put_default(state: State, call: Call) -> Reply:
    from_type, to_type = _pair(call)
    results = _default(state, call, from_type, call.params["from_id"], to_type, call.params["to_id"])
    return Reply(200, _batch_envelope(results, [], now_ms()))


def put_labelled(state: State, call: Call) -> Reply:
    from_type, to_type = _pair(call)
    from_id, to_id = call.params["from_id"], call.params["to_id"]
    tids = _types(from_type, to_type, call.json())
    state.associate(from_type, from_id, to_type, to_id, tids, call.source)
    return Reply(201, _spec_result(from_type, from_id, to_type, to_id, tids))


def list_for_record(state: State, call: Call) -> Reply:
    from_type, to_type = _pair(call)
    state.require(from_type, call.params["from_id"])
    links = state.assoc.get(from_type, call.params["from_id"], to_type)
    return Reply(
        200,
        {
            "results": [
                {
                    "toObjectId": int(to_id),
                    "associationTypes": [type_json(from_type, to_type, t) for t in sorted(tids)],
                }
                for to_id, tids in links.items()
            ]
        },
    )


def delete_for_record(state: State, call: Call) -> Reply:
    from_type, to_type = _pair(call)
    state.unassociate(from_type, call.params["from_id"], to_type, call.params["to_id"], call.source)
    return Reply(204)


def batch_archive(state: State, call: Call) -> Reply:
    from_type, to_type = _pair(call)
    for item in _inputs(call.json_object(), WRITE_LIMIT):
        from_id = _id(item.get("from"), "from")
        targets = item.get("to") or []
        if not isinstance(targets, list):
            raise ApiError(400, "to must be a list of {id}")
        for target in targets:
            state.unassociate(from_type, from_id, to_type, _id(target, "to"), call.source)
    return Reply(204)


def register(router: Router) -> None:
    base = "/crm/v4/associations/{from_type}/{to_type}/batch"  # and /crm/associations/{version}/...
    router.add_both("POST", f"{base}/read", batch_read)
    router.add_both("POST", f"{base}/create", batch_create)
    router.add_both("POST", f"{base}/associate/default", batch_default)
    router.add_both("POST", f"{base}/archive", batch_archive)
    record = "/crm/v4/objects/{from_type}/{from_id}/associations"  # and /crm/objects/{version}/...
    router.add_both("PUT", f"{record}/default/{{to_type}}/{{to_id}}", put_default)
    router.add_both("PUT", f"{record}/{{to_type}}/{{to_id}}", put_labelled)
    router.add_both("DELETE", f"{record}/{{to_type}}/{{to_id}}", delete_for_record)
    router.add_both("GET", f"{record}/{{to_type}}", list_for_record)
