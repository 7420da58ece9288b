"""Queue envelopes: round trip, header allow-list, raw EventBridge events, and clear refusals."""

from __future__ import annotations

import base64
import json

import pytest

from hspc_pipelines.queue.envelope import (
    HUBSPOT_WEBHOOK,
    PARTNER_CENTRAL_EVENT,
    SUBMIT_REQUEST,
    MessageFormatError,
    decode_message,
    encode_envelope,
)

BATCH = json.dumps(
    [
        {
            "objectId": 1,
            "eventId": 2,
            "subscriptionType": "deal.creation",
            "occurredAt": 3,
            "propertyName": "dealname",
        }
    ],
    separators=(", ", ": "),  # odd spacing on purpose: the raw bytes must survive untouched
).encode()
HEADERS = {
    "Content-Type": "application/json",
    "X-HubSpot-Signature-v3": "c2lnbmF0dXJl",
    "X-HubSpot-Request-Timestamp": "1700000000000",
    "Authorization": "Bearer top-secret-token",
    "Cookie": "session=also-secret",
    "X-Api-Key": "secret-key",
}


def test_hubspot_envelope_round_trip_keeps_raw_body_and_signature_headers_only() -> None:
    text = encode_envelope(HUBSPOT_WEBHOOK, BATCH, headers=HEADERS, path="/webhook/hubspot")
    assert "secret" not in text
    data = json.loads(text)
    assert (data["v"], data["kind"], data["body_encoding"]) == (1, HUBSPOT_WEBHOOK, "utf-8")
    message = decode_message(text)
    assert message.kind == HUBSPOT_WEBHOOK and message.message_id == data["id"]
    assert message.body == BATCH
    assert dict(message.headers) == {
        "content-type": "application/json",
        "x-hubspot-signature-v3": "c2lnbmF0dXJl",
        "x-hubspot-request-timestamp": "1700000000000",
    }
    assert message.path == "/webhook/hubspot"
    assert [e.object_id for e in message.hubspot_events] == ["1"]


def test_non_utf8_bodies_travel_as_base64() -> None:
    raw = b"\xff" + BATCH
    data = json.loads(encode_envelope(HUBSPOT_WEBHOOK, raw))
    assert data["body_encoding"] == "base64" and base64.b64decode(data["body"]) == raw
    with pytest.raises(MessageFormatError, match="HubSpot webhook batch: \\$: expected UTF-8"):
        decode_message(json.dumps(data))


def test_submit_request_envelope() -> None:
    body = json.dumps({"dealId": "42", "visibility": "Limited"}).encode()
    message = decode_message(encode_envelope(SUBMIT_REQUEST, body, envelope_id="abc"))
    assert message.kind == SUBMIT_REQUEST and message.message_id == "abc"
    assert message.submit_request is not None
    assert message.submit_request.to_json() == {
        "dealId": "42",
        "involvementType": "Co-Sell",
        "visibility": "Limited",
    }


def test_raw_eventbridge_event_is_recognised() -> None:
    event = {
        "version": "0",
        "id": "ev-1",
        "detail-type": "Opportunity Updated",
        "source": "aws.partnercentral-selling",
        "account": "123456789012",
        "time": "2025-02-18T18:30:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"schemaVersion": "1", "catalog": "AWS", "opportunity": {"identifier": "O1", "url": "u"}},
    }
    message = decode_message(json.dumps(event))
    assert message.kind == PARTNER_CENTRAL_EVENT and message.message_id == "ev-1"
    assert message.partner_central_event is not None
    assert message.partner_central_event.opportunity_id == "O1"


def test_unknown_envelope_kind_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="envelope kind"):
        encode_envelope("something", b"{}")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "neither an hspc envelope"),
        (json.dumps({"v": 2, "kind": HUBSPOT_WEBHOOK}), "envelope v: got 2, allowed: 1"),
        (
            json.dumps({"v": 1, "kind": "other", "id": "x"}),
            "kind: got 'other', allowed: hubspot_webhook | submit_request",
        ),
        (json.dumps({"v": 1, "kind": HUBSPOT_WEBHOOK, "body": "[]"}), "id: got nothing (field missing)"),
        (
            json.dumps({"v": 1, "kind": HUBSPOT_WEBHOOK, "id": "x", "body": 5}),
            "body: got 5, allowed: a string",
        ),
        (
            json.dumps({"v": 1, "kind": HUBSPOT_WEBHOOK, "id": "x", "body": "%%", "body_encoding": "base64"}),
            "base64",
        ),
        (
            json.dumps({"v": 1, "kind": HUBSPOT_WEBHOOK, "id": "x", "body": "[]", "body_encoding": "rot13"}),
            "rot13",
        ),
        (json.dumps({"v": 1, "kind": SUBMIT_REQUEST, "id": "x", "body": '{"dealId": 5}'}), "dealId"),
        (
            json.dumps(
                {
                    "source": "aws.partnercentral-selling",
                    "detail-type": "Opportunity Updated",
                    "id": "e",
                    "detail": {},
                }
            ),
            "detail.opportunity.identifier",
        ),
    ],
)
def test_refusals_say_what_is_wrong(body: str, needle: str) -> None:
    with pytest.raises(MessageFormatError) as info:
        decode_message(body)
    assert needle in str(info.value)
