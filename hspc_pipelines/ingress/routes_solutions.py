"""GET /solutions, /solutions/search and /solutions/{id}: the partner's solutions, filtered and paged."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hspc_pipelines.ingress.errors import error
from hspc_pipelines.ingress.solutions import (
    STATUSES,
    BadPageToken,
    SolutionsSource,
    decode_token,
    filtered,
    page,
    public_view,
    ranked,
)

log = logging.getLogger(__name__)
MAX_LIMIT = 100
MAX_QUERY_CHARS = 200
# Blank means whitespace to Python or to JavaScript regexes (the OpenAPI pattern's dialect), so the
# document's pattern and this check refuse exactly the same queries.
BLANK = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "\ufeff"
LIST_PARAMS = frozenset({"category", "status", "limit", "nextToken"})
SEARCH_PARAMS = LIST_PARAMS | {"q"}


class BadParameter(ValueError):
    pass


def _params(request: Request, allowed: frozenset[str], default_limit: int) -> dict[str, Any]:
    query = request.query_params
    for name in query:
        if name not in allowed:
            raise BadParameter(
                f"unknown query parameter {name[:40]!r}; allowed: {', '.join(sorted(allowed))}"
            )
    status = query.get("status", "Active")
    if status not in STATUSES:
        raise BadParameter(f"status: got {status[:40]!r}, allowed: {' | '.join(STATUSES)}")
    limit_text = query.get("limit", str(default_limit))
    if not (limit_text.isascii() and limit_text.isdigit() and 1 <= int(limit_text) <= MAX_LIMIT):
        raise BadParameter(f"limit: got {limit_text[:20]!r}, allowed: an integer from 1 to {MAX_LIMIT}")
    try:
        offset = decode_token(query.get("nextToken"))
    except BadPageToken:
        raise BadParameter("nextToken: not a token this API returned") from None
    category = query.get("category")
    if category is not None and not (0 < len(category) <= MAX_QUERY_CHARS):
        raise BadParameter(f"category: allowed: 1 to {MAX_QUERY_CHARS} characters")
    return {"status": status, "limit": int(limit_text), "offset": offset, "category": category}


async def _all(source: SolutionsSource) -> list[dict[str, Any]] | None:
    try:
        return list(await run_in_threadpool(source.list_solutions))
    except Exception as exc:  # any client failure: the caller gets a 503, the log gets the type
        log.warning("solutions could not be read: %s", type(exc).__name__)
        return None


UNAVAILABLE = "solutions cannot be read from Partner Central right now; retry later"


def solutions_endpoints(source: SolutionsSource) -> dict[str, Any]:
    async def list_solutions(request: Request) -> Response:
        try:
            p = _params(request, LIST_PARAMS, MAX_LIMIT)
        except BadParameter as exc:
            return error(400, str(exc))
        solutions = await _all(source)
        if solutions is None:
            return error(503, UNAVAILABLE)
        chunk, token = page(filtered(solutions, p["category"], p["status"]), p["offset"], p["limit"])
        return JSONResponse(
            {"solutions": [public_view(s) for s in chunk], "count": len(chunk), "nextToken": token}
        )

    async def search_solutions(request: Request) -> Response:
        try:
            p = _params(request, SEARCH_PARAMS, 50)
        except BadParameter as exc:
            return error(400, str(exc))
        q = request.query_params.get("q", "")
        if not q.strip(BLANK) or len(q) > MAX_QUERY_CHARS:
            return error(400, f"q: allowed: search words, 1 to {MAX_QUERY_CHARS} characters")
        solutions = await _all(source)
        if solutions is None:
            return error(503, UNAVAILABLE)
        hits = ranked(filtered(solutions, p["category"], p["status"]), q)
        chunk, token = page(hits, p["offset"], p["limit"])
        return JSONResponse(
            {
                "solutions": [{**public_view(s), "relevanceScore": value} for s, value in chunk],
                "count": len(chunk),
                "query": q,
                "nextToken": token,
            }
        )

    async def get_solution(request: Request) -> Response:
        solution_id = request.path_params["solution_id"]
        solutions = await _all(source)
        if solutions is None:
            return error(503, UNAVAILABLE)
        found: Mapping[str, Any] | None = next(
            (s for s in solutions if str(s.get("Id")) == solution_id), None
        )
        if found is None:
            return error(404, f"no solution with id {solution_id[:80]!r}")
        return JSONResponse(public_view(found, detailed=True))

    return {"list": list_solutions, "search": search_solutions, "get": get_solution}
