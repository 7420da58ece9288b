"""The reconcile job (and its dry-run half) and the schedule that drives it."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

from hspc_pipelines.defs.partitions import daily_partitions
from hspc_pipelines.defs.reconcile.assets import reconcile_assets

WRITES_TAG = "hspc/writes"  # runs that write to either system queue one at a time (dagster.yaml)
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

reconcile_job = dg.define_asset_job(
    "reconcile",
    selection=dg.AssetSelection.assets(*reconcile_assets),
    partitions_def=daily_partitions,
    executor_def=dg.in_process_executor,
    tags={WRITES_TAG: "true"},
    description="Snapshot both systems for a window of change dates, plan, apply, write back.",
)

reconcile_dry_run_job = dg.define_asset_job(
    "reconcile_dry_run",
    selection=dg.AssetSelection.assets(
        "hubspot_deals", "partner_central_opportunities", "partner_central_solutions", "sync_plan"
    ),
    partitions_def=daily_partitions,
    executor_def=dg.in_process_executor,
    description="The plan without applying it: read the sync_plan asset to see what a reconcile would do.",
)

RECONCILE_CRON = os.environ.get("HSPC_RECONCILE_CRON", "*/15 * * * *")
NIGHTLY_SWEEP_HOUR = int(os.environ.get("HSPC_NIGHTLY_SWEEP_HOUR_UTC", "2"))
SWEEP_DAYS = int(os.environ.get("HSPC_SWEEP_DAYS", "0"))  # 0: the whole partition range


def range_tags(start: str, end: str) -> dict[str, str]:
    return {RANGE_START_TAG: start, RANGE_END_TAG: end}


@dg.schedule(
    job=reconcile_job,
    cron_schedule=RECONCILE_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def reconcile_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Today's partition on every tick; once a night (first tick of the sweep hour) the whole range."""
    when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    today = when.date().isoformat()
    if when.hour == NIGHTLY_SWEEP_HOUR and when.minute < 15:
        keys = daily_partitions.get_partition_keys(current_time=when + dt.timedelta(days=1))
        first = keys[-SWEEP_DAYS] if SWEEP_DAYS and len(keys) >= SWEEP_DAYS else keys[0]
        return dg.RunRequest(run_key=f"sweep-{today}", tags=range_tags(first, today))
    return dg.RunRequest(run_key=f"today-{when.isoformat()}", partition_key=today)
