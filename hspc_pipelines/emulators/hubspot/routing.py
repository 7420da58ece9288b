"""A small method+path router that also names each call's endpoint for the stats.

Stats keys keep the object types concrete and hide ids: `POST /crm/v3/objects/deals/batch/read`,
`GET /crm/v3/objects/deals/{id}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers, QueryParams

from .errors import bad_request

# Path parameters that are kept verbatim in the stats key; all others are ids and become {id}.
_KEPT = frozenset({"type", "from_type", "to_type"})
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass
class Call:
    method: str
    path: str
    params: dict[str, str]
    query: QueryParams
    headers: Headers
    body: bytes
    source: str = "INTEGRATION"
    user_id: str | None = None  # a person's change (header x-emulator-user-id): sourceId userId:<id>

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise bad_request(
                f"Invalid input JSON on line {getattr(exc, 'lineno', 1)}, "
                f"column {getattr(exc, 'colno', 1)}: {exc}"
            ) from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise bad_request("Invalid input JSON: expected an object")
        return data


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[..., Reply]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    regex: re.Pattern[str]
    search: bool = False


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        pattern = _PARAM.sub(r"(?P<\1>[^/]+)", template)
        self.routes.append(
            Route(method, template, handler, re.compile(f"^{pattern}$"), search=template.endswith("/search"))
        )

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                return route, m.groupdict()
        return None


def stats_key(route: Route, params: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        return params[name] if name in _KEPT else "{id}"

    return f"{route.method} {_PARAM.sub(sub, route.template)}"
