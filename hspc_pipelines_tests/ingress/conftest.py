"""Fixtures: a moto SQS server on loopback, a fresh queue per test, and the ingress served over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from hspc_pipelines.emulators._server import free_port, serve_in_thread
from hspc_pipelines.ingress.app import create_app
from hspc_pipelines.ingress.settings import IngressSettings
from hspc_pipelines_tests.support.ingress import API_TOKEN, SECRET, Ingress, ListSource, Queue, sqs_client


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def queue(moto_url: str) -> Queue:
    client = sqs_client(moto_url)
    url = client.create_queue(QueueName=f"hspc-events-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    return Queue(client, url)


@pytest.fixture
def state_url(tmp_path: Any) -> str:
    """The state database the ingress reads answers from (what the runs write to)."""
    return f"sqlite:///{tmp_path / 'hspc_state.sqlite'}"


@pytest.fixture
def make_ingress(queue: Queue, state_url: str) -> Iterator[Callable[..., Ingress]]:
    servers = []

    def make(
        sqs: Any = None, solutions: Any = None, ssm: Any = None, limiter: Any = None, **settings: Any
    ) -> Ingress:
        settings.setdefault("client_secret", SECRET)
        settings.setdefault("queue_url", queue.url)
        if not {"api_token", "api_tokens", "tokens_ssm_parameter", "auth_enabled"} & set(settings):
            settings["api_token"] = API_TOKEN
        settings.setdefault("state_url", state_url)
        app = create_app(
            IngressSettings(**settings),
            sqs_client=sqs or queue.client,
            solutions_source=solutions or ListSource([]),
            ssm_client=ssm,
            limiter=limiter,
        )
        server = serve_in_thread(app)
        servers.append(server)
        return Ingress(server.url, queue, settings.get("api_token"))

    yield make
    for server in servers:
        server.stop()


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
            item._id = item.parent.id.child(item.name)
