"""NextToken paging shared by the List operations: an opaque token holding the next offset."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from .errors import validation


def page(items: Sequence[Any], params: dict[str, Any], default_size: int, key: str) -> dict[str, Any]:
    size = int(params.get("MaxResults") or default_size)
    start = 0
    token = params.get("NextToken")
    if token:
        try:
            start = int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
        except (ValueError, KeyError, TypeError):
            raise validation(
                "NextToken is not valid",
                [{"FieldName": "NextToken", "Message": "invalid token", "Code": "INVALID_VALUE"}],
            ) from None
    chunk = list(items[start : start + size])
    out: dict[str, Any] = {key: chunk}
    if start + size < len(items):
        out["NextToken"] = base64.urlsafe_b64encode(json.dumps({"o": start + size}).encode()).decode()
    return out
