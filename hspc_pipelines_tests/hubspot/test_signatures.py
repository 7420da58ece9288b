"""hubspot.signatures against values computed here independently (hmac/hashlib), and its refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from hspc_pipelines.hubspot.signatures import (
    MAX_TIMESTAMP_AGE_MS,
    SignatureError,
    sign_v1,
    sign_v2,
    sign_v3,
    verify_v1,
    verify_v2,
    verify_v3,
)

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://example.com/webhook/hubspot?portal=1"
BODY = b'[{"objectId":1,"eventId":2,"subscriptionType":"deal.creation"}]'
NOW = 1_700_000_000_000


def expected_v3(timestamp: int) -> str:
    message = b"POST" + URI.encode() + BODY + str(timestamp).encode()
    return base64.b64encode(hmac.new(SECRET.encode(), message, hashlib.sha256).digest()).decode()


def test_known_vectors() -> None:
    assert sign_v3(SECRET, "post", URI, BODY, NOW) == expected_v3(NOW)
    assert sign_v1(SECRET, BODY) == hashlib.sha256(SECRET.encode() + BODY).hexdigest()
    assert (
        sign_v2(SECRET, "POST", URI, BODY)
        == hashlib.sha256(SECRET.encode() + b"POST" + URI.encode() + BODY).hexdigest()
    )


def test_v3_accepts_fresh_valid_signatures() -> None:
    verify_v3(SECRET, "POST", URI, BODY, expected_v3(NOW), str(NOW), now_ms=NOW + 1000)
    verify_v3(SECRET, "POST", URI, BODY, expected_v3(NOW), str(NOW), now_ms=NOW + MAX_TIMESTAMP_AGE_MS)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"signature": None}, "missing"),
        ({"timestamp": None}, "Timestamp is missing"),
        ({"timestamp": "soon"}, "epoch milliseconds"),
        ({"now_ms": NOW + MAX_TIMESTAMP_AGE_MS + 1}, "5 minutes old"),
        ({"now_ms": NOW - MAX_TIMESTAMP_AGE_MS - 1}, "future"),
        ({"body": BODY + b" "}, "does not match"),
        ({"uri": URI.replace("portal=1", "portal=2")}, "does not match"),
        ({"method": "PUT"}, "does not match"),
        ({"secret": "other"}, "does not match"),
        (
            {"signature": hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()},
            "does not match",
        ),  # the seed's check
    ],
)
def test_v3_refusals(kwargs: dict[str, object], needle: str) -> None:
    args: dict[str, object] = {
        "secret": SECRET,
        "method": "POST",
        "uri": URI,
        "body": BODY,
        "signature": expected_v3(NOW),
        "timestamp": str(NOW),
        "now_ms": NOW,
    }
    args.update(kwargs)
    with pytest.raises(SignatureError) as info:
        verify_v3(**args)  # type: ignore[arg-type]
    assert needle in str(info.value) and SECRET not in str(info.value)


def test_v1_v2_verify_and_refuse() -> None:
    verify_v1(SECRET, BODY, hashlib.sha256(SECRET.encode() + BODY).hexdigest().upper())
    verify_v2(SECRET, "POST", URI, BODY, sign_v2(SECRET, "POST", URI, BODY))
    with pytest.raises(SignatureError, match="v1"):
        verify_v1(SECRET, BODY + b"x", sign_v1(SECRET, BODY))
    with pytest.raises(SignatureError, match="v2"):
        verify_v2(SECRET, "POST", URI + "&x", BODY, sign_v2(SECRET, "POST", URI, BODY))
    with pytest.raises(SignatureError, match="missing"):
        verify_v1(SECRET, BODY, None)
