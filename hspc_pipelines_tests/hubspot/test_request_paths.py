"""Ids that reach the HubSpot client from outside (a submit request's dealId, a webhook's objectId, a
deal property) can never steer a request elsewhere: each is one quoted path segment on the configured
host (docs/security.md, SSRF)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from hspc_pipelines.emulators._server import serve_in_thread
from hspc_pipelines.hubspot.client import HubSpotClient

TOKEN = "pat-na1-paths-0123456789abcdef"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[tuple[str, bytes, bytes]]]]:
    seen: list[tuple[str, bytes, bytes]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Plain ASGI: whatever path arrives is recorded (a router would 404 some before we saw them).
        headers = dict(scope["headers"])
        seen.append((headers.get(b"host", b"").decode(), scope["raw_path"], scope["query_string"]))
        await JSONResponse({"id": "1", "properties": {}})(scope, receive, send)

    with serve_in_thread(app) as running:
        yield running.url, seen


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(object_id=st.one_of(st.text(min_size=1, max_size=40), st.sampled_from(
    ["../../oauth/v1/access-tokens", "1?archived=true", "1#x", "//evil.example/", "%2e%2e%2f", "1/../../..", "@evil.example"]
)))  # fmt: skip
def test_an_id_is_one_path_segment_on_the_configured_host(server: Any, object_id: str) -> None:
    url, seen = server
    seen.clear()
    client = HubSpotClient(TOKEN, url, max_retries=0)
    try:
        client.get_object("deals", object_id)
    finally:
        client.close()
    ((host, raw_path, query),) = seen
    assert host == url.removeprefix("http://")
    prefix = b"/crm/objects/2026-09/deals/"
    assert raw_path.startswith(prefix)
    segment = raw_path[len(prefix) :]
    assert b"/" not in segment and b"?" not in segment and b"#" not in segment
    assert query == b"archived=false"
