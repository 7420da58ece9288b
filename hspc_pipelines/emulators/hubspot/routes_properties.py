"""CRM properties (list, read one, create, update) and deal pipelines (read), numbered and date-based."""

from __future__ import annotations

from .errors import ApiError
from .objecttypes import canonical
from .routing import Call, Reply, Router
from .state import State


def list_properties(state: State, call: Call) -> Reply:
    return Reply(200, {"results": state.registry.list(canonical(call.params["type"]))})


def get_property(state: State, call: Call) -> Reply:
    definition = state.registry.get(canonical(call.params["type"]), call.params["name"])
    if definition is None:
        raise ApiError(
            404,
            f"Unable to find property with name {call.params['name']}",
            "OBJECT_NOT_FOUND",
            context={"name": [call.params["name"]]},
        )
    return Reply(200, definition)


def create_property(state: State, call: Call) -> Reply:
    return Reply(201, state.registry.create(canonical(call.params["type"]), call.json()))


def update_property(state: State, call: Call) -> Reply:
    object_type, name = canonical(call.params["type"]), call.params["name"]
    in_use = sum(1 for r in state.store.live[object_type].values() if r.props.get(name) is not None)
    return Reply(200, state.registry.update(object_type, name, call.json(), in_use))


def list_pipelines(state: State, call: Call) -> Reply:
    if canonical(call.params["type"]) != "deals":
        return Reply(200, {"results": []})
    return Reply(200, {"results": list(state.pipelines.deals.values())})


def get_pipeline(state: State, call: Call) -> Reply:
    pipeline = (
        state.pipelines.deals.get(call.params["pipeline_id"])
        if canonical(call.params["type"]) == "deals"
        else None
    )
    if pipeline is None:
        raise ApiError(404, f"Pipeline {call.params['pipeline_id']} not found", "OBJECT_NOT_FOUND")
    return Reply(200, pipeline)


def register(router: Router) -> None:
    # Numbered v3 and date-based (/crm/properties/{version}/..., /crm/pipelines/{version}/...).
    router.add_both("GET", "/crm/v3/properties/{type}", list_properties)
    router.add_both("POST", "/crm/v3/properties/{type}", create_property)
    router.add_both("GET", "/crm/v3/properties/{type}/{name}", get_property)
    router.add_both("PATCH", "/crm/v3/properties/{type}/{name}", update_property)
    router.add_both("GET", "/crm/v3/pipelines/{type}", list_pipelines)
    router.add_both("GET", "/crm/v3/pipelines/{type}/{pipeline_id}", get_pipeline)
