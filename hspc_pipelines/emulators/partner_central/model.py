"""botocore's `partnercentral-selling` service model, loaded once and shared.

The model is the source of truth for operation names, input/output shapes and enums; everything
here is cached because the request path looks shapes up on every call.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

SERVICE = "partnercentral-selling"
UTC = dt.UTC


@functools.cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model(SERVICE)


@functools.cache
def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


def target_prefix() -> str:
    return str(service_model().metadata["targetPrefix"])


def enum_values(shape_name: str) -> list[str]:
    return list(service_model().shape_for(shape_name).metadata.get("enum", []))


def now() -> dt.datetime:
    """UTC now truncated to milliseconds: what the wire carries, so stored and echoed values compare equal."""
    t = dt.datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def iso(value: dt.datetime) -> str:
    """The JSON protocol's timestamp form for this service (`DateTime` is `timestampFormat: iso8601`)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def project(value: Any, shape: Shape) -> Any:
    """Keep only what `shape` declares (recursively): turns a stored record into any output view."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        assert isinstance(shape, StructureShape)
        out = {}
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                out[name] = project(value[name], member)
        return out
    if kind == "list" and isinstance(value, list):
        return [project(v, shape.member) for v in value]  # type: ignore[attr-defined]
    return value


def output_view(operation_name: str, record: Mapping[str, Any]) -> dict[str, Any]:
    shape = operation(operation_name).output_shape
    return project(record, shape) if shape is not None else {}
