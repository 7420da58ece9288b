"""Names others depend on (jobs, schedules, sensors and assets: docs/contracts.md), listed once for the tests that look for them."""

from __future__ import annotations

# The reconcile graph's assets, in the order the data flows.
RECONCILE_ASSETS = (
    "hubspot_deals",
    "partner_central_opportunities",
    "partner_central_solutions",
    "sync_plan",
    "opportunity_creates",
    "opportunity_imports",
    "opportunity_updates",
    "hubspot_deal_writes",
)
