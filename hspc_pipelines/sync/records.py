"""JSON-safe opportunity records: datetimes as ISO strings, so frames, the state store and the plan
can hold them, and botocore gets datetimes back when a request is sent."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

_TIMESTAMP_KEYS = frozenset({"LastModifiedDate", "CreatedDate"})


def to_jsonable(value: Any) -> Any:
    """Deep copy with datetimes turned into ISO-8601 strings (UTC when aware)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def parse_timestamp(value: Any) -> dt.datetime:
    """An ISO string or datetime as an aware UTC datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def with_timestamps(request: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level timestamp members back to datetimes, as botocore expects them."""
    out = dict(request)
    for key in _TIMESTAMP_KEYS & out.keys():
        out[key] = parse_timestamp(out[key])
    return out


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), sort_keys=True, ensure_ascii=False)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None
