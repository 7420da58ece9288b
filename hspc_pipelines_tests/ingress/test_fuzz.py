"""Fuzzing over real HTTP: random input never yields a 500, and no single-byte change of a signed
request gets through (every mutant is refused and nothing reaches the queue)."""

from __future__ import annotations

import http.client
import json
import random
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hspc_pipelines.queue.envelope import decode_message
from hspc_pipelines_tests.support.ingress import SECRET, signed_headers

PATHS = [
    "/webhook/hubspot",
    "/webhook/deal-update",
    "/submit-opportunity",
    "/solutions",
    "/solutions/search",
    "/solutions/x",
    "/healthz",
]
HEADER_NAMES = [
    "X-HubSpot-Signature-v3",
    "X-HubSpot-Request-Timestamp",
    "X-HubSpot-Signature",
    "X-HubSpot-Signature-Version",
    "Authorization",
    "Content-Type",
]
header_values = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
bodies = st.binary(max_size=400) | json_values.map(lambda v: json.dumps(v).encode())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT"]),
    path=st.sampled_from(PATHS),
    query=st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30),
    headers=st.dictionaries(st.sampled_from(HEADER_NAMES), header_values, max_size=4),
    body=bodies,
)
def test_random_requests_never_get_a_500(make_ingress, method, path, query, headers, body) -> None:
    target = _target(make_ingress)
    url = f"{target.url}{path}?{query.replace('#', '')}"
    response = target.http.request(method, url, data=body, headers=headers, timeout=10)
    assert response.status_code < 500 or response.status_code == 503, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    sent = url + json.dumps(headers) + body.decode("latin-1")
    assert SECRET not in response.text or SECRET in sent  # an answer may quote the request, never the secret


_current: dict[str, object] = {}


def _target(make_ingress):
    """One server per test for all its examples (hypothesis reuses function-scoped fixtures)."""
    if _current.get("make") is not make_ingress:  # holding the reference keeps identities unambiguous
        _current["make"] = make_ingress
        _current["target"] = make_ingress(
            accept_versions=frozenset({"v1", "v2", "v3"}), api_token="tok", max_body_bytes=300
        )
    return _current["target"]


BATCH = json.dumps(
    [
        {
            "objectId": 42,
            "eventId": 7,
            "subscriptionType": "deal.propertyChange",
            "propertyName": "amount",
            "propertyValue": "1000",
            "occurredAt": 1708282260000,
            "portalId": 1,
            "attemptNumber": 0,
        }
    ]
).encode()


MUTATIONS = 10_000
PARTS = ("body", "X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp", "target")
# What a single byte can be in each place and still travel in an HTTP/1.1 request: any byte in the body;
# in a header value anything but CR, LF and NUL (the HTTP parser itself refuses some of those: a 400);
# in the request target, printable ASCII (http.client cannot put anything else on the request line).
HEADER_BYTES = bytes(b for b in range(1, 256) if b not in (10, 13))
TARGET_BYTES = bytes(range(0x21, 0x7F))
# 401: the signature does not match; 404: the target is no longer a route; 400: the HTTP server refused
# the request line or a header byte before the app saw it.
REFUSALS = {
    "body": {401},
    "X-HubSpot-Signature-v3": {400, 401},
    "X-HubSpot-Request-Timestamp": {400, 401},
    "target": {400, 401, 404},
}


def test_ten_thousand_single_byte_mutations_of_a_signed_request_are_all_refused(make_ingress) -> None:
    """10,000 mutants of one valid signed webhook, each differing from it in exactly one byte of the
    body, of the signature or timestamp header, or of the request target (path and query): every one is
    refused, none is a 2xx or a 5xx, and none reaches the queue (the unmutated request, sent before and
    after, is accepted and queued).

    Sent over one keep-alive connection with http.client, which puts the bytes on the wire as given
    (requests would re-quote the target, and refuses some header bytes); deterministic (seeded)."""
    ingress = make_ingress()
    host = ingress.url.removeprefix("http://")
    target = "/webhook/hubspot?portal=1"
    uri = ingress.url + target
    rng = random.Random(20260429)
    connection = http.client.HTTPConnection(host, timeout=10)

    def post(target: str, body: bytes, headers: dict[str, bytes]) -> tuple[int, str, bytes]:
        # No retry: every request gets an answer. After one the server refused to parse it answers with
        # "connection: close", and http.client opens a new connection for the next request.
        connection.putrequest("POST", target, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.getheader("content-type") or "", response.read()

    def signed() -> dict[str, bytes]:  # a fresh timestamp each time: only the mutation can fail a request
        return {k: v.encode() for k, v in signed_headers(uri, BATCH).items()}

    def control() -> None:  # the unmutated request is accepted and queued, before and after the mutants
        assert post(target, BATCH, signed())[0] == 200
        queued = ingress.queue.drain()
        assert len(queued) == 1 and decode_message(queued[0]["Body"]).body == BATCH

    control()

    tried: Counter[str] = Counter()
    statuses: Counter[tuple[str, int]] = Counter()
    for n in range(MUTATIONS):
        part = PARTS[n % len(PARTS)]
        body, headers, mutated_target = BATCH, signed(), target
        if part == "body":
            body = _mutate_one_byte(BATCH, bytes(range(256)), rng)
        elif part == "target":
            mutated_target = _mutate_one_byte(target.encode(), TARGET_BYTES, rng).decode("ascii")
        else:
            headers[part] = _mutate_one_byte(headers[part], HEADER_BYTES, rng)
        status, content_type, text = post(mutated_target, body, headers)
        tried[part] += 1
        statuses[(part, status)] += 1
        context = (n, part, mutated_target, headers, status, text[:200])
        assert status in REFUSALS[part], context  # never accepted, never a server error
        if content_type.startswith("application/json"):
            assert SECRET.encode() not in text and b"Traceback" not in text, context
            if part == "body":  # the signature, not the parser, is what stops a changed body
                assert b"does not match" in text, context
        else:  # the HTTP server's own refusal of a request it cannot parse: the app never saw it
            assert status == 400 and text == b"Invalid HTTP request received.", context
        if n % 1000 == 999:  # fail early, not after thousands of wrongly queued messages
            assert ingress.queue.depth() == 0, n

    assert ingress.queue.depth() == 0  # not one mutant reached the queue
    control()
    connection.close()
    assert sum(tried.values()) == MUTATIONS and set(tried.values()) == {MUTATIONS // len(PARTS)}
    assert statuses[("body", 401)] == MUTATIONS // len(PARTS), statuses


def _mutate_one_byte(data: bytes, alphabet: bytes, rng: random.Random) -> bytes:
    i = rng.randrange(len(data))
    replacement = rng.choice([b for b in alphabet if b != data[i]])
    return data[:i] + bytes([replacement]) + data[i + 1 :]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies | st.lists(json_values, min_size=1, max_size=3).map(lambda v: json.dumps(v).encode()))
def test_signed_random_bodies_are_queued_or_refused_with_400_never_500(make_ingress, body: bytes) -> None:
    target = _target(make_ingress)
    before = target.queue.depth()
    response = target.post_signed("/webhook/hubspot", body)
    assert response.status_code in (200, 400, 413), (response.status_code, response.text)
    assert target.queue.depth() == before + (1 if response.status_code == 200 else 0)
