"""POST /submit-opportunity: validated body, queued for a submission run with the id of the token
that asked (the app-level dependency in auth.py has checked the token before this handler runs)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hspc_pipelines.cosell.submission.request import SubmitRequestError, parse_submit_request
from hspc_pipelines.ingress.auth import authorized, request_token_id
from hspc_pipelines.ingress.body import BodyError, raw_json_body, read_body
from hspc_pipelines.ingress.errors import answer, error
from hspc_pipelines.ingress.models import SubmitQueued
from hspc_pipelines.ingress.settings import IngressSettings
from hspc_pipelines.queue.envelope import SUBMIT_REQUEST, api_token_actor, encode_envelope
from hspc_pipelines.queue.send import MessageTooLarge, QueueSender, QueueUnavailable

SUBMIT_MAX_BODY_BYTES = 16 * 1024  # three short fields

# The body is read raw, never by FastAPI: the token is checked and the size capped before anything is
# parsed. The document's request schema is the model the handler validates with (submit.SubmitRequest).
OPENAPI_EXTRA = {
    "security": [{"bearer": []}],
    "requestBody": raw_json_body("SubmitRequest"),
}
__all__ = ["OPENAPI_EXTRA", "RESPONSES", "authorized", "submit_endpoint"]  # authorized: see auth.py

RESPONSES = {
    400: "the body is invalid (the message names the field, the value and what is allowed)",
    401: "bearer token missing or wrong",
    429: "too many failed authentications from this client; retry after Retry-After seconds",
    413: "body too large",
    503: "the events queue is unavailable",
}


def submit_endpoint(
    settings: IngressSettings, sender: QueueSender
) -> Callable[[Request], Awaitable[Response]]:
    async def submit_opportunity(request: Request) -> Response:
        try:
            body = await read_body(request, min(settings.max_body_bytes, SUBMIT_MAX_BODY_BYTES))
        except BodyError as exc:
            return error(exc.status, str(exc), headers=exc.headers)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return error(400, 'body must be a JSON object such as {"dealId": "12345"}')
        try:
            submit = parse_submit_request(data)
        except SubmitRequestError as exc:
            return error(400, str(exc))
        message = encode_envelope(
            SUBMIT_REQUEST,
            json.dumps(submit.to_json()).encode(),
            path=request.url.path,
            requested_by=api_token_actor(request_token_id(request)),
        )
        try:
            await run_in_threadpool(sender.send, message)
        except (QueueUnavailable, MessageTooLarge) as exc:
            return error(503, str(exc), headers={"Retry-After": "30"})
        return answer(SubmitQueued.model_validate({"status": "queued", **submit.to_json()}), 202)

    return submit_opportunity
