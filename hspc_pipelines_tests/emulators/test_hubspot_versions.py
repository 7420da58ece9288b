"""The HubSpot emulator speaks both path families over HTTP, serves only the versions it is told, counts
calls by family, and enforces a portal's required-property rules where HubSpot does (2026-09 on)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hspc_pipelines.emulators.hubspot import start_hubspot_emulator
from hspc_pipelines.hubspot.client import HubSpotClient

TOKEN = "test-token"
RULES = [
    {
        "objectType": "deals",
        "propertyName": "closedate",
        "kind": "conditional",
        "when": {"propertyName": "dealstage", "values": ["closedwon"]},
    },
    {"objectType": "deals", "propertyName": "description", "kind": "on_create"},
]


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[Any, str]]:
    emulator, server = start_hubspot_emulator()
    yield emulator, server.url
    server.stop()


@pytest.fixture
def hub(running: tuple[Any, str]) -> Iterator[tuple[Any, str]]:
    emulator, url = running
    emulator.reset()
    yield emulator, url
    emulator.reset()


def _call(url: str, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(
        method, url + path, json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )


def test_both_families_serve_the_same_records(hub):
    emulator, url = hub
    made = _call(url, "POST", "/crm/v3/objects/deals", {"properties": {"dealname": "A"}}).json()
    dated = _call(url, "GET", f"/crm/objects/2026-09/deals/{made['id']}?properties=dealname")
    assert dated.status_code == 200 and dated.json()["properties"]["dealname"] == "A"
    other = _call(
        url,
        "POST",
        "/crm/objects/2026-03/deals/batch/create",
        {"inputs": [{"properties": {"dealname": "B"}}]},
    )
    assert other.status_code == 201
    found = _call(url, "POST", "/crm/v3/objects/deals/search", {"filterGroups": [], "limit": 10}).json()
    assert {d["properties"]["dealname"] for d in found["results"]} == {"A", "B"}
    for path in ("/crm/properties/2026-09/deals", "/crm/pipelines/2026-09/deals"):
        assert _call(url, "GET", path).status_code == 200
    assoc = _call(
        url, "POST", "/crm/associations/2026-09/deals/companies/batch/read", {"inputs": [{"id": made["id"]}]}
    )
    assert assoc.status_code == 207  # no companies yet: HubSpot's multi-status answer
    families = emulator.stats()["families"]
    assert families == {"numbered": 2, "date-based": 5}
    assert "GET /crm/objects/2026-09/deals/{id}" in emulator.stats()["calls"]


def test_a_version_the_portal_does_not_serve_is_404(hub):
    emulator, url = hub
    assert _call(url, "GET", "/crm/objects/2027-03/deals").status_code == 404
    assert _call(url, "GET", "/crm/objects/2026-13/deals").status_code == 404
    emulator.configure(api_versions=["2026-09", "2027-03"])  # the next release: a configuration change
    try:
        assert _call(url, "GET", "/crm/objects/2027-03/deals").status_code == 200
        assert _call(url, "GET", "/crm/objects/2026-03/deals").status_code == 404
    finally:
        emulator.configure(api_versions=None)  # back to the default versions


def test_rules_refuse_writes_at_2026_09_with_hubspots_body_and_not_before(hub):
    emulator, url = hub
    assert _call(url, "POST", "/_emulator/config", {"validation_rules": RULES}).status_code == 200
    won = {"properties": {"dealname": "W", "dealstage": "closedwon", "description": "d"}}
    refused = _call(url, "POST", "/crm/objects/2026-09/deals", won)
    assert refused.status_code == 400
    body = refused.json()
    assert (body["status"], body["category"]) == ("error", "VALIDATION_ERROR")
    assert body["errors"] == [
        {
            "code": "MISSING_CONDITIONAL_REQUIRED_PROPERTY",
            "message": "closedate is required because of a conditional property rule based on [dealstage]",
            "context": {"propertyName": ["closedate"]},
        }
    ]
    no_description = _call(
        url, "POST", "/crm/objects/2026-09/deals", {"properties": {"dealname": "N"}}
    ).json()
    assert no_description["errors"][0]["code"] == "MISSING_REQUIRED_PROPERTY"
    assert no_description["errors"][0]["context"] == {"propertyName": ["description"]}
    # HubSpot enforces these from 2026-09 only: the numbered paths and 2026-03 accept the same write.
    for path in ("/crm/v3/objects/deals", "/crm/objects/2026-03/deals"):
        assert _call(url, "POST", path, won).status_code == 201
    created = _call(
        url,
        "POST",
        "/crm/objects/2026-09/deals",
        {"properties": {**won["properties"], "closedate": "2027-01-01"}},
    )
    assert created.status_code == 201
    # An update that does not touch the rule's properties passes; one that sets the trigger does not.
    deal_id = _call(url, "POST", "/crm/v3/objects/deals", {"properties": {"dealname": "U"}}).json()["id"]
    assert (
        _call(
            url, "PATCH", f"/crm/objects/2026-09/deals/{deal_id}", {"properties": {"amount": "5"}}
        ).status_code
        == 200
    )
    setting = _call(
        url, "PATCH", f"/crm/objects/2026-09/deals/{deal_id}", {"properties": {"dealstage": "closedwon"}}
    )
    assert setting.status_code == 400 and setting.json()["errors"][0]["context"]["propertyName"] == [
        "closedate"
    ]
    assert emulator.config()["validation_rules"] == RULES


def test_a_bad_rule_is_refused_and_reset_forgets_the_rules(hub):
    emulator, url = hub
    bad = _call(
        url,
        "POST",
        "/_emulator/config",
        {"validation_rules": [{"objectType": "deals", "propertyName": "x", "kind": "sometimes"}]},
    )
    assert bad.status_code == 400 and "kind" in bad.json()["message"]
    emulator.configure(validation_rules=RULES)
    emulator.reset()
    assert emulator.config()["validation_rules"] == []


def test_the_client_reads_a_batch_refusal_as_a_rule_and_does_not_repeat_it(hub):
    emulator, url = hub
    emulator.configure(validation_rules=RULES)
    hs = HubSpotClient(TOKEN, url)
    result = hs.batch_create(
        "deals",
        [
            {"properties": {"dealname": "ok", "description": "d"}},
            {"properties": {"dealname": "missing"}},
        ],
    )
    assert [r["properties"]["dealname"] for r in result.results] == ["ok"]
    (failure,) = result.errors
    assert failure.position == 1 and failure.rule is not None
    assert failure.rule.properties == ("description",)
    assert "MISSING_REQUIRED_PROPERTY requires description" in str(failure)
    assert result.refused_by_rules() == {1}
    assert hs.stats.calls["POST /crm/objects/2026-09/{object_type}/batch/create"] == 1
    assert hs.stats.snapshot()["families"] == {"date-based": 1}
    # An update batch: HubSpot refuses the chunk naming the input; the others are written.
    ids = [
        r["id"]
        for r in hs.batch_create(
            "deals", [{"properties": {"dealname": n, "description": "d"}} for n in "ab"]
        ).results
    ]
    updated = hs.batch_update(
        "deals",
        [
            {"id": ids[0], "properties": {"dealstage": "closedwon"}},
            {"id": ids[1], "properties": {"amount": "3"}},
        ],
    )
    assert [r["id"] for r in updated.results] == [ids[1]]
    assert updated.errors[0].id == ids[0] and updated.errors[0].rule is not None
