"""The HubSpot emulator's webhooks journal over real HTTP: the 2026-03 paths and shapes of HubSpot's
reference, entries written from the same change feed as the webhooks (as the journal's own
subscription, here every deal change, asks), retention on the emulator's clock, 404 for an expired
offset, a client-credentials token with the journal's scope required (docs/webhooks-journal.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hspc_pipelines.emulators.hubspot import HubSpotEmulator, start_hubspot_emulator
from hspc_pipelines_tests.support.hubspot_http import client_credentials_token, subscribe_every_deal_change

TOKEN = "test-token"  # a private-app token: the CRM takes it, the journal does not
CLIENT_ID, CLIENT_SECRET = "journal-app", "journal-app-secret"
PORTAL = 62515
# The app's client-credentials token, obtained by the fixture for each test (every call here sends it).
AUTH: dict[str, str] = {}
GLOBAL, LOCAL = "/webhooks-journal/journal/2026-03", "/webhooks-journal/journal-local/2026-03"
SUBSCRIPTIONS = "/webhooks-journal/subscriptions/2026-03"


@pytest.fixture
def hub() -> Iterator[tuple[HubSpotEmulator, str]]:
    emulator, server = start_hubspot_emulator(
        access_tokens=(TOKEN,),
        oauth_clients={CLIENT_ID: CLIENT_SECRET},
        portal_id=PORTAL,
        token_lifetime_seconds=10 * 86_400,  # outlives the clock moves of the retention tests
    )
    try:
        token = client_credentials_token(server.url, CLIENT_ID, CLIENT_SECRET)
        AUTH["Authorization"] = f"Bearer {token}"
        subscribe_every_deal_change(server.url, token, PORTAL)
        yield emulator, server.url
    finally:
        emulator.configure(clock_offset_seconds=0)
        server.stop()


def _get(url: str, path: str, **kw: Any) -> requests.Response:
    return requests.get(url + path, headers=AUTH, timeout=5, **kw)


def _new_deal(url: str, name: str = "Journal deal #AWS") -> str:
    r = requests.post(
        f"{url}/crm/v3/objects/deals", json={"properties": {"dealname": name}}, headers=AUTH, timeout=5
    )
    assert r.status_code == 201
    return str(r.json()["id"])


def _patch(url: str, deal_id: str, **props: str) -> None:
    r = requests.patch(
        f"{url}/crm/v3/objects/deals/{deal_id}", json={"properties": props}, headers=AUTH, timeout=5
    )
    assert r.status_code == 200


def _is_entry(body: dict[str, Any]) -> None:
    assert set(body) == {"currentOffset", "expiresAt", "url"}
    uuid.UUID(body["currentOffset"])
    assert body["expiresAt"].endswith("Z")


@pytest.mark.parametrize("base", [GLOBAL, LOCAL])
def test_every_write_to_a_deal_is_one_entry_whose_file_holds_its_events(hub, base):
    emulator, url = hub
    assert _get(url, base + "/earliest").status_code == 404, "an empty journal has no earliest entry"
    deal = _new_deal(url)
    _patch(url, deal, amount="5000", dealstage="qualifiedtobuy")
    first = _get(url, base + "/earliest").json()
    _is_entry(first)
    # The file is fetched without a token, like a pre-signed S3 URL.
    created = requests.get(first["url"], timeout=5).json()
    assert created["offset"] == first["currentOffset"] and created["publishedAt"].endswith("Z")
    [event] = created["journalEvents"]
    assert (event["action"], event["objectTypeId"], str(event["objectId"])) == ("CREATE", "0-3", deal)
    assert event["propertyChanges"]["dealname"] == "Journal deal #AWS"
    second = _get(url, f"{base}/offset/{first['currentOffset']}/next").json()
    assert second["currentOffset"] == _get(url, base + "/latest").json()["currentOffset"]
    [update] = requests.get(second["url"], timeout=5).json()["journalEvents"]
    assert update["action"] == "UPDATE"
    assert update["propertyChanges"] == {"amount": "5000", "dealstage": "qualifiedtobuy"}
    after_last = _get(url, f"{base}/offset/{second['currentOffset']}/next")
    assert (after_last.status_code, after_last.content) == (204, b""), "nothing newer yet"
    assert emulator.stats()["journal_entries"] == 2


def test_the_journal_needs_a_client_credentials_token_with_its_scope(hub):
    _, url = hub
    _new_deal(url)
    assert requests.get(url + GLOBAL + "/earliest", timeout=5).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert requests.get(url + GLOBAL + "/earliest", headers=bad, timeout=5).status_code == 401
    static = requests.get(url + GLOBAL + "/earliest", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert static.status_code == 403 and static.json()["category"] == "MISSING_SCOPES"
    assert _get(url, GLOBAL + "/earliest").status_code == 200


def test_an_offset_older_than_the_retention_answers_404_and_its_file_is_gone(hub):
    emulator, url = hub
    emulator.configure(journal_retention_seconds=3600)
    old = _new_deal(url, "Old #AWS")
    entry = _get(url, GLOBAL + "/earliest").json()
    emulator.configure(clock_offset_seconds=3599)  # just inside the hour: still there
    assert _get(url, f"{GLOBAL}/offset/{entry['currentOffset']}/next").status_code == 204
    emulator.configure(clock_offset_seconds=3601)
    gone = _get(url, f"{GLOBAL}/offset/{entry['currentOffset']}/next")
    assert gone.status_code == 404 and gone.json()["category"] == "OBJECT_NOT_FOUND"
    assert requests.get(entry["url"], timeout=5).status_code in (403, 404)
    assert _get(url, GLOBAL + "/earliest").status_code == 404
    fresh = _new_deal(url, "Fresh #AWS")
    earliest = requests.get(_get(url, GLOBAL + "/earliest").json()["url"], timeout=5).json()
    assert [str(e["objectId"]) for e in earliest["journalEvents"]] == [fresh] and fresh != old


def test_three_days_are_kept_by_default(hub):
    emulator, url = hub
    assert emulator.config()["journal_retention_seconds"] == 3 * 86_400
    _new_deal(url)
    entry = _get(url, GLOBAL + "/earliest").json()
    emulator.configure(clock_offset_seconds=3 * 86_400 - 60)
    assert _get(url, f"{GLOBAL}/offset/{entry['currentOffset']}/next").status_code == 204
    emulator.configure(clock_offset_seconds=3 * 86_400 + 60)
    assert _get(url, f"{GLOBAL}/offset/{entry['currentOffset']}/next").status_code == 404


def test_batch_read_names_offsets_it_cannot_fetch_and_refuses_what_is_not_a_uuid(hub):
    _, url = hub
    _new_deal(url)
    held = _get(url, GLOBAL + "/earliest").json()["currentOffset"]
    unknown = str(uuid.uuid4())
    r = requests.post(url + GLOBAL + "/batch/read", json={"inputs": [held, unknown]}, headers=AUTH, timeout=5)
    body = r.json()
    assert [e["currentOffset"] for e in body["results"]] == [held]
    assert body["numErrors"] == 1 and body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"]["offset"] == [unknown] and body["status"] == "COMPLETE"
    bad = requests.post(url + GLOBAL + "/batch/read", json={"inputs": ["nope"]}, headers=AUTH, timeout=5)
    assert bad.status_code == 400 and "inputs[0]" in bad.json()["message"]
    many = [str(uuid.uuid4()) for _ in range(101)]
    too_many = requests.post(url + GLOBAL + "/batch/read", json={"inputs": many}, headers=AUTH, timeout=5)
    assert too_many.status_code == 400


def test_batch_earliest_and_latest_take_1_to_100_entries_in_order(hub):
    _, url = hub
    deals = [_new_deal(url, f"D{i} #AWS") for i in range(3)]
    first_two = _get(url, GLOBAL + "/batch/earliest/2").json()["results"]
    last_two = _get(url, GLOBAL + "/batch/latest/2").json()["results"]
    files = [requests.get(e["url"], timeout=5).json() for e in first_two + last_two]
    assert [str(f["journalEvents"][0]["objectId"]) for f in files] == [*deals[:2], *deals[1:]]
    assert _get(url, GLOBAL + "/batch/earliest/0").status_code == 400
    assert _get(url, GLOBAL + "/batch/latest/101").status_code == 400


def test_the_local_journal_holds_only_its_own_account(hub):
    emulator, url = hub
    _new_deal(url)
    portal = emulator.state.portal_id
    assert _get(url, LOCAL + "/earliest", params={"installPortalId": portal}).status_code == 200
    assert _get(url, LOCAL + "/earliest", params={"installPortalId": portal + 1}).status_code == 404
    assert _get(url, LOCAL + "/earliest", params={"installPortalId": "abc"}).status_code == 400


def test_the_journal_follows_its_own_subscription_not_the_webhooks(hub):
    emulator, url = hub
    emulator.configure(webhook_properties=["amount"])  # the webhooks send amount changes only
    deal = _new_deal(url)
    _patch(url, deal, description="subscribed in the journal, not in the webhooks")
    _patch(url, deal, amount="10")
    assert [e["action"] for e in _all_events(url)] == ["CREATE", "UPDATE", "UPDATE"]
    # Narrowed to amount and dealstage updates: a description change is no longer recorded.
    body = {"subscriptionType": "OBJECT", "portalId": PORTAL, "actions": ["UPDATE"], "objectTypeId": "0-3"}
    r = requests.post(
        url + SUBSCRIPTIONS,
        json=body | {"objectIds": [], "properties": ["amount", "dealstage"]},
        headers=AUTH,
        timeout=5,
    )
    assert r.status_code == 200
    written = emulator.stats()["journal_entries_written"]
    _patch(url, deal, description="not subscribed any more")
    _new_deal(url, "CREATE not subscribed any more")
    assert emulator.stats()["journal_entries_written"] == written
    _patch(url, deal, amount="20", description="only amount is recorded")
    last = _all_events(url)[-1]
    assert (last["action"], last["propertyChanges"]) == ("UPDATE", {"amount": "20"})


def _all_events(url: str) -> list[dict[str, Any]]:
    offsets = [e["currentOffset"] for e in _get(url, GLOBAL + "/batch/earliest/100").json()["results"]]
    return [ev for o in offsets for ev in _file_events(url, o)]


def _file_events(url: str, offset: str) -> list[dict[str, Any]]:
    r = requests.post(url + GLOBAL + "/batch/read", json={"inputs": [offset]}, headers=AUTH, timeout=5)
    return list(requests.get(r.json()["results"][0]["url"], timeout=5).json()["journalEvents"])
