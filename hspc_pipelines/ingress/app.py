"""The ingress ASGI app: HubSpot webhooks and submit requests onto the events queue, solutions look-up.

It does no sync work itself: it authenticates, checks shapes, queues and answers fast. The events
sensor picks the messages up.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hspc_pipelines.ingress.errors import EXCEPTION_HANDLERS
from hspc_pipelines.ingress.openapi import SPEC
from hspc_pipelines.ingress.queue import QueueSender
from hspc_pipelines.ingress.routes_solutions import solutions_endpoints
from hspc_pipelines.ingress.routes_submit import submit_endpoint
from hspc_pipelines.ingress.routes_webhook import webhook_endpoint
from hspc_pipelines.ingress.settings import IngressSettings
from hspc_pipelines.ingress.solutions import PartnerCentralSolutionsSource, SolutionsSource


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def openapi(request: Request) -> Response:
    return JSONResponse(SPEC)


def create_app(
    settings: IngressSettings, *, sqs_client: Any = None, solutions_source: SolutionsSource | None = None
) -> Starlette:
    sender = QueueSender(settings.queue_url, sqs_client, settings.region)
    webhook = webhook_endpoint(settings, sender)
    solutions = solutions_endpoints(solutions_source or PartnerCentralSolutionsSource())
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/webhook/hubspot", webhook, methods=["POST"]),
        Route("/webhook/deal-update", webhook, methods=["POST"]),
        Route("/submit-opportunity", submit_endpoint(settings, sender), methods=["POST"]),
        Route("/solutions", solutions["list"], methods=["GET"]),
        Route("/solutions/search", solutions["search"], methods=["GET"]),  # before {solution_id}
        Route("/solutions/{solution_id}", solutions["get"], methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    # No redirect from "/path/" to "/path": it would answer an undocumented 307 whose Location is built
    # from the client's Host header. Unknown paths are a plain JSON 404.
    app.router.redirect_slashes = False
    return app
