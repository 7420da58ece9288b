"""A deal created from an invitation that the portal's required-property rule refuses (HubSpot 2026-09
on): the invitation row ends `invalid`, naming the property and the rule, and is logged as such."""

from __future__ import annotations

from hspc_pipelines.history import SyncHistory
from hspc_pipelines.settings import load_settings
from hspc_pipelines_tests.support.cosell import CosellWorld, send_invitation

RULE = {
    "objectType": "deals",
    "propertyName": "closedate",
    "kind": "conditional",
    "when": {"propertyName": "aws_sync_status", "values": ["synced"]},
}


def test_an_invitation_deal_a_portal_rule_refuses_is_invalid_naming_property_and_rule(
    world: CosellWorld,
) -> None:
    # A rule the invitation's deal cannot meet: it sends no close date for this one.
    world.hubspot.configure(
        validation_rules=[{"objectType": "deals", "propertyName": "hs_next_step", "kind": "on_create"}, RULE]
    )
    invitation_id = send_invitation(world)
    world.hubspot.reset_stats()
    result = world.run("sync_invitations")
    assert result.success
    rows = result.output_for_node("invitation_deals").to_dict("records")
    row = next(r for r in rows if r["invitation_id"] == invitation_id)
    assert row["action"] == "invalid", row
    assert "hs_next_step" in row["reason"] and "MISSING_REQUIRED_PROPERTY" in row["reason"]
    assert "Create Record form" in row["reason"]
    assert world.deals(aws_invitation_id=invitation_id) == []
    calls = world.hubspot.stats()["calls"]
    assert calls["POST /crm/objects/2026-09/deals/batch/create"] == 1, "a rule refusal is not repeated"
    history = SyncHistory.from_url(load_settings().state_url_or_default(world.home))
    try:
        logged = [r for r in history.run_rows(result.run_id) if r.operation == "invitation"]
    finally:
        history.dispose()
    assert [r.status for r in logged] == ["invalid"] and "hs_next_step" in str(logged[0].message)

    # The admin relaxes the rule: the next run creates the deal from the accepted invitation.
    world.hubspot.configure(validation_rules=[])
    again = world.run("sync_invitations")
    assert again.success
    assert len(world.deals(aws_invitation_id=invitation_id)) == 1
