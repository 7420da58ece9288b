"""Facts read from botocore's `partnercentral-selling` model: enums, patterns, shapes.

Reading them from the model (instead of copying them) keeps the mapping in step with the API
botocore ships; `check_request` is the last line of defence before a request leaves the mapping.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import botocore.session
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StringShape, StructureShape
from botocore.utils import is_json_value_header, parse_to_aware_datetime
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
    """botocore's own validation plus what it leaves to the server (enums, patterns).

    A compiled check (`is_valid`) answers first; only a request it does not accept goes through
    botocore's validator, which then reports every problem in its own words."""
    if is_valid(request, operation_name):
        return []
    return full_check(request, operation_name)


def full_check(request: Mapping[str, Any], operation_name: str) -> list[FieldError]:
    """`check_request` without the compiled shortcut: botocore's validator and `_constraints`."""
    errors: list[FieldError] = []
    shape = input_shape(operation_name)
    report = ParamValidator().validate(request, shape)
    if report.has_errors():
        for line in report.generate_report().splitlines():
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


# -- compiled shortcuts -------------------------------------------------------------------------------
# botocore's validator and `project` walk the shape tree generically (≈ 0.3 ms per request); the
# closures below do the same walk with every shape decision taken once. `is_valid` is deliberately
# conservative: True only when neither botocore nor `_constraints` could report anything; anything
# it does not model (documents, unions, maps, blobs, unusual timestamps) answers False, and
# `check_request` then runs the full validation. tests: hspc_pipelines_tests/mapping/test_fast_paths.py

Check = Callable[[Any], bool]
# A string member's checks as data: (shortest, longest, allowed values or None, full match or None),
# from botocore's minimum length and `_constraints`' enum and pattern.
StringSpec = tuple[int, int, frozenset[str] | None, Callable[[str], Any] | None]

# ISO-8601 date-times botocore (dateutil) always parses, with no offset or UTC (no overflow on
# conversion to UTC); anything else goes to botocore itself.
_TIMESTAMP = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-]00:00)?"
)
# `(?s).{a,b}`, most of the model's patterns: a length test
_LENGTH_PATTERN = re.compile(r"\(\?s\)\.\{([0-9]+),([0-9]+)\}")


def _timestamp_ok(value: Any) -> bool:
    if isinstance(value, str):
        if _TIMESTAMP.fullmatch(value) is None or value.startswith("9999"):
            return False
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    if isinstance(value, dt.datetime):
        stamp: Any = value  # botocore's stubs say str; it takes datetimes first
        try:
            parse_to_aware_datetime(stamp)
        except Exception:  # botocore would not catch it either: let the full check decide
            return False
        return True
    return False


def _min_allowed(shape: Shape) -> Any:
    """botocore's `range_check` minimum: `min`, or 1 for host-label members, else none."""
    if "min" in shape.metadata:
        return shape.metadata["min"]
    if shape.serialization.get("hostLabel"):
        return 1
    return None


def _never(_value: Any) -> bool:
    return False


def _is_string(shape: Shape) -> bool:
    return shape.type_name == "string" and not is_json_value_header(shape)


def _string_spec(shape: Shape) -> StringSpec | None:
    low = _min_allowed(shape)
    if low is not None and not isinstance(low, int):
        return None
    shortest, longest = low or 0, sys.maxsize
    match = None
    pat = shape.metadata.get("pattern")
    if isinstance(pat, str):
        bounds = _LENGTH_PATTERN.fullmatch(pat)
        if bounds is not None:
            shortest, longest = max(shortest, int(bounds.group(1))), int(bounds.group(2))
        else:
            match = _matcher(pat)  # None: `matches` lets every value through, and so does this
    enum_values = getattr(shape, "enum", None)
    return shortest, longest, frozenset(enum_values) if enum_values else None, match


def _string_ok(value: Any, spec: StringSpec) -> bool:
    shortest, longest, allowed, match = spec
    return (
        isinstance(value, str)
        and shortest <= len(value) <= longest
        and (allowed is None or value in allowed)
        and (match is None or match(value) is not None)
    )


def _compile_check(shape: Shape, stack: frozenset[str] = frozenset()) -> Check:
    if shape.name in stack or is_json_value_header(shape):
        return _never
    stack = stack | {shape.name}
    low = _min_allowed(shape)
    if isinstance(shape, StructureShape):
        if shape.is_document_type or shape.is_tagged_union:
            return _never
        strings: dict[str, StringSpec] = {}
        others: dict[str, Check] = {}
        for name, member in shape.members.items():
            spec = _string_spec(member) if _is_string(member) else None
            if spec is not None:
                strings[name] = spec
            else:
                others[name] = _compile_check(member, stack)
        required = tuple(shape.metadata.get("required", ()))

        def check_structure(value: Any) -> bool:
            if not isinstance(value, dict):
                return False
            for name in required:
                if name not in value:
                    return False
            for name, item in value.items():
                spec = strings.get(name)
                if spec is not None:
                    if not _string_ok(item, spec):
                        return False
                    continue
                check = others.get(name)
                if check is None or not check(item):
                    return False
            return True

        return check_structure
    if isinstance(shape, ListShape):
        item_check = _compile_check(shape.member, stack)
        limit = shape.metadata.get("max")
        high = limit if isinstance(limit, int) else None

        def check_list(value: Any) -> bool:
            if not isinstance(value, list | tuple):
                return False
            if (low is not None and len(value) < low) or (high is not None and len(value) > high):
                return False
            return all(item_check(item) for item in value)

        return check_list
    kind = shape.type_name
    if kind == "string":
        string_spec = _string_spec(shape)
        if string_spec is None:
            return _never
        return lambda value: _string_ok(value, string_spec)
    if kind == "timestamp":
        return _timestamp_ok
    if kind == "boolean":
        return lambda value: isinstance(value, bool)
    if kind in ("integer", "long", "float", "double"):
        types: tuple[type, ...] = (int,) if kind in ("integer", "long") else (float, Decimal, int)

        def check_number(value: Any) -> bool:
            return isinstance(value, types) and (low is None or value >= low)

        return check_number
    return _never  # blob, map and anything newer: botocore decides


@functools.cache
def _request_check(operation_name: str) -> Check:
    return _compile_check(input_shape(operation_name))


def is_valid(request: Any, operation_name: str) -> bool:
    """True only when `full_check` would find nothing (a False proves nothing)."""
    return _request_check(operation_name)(request)


Project = Callable[[Any], Any]


def _compile_project(shape: Shape, path: str, stack: frozenset[str] = frozenset()) -> Project | None:
    """`project` for one shape as a closure; None for shapes kept as they are (scalars)."""
    if shape.name in stack:
        return lambda value: project(value, shape, path)
    stack = stack | {shape.name}
    if isinstance(shape, StructureShape):
        members: list[tuple[str, Project | None]] = []
        for name, member in shape.members.items():
            member_path = f"{path}.{name}" if path else name
            if member_path not in READ_ONLY_MEMBERS:
                members.append((name, _compile_project(member, member_path, stack)))

        def project_structure(value: Any) -> Any:
            if not isinstance(value, Mapping):
                return None
            out: dict[str, Any] = {}
            for name, sub in members:
                item = value.get(name)
                if item is None:
                    continue
                if sub is not None:
                    item = sub(value[name])
                    if item is None:
                        continue
                else:
                    item = value[name]
                out[name] = item
            return out

        return project_structure
    if isinstance(shape, ListShape):
        sub = _compile_project(shape.member, path, stack)

        def project_list(value: Any) -> Any:
            if not isinstance(value, list | tuple):
                return None
            if sub is None:
                return [v for v in value if v is not None]
            items = [sub(v) for v in value]
            return [i for i in items if i is not None]

        return project_list
    return None


@functools.cache
def _input_projector(operation_name: str) -> Project:
    compiled = _compile_project(input_shape(operation_name), "")
    assert compiled is not None
    return compiled


def project_input(value: Any, operation_name: str) -> Any:
    """`project(value, input_shape(operation_name))`, compiled once per operation."""
    return _input_projector(operation_name)(value)


# The request `build_update_request` sends for an opportunity whose HubSpot-owned members already hold
# the deal's values is prune(project(record) + top-level members), which depends on the record alone.
# `projected_valid` answers `is_valid` for it from the record, without building it: the closures below
# follow `project` (members kept, read-only and None members dropped, non-mappings dropped) and
# `update._prune` (empty dicts reached through dicts dropped; nothing inside lists is pruned).
ABSENT, PRESENT, INVALID = 0, 1, 2
State = Callable[[Any], int]


def _invalid(_value: Any) -> int:
    return INVALID


def _compile_projected(shape: Shape, path: str, pruned: bool, stack: frozenset[str] = frozenset()) -> State:
    """State of `value` (not None) once projected (and pruned, inside dicts): ABSENT when the member
    disappears, PRESENT when it stays and is valid, INVALID when it stays and might not be valid."""
    if shape.name in stack or is_json_value_header(shape):
        return _invalid
    stack = stack | {shape.name}
    if isinstance(shape, StructureShape):
        return _compile_structure(shape, path, pruned, stack)
    if isinstance(shape, ListShape):
        return _compile_list(shape, path, stack)
    check = _compile_check(shape)
    return lambda value: PRESENT if check(value) else INVALID


def _compile_structure(shape: StructureShape, path: str, pruned: bool, stack: frozenset[str]) -> State:
    """A structure: its string members checked as `project` keeps them, the others compiled in turn;
    ABSENT when pruning leaves nothing, INVALID when a required member is not present."""
    if shape.is_document_type or shape.is_tagged_union:
        return _invalid
    strings: dict[str, StringSpec] = {}  # kept as they are by `project`
    others: dict[str, State] = {}
    for name, member in shape.members.items():
        member_path = f"{path}.{name}" if path else name
        if member_path in READ_ONLY_MEMBERS:
            continue
        spec = _string_spec(member) if _is_string(member) else None
        if spec is not None:
            strings[name] = spec
        else:
            others[name] = _compile_projected(member, member_path, pruned, stack)
    required = tuple(shape.metadata.get("required", ()))
    names = strings.keys() | others.keys()

    def structure_state(value: Any) -> int:
        if type(value) is dict:  # the members it holds, in any order: the outcome is the same
            items: Any = value.items()
        elif isinstance(value, Mapping):
            items = [(name, value[name]) for name in names if value.get(name) is not None]
        else:
            return ABSENT
        present: list[str] = []
        for name, item in items:
            if item is None:
                continue
            spec = strings.get(name)
            if spec is not None:
                if not _string_ok(item, spec):
                    return INVALID
                present.append(name)
                continue
            state = others.get(name)
            if state is None:  # not a member, or read-only: projected away
                continue
            found = state(item)
            if found == INVALID:
                return INVALID
            if found == PRESENT:
                present.append(name)
        if pruned and not present:
            return ABSENT
        for name in required:
            if name not in present:
                return INVALID
        return PRESENT

    return structure_state


def _compile_list(shape: ListShape, path: str, stack: frozenset[str]) -> State:
    """A list: its items compiled (never pruned), the count of those kept within the documented bounds."""
    item_state = _compile_projected(shape.member, path, False, stack)
    low = _min_allowed(shape)
    limit = shape.metadata.get("max")
    high = limit if isinstance(limit, int) else None

    def list_state(value: Any) -> int:
        if not isinstance(value, list | tuple):
            return ABSENT
        kept = 0
        for item in value:
            if item is None:
                continue
            found = item_state(item)
            if found == INVALID:
                return INVALID
            if found == PRESENT:
                kept += 1
        if (low is not None and kept < low) or (high is not None and kept > high):
            return INVALID
        return PRESENT

    return list_state


@functools.cache
def _projected_top(operation_name: str) -> tuple[list[tuple[str, State]], tuple[str, ...]]:
    shape = input_shape(operation_name)
    members = [
        (name, _compile_projected(member, name, True))
        for name, member in shape.members.items()
        if name not in READ_ONLY_MEMBERS
    ]
    return members, tuple(shape.metadata.get("required", ()))


def projected_valid(
    record: Any, operation_name: str, overrides: Mapping[str, Any], if_falsy: Mapping[str, str]
) -> bool:
    """`is_valid(r, operation_name)` for r = the record projected onto the input shape, with
    `overrides` set, each `if_falsy` member set where the projection's value is falsy, and empty
    dicts pruned; without building r. False proves nothing."""
    if type(record) is not dict and not isinstance(record, Mapping):
        return False
    members, required = _projected_top(operation_name)
    present: set[str] = set()
    for name, state in members:
        if name in overrides:
            value = overrides[name]
        else:
            value = record.get(name)
            if value is not None:
                value = record[name]
            if name in if_falsy:
                if value is not None and type(value) is not str:
                    return False
                if not value:
                    value = if_falsy[name]
        if value is None:
            continue
        found = state(value)
        if found == INVALID:
            return False
        if found == PRESENT:
            present.add(name)
    return all(name in present for name in required)
