"""HubSpot webhook payloads as HubSpot sends them, and signed (v3) POSTs of them to the ingress."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

import requests

from hspc_pipelines.hubspot.signatures import sign_v3

# The deal.propertyChange example from HubSpot's webhook documentation.
PROPERTY_CHANGE_EVENT: dict[str, Any] = {
    "objectId": 12345,
    "propertyName": "dealstage",
    "propertyValue": "presentationscheduled",
    "changeSource": "CRM",
    "eventId": 1234567891,
    "subscriptionId": 9876544,
    "portalId": 123456,
    "appId": 654321,
    "occurredAt": 1708282260000,
    "subscriptionType": "deal.propertyChange",
    "attemptNumber": 0,
}


def now_ms() -> int:
    return int(time.time() * 1000)


def deal_creation_batch(events: Iterable[tuple[str, int]], occurred_at: int | None = None) -> bytes:
    """A webhook batch of `deal.creation` events, one per (deal id, event id)."""
    occurred = now_ms() if occurred_at is None else occurred_at
    return json.dumps(
        [
            {
                "objectId": int(deal_id),
                "subscriptionType": "deal.creation",
                "eventId": event_id,
                "subscriptionId": 1,
                "portalId": 42,
                "appId": 7,
                "occurredAt": occurred,
                "attemptNumber": 0,
                "changeSource": "CRM_UI",
            }
            for deal_id, event_id in events
        ]
    ).encode()


def post_signed(
    base_url: str, body: bytes, secret: str, *, timestamp: int | None = None, timeout: float = 10
) -> requests.Response:
    """POST `body` to the ingress's /webhook/hubspot, signed v3 as HubSpot signs it."""
    ts = str(now_ms() if timestamp is None else timestamp)
    uri = f"{base_url}/webhook/hubspot"
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", uri, body, ts),
        "X-HubSpot-Request-Timestamp": ts,
        "X-HubSpot-Signature-Version": "v3",
    }
    return requests.post(uri, data=body, headers=headers, timeout=timeout)
