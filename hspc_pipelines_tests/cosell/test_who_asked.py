"""Who asked for a submission, from the run's config or the property's history (issue 20, audit):
real HTTP to the HubSpot emulator, which keeps each property's versions as HubSpot does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import requests

from hspc_pipelines.cosell.submission.run import who_asked
from hspc_pipelines.emulators._server import serve_in_thread
from hspc_pipelines.emulators.hubspot.app import HubSpotEmulator
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping.properties import CUSTOM_DEAL_PROPERTIES

TOKEN = "test-token"


@pytest.fixture
def hubspot() -> Iterator[tuple[HubSpotClient, str]]:
    emulator = HubSpotEmulator(access_tokens=(TOKEN,))
    with serve_in_thread(emulator.app) as server:
        client = HubSpotClient(TOKEN, server.url)
        client.ensure_properties("deals", CUSTOM_DEAL_PROPERTIES)
        yield client, server.url


def set_by_person(url: str, deal_id: str, value: str, user: str) -> dt.datetime:
    response = requests.patch(
        f"{url}/crm/v3/objects/deals/{deal_id}",
        json={"properties": {"aws_submit_requested": value}},
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "X-Emulator-Change-Source": "CRM_UI",
            "X-Emulator-User-Id": user,
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return dt.datetime.fromisoformat(response.json()["updatedAt"].replace("Z", "+00:00"))


def test_the_user_who_ticked_the_box_is_named_with_the_time(hubspot) -> None:
    client, url = hubspot
    deal_id = client.create_object("deals", {"dealname": "Acme #AWS"})["id"]
    when = set_by_person(url, deal_id, "true", "4242")
    assert who_asked(client, deal_id) == ("hubspot-user:4242", when)


def test_nobody_is_named_when_an_integration_asked_or_nobody_asks_now(hubspot) -> None:
    client, url = hubspot
    deal_id = client.create_object("deals", {"dealname": "Acme #AWS", "aws_submit_requested": "true"})["id"]
    assert who_asked(client, deal_id) == (None, None)  # set by an integration (our own app, a workflow)
    set_by_person(url, deal_id, "true", "7")
    client.update_object("deals", deal_id, {"aws_submit_requested": "false"})  # the last run cleared it
    assert who_asked(client, deal_id) == (None, None)


def test_the_runs_own_answer_wins_and_costs_no_call(hubspot) -> None:
    client, _ = hubspot
    before = sum(client.stats.calls.values())
    assert who_asked(client, "1", "api-token:ci", "2026-12-06T01:02:03+00:00") == (
        "api-token:ci",
        dt.datetime(2026, 12, 6, 1, 2, 3, tzinfo=dt.UTC),
    )
    assert sum(client.stats.calls.values()) == before


def test_an_unknown_deal_names_nobody_and_does_not_raise(hubspot, caplog) -> None:
    client, _ = hubspot
    assert who_asked(client, "999999") == (None, None)
    assert any(
        "who asked to submit deal 999999 is unknown: HubSpot 404" in r.getMessage() for r in caplog.records
    )
