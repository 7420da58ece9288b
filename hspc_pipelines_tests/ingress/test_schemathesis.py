"""Schemathesis against the ingress's own OpenAPI document, over real HTTP to the uvicorn-served app.

Every operation of the document is fuzzed (schemathesis' coverage and fuzzing phases, positive and
negative data, seeded). Each generated request is sent as generated and, for the authenticated routes, once
more with valid credentials (a v3 signature computed over the exact bytes sent, or the bearer token), so
both the refusal and the acceptance paths are checked against the document. For every request:

- the answer conforms to the document (status code, content type, body schema) and is never a 5xx;
- no body carries a stack trace or the client secret;
- the queue gains a message only for a validly signed webhook or an authorized submit, and every
  message on the queue re-verifies against the HubSpot signature it carries.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from hspc_pipelines.ingress.app import create_app
from hspc_pipelines.ingress.auth import PUBLIC_PATHS, FailureLimiter
from hspc_pipelines.ingress.models import PAGE_TOKEN_FORMAT
from hspc_pipelines.ingress.settings import IngressSettings
from hspc_pipelines.queue.envelope import (
    HUBSPOT_WEBHOOK,
    SUBMIT_REQUEST,
    MessageFormatError,
    decode_message,
)
from hspc_pipelines.solutions.lookup import encode_token
from hspc_pipelines_tests.support.ingress import SECRET, Ingress, ListSource, now_ms, v3_signature

TOKEN = "api-token-91be"
SOLUTIONS = [
    {"Id": "S-0000001", "Name": "Data Lake", "Category": "Analytics", "Status": "Active"},
    {"Id": "S-0000002", "Name": "Edge AI", "Category": "Machine Learning", "Status": "Draft"},
    {"Id": "S-0000003", "Name": "Lakehouse Migration", "Category": "Analytics", "Status": "Inactive"},
]
WEBHOOK_PATHS = ("/webhook/hubspot", "/webhook/deal-update")
ANSWER_PATHS = ("/submit-opportunity/{requestId}", "/deals/{dealId}/sync-status")
MAX_EXAMPLES = 60  # fuzzing phase, per operation; examples and coverage phases add their own cases

# Page tokens are opaque: generate the ones the API hands out, so positive cases page for real.
schemathesis.openapi.format(PAGE_TOKEN_FORMAT, st.integers(0, 10**10 - 1).map(encode_token))

# Seeded, so a run is reproducible. Both webhook routes are one endpoint described by one operation: the
# coverage phase (hundreds of systematic boundary and negative cases) runs on the first only.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260429,
        "operations": [{"include-path": "/webhook/deal-update", "phases": {"coverage": {"enabled": False}}}],
    }
)
# The document FastAPI generates for the app (it does not depend on the settings).
SPEC = create_app(
    IngressSettings(client_secret=SECRET, api_token=TOKEN), solutions_source=ListSource([])
).openapi()
SPEC_JSON = json.loads(json.dumps(SPEC))  # the document as served: JSON, not Python objects
schema = schemathesis.openapi.from_dict(SPEC_JSON, config=CONFIG)

STATS: Counter[str] = Counter()


@schemathesis.check
def no_stack_trace_or_secret(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> None:
    """JSON only, and nothing the client did not send itself: no stack trace, no secret, no token."""
    if not response.content:
        return
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
    answer = " ".join(_strings(json.loads(response.content)))
    request = response.request
    body = request.body or b""
    sent = " ".join(
        [
            request.url or "",
            unquote_plus(request.url or ""),
            str(request.headers),
            body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body),
        ]
    )
    for marker in ("Traceback (most recent call last)", 'File "', SECRET, TOKEN):
        assert marker not in answer or marker in sent, f"the answer carries {marker!r}: {answer[:300]}"


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


class HubSpotV3(requests.auth.AuthBase):
    """Signs the request exactly as it goes on the wire (method, URL, body bytes, fresh timestamp)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        timestamp = now_ms()
        request.headers["X-HubSpot-Signature-v3"] = v3_signature(
            SECRET, request.method or "POST", request.url or "", body, timestamp
        )
        request.headers["X-HubSpot-Request-Timestamp"] = timestamp
        for legacy in ("X-HubSpot-Signature", "X-HubSpot-Signature-Version"):
            request.headers.pop(legacy, None)
        return request


class AcceptedRequests:
    """What the ingress accepted, checked against the queue ten messages at a time (every moto call costs
    ~15 ms, and received messages are deleted so the queue stays short)."""

    BATCH = 10

    def __init__(self, ingress: Ingress) -> None:
        assert ingress.queue is not None
        self.ingress, self.queue, self.pending = ingress, ingress.queue, Counter[tuple[str, bytes]]()
        self.message_ids: set[str] = set()  # the requestIds the ingress answered

    def add(self, kind: str, content: bytes, message_id: str | None = None) -> None:
        self.pending[(kind, content)] += 1
        if message_id is not None:
            self.message_ids.add(message_id)
        if self.pending.total() >= self.BATCH:
            self.check()

    def check(self) -> None:
        """Every accepted request is on the queue exactly once, with nothing else among them."""
        while self.pending.total():
            received = self.queue.client.receive_message(
                QueueUrl=self.queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=300
            ).get("Messages", [])
            assert received, f"accepted but not on the queue: {self.pending}"
            for raw in received:
                try:
                    message = decode_message(raw["Body"])
                except MessageFormatError as exc:
                    raise AssertionError(f"on the queue but never accepted: {exc}") from None
                key = self._verified(message)
                assert self.pending[key] > 0, f"on the queue but never accepted: {key}"
                self.pending[key] -= 1
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)]
            self.queue.client.delete_message_batch(QueueUrl=self.queue.url, Entries=entries)

    def _verified(self, message: Any) -> tuple[str, bytes]:
        if message.kind == SUBMIT_REQUEST:
            assert message.submit_request is not None
            assert message.message_id in self.message_ids, "a submit on the queue under an id never answered"
            return SUBMIT_REQUEST, _canonical(message.submit_request.to_json())
        # A webhook message carries the body as sent and a signature that verifies (checked here,
        # independently of the app).
        assert message.kind == HUBSPOT_WEBHOOK
        timestamp = message.headers["x-hubspot-request-timestamp"]
        uri = self.ingress.url + str(message.path)
        expected = v3_signature(SECRET, "POST", uri, message.body, timestamp)
        assert message.headers["x-hubspot-signature-v3"] == expected, message
        return HUBSPOT_WEBHOOK, message.body


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True).encode()


@pytest.fixture
def ingress(make_ingress) -> Iterator[tuple[Ingress, AcceptedRequests]]:
    """One server and one fresh queue per operation (hypothesis reuses them for all its examples)."""
    # Schemathesis sends wrong credentials on purpose, many times: the failure limit (tested in
    # test_auth.py) would answer 429 where the document's check expects the 401.
    unlimited = FailureLimiter(max_failures=1_000_000)
    target = make_ingress(api_token=TOKEN, solutions=ListSource(SOLUTIONS), limiter=unlimited)
    # The document under test is the one the app serves.
    assert target.http.get(target.url + "/openapi.json", timeout=10).json() == SPEC_JSON
    del target.http.headers["Authorization"]  # each case sends what schemathesis generated, then the token
    accepted = AcceptedRequests(target)
    STATS.clear()
    yield target, accepted
    accepted.check()
    assert target.queue is not None and target.queue.drain() == []  # and nothing else is on the queue
    assert STATS["cases"] > 0
    if STATS["answer_calls"]:  # the token opened the answer routes (ids nobody sent: 404)
        assert STATS["answered"] > 0, STATS
    if STATS["authenticated"]:  # both paths of the authenticated routes were really exercised
        assert STATS["queued"] > 0 and STATS["refused"] > 0, STATS


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # No shrinking, first failure only: the server and queue are shared by all the examples, so after a
    # failure they are not in a state worth replaying examples against (and moto slows down as it fills).
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    report_multiple_bugs=False,
)
def test_the_ingress_conforms_to_its_openapi_document(case, ingress) -> None:
    target, accepted = ingress
    STATS["cases"] += 1
    # As generated: whatever schemathesis put in the signature or Authorization headers is not valid.
    response = case.call_and_validate(base_url=target.url, session=target.http, timeout=10)
    if case.path in WEBHOOK_PATHS:
        assert response.status_code != 200, response.text
        response = case.call_and_validate(
            base_url=target.url, session=target.http, auth=HubSpotV3(), timeout=10
        )
        _count(response.status_code == 200)
        if response.status_code == 200:
            accepted.add(HUBSPOT_WEBHOOK, response.request.body)
    elif case.path not in PUBLIC_PATHS:  # every other route needs the bearer token
        assert response.status_code in (401, 405), response.text  # 405: a method the route lacks
        authorization = {"Authorization": f"Bearer {TOKEN}"}
        response = case.call_and_validate(
            base_url=target.url, session=target.http, headers=authorization, timeout=10
        )
        if case.path != "/submit-opportunity":
            return
        _count(response.status_code == 202)
        if response.status_code == 202:
            answer = response.json()
            assert answer.pop("status") == "queued"
            # the request id is the message's own; the rest is the request as queued
            request_id = answer.pop("requestId")
            accepted.add(SUBMIT_REQUEST, _canonical(answer), request_id)
    elif case.path in ANSWER_PATHS:
        # Behind the submit route's token: refused as generated, then answered (404 for an id nobody
        # sent, 400 for one that is not an id), each conforming to the document.
        assert response.status_code != 200, response.text
        # The case's own Authorization header (generated for the security scheme) is replaced.
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers["Authorization"] = f"Bearer {TOKEN}"
        response = case.call_and_validate(base_url=target.url, session=target.http, timeout=10)
        STATS["answer_calls"] += 1
        STATS["answered"] += response.status_code in (200, 404)


def _count(queued: bool) -> None:
    STATS["authenticated"] += 1
    STATS["queued" if queued else "refused"] += 1
