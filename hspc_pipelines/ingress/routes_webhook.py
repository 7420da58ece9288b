"""POST /webhook/hubspot and /webhook/deal-update: verify, check the shape, queue the batch whole."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hspc_pipelines.hubspot.signatures import SignatureError
from hspc_pipelines.hubspot.webhook_events import WebhookPayloadError, parse_webhook_batch
from hspc_pipelines.ingress.body import BodyError, raw_json_body, read_body
from hspc_pipelines.ingress.errors import answer, error
from hspc_pipelines.ingress.models import WebhookAccepted
from hspc_pipelines.ingress.settings import IngressSettings
from hspc_pipelines.ingress.verify import signed_uri, verify_request
from hspc_pipelines.queue.envelope import HUBSPOT_WEBHOOK, encode_envelope
from hspc_pipelines.queue.send import MessageTooLarge, QueueSender, QueueUnavailable

log = logging.getLogger(__name__)

# The body is read raw, never by FastAPI: the signature covers the exact bytes and is checked before
# anything parses them. The document's request schema is the same model the batch is parsed with.
SIGNATURE_HEADERS = [
    {
        "name": "X-HubSpot-Signature-v3",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "base64 HMAC-SHA256 of method + URI + body + timestamp, keyed with the app's client secret",
    },
    {
        "name": "X-HubSpot-Request-Timestamp",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "epoch milliseconds; refused when more than 5 minutes away from now",
    },
    {
        "name": "X-HubSpot-Signature",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "v1/v2 signature (hex sha256), only when the ingress is configured to accept them",
    },
    {"name": "X-HubSpot-Signature-Version", "in": "header", "required": False, "schema": {"type": "string"}},
]
OPENAPI_EXTRA = {
    "parameters": SIGNATURE_HEADERS,
    "requestBody": raw_json_body("WebhookBatch"),
}
RESPONSES = {
    400: "the body is not a HubSpot webhook batch (the message names the JSON path)",
    401: "signature missing, wrong or stale",
    404: "webhooks are switched off on this ingress",
    413: "body larger than HSPC_INGRESS_MAX_BODY_BYTES",
    503: "the events queue is unavailable; HubSpot retries",
}


def webhook_endpoint(
    settings: IngressSettings, sender: QueueSender
) -> Callable[[Request], Awaitable[Response]]:
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
        accepted = {"status": "queued", "events": len(events), "ignored": ignored, "signature": version}
        return answer(WebhookAccepted.model_validate(accepted))

    return receive_webhook
