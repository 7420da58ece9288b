"""POST /webhook/hubspot and /webhook/deal-update: verify, check the shape, queue the batch whole."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hspc_pipelines.hubspot.signatures import SignatureError
from hspc_pipelines.hubspot.webhook_events import WebhookPayloadError, parse_webhook_batch
from hspc_pipelines.ingress.body import BodyError, read_body
from hspc_pipelines.ingress.envelope import HUBSPOT_WEBHOOK, encode_envelope
from hspc_pipelines.ingress.errors import error
from hspc_pipelines.ingress.queue import MessageTooLarge, QueueSender, QueueUnavailable
from hspc_pipelines.ingress.settings import IngressSettings
from hspc_pipelines.ingress.verify import signed_uri, verify_request

log = logging.getLogger(__name__)


def webhook_endpoint(settings: IngressSettings, sender: QueueSender):  # noqa: ANN201 - starlette endpoint
    async def receive_webhook(request: Request) -> Response:
        if not settings.webhooks_enabled:
            return error(404, "HubSpot webhooks are switched off on this ingress")
        try:
            body = await read_body(request, settings.max_body_bytes)
        except BodyError as exc:
            return error(exc.status, str(exc), headers=exc.headers)
        # The signature comes first: nothing about an unauthenticated body is worth parsing or reporting.
        try:
            version = verify_request(
                settings,
                request.method,
                signed_uri(request, settings.public_url),
                body,
                request.headers,
            )
        except SignatureError as exc:
            log.info("webhook refused on %s: %s", request.url.path, exc)
            return error(401, str(exc))
        try:
            events = parse_webhook_batch(body)
        except WebhookPayloadError as exc:
            return error(400, f"webhook batch is malformed: {exc}")
        message = encode_envelope(HUBSPOT_WEBHOOK, body, headers=request.headers, path=request.url.path)
        try:
            await run_in_threadpool(sender.send, message)
        except MessageTooLarge as exc:
            return error(413, str(exc))
        except QueueUnavailable as exc:
            return error(503, str(exc), headers={"Retry-After": "30"})
        ignored = sum(1 for e in events if not e.known)
        return JSONResponse(
            {"status": "queued", "events": len(events), "ignored": ignored, "signature": version}
        )

    return receive_webhook
