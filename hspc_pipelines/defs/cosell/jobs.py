"""Co-sell jobs and their schedules (names others depend on: see DESIGN.md)."""

from __future__ import annotations

import os

import dagster as dg

from hspc_pipelines.defs.cosell.assets import aws_summaries, invitation_deals, pending_invitations, submission

WRITES_TAG = "hspc/writes"  # runs that write to either system queue one at a time (dagster.yaml)

sync_invitations_job = dg.define_asset_job(
    "sync_invitations",
    selection=dg.AssetSelection.assets(pending_invitations, invitation_deals),
    executor_def=dg.in_process_executor,
    tags={WRITES_TAG: "true"},
    description="AWS opportunity invitations: decide by the rules, accept or reject, create the HubSpot deals.",
)

submit_opportunity_job = dg.define_asset_job(
    "submit_opportunity",
    selection=dg.AssetSelection.assets(submission),
    executor_def=dg.in_process_executor,
    tags={WRITES_TAG: "true"},
    description="Validate a deal and submit its opportunity to AWS (config: deal_id, involvement_type, visibility).",
)

sync_aws_summaries_job = dg.define_asset_job(
    "sync_aws_summaries",
    selection=dg.AssetSelection.assets(aws_summaries),
    executor_def=dg.in_process_executor,
    tags={WRITES_TAG: "true"},
    description="AWS review, insights, team and resource snapshots on the deals AWS is looking at; notifications.",
)

INVITATIONS_CRON = os.environ.get("HSPC_INVITATIONS_CRON", "*/15 * * * *")
AWS_SUMMARIES_CRON = os.environ.get("HSPC_AWS_SUMMARIES_CRON", "0 * * * *")

invitations_schedule = dg.ScheduleDefinition(
    name="invitations_schedule",
    job=sync_invitations_job,
    cron_schedule=INVITATIONS_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Poll pending AWS invitations (events start the same job sooner).",
)

aws_summaries_schedule = dg.ScheduleDefinition(
    name="aws_summaries_schedule",
    job=sync_aws_summaries_job,
    cron_schedule=AWS_SUMMARIES_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh AWS summaries, notifications and resource snapshots of deals under AWS review.",
)

cosell_jobs = [sync_invitations_job, submit_opportunity_job, sync_aws_summaries_job]
cosell_schedules = [invitations_schedule, aws_summaries_schedule]
