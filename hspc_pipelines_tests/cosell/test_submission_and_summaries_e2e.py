"""Submission and AWS summaries end to end against the emulators, through the Dagster jobs."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any

import dagster as dg
import requests

from hspc_pipelines.history import SyncHistory
from hspc_pipelines.mapping import DealBundle, MappingConfig, build_create_request
from hspc_pipelines.quotas.meter import SERVICE, WRITE
from hspc_pipelines.settings import load_settings
from hspc_pipelines.state.store import SyncStateStore
from hspc_pipelines_tests.support.cosell import CosellWorld, send_invitation

WRITE_ENDPOINT = re.compile(
    r"^(POST .*/batch/(create|update|archive)|PATCH |PUT |DELETE |POST /crm/(v3/objects|objects/[0-9-]+)/[^/]+$)"
)


def hubspot_writes(world: CosellWorld) -> int:
    calls = world.hubspot.stats()["calls"]
    return sum(n for endpoint, n in calls.items() if WRITE_ENDPOINT.search(endpoint))


def control(world: CosellWorld, path: str, body: dict[str, Any]) -> Any:
    url = world.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"].rstrip("/") + "/_emulator/" + path
    response = requests.post(url, json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def submit_config(deal_id: str, involvement: str = "Co-Sell", visibility: str = "Full") -> dict[str, Any]:
    return {
        "ops": {
            "submission": {
                "config": {"deal_id": deal_id, "involvement_type": involvement, "visibility": visibility}
            }
        }
    }


def submission_row(result: Any) -> dict[str, Any]:
    return result.output_for_node("submission").to_dict("records")[0]


def summary_rows(result: Any) -> dict[str, dict[str, Any]]:
    return {r["deal_id"]: r for r in result.output_for_node("aws_summaries").to_dict("records")}


GOOD_DEAL = {
    "dealname": "Contoso analytics modernisation #AWS",
    "amount": "120000",
    "closedate": "2031-06-30",
    "dealstage": "qualifiedtobuy",
    "pipeline": "default",
    "description": "Contoso's on-premises reporting cannot keep up; they need a managed analytics platform.",
    "aws_delivery_models": "SaaS or PaaS",
    "aws_use_case": "AI Machine Learning and Analytics",
    "aws_primary_needs": "Co-Sell - Architectural Validation",
}
GOOD_COMPANY = {
    "name": "Contoso Ltd",
    "domain": "contoso.example",
    "website": "https://contoso.example",
    "industry": "COMPUTER_SOFTWARE",
    "country": "United States",
    "city": "Seattle",
    "state": "WA",
    "zip": "98101",
}
GOOD_CONTACT = {
    "firstname": "Ada",
    "lastname": "Lovelace",
    "email": "ada@contoso.example",
    "jobtitle": "CTO",
    "phone": "+12065550100",
}


def linked_deal(world: CosellWorld, deal: dict[str, str] | None = None) -> tuple[str, str]:
    """A deal with company and contact, and its opportunity created from it through the mapping."""
    hs, pc = world.hs(), world.pc()
    company_id = hs.batch_create("companies", [{"properties": GOOD_COMPANY}]).results[0]["id"]
    contact_id = hs.batch_create("contacts", [{"properties": GOOD_CONTACT}]).results[0]["id"]
    props = dict(deal or GOOD_DEAL)
    created = hs.batch_create(
        "deals",
        [
            {
                "properties": props,
                "associations": [
                    {
                        "to": {"id": company_id},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
                    },
                    {
                        "to": {"id": contact_id},
                        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
                    },
                ],
            }
        ],
    )
    deal_id = str(created.results[0]["id"])
    bundle = DealBundle(
        deal_id=deal_id,
        deal={**GOOD_DEAL, **props},
        company={**GOOD_COMPANY, "hs_object_id": company_id},
        contacts=[GOOD_CONTACT],
    )
    mapped = build_create_request(bundle, MappingConfig.default(), pc.catalog)
    assert not mapped.errors and mapped.request is not None, mapped.errors
    opportunity_id = str(pc.create_opportunity(mapped.request)["Id"])
    solution = next(iter(pc.list_solutions()))["Id"]
    pc.associate_opportunity(opportunity_id, solution, "Solutions")
    hs.batch_update(
        "deals",
        [
            {
                "id": deal_id,
                "properties": {
                    "aws_opportunity_id": opportunity_id,
                    "aws_review_status": "Pending Submission",
                },
            }
        ],
    )
    return deal_id, opportunity_id


def deal_props(world: CosellWorld, deal_id: str) -> dict[str, Any]:
    from hspc_pipelines.mapping.properties import DEAL_PROPERTIES

    return dict(world.hs().batch_read("deals", [deal_id], DEAL_PROPERTIES).results[0]["properties"])


def test_invalid_deal_is_told_once_and_aws_is_not_called(world: CosellWorld) -> None:
    deal_id, _ = linked_deal(world)
    # The seller breaks the deal after it was linked: problem statement too short, close date gone.
    world.hs().batch_update(
        "deals", [{"id": deal_id, "properties": {"description": "Too short", "closedate": ""}}]
    )
    calls_before = world.pc_calls()

    result = world.run("submit_opportunity", submit_config(deal_id))
    row = submission_row(result)
    assert row["status"] == "invalid"
    assert world.pc_calls() == calls_before  # not one Partner Central call
    notes = world.notes_of(deal_id)
    assert len(notes) == 1
    body = notes[0]["hs_note_body"]
    problems = [line for line in body.splitlines() if line.startswith("- ")]
    assert len(problems) >= 2, body
    assert "CustomerBusinessProblem" in body or "description" in body
    props = deal_props(world, deal_id)
    assert props["aws_sync_status"] == "invalid"
    assert props["aws_sync_error"] and len(props["aws_sync_error"].splitlines()) == len(problems)

    # the same request again: same note key, nothing new
    world.run("submit_opportunity", submit_config(deal_id))
    assert len(world.notes_of(deal_id)) == 1
    assert world.pc_calls() == calls_before


def test_unlinked_deal_is_told_on_the_deal(world: CosellWorld) -> None:
    deal_id = (
        world.hs()
        .batch_create("deals", [{"properties": {"dealname": "Lonely #AWS", "aws_submit_requested": "true"}}])
        .results[0]["id"]
    )
    row = submission_row(world.run("submit_opportunity", submit_config(str(deal_id))))
    assert row["status"] == "not_linked"
    props = deal_props(world, str(deal_id))
    assert props["aws_sync_status"] == "invalid" and "not linked" in props["aws_sync_error"]
    assert props["aws_submit_requested"] == "false"
    assert "not linked" in world.notes_of(str(deal_id))[0]["hs_note_body"]


def test_bad_choices_fail_the_run_naming_field_and_allowed_values(world: CosellWorld) -> None:
    result = world.run("submit_opportunity", submit_config("1", "CoSell", "Public"), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    text = str(failure.event_specific_data.error)
    assert "involvement_type = 'CoSell'" in text and "Co-Sell | For Visibility Only" in text
    assert "visibility = 'Public'" in text and "Full | Limited" in text


def test_valid_deal_is_submitted_then_approved_and_not_submitted_twice(world: CosellWorld) -> None:
    deal_id, opportunity_id = linked_deal(world)
    # A seller ticks the box in HubSpot's UI: the property's history names the user.
    ticked = requests.patch(
        f"{world.env['HUBSPOT_BASE_URL']}/crm/v3/objects/deals/{deal_id}",
        json={"properties": {"aws_submit_requested": "true"}},
        headers={
            "Authorization": f"Bearer {world.env['HUBSPOT_ACCESS_TOKEN']}",
            "X-Emulator-Change-Source": "CRM_UI",
            "X-Emulator-User-Id": "4242",
        },
        timeout=10,
    )
    assert ticked.status_code == 200, ticked.text

    first = world.run("submit_opportunity", submit_config(deal_id, "Co-Sell", "Limited"))
    row = submission_row(first)
    assert row["status"] == "submitted", row["message"]
    # An op job: nothing stored as an asset value; what it wrote is reported on the real systems.
    wrote = {
        m.asset_key.to_user_string(): m.metadata for m in first.asset_materializations_for_node("submission")
    }
    assert wrote["partner_central/opportunities"]["opportunity_ids"].value == [opportunity_id]
    assert wrote["hubspot/deals"]["deal_ids"].value == [deal_id]
    assert row["review_status"] == "Submitted"
    props = deal_props(world, deal_id)
    assert props["aws_review_status"] == "Submitted"
    assert props["aws_involvement_type"] == "Co-Sell" and props["aws_visibility"] == "Limited"
    assert props["aws_submission_date"]
    assert props["aws_submit_requested"] == "false"
    assert [n["hspc_note_key"].split(":")[0] for n in world.notes_of(deal_id)] == ["review"]
    assert world.pc().get_opportunity(opportunity_id)["LifeCycle"]["ReviewStatus"] == "Submitted"

    # AWS reviews and approves; the summary sync brings it to the deal with one note
    control(world, f"opportunities/{opportunity_id}/review", {"ReviewStatus": "Approved"})
    summary = summary_rows(world.run("sync_aws_summaries"))[deal_id]
    assert summary["status"] == "written"
    assert deal_props(world, deal_id)["aws_review_status"] == "Approved"
    assert any("approved" in n["hs_note_body"].lower() for n in world.notes_of(deal_id))

    # submitting again: already submitted, nothing changes anywhere
    starts = world.pc_calls().get("StartEngagementFromOpportunityTask")
    writes, notes = hubspot_writes(world), len(world.notes_of(deal_id))
    # ...this time through the ingress: the run carries the token's id and when the request came
    config = submit_config(deal_id)
    asked = {"requested_by": "api-token:crm-button", "requested_at": "2026-12-06T01:02:03+00:00"}
    config["ops"]["submission"]["config"].update(asked)
    second = world.run("submit_opportunity", config)
    again = submission_row(second)
    assert again["status"] == "already_submitted" and "already submitted" in again["message"]
    assert second.asset_materializations_for_node("submission") == [], "nothing written, nothing reported"
    assert world.pc_calls().get("StartEngagementFromOpportunityTask") == starts == 1
    assert hubspot_writes(world) == writes and len(world.notes_of(deal_id)) == notes

    # each run left its row in the sync history, newest first
    history = SyncHistory.from_url(f"sqlite:///{Path(world.home) / 'hspc_state.sqlite'}")
    try:
        records = history.timeline(deal_id)
    finally:
        history.dispose()
    timeline = [(r.job_name, r.operation, r.status, r.actor) for r in records]
    assert timeline == [
        ("submit_opportunity", "submit", "already_submitted", "api-token:crm-button"),
        ("sync_aws_summaries", "summary", "written", None),
        ("submit_opportunity", "submit", "submitted", "hubspot-user:4242"),
    ]
    assert records[0].requested_at == dt.datetime(2026, 12, 6, 1, 2, 3, tzinfo=dt.UTC)
    ticked_at = dt.datetime.fromisoformat(ticked.json()["updatedAt"].replace("Z", "+00:00"))
    assert records[2].requested_at == ticked_at


def accepted_invitation_deal(world: CosellWorld) -> tuple[str, str]:
    invitation_id = send_invitation(world)
    assert world.run("sync_invitations").success
    deal = world.deals(aws_invitation_id=invitation_id)[0]
    return str(deal["id"]), str(deal["properties"]["aws_opportunity_id"])


def test_action_required_is_one_note_with_comments_and_a_second_run_adds_nothing(world: CosellWorld) -> None:
    deal_id, opportunity_id = accepted_invitation_deal(world)
    comments = "Please add the customer's use case and a realistic monthly spend."
    control(
        world,
        f"opportunities/{opportunity_id}/review",
        {"ReviewStatus": "Action Required", "ReviewComments": comments},
    )

    first = summary_rows(world.run("sync_aws_summaries"))[deal_id]
    assert first["status"] == "written"
    props = deal_props(world, deal_id)
    assert props["aws_review_status"] == "Action Required"
    action_notes = [n for n in world.notes_of(deal_id) if n["hspc_note_key"].startswith("review:")]
    assert len(action_notes) == 1 and comments in action_notes[0]["hs_note_body"]

    notes, writes = len(world.notes_of(deal_id)), hubspot_writes(world)
    second = summary_rows(world.run("sync_aws_summaries"))[deal_id]
    assert second["status"] == "unchanged"
    assert len(world.notes_of(deal_id)) == notes
    assert hubspot_writes(world) == writes


def test_insights_team_snapshots_and_tasks_once(world: CosellWorld, monkeypatch: Any) -> None:
    monkeypatch.setenv("HSPC_NOTIFY_TASKS", "true")
    deal_id, opportunity_id = accepted_invitation_deal(world)
    control(
        world,
        f"opportunities/{opportunity_id}/summary",
        {
            "Insights": {
                "EngagementScore": "High",
                "NextBestActions": "Schedule a joint call with the AWS seller",
            },
            "OpportunityTeam": [
                {
                    "FirstName": "Sam",
                    "LastName": "Rep",
                    "Email": "sam@amazon.com",
                    "BusinessTitle": "AWSSalesRep",
                },
                {
                    "FirstName": "Pat",
                    "LastName": "Manager",
                    "Email": "pat@amazon.com",
                    "BusinessTitle": "PDM",
                },
            ],
        },
    )
    control(world, f"opportunities/{opportunity_id}/snapshots", {"Template": "OpportunitySummaryView"})

    row = summary_rows(world.run("sync_aws_summaries"))[deal_id]
    assert row["status"] == "written" and row["snapshot_notes"] == 1, row
    props = deal_props(world, deal_id)
    assert props["aws_engagement_score"] == "High"
    assert props["aws_next_steps"] == "Schedule a joint call with the AWS seller"
    assert "Sam Rep" in props["aws_seller_name"]
    assert "PDM: Pat Manager" in props["aws_team"]
    kinds = sorted(n["hspc_note_key"].split(":")[0] for n in world.notes_of(deal_id))
    assert kinds.count("score") == 1 and kinds.count("seller") == 1 and kinds.count("snapshot") == 1
    hs = world.hs()
    tasks = hs.batch_read_associations("deals", "tasks", [deal_id])[deal_id]
    assert len(tasks) == row["tasks_written"] >= 2  # score and seller (and approval)

    notes = len(world.notes_of(deal_id))
    again = summary_rows(world.run("sync_aws_summaries"))[deal_id]
    assert again["status"] == "unchanged"
    assert len(world.notes_of(deal_id)) == notes
    assert len(hs.batch_read_associations("deals", "tasks", [deal_id])[deal_id]) == len(tasks)

    # a new revision of the snapshot and a new score: one note each
    control(world, f"opportunities/{opportunity_id}/snapshots", {"Template": "OpportunitySummaryView"})
    control(world, f"opportunities/{opportunity_id}/summary", {"Insights": {"EngagementScore": "Low"}})
    third = summary_rows(world.run("sync_aws_summaries"))[deal_id]
    assert third["snapshot_notes"] == 1
    assert deal_props(world, deal_id)["aws_engagement_score"] == "Low"
    assert len(world.notes_of(deal_id)) == notes + 2


def test_submit_asked_on_the_deal_uses_its_limited_visibility_then_ends_visibly(world: CosellWorld) -> None:
    deal_id, opportunity_id = linked_deal(world)
    world.hs().batch_update(
        "deals",
        [
            {
                "id": deal_id,
                "properties": {
                    "aws_submit_requested": "true",
                    "aws_involvement_type": "For Visibility Only",
                    "aws_visibility": "Limited",
                },
            }
        ],
    )
    # what the events sensor starts for the deal property: no choices in the run config
    row = submission_row(world.run("submit_opportunity", submit_config(deal_id, "", "")))
    assert row["status"] == "submitted", row["message"]
    assert (row["involvement_type"], row["visibility"]) == ("For Visibility Only", "Limited")
    assert world.pc().get_opportunity(opportunity_id)["LifeCycle"]["ReviewStatus"] == "Submitted"
    # what Partner Central received (AWS's summary of the submission)
    summary = world.pc().get_aws_opportunity_summary(opportunity_id)
    assert (summary["InvolvementType"], summary["Visibility"]) == ("For Visibility Only", "Limited")
    props = deal_props(world, deal_id)
    assert (props["aws_involvement_type"], props["aws_visibility"]) == ("For Visibility Only", "Limited")
    assert props["aws_submit_requested"] == "false"

    # the seller asks again: already submitted; the flag is reset and the deal gets one note saying so
    world.hs().batch_update("deals", [{"id": deal_id, "properties": {"aws_submit_requested": "true"}}])
    starts = world.pc_calls().get("StartEngagementFromOpportunityTask")
    again = submission_row(world.run("submit_opportunity", submit_config(deal_id, "", "")))
    assert again["status"] == "already_submitted"
    assert deal_props(world, deal_id)["aws_submit_requested"] == "false"
    keys = [n["hspc_note_key"] for n in world.notes_of(deal_id)]
    assert sum(k.startswith("already-submitted:") for k in keys) == 1
    assert world.pc_calls().get("StartEngagementFromOpportunityTask") == starts == 1

    # a second run writes nothing: no HubSpot write, no note, no submission
    writes, notes = hubspot_writes(world), len(world.notes_of(deal_id))
    third = submission_row(world.run("submit_opportunity", submit_config(deal_id, "", "")))
    assert third["status"] == "already_submitted"
    assert hubspot_writes(world) == writes and len(world.notes_of(deal_id)) == notes
    assert world.pc_calls().get("StartEngagementFromOpportunityTask") == 1


def test_a_submission_the_write_quota_does_not_cover_is_pending_not_failed(
    world: CosellWorld, monkeypatch: Any
) -> None:
    deal_id, _ = linked_deal(world)
    monkeypatch.setenv("HSPC_PC_WRITES_PER_DAY", "20")
    monkeypatch.setenv("HSPC_PC_QUOTA_WINDOW_SECONDS", "4")
    store = SyncStateStore(load_settings().state_url_or_default(world.home))
    store.book_spend(SERVICE, WRITE, load_settings().pc_writes_per_day, time.time(), 4.0)  # other runs
    store.dispose()

    first = submission_row(world.run("submit_opportunity", submit_config(deal_id)))
    assert first["status"] == "pending", first
    assert "deferred: the 24-hour write quota (20) is spent" in first["message"]
    assert "StartEngagementFromOpportunityTask" not in world.pc_calls()
    props = deal_props(world, deal_id)
    assert props["aws_sync_status"] == "pending"
    assert str(props["aws_sync_error"]).startswith("deferred: the 24-hour write quota (20) is spent")

    # nobody submits again: submission_retry_sensor starts it once the quota is expected to cover it
    waiting = retry_tick(world)
    assert isinstance(waiting, dg.SkipReason), waiting
    assert waiting.skip_message == "no deferred submission is due; 1 waiting for the quota"
    time.sleep(4.1)  # the window rolls
    [request] = retry_tick(world).run_requests
    assert request.run_key == f"submit-retry:{deal_id}:1"
    assert request.tags["hspc/trigger"] == "quota-retry"
    # the same deal and choices (so the same ClientToken), and the console logger named
    assert request.run_config["ops"] == submit_config(deal_id)["ops"]
    assert "console" in request.run_config["loggers"]
    again = submission_row(world.run("submit_opportunity", request.run_config))
    assert again["status"] == "submitted", again
    assert world.pc_calls()["StartEngagementFromOpportunityTask"] == 1
    assert retry_tick(world).skip_message == "no deferred submission is due"  # settled: not again


def retry_tick(world: CosellWorld) -> Any:
    from hspc_pipelines.defs.cosell.retry import submission_retry_sensor

    resources = {"sync_state": (world.defs().resources or {})["sync_state"]}
    with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources=resources) as ctx:
        return submission_retry_sensor(ctx)
