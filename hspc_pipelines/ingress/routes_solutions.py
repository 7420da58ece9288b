"""GET /solutions, /solutions/search and /solutions/{id}: the partner's solutions, filtered and paged.

FastAPI validates the query parameters with `models.ListQuery` / `models.SearchQuery` (an unknown or bad
parameter is a 400 naming it, see errors.validation_handler) and documents them from the same models.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hspc_pipelines.ingress.errors import answer, error
from hspc_pipelines.ingress.models import (
    ListQuery,
    SearchHit,
    SearchQuery,
    Solution,
    SolutionDetail,
    SolutionList,
    SolutionSearch,
)
from hspc_pipelines.solutions.lookup import SolutionsSource, filtered, page, public_view, ranked

log = logging.getLogger(__name__)
UNAVAILABLE = "solutions cannot be read from Partner Central right now; retry later"
UNAVAILABLE_DOC = "Partner Central cannot be read right now"


async def _all(source: SolutionsSource) -> list[dict[str, Any]] | None:
    try:
        return list(await run_in_threadpool(source.list_solutions))
    except Exception as exc:  # any client failure: the caller gets a 503, the log gets the type
        log.warning("solutions could not be read: %s", type(exc).__name__)
        return None


def add_solutions_routes(
    app: FastAPI,
    source: SolutionsSource,
    error_responses: Callable[[dict[int, str]], dict[int | str, dict[str, Any]]],
) -> None:
    app.add_api_route(
        "/solutions",
        _list_solutions_endpoint(source),
        methods=["GET"],
        operation_id="listSolutions",
        response_model=SolutionList,
        response_description="one page of solutions, by name",
        responses=error_responses({400: "a query parameter is invalid", 503: UNAVAILABLE_DOC}),
    )
    app.add_api_route(  # before /solutions/{solutionId}
        "/solutions/search",
        _search_solutions_endpoint(source),
        methods=["GET"],
        operation_id="searchSolutions",
        response_model=SolutionSearch,
        response_description="matching solutions, most relevant first",
        responses=error_responses({400: "q missing or a query parameter invalid", 503: UNAVAILABLE_DOC}),
    )
    app.add_api_route(
        "/solutions/{solutionId}",
        _get_solution_endpoint(source),
        methods=["GET"],
        operation_id="getSolution",
        response_model=SolutionDetail,
        response_description="the solution",
        responses=error_responses(
            {
                400: "the id is 'search': /solutions/search is the search, which needs q",
                404: "no solution with this id",
                503: UNAVAILABLE_DOC,
            }
        ),
    )


def _list_solutions_endpoint(source: SolutionsSource) -> Callable[..., Awaitable[Response]]:
    """GET /solutions: one page of the solutions, by name."""

    async def list_solutions(query: Annotated[ListQuery, Query()]) -> Response:
        solutions = await _all(source)
        if solutions is None:
            return error(503, UNAVAILABLE)
        chunk, token = page(filtered(solutions, query.category, query.status), query.offset, query.limit)
        views = [Solution.model_validate(public_view(s)) for s in chunk]
        return answer(SolutionList(solutions=views, count=len(chunk), nextToken=token))

    return list_solutions


def _search_solutions_endpoint(source: SolutionsSource) -> Callable[..., Awaitable[Response]]:
    """GET /solutions/search: matching solutions, most relevant first."""

    async def search_solutions(query: Annotated[SearchQuery, Query()]) -> Response:
        solutions = await _all(source)
        if solutions is None:
            return error(503, UNAVAILABLE)
        hits = ranked(filtered(solutions, query.category, query.status), query.q)
        chunk, token = page(hits, query.offset, query.limit)
        views = [SearchHit.model_validate({**public_view(s), "relevanceScore": value}) for s, value in chunk]
        return answer(SolutionSearch(solutions=views, count=len(chunk), query=query.q, nextToken=token))

    return search_solutions


def _get_solution_endpoint(source: SolutionsSource) -> Callable[..., Awaitable[Response]]:
    """GET /solutions/{solutionId}: one solution in detail."""

    async def get_solution(
        solution_id: Annotated[
            str,
            Path(
                alias="solutionId",
                min_length=1,
                description="a solution id such as S-0000001 (/solutions/search is the search)",
                json_schema_extra={"not": {"enum": ["search"]}},
            ),
        ],
    ) -> Response:
        solutions = await _all(source)
        if solutions is None:
            return error(503, UNAVAILABLE)
        found: Mapping[str, Any] | None = next(
            (s for s in solutions if str(s.get("Id")) == solution_id), None
        )
        if found is None:
            return error(404, f"no solution with id {solution_id[:80]!r}")
        return answer(SolutionDetail.model_validate(public_view(found, detailed=True)))

    return get_solution
