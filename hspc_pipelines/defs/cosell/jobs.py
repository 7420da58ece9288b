"""Co-sell jobs and their schedules (names others depend on: docs/cosell-flows.md); the crons are settings.

`sync_invitations` and `submit_opportunity` are op jobs (defs/cosell/ops.py): their results depend on
the run's config, so nothing of theirs is stored as an asset value; they report on the external assets."""

from __future__ import annotations

import dagster as dg

from hspc_pipelines.defs.cosell.assets import aws_summaries
from hspc_pipelines.defs.cosell.ops import invitation_deals, pending_invitations, submission
from hspc_pipelines.defs.logging import CONSOLE_RUN_CONFIG
from hspc_pipelines.defs.resources import IN_MEMORY_RESOURCES
from hspc_pipelines.defs.tags import PRIORITY_RUN, WRITES
from hspc_pipelines.settings import Settings, load_settings


@dg.job(
    name="sync_invitations",
    executor_def=dg.in_process_executor,
    config=CONSOLE_RUN_CONFIG,
    tags=WRITES,
    description="AWS opportunity invitations: decide by the rules, accept or reject, create the HubSpot deals.",
)
def sync_invitations_job() -> None:
    invitation_deals(pending_invitations())


@dg.job(
    name="submit_opportunity",
    executor_def=dg.in_process_executor,
    tags=PRIORITY_RUN,
    description="Validate a deal and submit its opportunity to AWS (config: deal_id, involvement_type, visibility).",
)
def submit_opportunity_job() -> None:
    submission()


sync_aws_summaries_job = dg.define_asset_job(
    "sync_aws_summaries",
    selection=dg.AssetSelection.assets(aws_summaries),
    executor_def=dg.in_process_executor,
    config=CONSOLE_RUN_CONFIG,
    tags=WRITES,
    description="AWS review, insights, team and resource snapshots on the deals AWS is looking at; notifications.",
)

cosell_jobs: list[dg.JobDefinition | dg.UnresolvedAssetJobDefinition] = [
    sync_invitations_job,
    submit_opportunity_job,
    sync_aws_summaries_job,
]


def cosell_schedules(settings: Settings) -> list[dg.ScheduleDefinition]:
    return [
        dg.ScheduleDefinition(
            name="invitations_schedule",
            job=sync_invitations_job,
            cron_schedule=settings.invitations_cron,
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description="Poll pending AWS invitations (events start the same job sooner).",
        ),
        dg.ScheduleDefinition(
            name="aws_summaries_schedule",
            job=sync_aws_summaries_job,
            cron_schedule=settings.aws_summaries_cron,
            execution_timezone="UTC",
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description="Refresh AWS summaries, notifications and resource snapshots of deals under AWS review.",
        ),
    ]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        jobs=cosell_jobs, schedules=cosell_schedules(load_settings()), resources=IN_MEMORY_RESOURCES
    )
