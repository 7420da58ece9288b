"""Talking to the ingress as HubSpot and the tests do: v3 signatures written from HubSpot's spec (not
imported from the code under test), an HTTP session on a served ingress, the SQS queue behind it,
and a fixed solutions source."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import boto3
import requests
from botocore.config import Config

SECRET = "client-secret-6f1c2d"
API_TOKEN = "tests-api-token-4d9e1f7a2b"  # the ingress's bearer token in tests (16+ characters)
FAST = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 1})


def v3_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """HubSpot's v3 signature, written here from the spec rather than imported from the code under test."""
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def now_ms() -> str:
    return str(int(time.time() * 1000))


def signed_headers(
    uri: str, body: bytes, secret: str = SECRET, timestamp: str | None = None
) -> dict[str, str]:
    timestamp = timestamp or now_ms()
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": v3_signature(secret, "POST", uri, body, timestamp),
        "X-HubSpot-Request-Timestamp": timestamp,
    }


def sqs_client(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=FAST,
    )


class Queue:
    def __init__(self, client: Any, url: str) -> None:
        self.client, self.url = client, url

    def drain(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            batch = self.client.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=300
            ).get("Messages", [])
            if not batch:
                return out
            out.extend(batch)

    def depth(self) -> int:
        """Messages waiting (those already drained stay invisible for the rest of the test)."""
        attrs = self.client.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


class Ingress:
    """A served ingress; `http` sends `token` as the bearer token on every request (when given)."""

    def __init__(self, url: str, queue: Queue | None, token: str | None = None) -> None:
        self.url, self.queue = url, queue
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def post_signed(self, path: str, body: bytes, *, uri: str | None = None, **kw: Any) -> requests.Response:
        headers = signed_headers(uri or self.url + path, body, **kw)
        return self.http.post(self.url + path, data=body, headers=headers, timeout=10)


class ListSource:
    """A SolutionsSource over a fixed list (data, in the shape ListSolutions returns)."""

    def __init__(self, solutions: list[dict[str, Any]]) -> None:
        self.solutions = solutions

    def list_solutions(self) -> list[dict[str, Any]]:
        return list(self.solutions)
