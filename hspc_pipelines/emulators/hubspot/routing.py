"""A small method+path router that also names each call's endpoint for the stats.

Stats keys keep the object types and the API version concrete and hide ids:
`POST /crm/objects/2026-09/deals/batch/read`, `GET /crm/v3/objects/deals/{id}`.

HubSpot serves each API under numbered paths (`/crm/v3/objects/...`) and date-based ones
(`/crm/objects/2026-09/...`); `dated` turns a numbered template into its date-based twin, whose
`{version}` only matches a YYYY-MM(-beta) segment (the app checks it is a version it serves).
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
_KEPT = frozenset({"type", "from_type", "to_type", "version"})
_PARAM = re.compile(r"\{(\w+)\}")
_VERSION_PATTERN = r"\d{4}-\d{2}(?:-beta)?"
# Numbered prefix -> date-based prefix (HubSpot's reference, docs/hubspot-api-versions.md).
_DATED_PREFIXES = (
    ("/crm/v3/objects/", "/crm/objects/{version}/"),
    ("/crm/v4/objects/", "/crm/objects/{version}/"),
    ("/crm/v3/properties/", "/crm/properties/{version}/"),
    ("/crm/v3/pipelines/", "/crm/pipelines/{version}/"),
    ("/crm/v4/associations/", "/crm/associations/{version}/"),
    ("/crm/v3/property-validations/", "/crm/property-validations/{version}/"),
)
_DATED_SEGMENT = re.compile(r"/\d{4}-\d{2}(?:-beta)?(?:/|$)")
_NUMBERED_SEGMENT = re.compile(r"/v\d+(?:/|$)")


def dated(template: str) -> str:
    """The date-based twin of a numbered template: `/crm/v3/objects/{type}` -> `/crm/objects/{version}/{type}`."""
    for numbered, date_based in _DATED_PREFIXES:
        if template.startswith(numbered):
            return date_based + template[len(numbered) :]
    raise ValueError(f"no date-based form known for {template}")


def family(endpoint: str) -> str:
    """`date-based`, `numbered` or `unversioned`, from a path or a stats key."""
    if _DATED_SEGMENT.search(endpoint):
        return "date-based"
    if _NUMBERED_SEGMENT.search(endpoint):
        return "numbered"
    return "unversioned"


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
        pattern = _PARAM.sub(
            lambda m: f"(?P<version>{_VERSION_PATTERN})" if m[1] == "version" else f"(?P<{m[1]}>[^/]+)",
            template,
        )
        self.routes.append(
            Route(method, template, handler, re.compile(f"^{pattern}$"), search=template.endswith("/search"))
        )

    def add_both(self, method: str, template: str, handler: Handler) -> None:
        """The numbered template and its date-based twin, served by the same handler."""
        self.add(method, template, handler)
        self.add(method, dated(template), handler)

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
