"""Check HubSpot's signature on a webhook request before anything reads its body.

v3 (default) signs method + full URI + raw body + timestamp. The URI is the one HubSpot called: behind a
proxy or load balancer the app sees another host or scheme, so `HSPC_PUBLIC_URL` + path + query rebuilds
it; otherwise the URL as received (scheme, Host header, path and query exactly as sent) is used. v1/v2
carry no timestamp (replayable), so they are accepted only when configured.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request

from hspc_pipelines.hubspot.signatures import SignatureError, verify_v1, verify_v2, verify_v3
from hspc_pipelines.ingress.settings import IngressSettings

V3_HEADER = "x-hubspot-signature-v3"
TIMESTAMP_HEADER = "x-hubspot-request-timestamp"
LEGACY_HEADER = "x-hubspot-signature"
VERSION_HEADER = "x-hubspot-signature-version"


def signed_uri(request: Request, public_url: str | None) -> str:
    scope = request.scope
    raw_path = scope.get("raw_path")
    path: str = raw_path.decode("latin-1") if raw_path else scope.get("path", "/")
    query = scope.get("query_string", b"").decode("latin-1")
    tail = path + (f"?{query}" if query else "")
    if public_url:
        return public_url + tail
    host = request.headers.get("host") or "{}:{}".format(*(scope.get("server") or ("localhost", 80)))
    return f"{scope.get('scheme', 'http')}://{host}{tail}"


def verify_request(
    settings: IngressSettings, method: str, uri: str, body: bytes, headers: Mapping[str, str]
) -> str:
    """Return the signature version that verified; raise SignatureError (safe to show) otherwise."""
    secret = settings.client_secret or ""
    accepted = settings.accept_versions
    if "v3" in accepted and headers.get(V3_HEADER) is not None:
        verify_v3(secret, method, uri, body, headers.get(V3_HEADER), headers.get(TIMESTAMP_HEADER))
        return "v3"
    legacy = headers.get(LEGACY_HEADER)
    if legacy is not None:
        version = (headers.get(VERSION_HEADER) or "v1").strip().lower()
        if version not in accepted or version == "v3":
            raise SignatureError(f"signature version {version[:8]!r} is not accepted by this endpoint")
        if version == "v1":
            verify_v1(secret, body, legacy)
        else:
            verify_v2(secret, method, uri, body, legacy)
        return version
    if "v3" in accepted:
        raise SignatureError("header X-HubSpot-Signature-v3 is missing")
    raise SignatureError("header X-HubSpot-Signature is missing")
