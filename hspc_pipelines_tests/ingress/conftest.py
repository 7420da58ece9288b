"""Fixtures: a moto SQS server on loopback, a fresh queue per test, and the ingress served over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from moto.server import ThreadedMotoServer

from hspc_pipelines.emulators._server import free_port, serve_in_thread
from hspc_pipelines.ingress.app import create_app
from hspc_pipelines.ingress.settings import IngressSettings

SECRET = "client-secret-6f1c2d"
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


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


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


@pytest.fixture
def queue(moto_url: str) -> Queue:
    client = sqs_client(moto_url)
    url = client.create_queue(QueueName=f"hspc-events-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    return Queue(client, url)


class Ingress:
    def __init__(self, url: str, queue: Queue | None) -> None:
        self.url, self.queue = url, queue
        self.http = requests.Session()

    def post_signed(self, path: str, body: bytes, *, uri: str | None = None, **kw: Any) -> requests.Response:
        headers = signed_headers(uri or self.url + path, body, **kw)
        return self.http.post(self.url + path, data=body, headers=headers, timeout=10)


@pytest.fixture
def make_ingress(queue: Queue) -> Iterator[Callable[..., Ingress]]:
    servers = []

    def make(sqs: Any = None, solutions: Any = None, **settings: Any) -> Ingress:
        settings.setdefault("client_secret", SECRET)
        settings.setdefault("queue_url", queue.url)
        app = create_app(
            IngressSettings(**settings),
            sqs_client=sqs or queue.client,
            solutions_source=solutions or ListSource([]),
        )
        server = serve_in_thread(app)
        servers.append(server)
        return Ingress(server.url, queue)

    yield make
    for server in servers:
        server.stop()


class ListSource:
    """A SolutionsSource over a fixed list (data, in the shape ListSolutions returns)."""

    def __init__(self, solutions: list[dict[str, Any]]) -> None:
        self.solutions = solutions

    def list_solutions(self) -> list[dict[str, Any]]:
        return list(self.solutions)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """schemathesis 4.32 gives every operation's test item the same node id (pytest 9 keeps it in `_id`);
    pytest-xdist keys items by node id and then runs one operation of the eight. Rebuild each id from the
    item's name, which carries the operation ("test_x[POST /webhook/hubspot]")."""
    for item in items:
        if (
            getattr(item, "operation_label", None)
            and item.parent is not None
            and item.name not in item.nodeid
        ):
            item._id = item.parent.id.child(item.name)  # type: ignore[attr-defined]
