"""Request validation against botocore's own model.

Step 1 turns the JSON body into what botocore's validator expects (timestamps to datetimes).
Step 2 runs `botocore.validate.ParamValidator` (required members, unknown members, types, min).
Step 3 checks what that validator leaves to the server: enums, patterns, max lengths/values.
Every failure becomes one `ErrorList` entry named by its dotted path (`Customer.Account.Industry`,
`Customer.Contacts[0].Email`), so a payload botocore rejects is rejected here for the same field.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any

from botocore.model import Shape
from botocore.utils import parse_timestamp
from botocore.validate import ParamValidator

from . import model
from .errors import ApiError, field_error, validation

_VALIDATOR = ParamValidator()
_CODES = {
    "missing required field": "REQUIRED_FIELD_MISSING",
    "unknown field": "INVALID_VALUE",
    "invalid type": "INVALID_VALUE",
    "invalid length": "INVALID_STRING_FORMAT",
    "invalid range": "VALUE_OUT_OF_RANGE",
}


def _join(parent: str, child: str) -> str:
    return f"{parent}.{child}" if parent else child


def _clean(name: str) -> str:
    return name[1:] if name.startswith(".") else name


@functools.cache
def _pattern(pattern: str) -> Callable[[str], Any] | None:
    """Compile a model pattern (Java syntax) for full matching; `\\p{L}` needs the `regex` module."""
    try:
        return re.compile(pattern).fullmatch
    except re.error:
        try:
            import regex
        except ImportError:  # pragma: no cover - regex ships with the dev environment
            return None
        return regex.compile(pattern).fullmatch  # type: ignore[no-any-return]


def _to_datetime(value: Any) -> Any:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            parsed = parse_timestamp(value)  # type: ignore[arg-type]  # numbers are epoch seconds
        except (ValueError, TypeError, OverflowError):
            return value
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return value


def convert(value: Any, shape: Shape) -> Any:
    """JSON value -> Python value per shape: only timestamps differ for this service."""
    kind = shape.type_name
    if kind == "timestamp":
        return _to_datetime(value)
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {k: (convert(v, members[k]) if k in members else v) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        member = shape.member  # type: ignore[attr-defined]
        if member.type_name in ("string", "integer", "long", "boolean"):
            return value
        return [convert(v, member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: convert(v, shape.value) for k, v in value.items()}  # type: ignore[attr-defined]
    return value


def _constraints(value: Any, shape: Shape, name: str, errors: list[dict[str, str]]) -> None:
    """Enum, pattern and max checks; values of the wrong type were already reported by botocore."""
    kind = shape.type_name
    meta = shape.metadata
    if kind == "string" and isinstance(value, str):
        enum = meta.get("enum")
        if enum and value not in enum:
            errors.append(
                field_error(name, f"Value {value!r} is not one of {list(enum)}", "INVALID_ENUM_VALUE")
            )
            return
        if "max" in meta and len(value) > meta["max"]:
            errors.append(field_error(name, f"Length must be at most {meta['max']}", "INVALID_STRING_FORMAT"))
        pattern = meta.get("pattern")
        if pattern:
            matcher = _pattern(pattern)
            if matcher is not None and matcher(value) is None:
                errors.append(
                    field_error(name, f"Value does not match the pattern {pattern}", "INVALID_STRING_FORMAT")
                )
    elif kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        for key, item in value.items():
            if key in members and item is not None:
                _constraints(item, members[key], _join(name, key), errors)
    elif kind == "list" and isinstance(value, list | tuple):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(field_error(name, f"At most {meta['max']} values are allowed", "TOO_MANY_VALUES"))
        member = shape.member  # type: ignore[attr-defined]
        for i, item in enumerate(value):
            _constraints(item, member, f"{name}[{i}]", errors)
    elif kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            _constraints(item, shape.value, _join(name, key), errors)  # type: ignore[attr-defined]
    elif (
        kind in ("integer", "long", "double", "float")
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and "max" in meta
        and value > meta["max"]
    ):
        errors.append(field_error(name, f"Value must be at most {meta['max']}", "VALUE_OUT_OF_RANGE"))


def field_errors(params: Any, shape: Shape) -> list[dict[str, str]]:
    """Every ErrorList entry for `params` (already converted); empty when valid."""
    errors: list[dict[str, str]] = []
    report = _VALIDATOR.validate(params, shape)
    for kind, name, details in report._errors:  # botocore keeps the structured errors here
        base = _clean(name)
        if kind == "missing required field":
            field = _join(base, details["required_name"])
            message = f"{field} is required"
        elif kind == "unknown field":
            field = _join(base, details["unknown_param"])
            message = f"Unknown field {field}"
        else:
            field = base or "input"
            message = report._format_error((kind, name, details))
        errors.append(field_error(field, message, _CODES.get(kind, "INVALID_VALUE")))
    seen = {e["FieldName"] for e in errors}
    extra: list[dict[str, str]] = []
    if isinstance(params, dict):
        _constraints(params, shape, "", extra)
    errors.extend(e for e in extra if e["FieldName"] not in seen)
    return errors


def validate_input(operation_name: str, body: Any) -> dict[str, Any]:
    """Converted, valid parameters, or a ValidationException (REQUEST_VALIDATION_FAILED)."""
    shape = model.operation(operation_name).input_shape
    if shape is None:
        return {}
    params = convert(body, shape)
    errors = field_errors(params, shape)
    if errors:
        names = ", ".join(e["FieldName"] for e in errors)
        raise validation(f"Invalid request: {names}", errors)
    return params  # type: ignore[no-any-return]


def require(condition: bool, field: str, message: str, code: str = "INVALID_VALUE") -> None:
    if not condition:
        raise ApiError(
            "ValidationException",
            message,
            Reason="REQUEST_VALIDATION_FAILED",
            ErrorList=[field_error(field, message, code)],
        )
