"""Put accepted requests on the events queue, fast or not at all.

HubSpot waits at most a few seconds for an answer and retries on failure, so one quick attempt with short
timeouts is right: if SQS is slow or down the caller gets a 503 and HubSpot delivers again later.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)
SQS_MAX_MESSAGE_BYTES = 1024 * 1024
SEND_CONFIG = Config(
    connect_timeout=1, read_timeout=1.5, retries={"mode": "standard", "total_max_attempts": 1}
)


class QueueUnavailable(Exception):
    """The message was not stored. The message is safe to show (no URL credentials, no body)."""


class MessageTooLarge(Exception):
    pass


def make_sqs_client(region: str) -> Any:
    # boto3 reads AWS_ENDPOINT_URL_SQS itself, so local stacks need no extra setting here.
    return boto3.client("sqs", region_name=region, config=SEND_CONFIG)


class QueueSender:
    def __init__(self, queue_url: str | None, client: Any | None, region: str) -> None:
        self.queue_url = queue_url
        self._client = client
        self._region = region

    def send(self, message_body: str) -> str:
        """Send one message; returns the SQS message id."""
        if not self.queue_url:
            raise QueueUnavailable("the events queue is not configured (HSPC_EVENTS_QUEUE_URL)")
        if len(message_body.encode("utf-8")) > SQS_MAX_MESSAGE_BYTES:
            raise MessageTooLarge(
                f"the request does not fit in one queue message ({SQS_MAX_MESSAGE_BYTES} bytes)"
            )
        if self._client is None:
            self._client = make_sqs_client(self._region)
        try:
            response = self._client.send_message(QueueUrl=self.queue_url, MessageBody=message_body)
        except (BotoCoreError, ClientError) as exc:
            log.warning("events queue refused a message: %s", type(exc).__name__)
            raise QueueUnavailable("the events queue is unavailable; retry later") from None
        return str(response.get("MessageId", ""))
