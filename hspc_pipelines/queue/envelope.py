"""Messages on the events queue: our envelopes, and raw EventBridge events.

The ingress wraps what it accepted in a small versioned envelope:

    {"v": 1, "id": "<uuid>", "kind": "hubspot_webhook" | "submit_request", "received_at": "<iso>",
     "path": "/webhook/hubspot", "headers": {...}, "body": "<raw body>", "body_encoding": "utf-8" | "base64",
     "requested_by": "api-token:<token id>" | null}

`requested_by` names who asked for a manual action (the id of the ingress token a submit request came
with, never the token itself); the sync history records it.

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
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from hspc_pipelines.cosell.submission.request import SubmitRequest, parse_submit_request
from hspc_pipelines.hubspot.webhook_events import (
    HubSpotWebhookEvent,
    WebhookPayloadError,
    parse_webhook_batch,
    shown_value,
)
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


class _Envelope(BaseModel):
    """The fields of every envelope; each kind narrows `kind`. Unknown fields are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    v: Literal[1]
    id: StrictStr = Field(min_length=1)
    kind: str
    received_at: StrictStr | None = None
    path: StrictStr | None = None
    headers: dict[str, StrictStr] | None = None  # null is read as no headers
    body: StrictStr
    body_encoding: Literal["utf-8", "base64"] = "utf-8"
    requested_by: StrictStr | None = Field(default=None, max_length=128)

    def body_bytes(self) -> bytes:
        if self.body_encoding == "utf-8":
            try:
                return self.body.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate from a JSON escape
                raise MessageFormatError("envelope body is not valid UTF-8 text") from None
        try:
            return base64.b64decode(self.body, validate=True)
        except binascii.Error:
            raise MessageFormatError("envelope body is not valid base64") from None


class HubSpotWebhookEnvelope(_Envelope):
    """A HubSpot webhook batch, byte for byte, with its signature headers."""

    kind: Literal["hubspot_webhook"]


class SubmitRequestEnvelope(_Envelope):
    """A submit request the ingress accepted (its body is the SubmitRequest JSON)."""

    kind: Literal["submit_request"]


Envelope = Annotated[HubSpotWebhookEnvelope | SubmitRequestEnvelope, Field(discriminator="kind")]
ENVELOPE: TypeAdapter[HubSpotWebhookEnvelope | SubmitRequestEnvelope] = TypeAdapter(Envelope)
# What each envelope field allows, in the words of the error.
_ALLOWED = {
    "v": str(VERSION),
    "kind": " | ".join(ENVELOPE_KINDS),
    "id": "a non-empty string",
    "received_at": "a string or null",
    "path": "a string or null",
    "headers": "an object of strings",
    "body": "a string",
    "body_encoding": "utf-8 | base64",
    "requested_by": "a string of at most 128 characters or null",
}


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
    requested_by: str | None = None


def api_token_actor(token_id: str | None) -> str | None:
    """The actor recorded for a request made with an ingress API token (its id, never the token)."""
    return f"api-token:{token_id}" if token_id else None


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
    requested_by: str | None = None,
) -> str:
    if kind not in ENVELOPE_KINDS:
        raise ValueError(f"envelope kind must be one of {ENVELOPE_KINDS}, not {kind!r}")
    try:
        text, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(body).decode("ascii"), "base64"
    envelope = ENVELOPE.validate_python(
        {
            "v": VERSION,
            "id": envelope_id or str(uuid.uuid4()),
            "kind": kind,
            "received_at": (received_at or dt.datetime.now(dt.UTC)).isoformat(),
            "path": path,
            "headers": kept_headers(headers or {}),
            "body": text,
            "body_encoding": encoding,
            "requested_by": requested_by,
        }
    )
    return envelope.model_dump_json()


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
    try:
        envelope = ENVELOPE.validate_python(data)
    except ValidationError as exc:
        raise _format_error(exc.errors()[0]) from None
    raw = envelope.body_bytes()
    common: dict[str, Any] = {
        "message_id": envelope.id,
        "body": raw,
        "headers": envelope.headers or {},
        "path": envelope.path,
        "received_at": envelope.received_at,
        "requested_by": envelope.requested_by,
    }
    if isinstance(envelope, HubSpotWebhookEnvelope):
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


def _format_error(error: ErrorDetails) -> MessageFormatError:
    """`envelope <field>: got <value>, allowed: <what>`, the field from pydantic's error location."""
    if error["type"] == "union_tag_invalid":  # the discriminator: loc is empty, the value is the kind
        name, value = "kind", error.get("ctx", {}).get("tag")
    else:
        # loc is (kind, field, ...): the kind is the union's tag, not part of the path
        parts = error["loc"][1:]
        name = ".".join(str(p) for p in parts) or "kind"
        value = error["input"]
    shown = "nothing (field missing)" if error["type"] == "missing" else shown_value(value)
    top = name.split(".", 1)[0]
    return MessageFormatError(f"envelope {name}: got {shown}, allowed: {_ALLOWED.get(top, 'see docs')}")
