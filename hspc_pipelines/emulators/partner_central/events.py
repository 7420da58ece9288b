"""EventBridge events for every state change, delivered off the request path.

Handlers call `EventPublisher.publish`; the event (the envelope EventBridge would deliver) is kept
in `published` for tests and queued for a worker thread that hands batches to the sink. Sinks:
`EventBridgeSink` (put_events on a bus, so a rule routes it, like production) and `SqsSink` (the
envelope straight into a queue). Delivery is best effort, as AWS's is: a failing sink is logged.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from . import model

log = logging.getLogger(__name__)
SOURCE = "aws.partnercentral-selling"
OPPORTUNITY_URL = "https://partnercentral.awspartner.com/partnercentral2/s/opportunity?id={id}"
INVITATION_URL = "https://partnercentral.awspartner.com/partnercentral2/s/engagement-invitation?id={id}"
EventSink = Callable[[Sequence[dict[str, Any]]], None]


def opportunity_detail(catalog: str, opportunity_id: str) -> dict[str, Any]:
    return {
        "schemaVersion": "1",
        "catalog": catalog,
        "opportunity": {"identifier": opportunity_id, "url": OPPORTUNITY_URL.format(id=opportunity_id)},
    }


def invitation_detail(catalog: str, invitation_id: str, opportunity_id: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "schemaVersion": "1",
        "catalog": catalog,
        "engagementInvitation": {"id": invitation_id, "url": INVITATION_URL.format(id=invitation_id)},
    }
    if opportunity_id:
        detail["opportunity"] = {
            "identifier": opportunity_id,
            "url": OPPORTUNITY_URL.format(id=opportunity_id),
        }
    return detail


class EventPublisher:
    def __init__(self, sink: EventSink | None, region: str, account_id: str, keep: int = 10_000) -> None:
        self.sink = sink
        self.region = region
        self.account_id = account_id
        self.published: deque[dict[str, Any]] = deque(maxlen=keep)
        self.failures = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        if sink is not None:
            self._thread = threading.Thread(target=self._run, name="pc-events", daemon=True)
            self._thread.start()

    def publish(
        self, detail_type: str, detail: dict[str, Any], resources: Sequence[str] = ()
    ) -> dict[str, Any]:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": SOURCE,
            "account": self.account_id,
            "time": model.iso(model.now())[:19] + "Z",
            "region": self.region,
            "resources": list(resources),
            "detail": detail,
        }
        self.published.append(event)
        if self.sink is not None:
            self._queue.put(event)
        return event

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was handed to the sink."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._queue.put({"_flush": done})
        return done.wait(timeout)

    def close(self) -> None:
        """Stop the delivery thread; events still queued are dropped, since the stack closing this
        emulator is about to stop the bus they were going to (delivering them later only fails)."""
        if self._thread is not None:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None and "_flush" in item:
                    item["_flush"].set()
            self._queue.put(None)
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < 10:  # put_events takes at most 10 entries
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._deliver(batch)
                    return
                batch.append(nxt)
            self._deliver(batch)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        events = [e for e in batch if "_flush" not in e]
        if events:
            try:
                assert self.sink is not None
                self.sink(events)
            except Exception:  # best effort, like EventBridge: never break the emulator
                self.failures += 1
                log.exception("event sink failed for %d events", len(events))
        for e in batch:
            if "_flush" in e:
                e["_flush"].set()


class EventBridgeSink:
    """put_events onto a bus; a rule on `source: aws.partnercentral-selling` routes them on."""

    def __init__(self, events_client: Any, bus_name: str = "default") -> None:
        self.client = events_client
        self.bus_name = bus_name

    def __call__(self, events: Sequence[dict[str, Any]]) -> None:
        entries = [
            {
                "Source": e["source"],
                "DetailType": e["detail-type"],
                "Detail": json.dumps(e["detail"]),
                "Resources": e["resources"],
                "EventBusName": self.bus_name,
            }
            for e in events
        ]
        answer = self.client.put_events(Entries=entries)
        if answer.get("FailedEntryCount"):
            raise RuntimeError(
                f"put_events refused {answer['FailedEntryCount']} entries: {answer['Entries']}"
            )


class SqsSink:
    """The EventBridge envelope sent straight to a queue (for setups without a bus)."""

    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self.client = sqs_client
        self.queue_url = queue_url

    def __call__(self, events: Sequence[dict[str, Any]]) -> None:
        self.client.send_message_batch(
            QueueUrl=self.queue_url,
            Entries=[{"Id": str(i), "MessageBody": json.dumps(e)} for i, e in enumerate(events)],
        )
