"""CRM object endpoints (numbered v3 and date-based): single-record CRUD, list with cursor paging, batch
read/create/update/archive, search. Writes at 2026-09 or later meet the portal's validation rules."""

from __future__ import annotations

from typing import Any

from .associations import BY_NAME, TYPES
from .errors import ApiError, bad_request
from .objecttypes import SINGULAR, canonical
from .routing import Call, Reply, Router
from .search import run_search
from .state import State
from .store import Record, page_after
from .timeutil import iso_ms, now_ms
from .validation_rules import check as check_rules
from .validation_rules import enforced

BATCH_LIMIT = 100
LIST_LIMIT = 100


def _names(call: Call, key: str) -> list[str] | None:
    """`properties=a,b` and/or repeated `properties=a&properties=b`."""
    values = [v for raw in call.query.getlist(key) for v in raw.split(",") if v]
    return values or None


def _flag(call: Call, key: str) -> bool:
    return call.query.get(key, "false").lower() == "true"


def _with_associations(
    state: State, object_type: str, record: Record, to_types: list[str] | None, body: dict[str, Any]
) -> dict[str, Any]:
    """v3's `associations` block on single reads: {"companies": {"results": [{"id", "type"}]}}."""
    if not to_types:
        return body
    block = {}
    for name in to_types:
        to_type = canonical(name)
        results = []
        for to_id, tids in state.assoc.get(object_type, record.id, to_type).items():
            for tid in sorted(tids):
                known = TYPES.get((object_type, to_type, tid))
                results.append({"id": to_id, "type": known.name if known else str(tid)})
        if results:
            block[to_type] = {"results": results}
    if block:
        body["associations"] = block
    return body


def _batch_envelope(results: list[Any], errors: list[dict[str, Any]], started: int) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        body["numErrors"] = len(errors)
        # HubSpot's StandardError always carries `errors` and `links` (its model requires them)
        body["errors"] = [{"errors": [], "links": {}, **e} for e in errors]
    body["startedAt"] = iso_ms(started)
    body["completedAt"] = iso_ms(now_ms())
    return body


def _inputs(body: dict[str, Any], limit: int = BATCH_LIMIT) -> list[Any]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise bad_request("Invalid input JSON: 'inputs' must be a list")
    if len(inputs) > limit:
        raise bad_request(
            f"Batch input limit exceeded: at most {limit} inputs per request, got {len(inputs)}",
            subCategory="BATCH_INPUT_LIMIT",
            context={"limit": [str(limit)]},
        )
    return inputs


def _rules(
    state: State, call: Call, object_type: str, props: dict[str, Any], existing: Record | None
) -> None:
    """The portal's required-property rules, at the versions where HubSpot enforces them."""
    if state.validation_rules and enforced(call.params.get("version")):
        check_rules(state.validation_rules, object_type, props, existing.props if existing else None)


def _lookup(state: State, object_type: str, object_id: str, id_property: str | None) -> Record | None:
    if id_property and id_property != "hs_object_id":
        return state.store.find_by(object_type, id_property, [object_id]).get(object_id)
    return state.store.get(object_type, object_id)


# single records ----------------------------------------------------------------------------------
def get_object(state: State, call: Call) -> Reply:
    object_type = canonical(call.params["type"])
    archived = _flag(call, "archived")
    record = (
        _lookup(state, object_type, call.params["id"], call.query.get("idProperty"))
        if not archived
        else state.store.get(object_type, call.params["id"], archived=True)
    )
    if record is None:
        state.require(object_type, call.params["id"], archived)
    assert record is not None
    body = state.store.render(object_type, record, _names(call, "properties"))
    with_history = _names(call, "propertiesWithHistory")
    if with_history:
        versions = state.history.get((object_type, record.id), {})
        body["propertiesWithHistory"] = {n: list(versions.get(n, [])) for n in with_history}
    return Reply(200, _with_associations(state, object_type, record, _names(call, "associations"), body))


def list_objects(state: State, call: Call) -> Reply:
    object_type = canonical(call.params["type"])
    try:
        limit = int(call.query.get("limit", "10"))
    except ValueError:
        raise bad_request("limit must be an integer") from None
    if limit < 1 or limit > LIST_LIMIT:
        raise bad_request(f"limit must be between 1 and {LIST_LIMIT}, got {limit}")
    archived = _flag(call, "archived")
    ids = state.store.sorted_ids(object_type, archived)
    start = page_after(ids, call.query.get("after"))
    table = (state.store.archived if archived else state.store.live)[object_type]
    properties = _names(call, "properties")
    assoc_types = _names(call, "associations")
    results = []
    for object_id in ids[start : start + limit]:
        record = table[str(object_id)]
        body = state.store.render(object_type, record, properties)
        results.append(_with_associations(state, object_type, record, assoc_types, body))
    out: dict[str, Any] = {"results": results}
    if start + limit < len(ids):
        nxt = str(ids[start + limit])
        out["paging"] = {"next": {"after": nxt, "link": f"{call.path}?after={nxt}"}}
    return Reply(200, out)


def create_object(state: State, call: Call) -> Reply:
    object_type = canonical(call.params["type"])
    body = call.json_object()
    props = state.registry.normalize(object_type, body.get("properties") or {})
    associations = state.check_associations(object_type, body.get("associations"))
    _rules(state, call, object_type, props, None)
    record = state.create(object_type, props, call.source, associations, call.user_id)
    return Reply(201, state.store.render(object_type, record, list(props) or None))


def update_object(state: State, call: Call) -> Reply:
    object_type = canonical(call.params["type"])
    record = _lookup(state, object_type, call.params["id"], call.query.get("idProperty"))
    if record is None:
        state.require(object_type, call.params["id"])
    assert record is not None
    props = state.registry.normalize(object_type, call.json_object().get("properties") or {})
    _rules(state, call, object_type, props, record)
    state.update(object_type, record, props, call.source, call.user_id)
    return Reply(200, state.store.render(object_type, record, list(props) or None))


def archive_object(state: State, call: Call) -> Reply:
    state.archive(canonical(call.params["type"]), call.params["id"], call.source)
    return Reply(204)  # HubSpot answers 204 for ids that are already gone, too


def associate_v3(state: State, call: Call) -> Reply:
    """PUT /crm/v3/objects/{type}/{id}/associations/{to_type}/{to_id}/{association_type} (name or id)."""
    from_type, to_type = canonical(call.params["type"]), canonical(call.params["to_type"])
    raw = call.params["association_type"]
    known = BY_NAME.get(raw)
    tid = known.type_id if known else int(raw) if raw.isdigit() else -1
    if (from_type, to_type, tid) not in TYPES:
        raise bad_request(f"{raw} is not a valid association type from {from_type} to {to_type}")
    state.associate(from_type, call.params["id"], to_type, call.params["to_id"], [tid], call.source)
    record = state.require(from_type, call.params["id"])
    body = state.store.render(from_type, record, None)
    return Reply(200, _with_associations(state, from_type, record, [to_type], body))


def unassociate_v3(state: State, call: Call) -> Reply:
    state.unassociate(
        canonical(call.params["type"]),
        call.params["id"],
        canonical(call.params["to_type"]),
        call.params["to_id"],
        call.source,
    )
    return Reply(204)


# batch ---------------------------------------------------------------------------------------------
def batch_read(state: State, call: Call) -> Reply:
    started = now_ms()
    object_type = canonical(call.params["type"])
    body = call.json_object()
    ids = [str(i.get("id")) if isinstance(i, dict) else str(i) for i in _inputs(body)]
    id_property = body.get("idProperty")
    archived = bool(body.get("archived"))
    if id_property and id_property not in state.registry.names(object_type):
        raise bad_request(f"idProperty {id_property!r} does not exist on {object_type}")
    if id_property and not _unique_id_property(state, object_type, id_property):
        # HubSpot: idProperty names "a property whose values are unique for this object"
        raise bad_request(
            f"idProperty {id_property!r} is not a unique identifier property of {object_type} "
            "(hasUniqueValue is false)",
            context={"idProperty": [id_property]},
        )
    if archived:
        found = {i: r for i in ids if (r := state.store.get(object_type, i, archived=True)) is not None}
    elif id_property and id_property != "hs_object_id":
        found = state.store.find_by(object_type, id_property, ids)
    else:
        live = state.store.live[object_type]
        found = {i: live[i] for i in ids if i in live}
    properties = body.get("properties") or None
    with_history = [str(n) for n in body.get("propertiesWithHistory") or []]
    results, seen = [], set()
    for i in ids:
        record = found.get(i)
        if record is not None and record.id not in seen:
            seen.add(record.id)
            rendered = state.store.render(object_type, record, properties)
            if with_history:
                versions = state.history.get((object_type, record.id), {})
                rendered["propertiesWithHistory"] = {n: list(versions.get(n, [])) for n in with_history}
            results.append(rendered)
    missing = [i for i in dict.fromkeys(ids) if i not in found]
    errors = []
    if missing:
        errors.append(
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {SINGULAR[object_type].upper()} objects, they may be deleted "
                "or not exist. Check that ids are valid.",
                "context": {"ids": missing},
            }
        )
    return Reply(207 if errors else 200, _batch_envelope(results, errors, started))


def _unique_id_property(state: State, object_type: str, name: str) -> bool:
    if name == "hs_object_id" or (object_type == "contacts" and name == "email"):
        return True
    definition = state.registry.get(object_type, name)
    return bool(definition and definition.get("hasUniqueValue"))


def _trace_ids(inputs: list[Any]) -> list[str] | None:
    """Each input's `objectWriteTraceId` when every input has one and none repeats (multi-status on)."""
    traces = [str(i.get("objectWriteTraceId") or "") if isinstance(i, dict) else "" for i in inputs]
    return traces if all(traces) and len(set(traces)) == len(traces) else None


def batch_create(state: State, call: Call) -> Reply:
    """All or nothing (400 naming the index), unless every input carries a unique objectWriteTraceId:
    then, like HubSpot, the good inputs are created and the answer is 207 naming the failed traces."""
    started = now_ms()
    object_type = canonical(call.params["type"])
    inputs = _inputs(call.json_object())
    traces = _trace_ids(inputs)
    prepared: list[tuple[int, dict[str, str | None], Any]] = []
    errors: list[dict[str, Any]] = []
    taken: dict[tuple[str, str], str] = {}  # unique values the batch's earlier inputs claim
    for position, item in enumerate(inputs):
        if not isinstance(item, dict):
            raise bad_request(f"inputs[{position}] must be an object")
        try:
            props = state.registry.normalize(object_type, item.get("properties") or {})
            state.check_unique(object_type, props, taken=taken)
            assoc = state.check_associations(object_type, item.get("associations"))
            _rules(state, call, object_type, props, None)
        except ApiError as exc:
            if traces is None:
                exc.extra.setdefault("context", {})["index"] = [str(position)]
                raise
            errors.append(_trace_error(exc, traces[position]))
            continue
        prepared.append((position, props, assoc))
    results = []
    for position, props, assoc in prepared:
        rendered = state.store.render(
            object_type,
            state.create(object_type, props, call.source, assoc, call.user_id),
            list(props) or None,
        )
        if traces is not None:
            rendered["objectWriteTraceId"] = traces[position]
        results.append(rendered)
    return Reply(207 if errors else 201, _batch_envelope(results, errors, started))


def _trace_error(exc: ApiError, trace: str) -> dict[str, Any]:
    """One failed input of a multi-status batch create, as HubSpot's StandardError."""
    error: dict[str, Any] = {
        "status": "error",
        "category": exc.category,
        "message": exc.message,
        "context": {"objectWriteTraceId": [trace]},
        "errors": list(exc.extra.get("errors") or []),
    }
    if exc.extra.get("subCategory"):
        error["subCategory"] = exc.extra["subCategory"]
    return error


def batch_update(state: State, call: Call) -> Reply:
    started = now_ms()
    object_type = canonical(call.params["type"])
    inputs = _inputs(call.json_object())
    ids = [str(i.get("id")) if isinstance(i, dict) else "" for i in inputs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise bad_request(
            f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
            context={"ids": duplicates},
        )
    id_property = next(
        (i.get("idProperty") for i in inputs if isinstance(i, dict) and i.get("idProperty")), None
    )
    found = (
        state.store.find_by(object_type, id_property, ids)
        if id_property
        else {i: r for i in ids if (r := state.store.get(object_type, i)) is not None}
    )
    prepared = []
    taken: dict[tuple[str, str], str] = {}
    for position, item in enumerate(inputs):
        try:
            props = state.registry.normalize(object_type, item.get("properties") or {})
            record = found.get(ids[position])
            if record is not None:
                _rules(state, call, object_type, props, record)
            state.check_unique(object_type, props, record.id if record else None, taken)
            prepared.append((ids[position], props))
        except ApiError as exc:
            exc.extra.setdefault("context", {})["index"] = [str(position)]
            raise
    results, missing = [], []
    for object_id, props in prepared:
        record = found.get(object_id)
        if record is None:
            missing.append(object_id)
            continue
        state.update(object_type, record, props, call.source, call.user_id)
        results.append(state.store.render(object_type, record, list(props) or None))
    errors = [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": f"Object not found: {i}",
            "context": {"ids": [i]},
        }
        for i in missing
    ]
    return Reply(207 if errors else 200, _batch_envelope(results, errors, started))


def batch_archive(state: State, call: Call) -> Reply:
    object_type = canonical(call.params["type"])
    for item in _inputs(call.json_object()):
        state.archive(object_type, str(item.get("id") if isinstance(item, dict) else item), call.source)
    return Reply(204)


def search(state: State, call: Call) -> Reply:
    return Reply(200, run_search(state.store, canonical(call.params["type"]), call.json(), state.index))


def register(router: Router) -> None:
    base = "/crm/v3/objects/{type}"  # and /crm/objects/{version}/{type} (routing.dated)
    for verb in ("read", "create", "update", "archive"):
        router.add_both("POST", f"{base}/batch/{verb}", globals()[f"batch_{verb}"])
    router.add_both("POST", f"{base}/search", search)
    router.add_both("GET", base, list_objects)
    router.add_both("POST", base, create_object)
    router.add_both("GET", f"{base}/{{id}}", get_object)
    router.add_both("PATCH", f"{base}/{{id}}", update_object)
    router.add_both("DELETE", f"{base}/{{id}}", archive_object)
    # v3's per-record association paths have no date-based twin (the date-based versions use v4's).
    router.add("PUT", f"{base}/{{id}}/associations/{{to_type}}/{{to_id}}/{{association_type}}", associate_v3)
    router.add(
        "DELETE", f"{base}/{{id}}/associations/{{to_type}}/{{to_id}}/{{association_type}}", unassociate_v3
    )
