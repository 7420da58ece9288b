"""The events queue (SQS): receive in batches within a time budget, delete in batches.

Long polling is left short (the sensor tick has its own budget); the visibility timeout set on the queue
must outlast two sensor ticks, because messages are deleted only on the tick after the run that covers
them was stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from hspc_pipelines.settings import load_settings

MAX_BATCH = 10  # SQS limit for ReceiveMessage and DeleteMessageBatch


@dataclass(frozen=True)
class ReceivedMessage:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int


class EventsQueue:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self.queue_url = queue_url
        self._client = client or boto3.client(
            "sqs",
            region_name=load_settings().aws_region,
            config=Config(
                retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10
            ),
        )

    def receive(
        self, budget_seconds: float, max_messages: int = 500, wait_seconds: int = 0
    ) -> list[ReceivedMessage]:
        """Receive until the queue looks empty, `max_messages` are in hand or the budget is spent."""
        deadline = time.monotonic() + budget_seconds
        out: list[ReceivedMessage] = []
        while len(out) < max_messages and time.monotonic() < deadline:
            resp = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(MAX_BATCH, max_messages - len(out)),
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            batch = resp.get("Messages", [])
            if not batch:
                break
            for m in batch:
                count = int((m.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))
                out.append(ReceivedMessage(m["MessageId"], m["ReceiptHandle"], m["Body"], count))
        return out

    def delete(self, receipt_handles: list[str]) -> list[str]:
        """Delete messages; returns the handles SQS refused (for example, expired ones)."""
        failed: list[str] = []
        for i in range(0, len(receipt_handles), MAX_BATCH):
            chunk = receipt_handles[i : i + MAX_BATCH]
            resp = self._client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(chunk)],
            )
            failed += [chunk[int(f["Id"])] for f in resp.get("Failed", [])]
        return failed
