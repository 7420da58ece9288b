"""Webhook delivery: deal events POSTed as HubSpot's JSON array, signed v3, from a background thread.

Events are queued by request handlers (never blocking them), sent in batches of up to 100, and
retried on connection errors and non-2xx answers with `attemptNumber` incremented, as HubSpot does.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from hspc_pipelines.hubspot.signatures import sign_v3

from .objecttypes import SINGULAR
from .timeutil import now_ms, parse_ms

log = logging.getLogger(__name__)
MAX_BATCH = 100


@dataclass
class Delivery:
    """One POST attempt, kept for tests and stats."""

    event_ids: list[int]
    attempt: int
    status: int  # 0 when the connection failed
    at_ms: int


@dataclass
class WebhookSettings:
    url: str | None = None
    client_secret: str | None = None
    portal_id: int = 62515
    app_id: int = 1160452
    subscription_ids: dict[str, int] = field(
        default_factory=lambda: {
            "deal.creation": 1001,
            "deal.propertyChange": 1002,
            "deal.deletion": 1003,
            "deal.associationChange": 1004,
        }
    )
    properties: frozenset[str] | None = None  # None: every property change is sent
    max_attempts: int = 5
    retry_delay: float = 0.5
    batch_window: float = 0.05

    @property
    def enabled(self) -> bool:
        return bool(self.url and self.client_secret)


class WebhookDispatcher:
    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        self._queue: queue.Queue[list[dict[str, Any]]] = queue.Queue()
        self._event_id = int(time.time() * 1000) % 10_000_000 * 100
        self._id_lock = threading.Lock()
        self._pending = 0
        self._idle = threading.Condition()
        self.deliveries: list[Delivery] = []
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="hubspot-emulator-webhooks", daemon=True)
        self._thread.start()

    # building events -----------------------------------------------------------------------------
    def _base(self, subscription: str, object_id: str, source: str, occurred: int) -> dict[str, Any]:
        with self._id_lock:
            self._event_id += 1
            event_id = self._event_id
        s = self.settings
        return {
            "eventId": event_id,
            "subscriptionId": s.subscription_ids[subscription],
            "portalId": s.portal_id,
            "appId": s.app_id,
            "occurredAt": occurred,
            "subscriptionType": subscription,
            "attemptNumber": 0,
            "objectId": int(object_id),
            "changeFlag": "NEW" if subscription == "deal.creation" else None,
            "changeSource": source,
            "sourceId": str(s.app_id) if source == "INTEGRATION" else None,
        }

    def creation(self, object_id: str, source: str, occurred: int) -> list[dict[str, Any]]:
        event = self._base("deal.creation", object_id, source, occurred)
        event["changeFlag"] = "CREATED"
        return [event]

    def property_changes(
        self,
        object_id: str,
        changed: dict[str, str | None],
        source: str,
        occurred: int,
        datetime_props: frozenset[str],
    ) -> list[dict[str, Any]]:
        """Every change: the webhooks keep those subscribed (`for_webhooks`), the journal those its
        own subscriptions ask for."""
        events = []
        for name, value in changed.items():
            event = self._base("deal.propertyChange", object_id, source, occurred)
            event.pop("changeFlag")
            # Dates travel as epoch ms in webhooks, unlike the objects API.
            if value is not None and name in datetime_props:
                value = str(parse_ms(value))
            event.update(propertyName=name, propertyValue="" if value is None else value)
            events.append(event)
        return events

    def deletion(self, object_id: str, source: str, occurred: int) -> list[dict[str, Any]]:
        event = self._base("deal.deletion", object_id, source, occurred)
        event["changeFlag"] = "DELETED"
        return [event]

    def association_change(
        self, deal_id: str, to_type: str, to_id: str, type_id: int, removed: bool, source: str, occurred: int
    ) -> list[dict[str, Any]]:
        event = self._base("deal.associationChange", deal_id, source, occurred)
        event.pop("changeFlag")
        event.update(
            associationType=f"DEAL_TO_{SINGULAR[to_type].upper()}",
            fromObjectId=int(deal_id),
            toObjectId=int(to_id),
            associationRemoved=removed,
            isPrimaryAssociation=type_id == 5,
            associationTypeId=type_id,
        )
        return [event]

    def for_webhooks(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The property changes the webhook subscriptions name (`properties`; None: every one)."""
        wanted = self.settings.properties
        if wanted is None:
            return events
        return [
            e for e in events if e["subscriptionType"] != "deal.propertyChange" or e["propertyName"] in wanted
        ]

    # sending -------------------------------------------------------------------------------------
    def emit(self, events: list[dict[str, Any]]) -> None:
        if events and self.settings.enabled:
            with self._idle:
                self._pending += 1
            self._queue.put(events)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued has been delivered or given up on; True if idle."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch, taken = list(first), 1
            deadline = time.monotonic() + self.settings.batch_window
            while len(batch) < MAX_BATCH:
                try:
                    batch.extend(self._queue.get(timeout=max(deadline - time.monotonic(), 0)))
                    taken += 1
                except queue.Empty:
                    break
            for start in range(0, len(batch), MAX_BATCH):
                self._deliver(batch[start : start + MAX_BATCH])
            with self._idle:
                self._pending -= taken
                self._idle.notify_all()

    def _deliver(self, events: list[dict[str, Any]]) -> None:
        s = self.settings
        for attempt in range(s.max_attempts):
            if not (s.url and s.client_secret):
                return
            for event in events:
                event["attemptNumber"] = attempt
            body = json.dumps(events).encode()
            timestamp = str(now_ms())
            headers = {
                "Content-Type": "application/json",
                "X-HubSpot-Request-Timestamp": timestamp,
                "X-HubSpot-Signature-v3": sign_v3(s.client_secret, "POST", s.url, body, timestamp),
                "X-HubSpot-Signature-Version": "v3",
                "User-Agent": "HubSpot Connect 2.0 (emulator)",
            }
            try:
                status = self._session.post(s.url, data=body, headers=headers, timeout=10).status_code
            except requests.RequestException as exc:
                log.info("webhook delivery to %s failed: %s", s.url, type(exc).__name__)
                status = 0
            self.deliveries.append(Delivery([e["eventId"] for e in events], attempt, status, now_ms()))
            if 200 <= status < 300:
                return
            time.sleep(s.retry_delay * (2**attempt))
