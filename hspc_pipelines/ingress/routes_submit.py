"""POST /submit-opportunity: validated body, queued for a submission run with the id of the token
that asked (the app-level dependency in auth.py has checked the token before this handler runs).

The answer's `requestId` is the queue message's id: the request is recorded as `queued` in the state
database before it is sent, the run it starts records the rest (`GET /submit-opportunity/{requestId}`)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hspc_pipelines.cosell.submission.request import SubmitRequestError, parse_submit_request
from hspc_pipelines.ingress.auth import request_token_id
from hspc_pipelines.ingress.body import BodyError, raw_json_body, read_body
from hspc_pipelines.ingress.errors import answer, error
from hspc_pipelines.ingress.models import SubmitAccepted
from hspc_pipelines.ingress.settings import IngressSettings
from hspc_pipelines.queue.envelope import SUBMIT_REQUEST, api_token_actor, encode_envelope
from hspc_pipelines.queue.send import MessageTooLarge, QueueSender, QueueUnavailable

log = logging.getLogger(__name__)
SUBMIT_MAX_BODY_BYTES = 16 * 1024  # three short fields


class RequestRecorder(Protocol):
    """What the route needs of `state.submit_requests.SubmitRequestLog` (None: not configured)."""

    def queued(
        self, request_id: str, deal_id: str, involvement_type: str | None, visibility: str | None
    ) -> None: ...

    def forget(self, request_id: str) -> None: ...


# The body is read raw, never by FastAPI: the token is checked and the size capped before anything is
# parsed. The document's request schema is the model the handler validates with (submit.SubmitRequest).
OPENAPI_EXTRA = {
    "security": [{"bearer": []}],
    "requestBody": raw_json_body("SubmitRequest"),
}

RESPONSES = {
    400: "the body is invalid (the message names the field, the value and what is allowed)",
    401: "bearer token missing or wrong",
    429: "too many failed authentications from this client; retry after Retry-After seconds",
    413: "body too large",
    503: "the events queue or the state database is unavailable",
}


def submit_endpoint(
    settings: IngressSettings, sender: QueueSender, recorder: Callable[[], RequestRecorder | None]
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
        request_id = str(uuid.uuid4())
        message = encode_envelope(
            SUBMIT_REQUEST,
            json.dumps(submit.to_json()).encode(),
            path=request.url.path,
            requested_by=api_token_actor(request_token_id(request)),
            envelope_id=request_id,
        )
        requests = recorder()
        if requests is not None:
            # Recorded before it is sent, so the run's own status always comes after `queued`.
            try:
                await run_in_threadpool(
                    requests.queued, request_id, submit.deal_id, submit.involvement_type, submit.visibility
                )
            except Exception as exc:  # the caller could not follow the request: refuse it, queue nothing
                log.warning("submit request could not be recorded: %s", type(exc).__name__)
                return error(
                    503,
                    "the state database cannot be written right now; retry later",
                    headers={"Retry-After": "30"},
                )
        try:
            await run_in_threadpool(sender.send, message)
        except (QueueUnavailable, MessageTooLarge) as exc:
            if requests is not None:
                await run_in_threadpool(requests.forget, request_id)
            return error(503, str(exc), headers={"Retry-After": "30"})
        accepted = {"status": "queued", "requestId": request_id, **submit.to_json()}
        return answer(SubmitAccepted.model_validate(accepted), 202)

    return submit_opportunity
