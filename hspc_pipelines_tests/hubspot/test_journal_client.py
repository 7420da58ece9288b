"""The HubSpot client's webhooks-journal calls against the emulator over real HTTP: the entries in
order, their files, an expired offset told apart from "nothing newer", batch read in chunks of 100."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.responses import JSONResponse

from hspc_pipelines.emulators._server import serve_in_thread
from hspc_pipelines.emulators.hubspot import HubSpotEmulator, start_hubspot_emulator
from hspc_pipelines.events.journal import parse_entry
from hspc_pipelines.hubspot.auth import ClientCredentials
from hspc_pipelines.hubspot.client import HubSpotClient, JournalEntry
from hspc_pipelines.hubspot.errors import HubSpotError, JournalOffsetExpired
from hspc_pipelines_tests.support.hubspot_http import ALL_DEAL_ACTIONS

CLIENT_ID, CLIENT_SECRET = "journal-app", "journal-app-secret"
TOKEN = "journal-token"  # a static token, for the stand-in servers below that check no token


@pytest.fixture
def hub() -> Iterator[tuple[HubSpotEmulator, HubSpotClient]]:
    # The journal serves client-credentials tokens only; this one outlives the tests' clock moves.
    emulator, server = start_hubspot_emulator(
        oauth_clients={CLIENT_ID: CLIENT_SECRET}, token_lifetime_seconds=10 * 86_400
    )
    credentials = ClientCredentials(CLIENT_ID, CLIENT_SECRET, server.url)
    client = HubSpotClient(base_url=server.url, credentials=credentials, max_retries=0)
    client.journal_subscribe(
        {
            "subscriptionType": "OBJECT",
            "portalId": emulator.state.portal_id,
            "actions": ALL_DEAL_ACTIONS,
            "objectTypeId": "0-3",
            "objectIds": [],
            "properties": [],
        }
    )
    try:
        yield emulator, client
    finally:
        client.close()
        emulator.configure(clock_offset_seconds=0)
        server.stop()


def _deal(client: HubSpotClient, name: str) -> str:
    return str(client.create_object("deals", {"dealname": name})["id"])


@pytest.mark.parametrize("local", [False, True])
def test_entries_are_read_in_order_from_earliest_to_the_newest_and_then_none(hub, local):
    emulator, client = hub
    portal = emulator.state.portal_id if local else None
    assert client.journal_earliest(portal) is None and client.journal_latest(portal) is None
    deals = [_deal(client, f"D{i} #AWS") for i in range(3)]
    entry = client.journal_earliest(portal)
    assert entry is not None
    seen = []
    while entry is not None:
        seen += [e.object_id for e in parse_entry(entry.offset, client.journal_file(entry))]
        last, entry = entry, client.journal_next(entry.offset, portal)
    assert seen == deals
    newest = client.journal_latest(portal)
    assert newest is not None and last.offset == newest.offset
    calls = client.stats.snapshot()["calls"]
    prefix = "/webhooks-journal/journal-local/2026-03" if local else "/webhooks-journal/journal/2026-03"
    assert calls[f"GET {prefix}/offset/{{offset}}/next"] == 3
    assert calls["GET webhooks-journal file"] == 3


def test_an_expired_offset_raises_journal_offset_expired_naming_it(hub):
    emulator, client = hub
    emulator.configure(journal_retention_seconds=60)
    _deal(client, "Old #AWS")
    entry = client.journal_earliest()
    assert entry is not None
    assert client.journal_next(entry.offset) is None, "within retention: nothing newer yet"
    emulator.configure(clock_offset_seconds=120)
    with pytest.raises(JournalOffsetExpired) as caught:
        client.journal_next(entry.offset)
    assert entry.offset in str(caught.value) and "three days" in str(caught.value)
    assert client.credentials.current() not in str(caught.value)
    # The pre-signed URL died with the entry: the error names the offset, never the URL.
    with pytest.raises(HubSpotError) as file_error:
        client.journal_file(entry)
    assert entry.offset in str(file_error.value) and entry.url not in str(file_error.value)


def test_batch_read_sends_at_most_100_offsets_a_call_and_names_those_not_held(hub):
    _, client = hub
    _deal(client, "Held #AWS")
    held = client.journal_latest()
    assert held is not None
    unknown = [str(uuid.uuid4()) for _ in range(150)]
    found, missing = client.journal_read([held.offset, *unknown])
    assert [e.offset for e in found] == [held.offset] and missing == unknown
    assert client.stats.snapshot()["calls"]["POST /webhooks-journal/journal/2026-03/batch/read"] == 2


def test_a_file_url_that_is_not_https_is_refused_when_the_api_is_https():
    client = HubSpotClient(TOKEN, "https://api.hubapi.com", max_retries=0)
    entry = JournalEntry(str(uuid.uuid4()), "http://169.254.169.254/latest/meta-data", "")
    with pytest.raises(HubSpotError, match="not https") as caught:
        client.journal_file(entry)
    assert entry.url not in str(caught.value) and client.stats.total == 0


def test_a_404_for_an_offset_the_journal_still_holds_means_nothing_newer_not_expired():
    """HubSpot's reference says 404 for "expired or doesn't exist"; should it also answer 404 when
    nothing newer exists yet, the offset read back by batch read tells the two apart."""
    held = str(uuid.uuid4())

    async def journal(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"].endswith("/next"):
            reply = JSONResponse({"status": "error", "category": "OBJECT_NOT_FOUND"}, status_code=404)
        else:  # batch/read: the offset is held
            entry = {
                "currentOffset": held,
                "url": "https://files.example/x",
                "expiresAt": "2026-12-06T00:00:00Z",
            }
            reply = JSONResponse({"status": "COMPLETE", "results": [entry]})
        await reply(scope, receive, send)

    server = serve_in_thread(journal)
    client = HubSpotClient(TOKEN, server.url, max_retries=0)
    try:
        assert client.journal_next(held) is None
        calls = client.stats.snapshot()["calls"]
        assert calls["POST /webhooks-journal/journal/2026-03/batch/read"] == 1
    finally:
        client.close()
        server.stop()
