"""JSON answers, and handlers so that nothing (404, 405, a bad parameter, a bug) answers with HTML, a
traceback or FastAPI's 422 shape: every refusal is `{"error": "..."}`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hspc_pipelines.hubspot.webhook_events import shown_value

log = logging.getLogger(__name__)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def answer(body: BaseModel, status: int = 200) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json", by_alias=True), status_code=status)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def unexpected(request: Request, exc: Exception) -> Response:
    # Type only: exception text can carry request data, and details belong in the server log, not here.
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
    return error(500, "internal error")


def validation_message(errors: Sequence[Any], allowed: Mapping[str, str], known: Sequence[str]) -> str:
    """One 400 message from pydantic's errors: an unknown parameter first, then the first field in error.

    `<name>: got <value>, allowed: <what>`, the name from the error's location (("query", "limit")).
    """
    extras = [e for e in errors if e.get("type") == "extra_forbidden"]
    first = extras[0] if extras else errors[0]
    loc = [str(p) for p in first.get("loc", ())]
    name = ".".join(loc[1:]) if loc and loc[0] in ("query", "path", "header", "body") else ".".join(loc)
    if extras:
        return f"unknown query parameter {name[:40]!r}; allowed: {', '.join(sorted(known))}"
    shown = "nothing" if first.get("type") == "missing" else shown_value(first.get("input"))
    return f"{name}: got {shown}, allowed: {allowed.get(name, first.get('msg', 'see the API document'))}"


def validation_handler(
    allowed: Mapping[str, str], known_by_path: Mapping[str, Sequence[str]]
) -> Callable[[Request, Exception], Coroutine[Any, Any, Response]]:
    """FastAPI's RequestValidationError as a 400; `known_by_path` lists each route's parameters."""

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        known = known_by_path.get(request.url.path, ())
        return error(400, validation_message(exc.errors(), allowed, known))

    return invalid_request
