"""AWS JSON 1.0 on the wire: operation from `X-Amz-Target`, JSON bodies, ISO timestamps out."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from . import model
from .errors import ApiError

CONTENT_TYPE = b"application/x-amz-json-1.0"


def operation_name(target: str | None) -> str:
    prefix = model.target_prefix() + "."
    if not target or not target.startswith(prefix):
        raise ApiError("UnknownOperationException", f"Missing or unknown X-Amz-Target header: {target!r}")
    return target[len(prefix) :]


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError("SerializationException", f"Request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError("SerializationException", "Request body must be a JSON object")
    return body


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return model.iso(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(body: Any) -> bytes:
    return json.dumps(body, default=_default, separators=(",", ":")).encode()


def canonical(body: Any) -> str:
    """Stable text of a request body, for ClientToken comparison."""
    return json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
