"""Co-sell jobs and their schedules (names others depend on: docs/cosell-flows.md); the crons are settings."""

from __future__ import annotations

import dagster as dg

from hspc_pipelines.defs.cosell.assets import aws_summaries, invitation_deals, pending_invitations, submission
from hspc_pipelines.defs.tags import WRITES
from hspc_pipelines.settings import Settings, load_settings

sync_invitations_job = dg.define_asset_job(
    "sync_invitations",
    selection=dg.AssetSelection.assets(pending_invitations, invitation_deals),
    executor_def=dg.in_process_executor,
    tags=WRITES,
    description="AWS opportunity invitations: decide by the rules, accept or reject, create the HubSpot deals.",
)

submit_opportunity_job = dg.define_asset_job(
    "submit_opportunity",
    selection=dg.AssetSelection.assets(submission),
    executor_def=dg.in_process_executor,
    tags=WRITES,
    description="Validate a deal and submit its opportunity to AWS (config: deal_id, involvement_type, visibility).",
)

sync_aws_summaries_job = dg.define_asset_job(
    "sync_aws_summaries",
    selection=dg.AssetSelection.assets(aws_summaries),
    executor_def=dg.in_process_executor,
    tags=WRITES,
    description="AWS review, insights, team and resource snapshots on the deals AWS is looking at; notifications.",
)

cosell_jobs = [sync_invitations_job, submit_opportunity_job, sync_aws_summaries_job]


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
    return dg.Definitions(jobs=cosell_jobs, schedules=cosell_schedules(load_settings()))
