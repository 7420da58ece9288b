"""Invitations end to end: emulator control API -> sync_invitations job -> HubSpot deal, company, contacts."""

from __future__ import annotations

import time
from typing import Any

import dagster as dg

from hspc_pipelines.quotas.meter import SERVICE, WRITE
from hspc_pipelines.settings import load_settings
from hspc_pipelines.state.store import SyncStateStore
from hspc_pipelines_tests.support.cosell import CosellWorld, send_invitation


def event_config(*invitation_ids: str) -> dict[str, Any]:
    return {"ops": {"pending_invitations": {"config": {"invitation_ids": list(invitation_ids)}}}}


def invitation_rows(result: Any) -> list[dict[str, Any]]:
    rows = result.output_for_node("invitation_deals")
    return rows.to_dict("records")


def step_metadata(result: Any, step: str) -> dict[str, Any]:
    """The metadata of `step`'s output (an op job's counts: it has no asset checks)."""
    outputs = [e for e in result.all_node_events if e.is_successful_output and e.step_key == step]
    return {k: v.value for k, v in outputs[0].event_specific_data.metadata.items()}


def reported(result: Any, step: str) -> dict[str, dict[str, Any]]:
    """What `step` reported on the external assets: asset key -> metadata."""
    return {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(step)
    }


def assert_one_complete_deal(world: CosellWorld, invitation_id: str) -> dict[str, Any]:
    deals = world.deals(aws_invitation_id=invitation_id)
    assert len(deals) == 1, deals
    deal = deals[0]
    props = deal["properties"]
    assert "#AWS" in props["dealname"]
    assert props["aws_opportunity_id"].startswith("O")
    assert props["closedate"] and props["amount"] and props["description"]
    hs = world.hs()
    companies = hs.batch_read_associations("deals", "companies", [deal["id"]])[deal["id"]]
    contacts = hs.batch_read_associations("deals", "contacts", [deal["id"]])[deal["id"]]
    assert len(companies) == 1 and len(contacts) == 2
    company = hs.batch_read("companies", companies, ["domain", "name"]).results[0]["properties"]
    assert company["domain"] == "northwind.example"
    emails = sorted(
        c["properties"]["email"].lower() for c in hs.batch_read("contacts", contacts, ["email"]).results
    )
    assert emails == ["dana.buyer@northwind.example", "lee.ops@northwind.example"]
    # exactly one company and two contacts exist in the whole portal
    assert len(list(hs.list_objects("companies", ["domain"]))) == 1
    assert len(list(hs.list_objects("contacts", ["email"]))) == 2
    notes = world.notes_of(deal["id"])
    assert [n["hspc_note_key"] for n in notes] == [f"invitation:{invitation_id}"]
    return deal


def test_invitation_by_poll_and_by_event_twice_is_one_deal(world: CosellWorld) -> None:
    invitation_id = send_invitation(world)

    first = world.run("sync_invitations")
    assert first.success
    row = next(r for r in invitation_rows(first) if r["invitation_id"] == invitation_id)
    assert (row["status"], row["action"]) == ("deal_created", "deal_created")
    deal = assert_one_complete_deal(world, invitation_id)
    # The op job reports on the real systems what it answered and wrote, with the ids.
    assert reported(first, "pending_invitations")["partner_central/engagement_invitations"]["accepted"] == [
        invitation_id
    ]
    assert reported(first, "invitation_deals")["hubspot/deals"]["deal_ids"] == [deal["id"]]

    for config in (event_config(invitation_id), None, event_config(invitation_id), None):
        again = world.run("sync_invitations", config)
        assert again.success
    assert assert_one_complete_deal(world, invitation_id)["id"] == deal["id"]
    calls = world.pc_calls()
    assert calls.get("StartEngagementByAcceptingInvitationTask") == 1
    invitation = world.pc().get_engagement_invitation(invitation_id)
    assert invitation["Status"] == "ACCEPTED"


def test_event_first_then_poll_is_one_deal(world: CosellWorld) -> None:
    invitation_id = send_invitation(world)
    assert world.run("sync_invitations", event_config(invitation_id)).success
    assert world.run("sync_invitations").success
    arn = world.pc().get_engagement_invitation(invitation_id)["Arn"]
    assert world.run("sync_invitations", event_config(arn)).success  # events may name the ARN
    assert_one_complete_deal(world, invitation_id)
    assert world.pc_calls().get("StartEngagementByAcceptingInvitationTask") == 1


def test_run_that_stopped_after_accepting_is_completed_by_the_next(world: CosellWorld) -> None:
    invitation_id = send_invitation(world)
    instance = dg.DagsterInstance.ephemeral()
    accept_only = world.job("sync_invitations", instance).execute_in_process(
        instance=instance, op_selection=["pending_invitations"]
    )
    assert accept_only.success
    assert world.pc().get_engagement_invitation(invitation_id)["Status"] == "ACCEPTED"
    assert world.deals() == []

    assert world.run("sync_invitations").success
    assert_one_complete_deal(world, invitation_id)
    assert world.pc_calls().get("StartEngagementByAcceptingInvitationTask") == 1


def test_failed_deal_write_is_completed_by_the_next_run(world: CosellWorld) -> None:
    invitation_id = send_invitation(world)
    world.hubspot.set_faults(schedule=["500"], match="POST /crm/objects/2026-09/deals/batch/create")
    first = world.run("sync_invitations")
    assert first.success  # one row failed, the run reports it and goes on
    row = next(r for r in invitation_rows(first) if r["invitation_id"] == invitation_id)
    assert (row["status"], row["action"]) == ("accepted", "failed")
    assert "500" in row["reason"] and "next run" in row["reason"]
    assert world.deals() == []
    assert step_metadata(first, "invitation_deals")["failed"] == 1
    assert "hubspot/deals" not in reported(first, "invitation_deals"), "no deal was written"

    assert world.run("sync_invitations").success
    assert_one_complete_deal(world, invitation_id)


def test_deal_written_but_answer_lost_is_linked_not_duplicated(world: CosellWorld) -> None:
    invitation_id = send_invitation(world)
    # HubSpot creates the deal, then the answer is lost (the client never repeats a create after a 5xx).
    world.hubspot.set_faults(schedule=["500_after"], match="POST /crm/objects/2026-09/deals/batch/create")
    first = world.run("sync_invitations")
    row = next(r for r in invitation_rows(first) if r["invitation_id"] == invitation_id)
    assert row["action"] == "failed"
    assert len(world.deals(aws_invitation_id=invitation_id)) == 1

    second = world.run("sync_invitations", event_config(invitation_id))
    row = next(r for r in invitation_rows(second) if r["invitation_id"] == invitation_id)
    assert (row["status"], row["action"]) == ("deal_created", "linked")
    assert len(world.deals(aws_invitation_id=invitation_id)) == 1


def test_reject_rule_rejects_with_reason(world: CosellWorld, tmp_path: Any, monkeypatch: Any) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - name: territory\n"
        "    action: reject\n"
        "    reason: Customer outside our sales territory\n"
        "    when:\n"
        "      country_not_in: [US, CA]\n"
    )
    monkeypatch.setenv("HSPC_INVITATION_RULES", str(rules))
    german = send_invitation(world, country="DE", company="Muster GmbH", website="https://muster.example")
    american = send_invitation(world)

    result = world.run("sync_invitations")
    rows = {r["invitation_id"]: r for r in invitation_rows(result)}
    assert (rows[german]["status"], rows[german]["rule"]) == ("rejected", "territory")
    invitation = world.pc().get_engagement_invitation(german)
    assert invitation["Status"] == "REJECTED"
    assert invitation["RejectionReason"] == "Customer outside our sales territory"
    assert world.deals(aws_invitation_id=german) == []
    assert_one_complete_deal(world, american)

    assert world.run("sync_invitations", event_config(german)).success
    assert world.pc_calls().get("RejectEngagementInvitation") == 1


def test_bad_rules_file_fails_the_run_naming_the_field(
    world: CosellWorld, tmp_path: Any, monkeypatch: Any
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n  - action: reject\n    reason: Not served\n    when: {country_in: [Germany]}\n"
    )
    monkeypatch.setenv("HSPC_INVITATION_RULES", str(rules))
    send_invitation(world)
    result = world.run("sync_invitations", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    text = str(failure.event_specific_data.error)
    assert "rules[0].when.country_in" in text and "Germany" in text and "alpha-2" in text
    assert world.pc_calls().get("StartEngagementByAcceptingInvitationTask") is None


def test_an_invitations_run_records_its_figures(world: CosellWorld) -> None:
    """The run's calls on its last step's output: both steps' Partner Central calls, as the emulator
    saw them (an op job: the figures are the output's metadata)."""
    send_invitation(world)
    before = sum(world.pc_calls().values())
    result = world.run("sync_invitations")
    assert result.success
    [output] = [
        e.step_output_data
        for e in result.events_for_node("invitation_deals")
        if e.is_successful_output and "rows_total" in e.step_output_data.metadata
    ]
    figures = {k: v.value for k, v in output.metadata.items()}
    assert figures["rows_total"] == len(invitation_rows(result)) >= 1 and figures["rows_failed"] == 0
    assert figures["api_calls_partner_central"] == sum(world.pc_calls().values()) - before
    assert figures["partner_central_writes"] >= 1  # the accept task at least
    # the emulator stack sets the daily quota the product budgets against (HSPC_PC_WRITES_PER_DAY)
    assert (
        figures["write_quota_share"] == figures["partner_central_writes"] / load_settings().pc_writes_per_day
    )
    assert isinstance(output.metadata["write_quota_share"], dg.FloatMetadataValue)


def _spend_the_write_window(world: CosellWorld, monkeypatch: Any, window_s: float) -> None:
    """A small rolling window, all of it spent by other runs (booked in the product's ledger)."""
    monkeypatch.setenv("HSPC_PC_WRITES_PER_DAY", "20")
    monkeypatch.setenv("HSPC_PC_QUOTA_WINDOW_SECONDS", str(window_s))
    store = SyncStateStore(load_settings().state_url_or_default(world.home))
    store.book_spend(SERVICE, WRITE, load_settings().pc_writes_per_day, time.time(), window_s)
    store.dispose()


def test_an_accept_the_write_quota_does_not_cover_waits_and_goes_when_the_window_rolls(
    world: CosellWorld, monkeypatch: Any
) -> None:
    invitation_id = send_invitation(world)
    _spend_the_write_window(world, monkeypatch, window_s=4.0)
    first = world.run("sync_invitations")
    assert first.success
    row = next(r for r in invitation_rows(first) if r["invitation_id"] == invitation_id)
    assert row["action"] == "skipped", row
    assert "deferred: the 24-hour write quota (20) is spent" in row["reason"]
    assert "StartEngagementByAcceptingInvitationTask" not in world.pc_calls()  # never sent
    assert world.deals() == []

    time.sleep(4.1)  # the window rolls: the other runs' writes age out
    again = world.run("sync_invitations")
    row = next(r for r in invitation_rows(again) if r["invitation_id"] == invitation_id)
    assert (row["status"], row["action"]) == ("deal_created", "deal_created"), row
    assert world.pc_calls()["StartEngagementByAcceptingInvitationTask"] == 1
    assert_one_complete_deal(world, invitation_id)
