"""Answers for callers: where a submit request is, and a deal's latest sync outcome.

`GET /submit-opportunity/{requestId}` reads the status the submission run records (`state.submit_requests`);
`GET /deals/{dealId}/sync-status` the deal's newest row of the sync history (`history/`). Both read the
state database the runs write to, behind the same bearer token as the submit route.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import FastAPI, Path
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from hspc_pipelines.history import SyncHistory
from hspc_pipelines.history.records import HistoryRecord
from hspc_pipelines.ingress.errors import answer, error
from hspc_pipelines.ingress.models import (
    DealId,
    DealSyncStatus,
    Problem,
    RequestId,
    SubmitRequestAnswer,
)
from hspc_pipelines.state.submit_requests import SubmitRequestLog, SubmitRequestRecord

log = logging.getLogger(__name__)
NOT_CONFIGURED = "the state database is not configured (HSPC_STATE_URL); statuses cannot be read"
UNAVAILABLE = "the state database cannot be read right now; retry later"
OPENAPI_EXTRA: dict[str, Any] = {"security": [{"bearer": []}]}
COMMON = {
    400: "the id is not valid (the message names it and what is allowed)",
    401: "bearer token missing or wrong",
    503: "the state database is not configured or cannot be read",
}


class StateReaders:
    """The request log and the sync history on the state database, opened on first use (the app starts,
    and its document is served, without a database)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._requests: SubmitRequestLog | None = None
        self._history: SyncHistory | None = None

    def requests(self) -> SubmitRequestLog | None:
        if self.url is None:
            return None
        with self._lock:
            if self._requests is None:
                self._requests = SubmitRequestLog.from_url(self.url)
            return self._requests

    def history(self) -> SyncHistory | None:
        if self.url is None:
            return None
        with self._lock:
            if self._history is None:
                self._history = SyncHistory.from_url(self.url)
            return self._history


def request_answer(record: SubmitRequestRecord) -> SubmitRequestAnswer:
    return SubmitRequestAnswer.model_validate(
        {
            "requestId": record.request_id,
            "status": record.status,
            "dealId": record.deal_id,
            "involvementType": record.involvement_type,
            "visibility": record.visibility,
            "opportunityId": record.opportunity_id,
            "reviewStatus": record.review_status,
            "message": record.message,
            "problems": [Problem(field=p.field, problem=p.problem) for p in record.problems],
            "runId": record.run_id,
            "createdAt": record.created_at,
            "updatedAt": record.updated_at,
        }
    )


def sync_status_answer(row: HistoryRecord) -> DealSyncStatus:
    return DealSyncStatus.model_validate(
        {
            "dealId": row.deal_id,
            "status": row.status,
            "operation": row.operation,
            "opportunityId": row.opportunity_id,
            "reviewStatus": row.review_status,
            "reasonCode": row.reason_code,
            "reason": row.message,
            "runId": row.run_id,
            "jobName": row.job_name,
            "time": row.recorded_at,
        }
    )


def add_answer_routes(
    app: FastAPI,
    readers: StateReaders,
    error_responses: Callable[[dict[int, str]], dict[int | str, dict[str, Any]]],
) -> None:
    app.add_api_route(
        "/submit-opportunity/{requestId}",
        _request_status_endpoint(readers),
        methods=["GET"],
        operation_id="submitOpportunityStatus",
        response_model=SubmitRequestAnswer,
        response_description="queued, running, submitted, already_submitted, validation_failed or failed",
        responses=error_responses({**COMMON, 404: "no request with this id"}),
        openapi_extra=OPENAPI_EXTRA,
    )
    app.add_api_route(
        "/deals/{dealId}/sync-status",
        _sync_status_endpoint(readers),
        methods=["GET"],
        operation_id="dealSyncStatus",
        response_model=DealSyncStatus,
        response_description="the deal's latest outcome in the sync history",
        responses=error_responses({**COMMON, 404: "the sync history has no row for this deal"}),
        openapi_extra=OPENAPI_EXTRA,
    )


async def _read(read: Callable[[], Any], what: str) -> tuple[Any, Response | None]:
    """`read()` on a worker thread: (its result, None), or (None, a 503 answer) when the database
    is down or locked (the type in the log, nothing else)."""
    try:
        return await run_in_threadpool(read), None
    except Exception as exc:
        log.warning("%s could not be read: %s", what, type(exc).__name__)
        return None, error(503, UNAVAILABLE, headers={"Retry-After": "30"})


# The bearer token is checked by the app-level dependency (auth.py) before these handlers run.


def _request_status_endpoint(readers: StateReaders) -> Callable[..., Awaitable[Response]]:
    async def submit_opportunity_status(
        request_id: Annotated[RequestId, Path(alias="requestId", description="as POST answered it")],
    ) -> Response:
        requests = readers.requests()
        if requests is None:
            return error(503, NOT_CONFIGURED)
        record, failed = await _read(lambda: requests.get(request_id), f"submit request {request_id}")
        if failed is not None:
            return failed
        if record is None:
            return error(404, f"no submit request with id {request_id!r}")
        return answer(request_answer(record))

    return submit_opportunity_status


def _sync_status_endpoint(readers: StateReaders) -> Callable[..., Awaitable[Response]]:
    async def deal_sync_status(
        deal_id: Annotated[DealId, Path(alias="dealId", description="a HubSpot deal id")],
    ) -> Response:
        history = readers.history()
        if history is None:
            return error(503, NOT_CONFIGURED)
        rows, failed = await _read(lambda: history.timeline(deal_id, 1), f"sync history of deal {deal_id}")
        if failed is not None:
            return failed
        if not rows:
            return error(404, f"the sync history has no row for deal {deal_id}")
        return answer(sync_status_answer(rows[0]))

    return deal_sync_status
