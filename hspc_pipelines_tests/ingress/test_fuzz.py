"""Fuzzing over real HTTP: random input never yields a 500, and no single-byte change of a signed
request gets through (every mutant is refused and nothing reaches the queue)."""

from __future__ import annotations

import json
import random

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import SECRET, signed_headers

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
    assert SECRET not in response.text


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


def test_every_single_byte_mutation_of_a_signed_request_is_refused(make_ingress) -> None:
    ingress = make_ingress()
    path = "/webhook/hubspot?portal=1"
    rng = random.Random(20260429)
    session = requests.Session()
    original = signed_headers(ingress.url + path, BATCH)
    assert session.post(ingress.url + path, data=BATCH, headers=original).status_code == 200
    assert len(ingress.queue.drain()) == 1

    statuses: dict[int, int] = {}
    for n in range(300):
        headers = signed_headers(ingress.url + path, BATCH)  # fresh timestamp: only the mutation can fail it
        body, target_path = BATCH, path
        part = n % 4
        if part == 0:
            i = rng.randrange(len(body))
            body = body[:i] + bytes([(body[i] + rng.randrange(1, 256)) % 256]) + body[i + 1 :]
        elif part in (1, 2):
            name = "X-HubSpot-Signature-v3" if part == 1 else "X-HubSpot-Request-Timestamp"
            headers[name] = _mutate_printable(headers[name], rng)
        else:
            query = "portal=1"
            target_path = "/webhook/hubspot?" + _mutate_printable(query, rng).replace("#", "%23")
        response = session.post(ingress.url + target_path, data=body, headers=headers, timeout=10)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code in (400, 401), (n, part, response.status_code, response.text)
    assert ingress.queue.depth() == 0
    assert statuses.get(401, 0) > 250  # the signature, not the parser, is what stops them


def _mutate_printable(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text))
    choices = [c for c in range(0x21, 0x7F) if c != ord(text[i])]
    return text[:i] + chr(rng.choice(choices)) + text[i + 1 :]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies | st.lists(json_values, min_size=1, max_size=3).map(lambda v: json.dumps(v).encode()))
def test_signed_random_bodies_are_queued_or_refused_with_400_never_500(make_ingress, body: bytes) -> None:
    target = _target(make_ingress)
    before = target.queue.depth()
    response = target.post_signed("/webhook/hubspot", body)
    assert response.status_code in (200, 400, 413), (response.status_code, response.text)
    assert target.queue.depth() == before + (1 if response.status_code == 200 else 0)
