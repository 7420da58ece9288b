"""The HubSpot emulator's webhooks-journal subscriptions over real HTTP (2026-03): upsert, list, delete,
stored per account; the journal records only what they ask for; only a client-credentials token with
the journal's scopes may call them (HubSpot's 403 MISSING_SCOPES otherwise)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hspc_pipelines.emulators.hubspot import HubSpotEmulator, start_hubspot_emulator
from hspc_pipelines_tests.support.hubspot_http import client_credentials_token

STATIC, SERVICE_KEY = "private-app-token", "svc-key"
CLIENT_ID, CLIENT_SECRET = "journal-app", "journal-app-secret"
PORTAL = 62515
BASE = "/webhooks-journal/subscriptions/2026-03"
JOURNAL = "/webhooks-journal/journal/2026-03"
CRM_ONLY = "crm.objects.deals.read crm.objects.deals.write"


@pytest.fixture
def hub() -> Iterator[tuple[HubSpotEmulator, str]]:
    emulator, server = start_hubspot_emulator(
        access_tokens=(STATIC,),
        service_keys=(SERVICE_KEY,),
        oauth_clients={CLIENT_ID: CLIENT_SECRET},
        portal_id=PORTAL,
    )
    try:
        yield emulator, server.url
    finally:
        server.stop()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _deal_body(portal: int = PORTAL, **changes: Any) -> dict[str, Any]:
    return {
        "subscriptionType": "OBJECT",
        "portalId": portal,
        "actions": ["CREATE", "UPDATE"],
        "objectTypeId": "0-3",
        "objectIds": [],
        "properties": ["amount"],
    } | changes


def test_upsert_list_and_delete_keep_one_subscription_per_account_and_object_type(hub):
    _, url = hub
    auth = _auth(client_credentials_token(url, CLIENT_ID, CLIENT_SECRET))
    first = requests.post(url + BASE, json=_deal_body(), headers=auth, timeout=5)
    assert first.status_code == 200
    created = first.json()
    assert {"id", "appId", "createdAt", "updatedAt", "actions", "objectTypeId", "portalId"} <= set(created)
    assert (created["actions"], created["properties"], created["objectIds"]) == (
        ["CREATE", "UPDATE"],
        ["amount"],
        [],
    )
    again = requests.post(
        url + BASE, json=_deal_body(actions=["UPDATE", "DELETE"]), headers=auth, timeout=5
    ).json()
    assert again["id"] == created["id"] and again["actions"] == ["UPDATE", "DELETE"], (
        "an upsert, not a second one"
    )
    other = requests.post(url + BASE, json=_deal_body(portal=PORTAL + 1), headers=auth, timeout=5).json()
    assert other["id"] != created["id"]
    listed = requests.get(url + BASE, headers=auth, timeout=5).json()["results"]
    assert [(s["id"], s["portalId"]) for s in listed] == [(created["id"], PORTAL), (other["id"], PORTAL + 1)]

    gone = requests.delete(f"{url}{BASE}/{created['id']}", headers=auth, timeout=5)
    assert (gone.status_code, gone.content) == (204, b"")
    assert requests.delete(f"{url}{BASE}/{created['id']}", headers=auth, timeout=5).status_code == 404
    assert requests.delete(f"{url}{BASE}/portals/{PORTAL + 1}", headers=auth, timeout=5).status_code == 204
    assert requests.get(url + BASE, headers=auth, timeout=5).json()["results"] == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"subscriptionType": "ASSOCIATION"}, "subscriptionType"),
        ({"actions": ["CREATE", "EXPLODE"]}, "EXPLODE"),
        ({"portalId": "62515"}, "portalId"),
        ({"objectIds": ["7"]}, "objectIds"),
        ({"properties": "amount"}, "properties"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field(hub, change, named):
    _, url = hub
    auth = _auth(client_credentials_token(url, CLIENT_ID, CLIENT_SECRET))
    r = requests.post(url + BASE, json=_deal_body(**change), headers=auth, timeout=5)
    assert r.status_code == 400 and named in r.json()["message"]
    missing = {k: v for k, v in _deal_body().items() if k != "objectTypeId"}
    r = requests.post(url + BASE, json=missing, headers=auth, timeout=5)
    assert r.status_code == 400 and "objectTypeId" in r.json()["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", BASE), ("POST", BASE), ("DELETE", BASE + "/5001"), ("GET", JOURNAL + "/latest")],
)
def test_only_a_client_credentials_token_with_the_scope_may_call_the_journal(hub, method, path):
    _, url = hub
    crm_only = client_credentials_token(url, CLIENT_ID, CLIENT_SECRET, CRM_ONLY)
    for token in (STATIC, SERVICE_KEY, crm_only):
        r = requests.request(method, url + path, json=_deal_body(), headers=_auth(token), timeout=5)
        body = r.json()
        assert r.status_code == 403 and body["category"] == "MISSING_SCOPES", (token, r.text)
        [scopes] = [e["context"]["requiredScopes"] for e in body["errors"]]
        assert scopes[0].startswith("developer.webhooks_journal.")
    # The CRM still takes every one of them.
    for token in (STATIC, SERVICE_KEY, crm_only):
        assert (
            requests.get(url + "/crm/v3/pipelines/deals", headers=_auth(token), timeout=5).status_code == 200
        )
    full = client_credentials_token(url, CLIENT_ID, CLIENT_SECRET)
    r = requests.request(method, url + path, json=_deal_body(), headers=_auth(full), timeout=5)
    assert r.status_code in (200, 204, 404), r.text  # past the gate (no subscription 5001, empty journal)


def test_without_a_subscription_the_journal_records_nothing(hub):
    emulator, url = hub
    r = requests.post(
        url + "/crm/v3/objects/deals",
        json={"properties": {"dealname": "x #AWS"}},
        headers=_auth(STATIC),
        timeout=5,
    )
    assert r.status_code == 201
    assert emulator.stats()["journal_entries_written"] == 0
