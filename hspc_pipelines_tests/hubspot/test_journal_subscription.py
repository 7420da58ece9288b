"""The webhooks journal's deal subscription: the rules (what it must cover, an upsert never narrows),
the client's subscription calls and `hspc bootstrap --journal` against the emulator over real HTTP
(idempotent, `--dry-run` sends nothing, a deal change then lands in the journal)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.cli import main
from hspc_pipelines.emulators.hubspot import HubSpotEmulator, start_hubspot_emulator
from hspc_pipelines.events.journal import parse_entry
from hspc_pipelines.hubspot.auth import ClientCredentials
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.errors import HubSpotError
from hspc_pipelines.hubspot.journal_subscription import (
    coverage,
    ensure_deal_subscription,
    upsert_body,
    wanted_subscription,
)
from hspc_pipelines.hubspot.webhook_events import (
    JOURNAL_ACTIONS,
    SUBSCRIBED_DEAL_EVENTS,
    SUBSCRIBED_DEAL_PROPERTIES,
    SUBSCRIBED_JOURNAL_ACTIONS,
)

CLIENT_ID, CLIENT_SECRET = "journal-app", "journal-app-secret"
PORTAL = 62515
POST = "POST /webhooks-journal/subscriptions/2026-03"


def test_the_subscription_asks_for_the_events_and_properties_of_the_webhook_manifest():
    body = wanted_subscription(PORTAL)
    assert (body["subscriptionType"], body["objectTypeId"], body["objectIds"]) == ("OBJECT", "0-3", [])
    assert body["properties"] == list(SUBSCRIBED_DEAL_PROPERTIES)
    # Every webhook event hspc subscribes to, and property changes, as journal actions.
    expected = {a for e in (*SUBSCRIBED_DEAL_EVENTS, "deal.propertyChange") for a in JOURNAL_ACTIONS[e]}
    assert set(body["actions"]) == expected == set(SUBSCRIBED_JOURNAL_ACTIONS)
    assert {"CREATE", "UPDATE", "DELETE", "MERGE", "RESTORE", "ASSOCIATION_ADDED"} <= expected


subsets = st.tuples(
    st.sets(st.sampled_from(SUBSCRIBED_JOURNAL_ACTIONS)),
    st.sets(st.sampled_from(SUBSCRIBED_DEAL_PROPERTIES)),
    st.lists(st.text("abcdefgh_", min_size=1, max_size=8), max_size=3),
)


@given(subsets)
def test_coverage_names_exactly_what_is_missing_and_an_upsert_covers_it_without_narrowing(case):
    actions, properties, foreign = case
    existing = {
        "id": 1,
        "subscriptionType": "OBJECT",
        "portalId": PORTAL,
        "objectTypeId": "0-3",
        "actions": sorted(actions),
        "objectIds": [],
        "properties": sorted(properties) + foreign,
    }
    found = coverage([existing], PORTAL)
    assert set(found.missing_actions) == set(SUBSCRIBED_JOURNAL_ACTIONS) - actions
    if properties or foreign:
        assert set(found.missing_properties) == set(SUBSCRIBED_DEAL_PROPERTIES) - properties
    else:  # an empty list is every property
        assert found.missing_properties == ()
    body = upsert_body(PORTAL, existing)
    assert coverage([{**existing, **body}], PORTAL).ok
    assert set(existing["actions"]) <= set(body["actions"])
    assert not body["properties"] or set(existing["properties"]) <= set(body["properties"])


def test_no_deal_subscription_in_the_account_is_a_problem_that_names_the_account():
    other_account = {**wanted_subscription(PORTAL + 1), "id": 9}
    contacts = {**wanted_subscription(PORTAL), "id": 10, "objectTypeId": "0-1"}
    found = coverage([other_account, contacts], PORTAL)
    assert not found.ok and found.problems() == [
        f"no webhooks-journal subscription for deals (0-3) in portal {PORTAL}"
    ]
    only_some = coverage([{**wanted_subscription(PORTAL), "objectIds": [7001]}], PORTAL)
    assert not only_some.ok and "objectIds" in only_some.problems()[0]
    assert coverage([other_account], None).ok, "without a portal id, any account's subscription counts"


@pytest.fixture
def hub() -> Iterator[tuple[HubSpotEmulator, HubSpotClient, str]]:
    emulator, server = start_hubspot_emulator(oauth_clients={CLIENT_ID: CLIENT_SECRET}, portal_id=PORTAL)
    client = HubSpotClient(
        base_url=server.url,
        credentials=ClientCredentials(CLIENT_ID, CLIENT_SECRET, server.url),
        max_retries=0,
    )
    try:
        yield emulator, client, server.url
    finally:
        client.close()
        server.stop()


def _posts(emulator: HubSpotEmulator) -> int:
    return int(emulator.stats()["calls"].get(POST, 0))


def test_ensure_subscribes_once_keeps_what_others_added_and_the_journal_then_records_deals(hub):
    emulator, client, _ = hub
    client.journal_subscribe(
        {**wanted_subscription(PORTAL), "actions": ["CREATE"], "properties": ["x_custom"]}
    )
    dry = ensure_deal_subscription(client, PORTAL, apply=False)
    assert dry.sent is not None and not dry.applied and _posts(emulator) == 1, "a dry run sends nothing"
    assert set(dry.before.missing_actions) == set(SUBSCRIBED_JOURNAL_ACTIONS) - {"CREATE"}

    done = ensure_deal_subscription(client, PORTAL)
    assert done.applied and done.answer is not None and _posts(emulator) == 2
    [sub] = client.journal_subscriptions()
    assert sub["id"] == done.answer["id"] and "x_custom" in sub["properties"]
    assert again_sends_nothing(client) and _posts(emulator) == 2

    deal = client.create_object("deals", {"dealname": "Journal #AWS"})["id"]
    client.update_object("deals", deal, {"description": "a subscribed property"})
    entry = client.journal_latest()
    assert entry is not None
    [event] = parse_entry(entry.offset, client.journal_file(entry))
    assert (event.action, event.object_id, dict(event.property_changes)) == (
        "UPDATE",
        deal,
        {"description": "a subscribed property"},
    )
    client.journal_unsubscribe(sub["id"])
    assert client.journal_subscriptions() == []
    with pytest.raises(HubSpotError) as gone:
        client.journal_unsubscribe(sub["id"])
    assert gone.value.status == 404


def again_sends_nothing(client: HubSpotClient) -> bool:
    result = ensure_deal_subscription(client, PORTAL)
    return result.sent is None and not result.applied and result.before.ok


@pytest.fixture
def app_env(hub, monkeypatch: pytest.MonkeyPatch) -> tuple[HubSpotEmulator, str]:
    emulator, _, url = hub
    for name in ("HUBSPOT_ACCESS_TOKEN", "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER", "HSPC_HUBSPOT_AUTH"):
        monkeypatch.delenv(name, raising=False)
    env = {"HUBSPOT_BASE_URL": url, "HUBSPOT_CLIENT_ID": CLIENT_ID, "HUBSPOT_CLIENT_SECRET": CLIENT_SECRET}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HSPC_JOURNAL_PORTAL_ID", raising=False)
    return emulator, url


def test_bootstrap_journal_dry_run_then_upsert_then_nothing_to_do(app_env, capsys, monkeypatch):
    emulator, _ = app_env
    assert main(["bootstrap", "--journal"]) == 2
    assert "HSPC_JOURNAL_PORTAL_ID" in capsys.readouterr().err

    monkeypatch.setenv("HSPC_JOURNAL_PORTAL_ID", str(PORTAL))
    assert main(["bootstrap", "--journal", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "no webhooks-journal subscription for deals" in out and '"objectTypeId": "0-3"' in out
    assert _posts(emulator) == 0

    assert main(["bootstrap", "--journal"]) == 0
    assert "subscribed: deal subscription" in capsys.readouterr().out and _posts(emulator) == 1
    assert main(["bootstrap", "--journal", "--portal-id", str(PORTAL)]) == 0
    assert "already covers hspc: nothing to do" in capsys.readouterr().out and _posts(emulator) == 1


def test_bootstrap_journal_with_a_private_app_token_says_what_it_needs(app_env, capsys, monkeypatch):
    monkeypatch.delenv("HUBSPOT_CLIENT_ID")
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "test-token")  # the emulator's private-app token
    assert main(["bootstrap", "--journal", "--portal-id", str(PORTAL)]) == 1
    err = capsys.readouterr().err
    assert "403" in err and "MISSING_SCOPES" in err and "HSPC_HUBSPOT_AUTH=client_credentials" in err
    assert "test-token" not in err
