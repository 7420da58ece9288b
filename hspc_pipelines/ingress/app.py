"""The ingress ASGI app: HubSpot webhooks and submit requests onto the events queue, solutions look-up.

It does no sync work itself: it authenticates, checks shapes, queues and answers fast. The events
sensor picks the messages up. FastAPI writes the OpenAPI document (/openapi.json) from the routes and
the pydantic models they are validated with.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from hspc_pipelines.cosell.submission.request import SubmitRequest
from hspc_pipelines.hubspot.webhook_events import WEBHOOK_BATCH
from hspc_pipelines.ingress import routes_submit, routes_webhook
from hspc_pipelines.ingress.auth import PUBLIC_PATHS, FailureLimiter, IngressAuth
from hspc_pipelines.ingress.errors import http_exception, unexpected, validation_handler
from hspc_pipelines.ingress.models import (
    ALLOWED,
    Error,
    Health,
    ListQuery,
    SearchQuery,
    SubmitAccepted,
    WebhookAccepted,
)
from hspc_pipelines.ingress.routes_answers import StateReaders, add_answer_routes
from hspc_pipelines.ingress.routes_solutions import add_solutions_routes
from hspc_pipelines.ingress.settings import IngressConfigError, IngressSettings
from hspc_pipelines.ingress.tokens import TokenConfigError, TokenSource
from hspc_pipelines.queue.send import QueueSender
from hspc_pipelines.solutions.lookup import PartnerCentralSolutionsSource, SolutionsSource

TITLE = "hspc ingress"
VERSION = "1.0.0"
DESCRIPTION = "HubSpot webhooks and submit requests onto the hspc events queue; partner solution look-up."
REF = "#/components/schemas/{model}"
log = logging.getLogger(__name__)


def error_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": Error, "description": text} for status, text in descriptions.items()}


def _query_names(model: type[ListQuery]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


class IngressAPI(FastAPI):
    """FastAPI with the document completed by `openapi_document` (built once, on first use)."""

    _document: dict[str, Any] | None = None

    def openapi(self) -> dict[str, Any]:
        if self._document is None:
            self._document = openapi_document(self)
        return self._document


def create_app(
    settings: IngressSettings,
    *,
    sqs_client: Any = None,
    solutions_source: SolutionsSource | None = None,
    ssm_client: Any = None,
    limiter: FailureLimiter | None = None,
) -> IngressAPI:
    """The app. Raises IngressConfigError when its tokens cannot be read (the SSM parameter)."""
    sender = QueueSender(settings.queue_url, sqs_client, settings.region)
    readers = StateReaders(settings.state_url)
    app = _new_app(ingress_auth(settings, ssm_client, limiter))
    _add_service_routes(app)
    _add_queue_routes(app, settings, sender, readers)
    add_answer_routes(app, readers, error_responses)
    add_solutions_routes(app, solutions_source or PartnerCentralSolutionsSource(), error_responses)
    _answer_head_like_get(app)
    return app


def ingress_auth(
    settings: IngressSettings, ssm_client: Any = None, limiter: FailureLimiter | None = None
) -> IngressAuth:
    """The authentication every route but the public ones depends on, its tokens read once now."""
    tokens = TokenSource(
        settings.fixed_tokens,
        parameter=settings.tokens_ssm_parameter,
        ssm_client=ssm_client,
        region=settings.region,
        refresh_seconds=settings.token_refresh_seconds,
    )
    if not settings.auth_enabled:
        # Said at every start, so an ingress left open by mistake shows in its log.
        log.warning(
            "ingress authentication is OFF (HSPC_INGRESS_AUTH=off): anyone who reaches this port can "
            "submit deals and read solutions; for local use only"
        )
        return IngressAuth(tokens, enabled=False)
    try:
        loaded = tokens.load()
    except TokenConfigError as exc:
        raise IngressConfigError(str(exc)) from None
    where = f"SSM parameter {settings.tokens_ssm_parameter}" if settings.tokens_ssm_parameter else "settings"
    log.info("ingress authentication on: %d token(s) from the %s (ids %s)", len(loaded), where,
             ", ".join(t.id for t in loaded))  # fmt: skip
    return IngressAuth(tokens, behind_proxy=bool(settings.public_url), limiter=limiter)


def _new_app(auth: IngressAuth) -> IngressAPI:
    """The application: JSON only (no HTML pages, no slash redirects), every refusal `{"error": ...}`.
    Every route depends on `auth` (public routes are listed in auth.PUBLIC_PATHS)."""
    return IngressAPI(
        dependencies=[Depends(auth)],
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        # /openapi.json is a route of its own below (so the document describes it too); no HTML pages.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        # No redirect from "/path/" to "/path": it would answer an undocumented 307 whose Location is
        # built from the client's Host header. Unknown paths are a plain JSON 404.
        redirect_slashes=False,
        exception_handlers={
            RequestValidationError: validation_handler(
                ALLOWED,
                {"/solutions": _query_names(ListQuery), "/solutions/search": _query_names(SearchQuery)},
            ),
            HTTPException: http_exception,
            Exception: unexpected,
        },
    )


def _add_service_routes(app: IngressAPI) -> None:
    """GET /healthz and GET /openapi.json."""

    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    async def openapi() -> Response:
        return JSONResponse(app.openapi())

    app.add_api_route(
        "/healthz",
        healthz,
        methods=["GET"],
        operation_id="healthz",
        response_model=Health,
        response_description="the process is up",
    )
    app.add_api_route(
        "/openapi.json",
        openapi,
        methods=["GET"],
        operation_id="openapi",
        response_model=dict[str, Any],
        response_description="this document",
    )


def _add_queue_routes(
    app: IngressAPI, settings: IngressSettings, sender: QueueSender, readers: StateReaders
) -> None:
    """The routes that put what they receive on the events queue: the webhooks and submit requests."""
    webhook = routes_webhook.webhook_endpoint(settings, sender)
    for path, operation_id in (
        ("/webhook/hubspot", "hubspotWebhook"),
        ("/webhook/deal-update", "dealUpdateWebhook"),
    ):
        app.add_api_route(
            path,
            webhook,
            methods=["POST"],
            operation_id=operation_id,
            response_model=WebhookAccepted,
            response_description="the batch is on the events queue",
            responses=error_responses(routes_webhook.RESPONSES),
            openapi_extra=routes_webhook.OPENAPI_EXTRA,
        )
    app.add_api_route(
        "/submit-opportunity",
        routes_submit.submit_endpoint(settings, sender, readers.requests),
        methods=["POST"],
        operation_id="submitOpportunity",
        status_code=202,
        response_model=SubmitAccepted,
        response_description="queued; a submission run follows (GET /submit-opportunity/{requestId})",
        responses=error_responses(routes_submit.RESPONSES),
        openapi_extra=routes_submit.OPENAPI_EXTRA,
    )


def _answer_head_like_get(app: FastAPI) -> None:
    """HEAD on every GET route, as plain Starlette routes do (load balancers probe /healthz with HEAD);
    left out of the document like any HEAD (the server sends the GET answer's headers, no body)."""
    for route in list(app.routes):
        if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
            app.add_api_route(route.path, route.endpoint, methods=["HEAD"], include_in_schema=False)


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document for the routes, plus what FastAPI cannot see on its own."""
    doc = get_openapi(title=TITLE, version=VERSION, description=DESCRIPTION, routes=app.routes)
    # Refusals are 400s with {"error": ...} (errors.validation_handler), never FastAPI's 422 shape.
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            operation["responses"].pop("422", None)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    # Bodies read raw by their handlers (signature or token first, size capped): their schemas are the
    # models the handlers validate with.
    batch = WEBHOOK_BATCH.json_schema(ref_template=REF)
    schemas.update(batch.pop("$defs", {}))
    schemas["WebhookBatch"] = batch
    schemas["SubmitRequest"] = SubmitRequest.model_json_schema(ref_template=REF)
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    # Every route needs the bearer token but the public ones (auth.PUBLIC_PATHS), which say so.
    doc["security"] = [{"bearer": []}]
    for path, path_item in doc["paths"].items():
        for operation in path_item.values():
            if path in PUBLIC_PATHS:
                operation["security"] = []
                continue
            operation["responses"].setdefault("401", _refusal("bearer token missing or wrong"))
            operation["responses"].setdefault(
                "429", _refusal("too many failed authentications from this client; see Retry-After")
            )
    return doc


def _refusal(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }
