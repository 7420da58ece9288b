"""Webhook routes over real HTTP, queueing to moto's SQS: what is accepted, what is refused, and why."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
import requests

from hspc_pipelines.emulators._server import free_port
from hspc_pipelines.queue.envelope import HUBSPOT_WEBHOOK, decode_message
from hspc_pipelines_tests.support.ingress import SECRET, signed_headers, sqs_client
from hspc_pipelines_tests.support.webhooks import PROPERTY_CHANGE_EVENT

BATCH = json.dumps(
    [
        PROPERTY_CHANGE_EVENT,
        {"eventId": 5, "subscriptionType": "contact.creation", "objectId": 1, "occurredAt": 1},
    ]
).encode()


@pytest.mark.parametrize("path", ["/webhook/hubspot", "/webhook/deal-update"])
def test_signed_batch_is_queued_whole_with_signature_headers(make_ingress, path: str) -> None:
    ingress = make_ingress()
    started = time.monotonic()
    response = ingress.post_signed(path, BATCH)
    assert time.monotonic() - started < 2
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "queued", "events": 2, "ignored": 1, "signature": "v3"}
    (message,) = ingress.queue.drain()
    decoded = decode_message(message["Body"])
    assert decoded.kind == HUBSPOT_WEBHOOK and decoded.path == path
    assert decoded.body == BATCH
    assert decoded.headers["x-hubspot-signature-v3"] == response.request.headers["X-HubSpot-Signature-v3"]
    assert (
        decoded.headers["x-hubspot-request-timestamp"]
        == response.request.headers["X-HubSpot-Request-Timestamp"]
    )
    assert [e.object_id for e in decoded.hubspot_events] == ["12345", "1"]


def _refused(ingress, response: requests.Response, needle: str) -> None:
    assert response.status_code == 401, response.text
    assert needle in response.json()["error"]
    assert SECRET not in response.text
    assert ingress.queue.depth() == 0


def test_tampered_body_is_refused(make_ingress) -> None:
    ingress = make_ingress()
    headers = signed_headers(ingress.url + "/webhook/hubspot", BATCH)
    tampered = BATCH.replace(b"12345", b"12346")
    response = ingress.http.post(ingress.url + "/webhook/hubspot", data=tampered, headers=headers)
    _refused(ingress, response, "does not match")


def test_wrong_secret_is_refused(make_ingress) -> None:
    ingress = make_ingress()
    _refused(
        ingress, ingress.post_signed("/webhook/hubspot", BATCH, secret="another-secret"), "does not match"
    )


@pytest.mark.parametrize(
    ("offset_ms", "needle"),
    [(-(5 * 60 * 1000 + 5000), "more than 5 minutes old"), (5 * 60 * 1000 + 5000, "future")],
)
def test_stale_and_future_timestamps_are_refused(make_ingress, offset_ms: int, needle: str) -> None:
    ingress = make_ingress()
    timestamp = str(int(time.time() * 1000) + offset_ms)
    _refused(ingress, ingress.post_signed("/webhook/hubspot", BATCH, timestamp=timestamp), needle)


@pytest.mark.parametrize(
    ("drop", "needle"),
    [
        ("X-HubSpot-Signature-v3", "X-HubSpot-Signature-v3 is missing"),
        ("X-HubSpot-Request-Timestamp", "Timestamp is missing"),
    ],
)
def test_missing_headers_are_refused(make_ingress, drop: str, needle: str) -> None:
    ingress = make_ingress()
    headers = signed_headers(ingress.url + "/webhook/hubspot", BATCH)
    del headers[drop]
    _refused(
        ingress, ingress.http.post(ingress.url + "/webhook/hubspot", data=BATCH, headers=headers), needle
    )


def test_signature_covers_the_uri_query_and_method_path(make_ingress) -> None:
    ingress = make_ingress()
    # Signed for one route, sent to the other.
    headers = signed_headers(ingress.url + "/webhook/hubspot", BATCH)
    response = ingress.http.post(ingress.url + "/webhook/deal-update", data=BATCH, headers=headers)
    _refused(ingress, response, "does not match")
    # The query string is part of the signed URI.
    headers = signed_headers(ingress.url + "/webhook/hubspot?portal=1", BATCH)
    response = ingress.http.post(ingress.url + "/webhook/hubspot?portal=2", data=BATCH, headers=headers)
    _refused(ingress, response, "does not match")
    ok = ingress.http.post(ingress.url + "/webhook/hubspot?portal=1", data=BATCH, headers=headers)
    assert ok.status_code == 200


def test_behind_a_proxy_the_public_url_is_what_was_signed(make_ingress) -> None:
    public = "https://hooks.example.com/production"
    ingress = make_ingress(public_url=public)
    # The URL the app happens to see is not what HubSpot signed.
    _refused(ingress, ingress.post_signed("/webhook/hubspot", BATCH), "does not match")
    response = ingress.post_signed("/webhook/hubspot?a=1", BATCH, uri=public + "/webhook/hubspot?a=1")
    assert response.status_code == 200, response.text
    assert len(ingress.queue.drain()) == 1


def _legacy(version: str, uri: str, body: bytes) -> dict[str, str]:
    if version == "v1":
        signature = hashlib.sha256(SECRET.encode() + body).hexdigest()
    else:
        signature = hashlib.sha256(SECRET.encode() + b"POST" + uri.encode() + body).hexdigest()
    return {
        "X-HubSpot-Signature": signature,
        "X-HubSpot-Signature-Version": version,
        "Content-Type": "application/json",
    }


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_v1_v2_only_when_configured(make_ingress, version: str) -> None:
    strict = make_ingress()
    uri = strict.url + "/webhook/hubspot"
    refused = strict.http.post(uri, data=BATCH, headers=_legacy(version, uri, BATCH))
    _refused(strict, refused, "not accepted")

    lenient = make_ingress(accept_versions=frozenset({"v1", "v2", "v3"}))
    uri = lenient.url + "/webhook/hubspot"
    accepted = lenient.http.post(uri, data=BATCH, headers=_legacy(version, uri, BATCH))
    assert accepted.status_code == 200 and accepted.json()["signature"] == version
    wrong = lenient.http.post(uri, data=BATCH + b" ", headers=_legacy(version, uri, BATCH))
    assert wrong.status_code == 401
    assert len(lenient.queue.drain()) == 1


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b'[{"objectId": 1,', "valid JSON"),
        (b'{"objectId": 1}', "$: expected a JSON array"),
        (
            json.dumps(
                [{"eventId": 1, "subscriptionType": "deal.creation", "objectId": "abc", "occurredAt": 1}]
            ).encode(),
            "[0].objectId",
        ),
    ],
)
def test_signed_but_malformed_batches_get_400_naming_the_problem(
    make_ingress, body: bytes, needle: str
) -> None:
    ingress = make_ingress()
    response = ingress.post_signed("/webhook/hubspot", body)
    assert response.status_code == 400
    assert needle in response.json()["error"]
    assert ingress.queue.depth() == 0


def test_oversize_bodies_get_413_by_length_and_by_stream(make_ingress) -> None:
    ingress = make_ingress(max_body_bytes=1000)
    big = b"[" + b" " * 2000 + b"]"
    assert ingress.post_signed("/webhook/hubspot", big).status_code == 413

    def chunks():
        for _ in range(20):
            yield b" " * 100

    headers = signed_headers(ingress.url + "/webhook/hubspot", big)
    response = ingress.http.post(ingress.url + "/webhook/hubspot", data=chunks(), headers=headers)
    assert response.status_code == 413 and "larger than 1000 bytes" in response.json()["error"]
    assert ingress.queue.depth() == 0


def test_sqs_down_answers_503_so_hubspot_retries(make_ingress) -> None:
    dead = sqs_client(f"http://127.0.0.1:{free_port()}")
    ingress = make_ingress(sqs=dead, queue_url="http://127.0.0.1:1/123456789012/nowhere")
    started = time.monotonic()
    response = ingress.post_signed("/webhook/hubspot", BATCH)
    assert time.monotonic() - started < 2.5
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "retry" in response.json()["error"]


def test_webhooks_switched_off(make_ingress) -> None:
    ingress = make_ingress(client_secret=None, accept_versions=frozenset())
    assert ingress.post_signed("/webhook/hubspot", BATCH).status_code == 404


def test_unknown_routes_and_methods_answer_json(make_ingress) -> None:
    ingress = make_ingress()
    missing = ingress.http.get(ingress.url + "/nope")
    assert missing.status_code == 404 and "error" in missing.json()
    wrong_method = ingress.http.get(ingress.url + "/webhook/hubspot")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()
    assert ingress.http.get(ingress.url + "/healthz").json() == {"status": "ok"}
