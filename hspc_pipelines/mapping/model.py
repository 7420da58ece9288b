"""Facts read from botocore's `partnercentral-selling` model: enums, patterns, shapes.

Reading them from the model (instead of copying them) keeps the mapping in step with the API
botocore ships; `check_request` is the last line of defence before a request leaves the mapping.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import botocore.session
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StringShape, StructureShape
from botocore.validate import ParamValidator

from .errors import FieldError

SERVICE = "partnercentral-selling"

# Members of UpdateOpportunity's input that AWS sets and a partner must not send back: the model
# documents ReviewStatus as read-only; the review fields and the next-steps history are AWS's.
READ_ONLY_MEMBERS: frozenset[str] = frozenset(
    {
        "LifeCycle.ReviewStatus",
        "LifeCycle.ReviewComments",
        "LifeCycle.ReviewStatusReason",
        "LifeCycle.NextStepsHistory",
    }
)


@functools.cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model(SERVICE)


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


def input_shape(operation_name: str) -> StructureShape:
    shape = operation(operation_name).input_shape
    assert isinstance(shape, StructureShape)
    return shape


def shape_at(operation_name: str, path: str) -> Shape:
    """The shape of a dotted member path (`Customer.Account.Industry`) in an operation's input."""
    shape: Shape = input_shape(operation_name)
    for part in path.split("."):
        if isinstance(shape, ListShape):
            shape = shape.member
        assert isinstance(shape, StructureShape), path
        shape = shape.members[part]
    if isinstance(shape, ListShape):
        shape = shape.member
    return shape


@functools.cache
def enum(path: str, operation_name: str = "CreateOpportunity") -> tuple[str, ...]:
    shape = shape_at(operation_name, path)
    return tuple(getattr(shape, "enum", None) or ())


@functools.cache
def pattern(path: str, operation_name: str = "CreateOpportunity") -> str | None:
    pat = shape_at(operation_name, path).metadata.get("pattern")
    return pat if isinstance(pat, str) else None


@functools.cache
def _matcher(pat: str) -> Callable[[str], Any] | None:
    """Full-match a model pattern; Java's `\\p{L}` classes need the `regex` module when present."""
    try:
        return re.compile(pat).fullmatch
    except re.error:
        try:
            import regex  # type: ignore[import-untyped,unused-ignore]
        except ImportError:  # pragma: no cover
            return None
        compiled = regex.compile(pat)
        return compiled.fullmatch  # type: ignore[no-any-return]


def matches(pat: str | None, value: str) -> bool:
    if pat is None:
        return True
    match = _matcher(pat)
    return True if match is None else match(value) is not None


INDUSTRIES = enum("Customer.Account.Industry")
COUNTRY_CODES = enum("Customer.Account.Address.CountryCode")
CURRENCY_CODES = enum("Project.ExpectedCustomerSpend.CurrencyCode")
DELIVERY_MODELS = enum("Project.DeliveryModels")
PRIMARY_NEEDS = enum("PrimaryNeedsFromAws")
STAGES = enum("LifeCycle.Stage")
REVIEW_STATUSES = enum("LifeCycle.ReviewStatus")
ORIGINS = enum("Origin")
OPPORTUNITY_TYPES = enum("OpportunityType")
NATIONAL_SECURITY = enum("NationalSecurity")


def check_request(request: Mapping[str, Any], operation_name: str) -> list[FieldError]:
    """botocore's own validation plus what it leaves to the server (enums, patterns)."""
    errors: list[FieldError] = []
    shape = input_shape(operation_name)
    report = ParamValidator().validate(request, shape)
    if report.has_errors():
        for line in report.generate_report().splitlines()[1:]:
            errors.append(FieldError(operation_name, None, line.strip(), f"the {operation_name} input shape"))
    _constraints(request, shape, "", errors)
    return errors


def _constraints(value: Any, shape: Shape, path: str, errors: list[FieldError]) -> None:
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                _constraints(value[name], member, f"{path}.{name}" if path else name, errors)
    elif isinstance(shape, ListShape) and isinstance(value, list | tuple):
        limit = shape.metadata.get("max")
        if isinstance(limit, int) and len(value) > limit:
            errors.append(FieldError(path, len(value), "too many entries", f"at most {limit}"))
        for i, item in enumerate(value):
            _constraints(item, shape.member, f"{path}[{i}]", errors)
    elif isinstance(shape, StringShape) and isinstance(value, str):
        allowed = shape.enum
        if allowed and value not in allowed:
            errors.append(FieldError(path, value, "not an allowed value", list(allowed)))
        pat = shape.metadata.get("pattern")
        if isinstance(pat, str) and not matches(pat, value):
            errors.append(FieldError(path, value, "does not match the model's pattern", pat))


def project(value: Any, shape: Shape, path: str = "") -> Any:
    """`value` cut down to what `shape` accepts: unknown and read-only members dropped, recursively."""
    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            return None
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            member_path = f"{path}.{name}" if path else name
            if member_path in READ_ONLY_MEMBERS or value.get(name) is None:
                continue
            projected = project(value[name], member, member_path)
            if projected is not None:
                out[name] = projected
        return out
    if isinstance(shape, ListShape):
        if not isinstance(value, list | tuple):
            return None
        items = [project(v, shape.member, path) for v in value]
        return [i for i in items if i is not None]
    return value
