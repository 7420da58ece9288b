"""Co-sell flows in Dagster: `cosell_defs` (assets, jobs, schedules) for the code location to merge.

Jobs `sync_invitations`, `submit_opportunity`, `sync_aws_summaries`; schedules `invitations_schedule`
(every 15 minutes) and `aws_summaries_schedule` (hourly). Resources are the code location's
(`hubspot`, `partner_central`, `sync_state`, `mapping`, `io_manager`).
"""

from __future__ import annotations

import dagster as dg

from hspc_pipelines.defs.cosell.assets import cosell_assets
from hspc_pipelines.defs.cosell.jobs import cosell_jobs, cosell_schedules

cosell_defs = dg.Definitions(assets=cosell_assets, jobs=cosell_jobs, schedules=cosell_schedules)

__all__ = ["cosell_defs"]
