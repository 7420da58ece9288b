"""Coming from the Lambda system (docs/migrating.md), end to end: a portal in the state that system
leaves (its property types, deals already linked, an opportunity whose link never reached its deal),
`hspc bootstrap --migrate` with the by-hand step it names, then reconcile runs: every existing link
adopted, nothing created twice, and a second run has nothing to do."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from hspc_pipelines.cli import main
from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines.hubspot.bootstrap import portal_diffs
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping.properties import DEAL_PROPERTIES
from hspc_pipelines_tests.support.partner_central import create_request

# The Lambda system's deal properties and their types (its documentation's property table).
LAMBDA_PROPERTIES = {
    "aws_opportunity_id": ("string", "text"),
    "aws_opportunity_arn": ("string", "text"),
    "aws_review_status": ("string", "text"),
    "aws_sync_status": ("string", "text"),
    "aws_invitation_id": ("string", "text"),
    "aws_engagement_score": ("number", "number"),
    "aws_involvement_type": ("string", "text"),
    "aws_visibility": ("string", "text"),
    "aws_next_steps": ("string", "textarea"),
}
SETTLED = {"none", "blocked", "invalid"}


def _legacy_portal(product) -> HubSpotClient:
    env = product.stack.env
    client = HubSpotClient(env["HUBSPOT_ACCESS_TOKEN"], env["HUBSPOT_BASE_URL"])
    for name, (kind, field_type) in LAMBDA_PROPERTIES.items():
        client.request(
            "POST",
            client.paths.properties(),
            json={
                "name": name,
                "label": name,
                "type": kind,
                "fieldType": field_type,
                "groupName": "dealinformation",
            },
            object_type="deals",
        )
    return client


def _deals(client: HubSpotClient) -> dict[str, dict[str, Any]]:
    return {d["id"]: d["properties"] for d in client.list_objects("deals", DEAL_PROPERTIES)}


def test_a_lambda_portal_is_adopted_without_a_duplicate(product, capsys):
    client = _legacy_portal(product)
    product.stack.hubspot.load_seed(generate_seed(20, seed=21, now_ms=anchor_now()))
    cosell = sorted(
        (i for i, p in _deals(client).items() if "#aws" in (p.get("dealname") or "").lower()), key=int
    )
    assert len(cosell) >= 4
    pc = product.pc()
    old_links = {}
    for deal_id in cosell[:3]:  # what the old system created, with hspc's identifier scheme
        request = create_request(title=f"Lambda-era {deal_id}")
        request["PartnerOpportunityIdentifier"] = f"HUBSPOT-{deal_id}"
        old_links[deal_id] = pc.create_opportunity(**request)["Id"]
    # the first two deals carry their link and the old system's values; the third lost its write-back
    client.batch_update(
        "deals",
        [
            {
                "id": deal_id,
                "properties": {
                    "aws_opportunity_id": old_links[deal_id],
                    "aws_sync_status": "synced",
                    "aws_review_status": "Pending Submission",
                    "aws_engagement_score": "85",
                },
            }
            for deal_id in cosell[:2]
        ],
    )

    # 1. properties: what HubSpot allows now, the rest by hand (the values it names), then again
    assert main(["bootstrap", "--migrate"]) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("BY HAND")]
    by_hand = sorted(line.split()[2].rstrip(":") for line in lines if "(optional)" not in line)
    assert by_hand == ["deals.aws_engagement_score", "deals.aws_review_status", "deals.aws_sync_status"]
    # HubSpot cannot make an existing property unique: said once, and the import falls back to search
    (optional,) = [line for line in lines if "(optional)" in line]
    assert optional.startswith("BY HAND deals.aws_opportunity_id: (optional)")
    assert all("updated deals.aws_opportunity_id" not in line for line in out.splitlines())  # untouched
    cleared = [name.split(".")[1] for name in by_hand]
    client.batch_update(
        "deals", [{"id": d, "properties": dict.fromkeys(cleared)} for d in cosell[:2]]
    )  # the by-hand step: hspc writes these again from Partner Central
    assert main(["bootstrap", "--migrate"]) == 0
    assert portal_diffs(client) == []
    assert {d: _deals(client)[d]["aws_opportunity_id"] for d in cosell[:2]} == {
        d: old_links[d] for d in cosell[:2]
    }

    # 2. reconcile: links adopted, nothing twice, and then nothing to do
    since = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=130)).isoformat()
    first = product.reconcile(since=since)
    assert first.success
    second = product.reconcile(since=since)
    assert second.success
    assert set(second.frames["sync_plan"]["operation"].astype(str)) <= SETTLED

    deals = _deals(client)
    for deal_id, opportunity_id in old_links.items():
        assert deals[deal_id]["aws_opportunity_id"] == opportunity_id, deal_id  # adopted, the third too
    identifiers = Counter(
        pc.get_opportunity(Catalog="AWS", Identifier=o["Id"]).get("PartnerOpportunityIdentifier")
        for o in product.opportunities()
    )
    assert max(identifiers.values()) == 1, identifiers
    links = Counter(p["aws_opportunity_id"] for p in deals.values() if p.get("aws_opportunity_id"))
    assert max(links.values()) == 1
    assert deals[cosell[0]]["aws_sync_status"] in {"synced", "invalid", "blocked"}  # written again by hspc
