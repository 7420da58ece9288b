"""The two systems as external assets, so lineage starts and ends at HubSpot and Partner Central."""

from __future__ import annotations

import dagster as dg

HUBSPOT_DEALS = dg.AssetKey(["hubspot", "deals"])
HUBSPOT_COMPANIES = dg.AssetKey(["hubspot", "companies"])
HUBSPOT_CONTACTS = dg.AssetKey(["hubspot", "contacts"])
HUBSPOT_NOTES = dg.AssetKey(["hubspot", "notes"])
PC_OPPORTUNITIES = dg.AssetKey(["partner_central", "opportunities"])
PC_SOLUTIONS = dg.AssetKey(["partner_central", "solutions"])
PC_INVITATIONS = dg.AssetKey(["partner_central", "engagement_invitations"])

external_specs = [
    dg.AssetSpec(
        HUBSPOT_DEALS,
        description="Deals in the HubSpot portal (CRM v3).",
        group_name="hubspot",
        kinds={"hubspot"},
    ),
    dg.AssetSpec(
        HUBSPOT_COMPANIES,
        description="Companies associated with deals.",
        group_name="hubspot",
        kinds={"hubspot"},
    ),
    dg.AssetSpec(
        HUBSPOT_CONTACTS,
        description="Contacts associated with deals.",
        group_name="hubspot",
        kinds={"hubspot"},
    ),
    dg.AssetSpec(
        HUBSPOT_NOTES,
        description="Notes hspc writes on deals (exactly once per transition).",
        group_name="hubspot",
        kinds={"hubspot"},
    ),
    dg.AssetSpec(
        PC_OPPORTUNITIES,
        description="Opportunities in AWS Partner Central (Selling API).",
        group_name="partner_central",
        kinds={"aws"},
    ),
    dg.AssetSpec(
        PC_SOLUTIONS,
        description="The partner's solutions in Partner Central.",
        group_name="partner_central",
        kinds={"aws"},
    ),
    dg.AssetSpec(
        PC_INVITATIONS,
        description="Engagement invitations AWS sends the partner.",
        group_name="partner_central",
        kinds={"aws"},
    ),
]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=external_specs)
