"""Messages on the events queue: our envelopes, and raw EventBridge events.

The ingress wraps what it accepted in a small versioned envelope:

    {"v": 1, "id": "<uuid>", "kind": "hubspot_webhook" | "submit_request", "received_at": "<iso>",
     "path": "/webhook/hubspot", "headers": {...}, "body": "<raw body>", "body_encoding": "utf-8" | "base64"}

The HubSpot body is kept byte for byte with its signature headers, so a message can be re-verified or
replayed later. Only an allow-list of headers is kept: nothing that carries a credential (Authorization,
cookies, API keys) ever reaches the queue. The EventBridge rule delivers Partner Central events to the
same queue unwrapped; `decode_message` tells the three apart.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hspc_pipelines.hubspot.webhook_events import (
    HubSpotWebhookEvent,
    WebhookPayloadError,
    parse_webhook_batch,
)
from hspc_pipelines.ingress.submit import SubmitRequest, parse_submit_request
from hspc_pipelines.partner_central.events import (
    EventPayloadError,
    PartnerCentralEvent,
    looks_like_partner_central_event,
    parse_event,
)

VERSION = 1
HUBSPOT_WEBHOOK = "hubspot_webhook"
SUBMIT_REQUEST = "submit_request"
PARTNER_CENTRAL_EVENT = "partner_central_event"
ENVELOPE_KINDS = (HUBSPOT_WEBHOOK, SUBMIT_REQUEST)

# Lower-case names. Signature headers are kept so the batch can be re-verified; nothing else is needed.
KEPT_HEADERS = frozenset(
    {
        "content-type",
        "user-agent",
        "x-hubspot-signature",
        "x-hubspot-signature-v3",
        "x-hubspot-signature-version",
        "x-hubspot-request-timestamp",
        "x-hubspot-correlation-id",
        "x-request-id",
    }
)


class MessageFormatError(ValueError):
    """A queue message that is neither an envelope we wrote nor a Partner Central event."""


@dataclass(frozen=True)
class QueueMessage:
    kind: str  # HUBSPOT_WEBHOOK, SUBMIT_REQUEST or PARTNER_CENTRAL_EVENT
    message_id: str  # envelope id, or the EventBridge event id
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    path: str | None = None
    received_at: str | None = None
    hubspot_events: tuple[HubSpotWebhookEvent, ...] = ()
    submit_request: SubmitRequest | None = None
    partner_central_event: PartnerCentralEvent | None = None


def kept_headers(headers: Mapping[str, str] | Any) -> dict[str, str]:
    """The allow-listed headers, names lower-cased (works for dicts and starlette Headers)."""
    return {k.lower(): v for k, v in headers.items() if k.lower() in KEPT_HEADERS}


def encode_envelope(
    kind: str,
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    path: str | None = None,
    received_at: dt.datetime | None = None,
    envelope_id: str | None = None,
) -> str:
    if kind not in ENVELOPE_KINDS:
        raise ValueError(f"envelope kind must be one of {ENVELOPE_KINDS}, not {kind!r}")
    try:
        text, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(body).decode("ascii"), "base64"
    envelope = {
        "v": VERSION,
        "id": envelope_id or str(uuid.uuid4()),
        "kind": kind,
        "received_at": (received_at or dt.datetime.now(dt.UTC)).isoformat(),
        "path": path,
        "headers": kept_headers(headers or {}),
        "body": text,
        "body_encoding": encoding,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


def decode_message(body: str | bytes) -> QueueMessage:
    """Recognise and parse a queue message body. Raises MessageFormatError saying what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MessageFormatError(f"message body is not JSON ({type(exc).__name__})") from None
    if looks_like_partner_central_event(data):
        try:
            event = parse_event(data)
        except EventPayloadError as exc:
            raise MessageFormatError(f"Partner Central event: {exc}") from None
        return QueueMessage(
            PARTNER_CENTRAL_EVENT, event.event_id, received_at=data.get("time"), partner_central_event=event
        )
    if not isinstance(data, dict) or "v" not in data or "kind" not in data:
        raise MessageFormatError(
            "message is neither an hspc envelope nor a Partner Central EventBridge event"
        )
    if data["v"] != VERSION:
        raise MessageFormatError(f"envelope version {data['v']!r} is not supported (expected {VERSION})")
    kind = data["kind"]
    if kind not in ENVELOPE_KINDS:
        raise MessageFormatError(f"envelope kind {kind!r} is unknown (expected one of {ENVELOPE_KINDS})")
    envelope_id = data.get("id")
    if not isinstance(envelope_id, str) or not envelope_id:
        raise MessageFormatError("envelope id is missing")
    raw = _body_bytes(data)
    headers = data.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise MessageFormatError("envelope headers must be an object of strings")
    common: dict[str, Any] = {
        "message_id": envelope_id,
        "body": raw,
        "headers": headers,
        "path": data.get("path"),
        "received_at": data.get("received_at"),
    }
    if kind == HUBSPOT_WEBHOOK:
        try:
            events = parse_webhook_batch(raw)
        except WebhookPayloadError as exc:
            raise MessageFormatError(f"HubSpot webhook batch: {exc}") from None
        return QueueMessage(HUBSPOT_WEBHOOK, hubspot_events=tuple(events), **common)
    try:
        request = parse_submit_request(json.loads(raw))
    except (ValueError, RecursionError) as exc:
        raise MessageFormatError(f"submit request: {exc}") from None
    return QueueMessage(SUBMIT_REQUEST, submit_request=request, **common)


def _body_bytes(data: Mapping[str, Any]) -> bytes:
    body, encoding = data.get("body"), data.get("body_encoding", "utf-8")
    if not isinstance(body, str):
        raise MessageFormatError("envelope body must be a string")
    if encoding == "utf-8":
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            raise MessageFormatError("envelope body is not valid UTF-8 text") from None
    if encoding == "base64":
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            raise MessageFormatError("envelope body is not valid base64") from None
    raise MessageFormatError(f"envelope body_encoding {encoding!r} is unknown (expected utf-8 or base64)")
