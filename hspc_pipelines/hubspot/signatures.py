"""HubSpot webhook signatures (v3, and v1/v2 for older apps), as HubSpot documents them.

v3: base64(HMAC-SHA256(client_secret, method + uri + raw_body + timestamp_ms)), timestamp at most
5 minutes old, compared in constant time. v1: hex sha256(secret + body). v2: hex sha256(secret +
method + uri + body). The secret never leaves this module in any message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

MAX_TIMESTAMP_AGE_MS = 5 * 60 * 1000


class SignatureError(ValueError):
    """A webhook signature is missing, malformed, stale or wrong. The message is safe to log."""


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int | str) -> str:
    message = method.upper().encode() + uri.encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_v1(secret: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + body).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + method.upper().encode() + uri.encode() + body).hexdigest()


def verify_v3(
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now_ms: int | None = None,
) -> None:
    """Raise SignatureError unless `signature` is a fresh, valid v3 signature of this request."""
    if not signature:
        raise SignatureError("header X-HubSpot-Signature-v3 is missing")
    if not timestamp:
        raise SignatureError("header X-HubSpot-Request-Timestamp is missing")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureError("header X-HubSpot-Request-Timestamp must be epoch milliseconds") from None
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if now_ms - ts > MAX_TIMESTAMP_AGE_MS:
        raise SignatureError("X-HubSpot-Request-Timestamp is more than 5 minutes old")
    if ts - now_ms > MAX_TIMESTAMP_AGE_MS:
        raise SignatureError("X-HubSpot-Request-Timestamp is more than 5 minutes in the future")
    expected = sign_v3(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise SignatureError("X-HubSpot-Signature-v3 does not match the request")


def verify_v1(secret: str, body: bytes, signature: str | None) -> None:
    if not signature:
        raise SignatureError("header X-HubSpot-Signature is missing")
    if not hmac.compare_digest(sign_v1(secret, body).encode(), signature.strip().lower().encode()):
        raise SignatureError("X-HubSpot-Signature (v1) does not match the request")


def verify_v2(secret: str, method: str, uri: str, body: bytes, signature: str | None) -> None:
    if not signature:
        raise SignatureError("header X-HubSpot-Signature is missing")
    expected = sign_v2(secret, method, uri, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise SignatureError("X-HubSpot-Signature (v2) does not match the request")
