"""`hspc bootstrap --migrate` against the HubSpot emulator, from a portal the Lambda system left: the
differences shown, applied where HubSpot allows, the rest said as steps by hand; no value deleted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.cli import main
from hspc_pipelines.emulators.hubspot import start_hubspot_emulator
from hspc_pipelines.hubspot.bootstrap import (
    PropertyDiff,
    _update_body,
    bootstrap_properties,
    diff_property,
    portal_diffs,
)
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.errors import HubSpotError
from hspc_pipelines.mapping.properties import CUSTOM_DEAL_PROPERTIES, REVIEW_STATUSES

TOKEN = "migrate-token"


@pytest.fixture
def portal(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubSpotClient]:
    """The Lambda system's portal: aws_engagement_score a number, aws_review_status with its own options."""
    emulator, server = start_hubspot_emulator(access_tokens=[TOKEN])
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("HUBSPOT_BASE_URL", server.url)
    client = HubSpotClient(TOKEN, server.url)
    for definition in (
        _legacy("aws_engagement_score", "number", "number"),
        _legacy(
            "aws_review_status",
            "enumeration",
            "select",
            [{"label": s, "value": s, "hidden": False} for s in ("Submitted", "Approved", "Legacy")],
        ),
        _legacy("aws_opportunity_id", "string", "text"),
    ):
        client.request("POST", client.paths.properties(), json=definition, object_type="deals")
    yield client
    server.stop()


def _legacy(
    name: str, kind: str, field_type: str, options: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "label": name, "type": kind, "fieldType": field_type}
    body["groupName"] = "dealinformation"
    if options:
        body["options"] = options
    return body


def _definition(client: HubSpotClient, name: str) -> dict[str, Any]:
    return next(p for p in client.list_properties("deals") if p["name"] == name)


def test_dry_run_shows_the_changes_and_changes_nothing(portal, capsys):
    before = portal.list_properties("deals")
    assert main(["bootstrap", "--migrate", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "deals.aws_engagement_score: type number -> enumeration; fieldType number -> select" in out
    assert (
        "deals.aws_review_status: options to add: Pending Submission, In review, Rejected, Action Required"
        in out
    )
    assert "deals.aws_stage: missing" in out
    # HubSpot's PropertyUpdate cannot make it unique: a by-hand line that does not fail the run
    assert "  deals.aws_opportunity_id" not in out
    assert "BY HAND deals.aws_opportunity_id: (optional) has no unique values" in out
    assert portal.list_properties("deals") == before


def test_migrate_applies_what_hubspot_allows_and_keeps_every_value(portal, capsys):
    deal = portal.create_object("deals", {"dealname": "old #AWS", "aws_engagement_score": "72"})
    assert main(["bootstrap", "--migrate"]) == 1  # one step left by hand
    out = capsys.readouterr().out
    review = _definition(portal, "aws_review_status")
    values = [o["value"] for o in review["options"]]
    assert values[:3] == ["Submitted", "Approved", "Legacy"]  # kept, in their order
    assert set(values) == {*REVIEW_STATUSES, "Legacy"}
    assert "created deals.aws_stage" in out and "updated deals.aws_review_status" in out
    assert "BY HAND deals.aws_engagement_score: HubSpot refused" in out and "export the deals" in out
    assert _definition(portal, "aws_engagement_score")["type"] == "number"
    assert (
        portal.get_object("deals", deal["id"], ["aws_engagement_score"])["properties"]["aws_engagement_score"]
        == "72"
    )
    # done by hand: the value cleared; the next migrate finishes
    portal.update_object("deals", deal["id"], {"aws_engagement_score": None})
    assert main(["bootstrap", "--migrate"]) == 0
    score = _definition(portal, "aws_engagement_score")
    assert (score["type"], score["fieldType"]) == ("enumeration", "select")
    assert [o["value"] for o in score["options"]] == ["High", "Medium", "Low"]
    assert portal_diffs(portal) == []
    assert main(["bootstrap", "--migrate"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out


def test_a_fresh_portal_migrates_by_creating_everything(monkeypatch, capsys):
    emulator, server = start_hubspot_emulator(access_tokens=[TOKEN])
    try:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
        monkeypatch.setenv("HUBSPOT_BASE_URL", server.url)
        assert main(["bootstrap", "--migrate"]) == 0
        client = HubSpotClient(TOKEN, server.url)
        assert portal_diffs(client) == [] and bootstrap_properties(client) == []
    finally:
        server.stop()


_ENUMS = [d for d in CUSTOM_DEAL_PROPERTIES if d["type"] == "enumeration"]
_option = st.builds(
    lambda v: {"label": v, "value": v, "hidden": False, "displayOrder": 0}, st.text(min_size=1, max_size=12)
)


@given(st.sampled_from(_ENUMS), st.lists(_option, max_size=6, unique_by=lambda o: o["value"]), st.data())
def test_an_update_keeps_the_portals_options_and_leaves_nothing_to_migrate(expected, extra, data):
    wanted = expected["options"]
    present = data.draw(st.lists(st.sampled_from(wanted), unique_by=lambda o: o["value"]))
    actual = {
        "name": expected["name"],
        "type": "enumeration",
        "fieldType": "select",
        "options": present + extra,
    }
    diff = diff_property("deals", expected, actual)
    body = _update_body(expected, actual, diff)
    after = {**actual, **body}
    assert [o["value"] for o in after["options"]][: len(actual["options"])] == [
        o["value"] for o in actual["options"]
    ]
    assert diff_property("deals", expected, after) == PropertyDiff("deals", expected["name"])


def test_uniqueness_cannot_be_patched_and_is_a_by_hand_line_only(portal, capsys):
    """hasUniqueValue is chosen at creation: a PATCH leaves it as it was (HubSpot's PropertyUpdate has
    no such field), so migrate says what to do by hand and still exits 0 when nothing else is left."""
    portal.update_property("deals", "aws_opportunity_id", {"hasUniqueValue": True})
    assert _definition(portal, "aws_opportunity_id")["hasUniqueValue"] is False
    assert main(["bootstrap", "--migrate"]) == 0  # every other difference applied
    out = capsys.readouterr().out
    assert out.count("BY HAND deals.aws_opportunity_id: (optional)") == 1


def test_a_fresh_portal_makes_aws_opportunity_id_unique(monkeypatch):
    emulator, server = start_hubspot_emulator(access_tokens=[TOKEN])
    try:
        client = HubSpotClient(TOKEN, server.url)
        bootstrap_properties(client)
        assert _definition(client, "aws_opportunity_id")["hasUniqueValue"] is True
        first = client.create_object("deals", {"dealname": "a", "aws_opportunity_id": "O1"})
        with pytest.raises(HubSpotError) as refused:
            client.create_object("deals", {"dealname": "b", "aws_opportunity_id": "O1"})
        assert refused.value.status == 409 and f"Existing ID: {first['id']}" in refused.value.message
        found = client.batch_read("deals", ["O1", "O2"], ["dealname"], id_property="aws_opportunity_id")
        assert [d["id"] for d in found.results] == [first["id"]]
        with pytest.raises(HubSpotError) as not_unique:  # idProperty must be a unique property
            client.batch_read("deals", ["a"], ["dealname"], id_property="dealname")
        assert not_unique.value.status == 400
    finally:
        server.stop()
