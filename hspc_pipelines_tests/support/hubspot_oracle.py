"""HubSpot's own SDK models (`hubspot-api-client`, generated from HubSpot's OpenAPI specs) as the oracle.

`RecordingSession` records every exchange `HubSpotClient` has; `check_exchange` validates the request
body the client built and the answer it parsed against the SDK model HubSpot declares for that
endpoint and status, with client-side validation on. A divergence names the model, the JSON field and
where it sits (`Divergence`). Unknown fields are divergences in requests (HubSpot's spec has no such
input) but not in answers: HubSpot itself answers fields its models lack (`status` in error bodies),
and the SDK ignores them. Requests must have the exact JSON types; answers what the SDK's deserializer
reads (it coerces primitives: an integer id reads as a string). A null counts as absent, as in the SDK.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import requests
from hubspot.crm.associations.v4 import Configuration as AssocConfiguration
from hubspot.crm.associations.v4 import models as assoc_models
from hubspot.crm.objects import Configuration as ObjectsConfiguration
from hubspot.crm.objects import models as object_models
from hubspot.crm.pipelines import Configuration as PipelinesConfiguration
from hubspot.crm.pipelines import models as pipeline_models
from hubspot.crm.properties import Configuration as PropertiesConfiguration
from hubspot.crm.properties import models as property_models

_OBJ, _ASSOC, _PROPS, _PIPES = "objects", "associations.v4", "properties", "pipelines"
_MODULES: dict[str, ModuleType] = {
    _OBJ: object_models,
    _ASSOC: assoc_models,
    _PROPS: property_models,
    _PIPES: pipeline_models,
}


def _configuration(cls: Any) -> Any:
    conf = cls()
    conf.client_side_validation = True  # off by default in the generated SDK
    return conf


_CONFIGS = {
    _OBJ: _configuration(ObjectsConfiguration),
    _ASSOC: _configuration(AssocConfiguration),
    _PROPS: _configuration(PropertiesConfiguration),
    _PIPES: _configuration(PipelinesConfiguration),
}


@dataclass(frozen=True)
class Endpoint:
    """One endpoint family hspc calls: its SDK package, request model and answer model per status."""

    name: str
    method: str
    pattern: str
    package: str
    request: str | None
    responses: dict[int, str | None]


_T = r"[^/]+"
# Each endpoint under both path families: numbered (`/crm/v3/objects`) and date-based
# (`/crm/objects/2026-09`). HubSpot's reference shows the same bodies under both (docs/hubspot-api-versions.md);
# the SDK in the registry predates the date-based versions, so its v3/v4 models are the oracle for both.
_V = r"\d{4}-\d{2}(?:-beta)?"
_OBJECTS = rf"/crm/(?:v3/objects|objects/{_V})"
_PROPERTIES = rf"/crm/(?:v3/properties|properties/{_V})"
_PIPELINES = rf"/crm/(?:v3/pipelines|pipelines/{_V})"
_ASSOCIATIONS = rf"/crm/(?:v4/associations|associations/{_V})"
# The endpoints HubSpotClient calls, most specific first. Error answers (>= 400) are `Error`.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "search",
        "POST",
        rf"{_OBJECTS}/{_T}/search",
        _OBJ,
        "PublicObjectSearchRequest",
        {200: "CollectionResponseWithTotalSimplePublicObjectForwardPaging"},
    ),
    Endpoint(
        "batch read",
        "POST",
        rf"{_OBJECTS}/{_T}/batch/read",
        _OBJ,
        "BatchReadInputSimplePublicObjectId",
        {200: "BatchResponseSimplePublicObject", 207: "BatchResponseSimplePublicObjectWithErrors"},
    ),
    Endpoint(
        "batch create",
        "POST",
        rf"{_OBJECTS}/{_T}/batch/create",
        _OBJ,
        "BatchInputSimplePublicObjectBatchInputForCreate",
        {201: "BatchResponseSimplePublicObject", 207: "BatchResponseSimplePublicObjectWithErrors"},
    ),
    Endpoint(
        "batch update",
        "POST",
        rf"{_OBJECTS}/{_T}/batch/update",
        _OBJ,
        "BatchInputSimplePublicObjectBatchInput",
        {200: "BatchResponseSimplePublicObject", 207: "BatchResponseSimplePublicObjectWithErrors"},
    ),
    Endpoint(
        "batch archive",
        "POST",
        rf"{_OBJECTS}/{_T}/batch/archive",
        _OBJ,
        "BatchInputSimplePublicObjectId",
        {204: None},
    ),
    Endpoint(
        "list",
        "GET",
        rf"{_OBJECTS}/{_T}",
        _OBJ,
        None,
        {200: "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging"},
    ),
    Endpoint(
        "create",
        "POST",
        rf"{_OBJECTS}/{_T}",
        _OBJ,
        "SimplePublicObjectInputForCreate",
        {201: "SimplePublicObject"},
    ),
    Endpoint(
        "read", "GET", rf"{_OBJECTS}/{_T}/{_T}", _OBJ, None, {200: "SimplePublicObjectWithAssociations"}
    ),
    Endpoint(
        "update",
        "PATCH",
        rf"{_OBJECTS}/{_T}/{_T}",
        _OBJ,
        "SimplePublicObjectInput",
        {200: "SimplePublicObject"},
    ),
    Endpoint("archive", "DELETE", rf"{_OBJECTS}/{_T}/{_T}", _OBJ, None, {204: None}),
    Endpoint(
        "associations batch read",
        "POST",
        rf"{_ASSOCIATIONS}/{_T}/{_T}/batch/read",
        _ASSOC,
        "BatchInputPublicFetchAssociationsBatchRequest",
        {
            200: "BatchResponsePublicAssociationMultiWithLabel",
            207: "BatchResponsePublicAssociationMultiWithLabelWithErrors",
        },
    ),
    Endpoint(
        "associations batch create",
        "POST",
        rf"{_ASSOCIATIONS}/{_T}/{_T}/batch/create",
        _ASSOC,
        "BatchInputPublicAssociationMultiPost",
        {201: "BatchResponseLabelsBetweenObjectPair", 207: "BatchResponseLabelsBetweenObjectPairWithErrors"},
    ),
    Endpoint(
        "properties list",
        "GET",
        rf"{_PROPERTIES}/{_T}",
        _PROPS,
        None,
        {200: "CollectionResponsePropertyNoPaging"},
    ),
    Endpoint(
        "property create",
        "POST",
        rf"{_PROPERTIES}/{_T}",
        _PROPS,
        "PropertyCreate",
        {201: "ModelProperty"},
    ),
    Endpoint(
        "property update",
        "PATCH",
        rf"{_PROPERTIES}/{_T}/{_T}",
        _PROPS,
        "PropertyUpdate",
        {200: "ModelProperty"},
    ),
    Endpoint(
        "pipelines list",
        "GET",
        rf"{_PIPELINES}/{_T}",
        _PIPES,
        None,
        {200: "CollectionResponsePipelineNoPaging"},
    ),
)


class Divergence(AssertionError):
    """A body that does not fit HubSpot's model: which model, which field, where, and why."""


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    request: Any
    status: int
    response: Any


class RecordingSession(requests.Session):
    """A `requests.Session` that keeps every exchange (pass it to `HubSpotClient(session=...)`)."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        body = request.body
        sent = json.loads(body) if body else None
        answer = response.json() if response.content else None
        with self._lock:
            self.exchanges.append(
                Exchange(
                    str(request.method), urlsplit(str(request.url)).path, sent, response.status_code, answer
                )
            )
        return response


def endpoint_for(method: str, path: str) -> Endpoint:
    for endpoint in ENDPOINTS:
        if endpoint.method == method and re.fullmatch(endpoint.pattern, path):
            return endpoint
    raise Divergence(f"{method} {path}: not an endpoint the oracle knows; add it to ENDPOINTS")


def check_exchange(exchange: Exchange) -> Endpoint:
    """Validate one exchange's request and answer; returns the endpoint it matched."""
    endpoint = endpoint_for(exchange.method, exchange.path)
    where = f"{exchange.method} {exchange.path}"
    if endpoint.request is not None:
        check(exchange.request, endpoint.request, endpoint.package, f"{where} request", strict=True)
    if exchange.status >= 400:
        check(exchange.response, "Error", endpoint.package, f"{where} answer {exchange.status}", strict=False)
        return endpoint
    if exchange.status not in endpoint.responses:
        raise Divergence(f"{where}: HubSpot declares {sorted(endpoint.responses)}, got {exchange.status}")
    model = endpoint.responses[exchange.status]
    if model is None:
        if exchange.response is not None:
            raise Divergence(f"{where}: HubSpot answers {exchange.status} with no body")
    else:
        check(exchange.response, model, endpoint.package, f"{where} answer {exchange.status}", strict=False)
    return endpoint


def check(data: Any, model: str, package: str, where: str, *, strict: bool = True) -> Any:
    """`data` as the SDK's `model` (of `package`) with client-side validation; raises Divergence."""
    return _value(data, model, package, where, "$", strict)


# Where the SDK's model is known to be wrong and HubSpot's API reference is followed instead, each with
# its source. PublicObjectSearchRequest.sorts is `list[str]` in the SDK, but HubSpot's search guide (and
# the API) take `{"propertyName", "direction"}` objects: HubSpot/hubspot-api-python issue 236.
ERRATA: dict[tuple[str, str], str] = {("PublicObjectSearchRequest", "sorts"): "list[_Sort]"}
_SORT_DIRECTIONS = frozenset({"ASCENDING", "DESCENDING"})


def _sort(data: Any, where: str, path: str) -> Any:
    if not isinstance(data, dict) or set(data) - {"propertyName", "direction"}:
        raise Divergence(f"{where}: Sort at {path} = {data!r}: only propertyName and direction")
    if not isinstance(data.get("propertyName"), str) or data.get("direction") not in _SORT_DIRECTIONS:
        raise Divergence(
            f"{where}: Sort at {path} = {data!r}: propertyName and direction ({sorted(_SORT_DIRECTIONS)})"
        )
    return data


_LIST = re.compile(r"list\[(.+)\]")
_DICT = re.compile(r"dict[(\[]([^,]+), (.+)[)\]]")
_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}


def _value(data: Any, kind: str, package: str, where: str, path: str, strict: bool) -> Any:
    if data is None:
        return None
    if match := _LIST.fullmatch(kind):
        if not isinstance(data, list):
            raise Divergence(f"{where}: {path} is {type(data).__name__}, {kind} expected")
        return [_value(v, match[1], package, where, f"{path}[{i}]", strict) for i, v in enumerate(data)]
    if match := _DICT.fullmatch(kind):
        if not isinstance(data, dict):
            raise Divergence(f"{where}: {path} is {type(data).__name__}, {kind} expected")
        return {k: _value(v, match[2], package, where, f"{path}.{k}", strict) for k, v in data.items()}
    if kind == "_Sort":
        return _sort(data, where, path)
    if kind == "object":
        return data
    if kind in ("datetime", "date"):
        try:
            dt.datetime.fromisoformat(str(data).replace("Z", "+00:00"))
        except ValueError:
            raise Divergence(f"{where}: {path} = {data!r} is not an ISO {kind}") from None
        return data
    if kind in _PRIMITIVES and not strict:  # answers: what the SDK's deserializer accepts (it coerces)
        try:
            _PRIMITIVES[kind][-1](data)
        except (TypeError, ValueError):
            raise Divergence(f"{where}: {path} = {data!r} does not read as {kind}") from None
        return data
    if kind in _PRIMITIVES:
        if not isinstance(data, _PRIMITIVES[kind]) or (kind != "bool" and isinstance(data, bool)):
            raise Divergence(f"{where}: {path} = {data!r} is {type(data).__name__}, {kind} expected")
        return data
    return _model(data, kind, package, where, path, strict)


# Every (package, model) validated in this process: the suite's report of what the oracle covered.
CHECKED_MODELS: set[tuple[str, str]] = set()


def _model(data: Any, name: str, package: str, where: str, path: str, strict: bool) -> Any:
    klass = getattr(_MODULES[package], name)
    CHECKED_MODELS.add((package, name))
    if not isinstance(data, dict):
        raise Divergence(f"{where}: {name} at {path} is {type(data).__name__}, an object expected")
    json_names = {v: k for k, v in klass.attribute_map.items()}
    unknown = sorted(set(data) - set(json_names))
    if strict and unknown:
        raise Divergence(f"{where}: {name} at {path} has no field {', '.join(unknown)}")
    kwargs = {
        attr: _value(
            data[json_name],
            ERRATA.get((name, json_name), klass.openapi_types[attr]),
            package,
            where,
            f"{path}.{json_name}",
            strict,
        )
        for json_name, attr in json_names.items()
        if json_name in data
    }
    try:
        return klass(**kwargs, local_vars_configuration=_CONFIGS[package])
    except ValueError as exc:
        text = str(exc)
        field = re.search(r"`(\w+)`", text)
        shown = klass.attribute_map.get(field[1], field[1]) if field else "?"
        raise Divergence(f"{where}: {name}.{shown} at {path}: {text}") from None
