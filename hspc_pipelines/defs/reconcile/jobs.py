"""The reconcile job (and its dry-run half) and the two schedules that drive it: today every tick, the
whole range once a night.

The partitions start on a setting, so the graph is built when definitions load (`reconcile_graph`,
one per start date so the events sensor targets the very job this module defines)."""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass

import dagster as dg

from hspc_pipelines.defs.logging import CONSOLE_RUN_CONFIG
from hspc_pipelines.defs.partitions import daily_partitions
from hspc_pipelines.defs.reconcile import pileup
from hspc_pipelines.defs.reconcile.assets import reconcile_assets
from hspc_pipelines.defs.reconcile.resume import reconcile_resume_sensor
from hspc_pipelines.defs.tags import WRITES, range_tags
from hspc_pipelines.quotas.run import reads_short
from hspc_pipelines.settings import Settings, load_settings

__all__ = ["ReconcileGraph", "defs", "range_tags", "reconcile_graph", "reconcile_schedule", "sweep_schedule"]


@dataclass(frozen=True)
class ReconcileGraph:
    partitions: dg.DailyPartitionsDefinition
    assets: list[dg.AssetsDefinition]
    job: dg.UnresolvedAssetJobDefinition
    dry_run_job: dg.UnresolvedAssetJobDefinition


@functools.cache
def reconcile_graph(start_date: dt.date) -> ReconcileGraph:
    partitions = daily_partitions(start_date)
    assets = reconcile_assets(partitions)
    job = dg.define_asset_job(
        "reconcile",
        selection=dg.AssetSelection.assets(*assets),
        partitions_def=partitions,
        executor_def=dg.in_process_executor,
        config=CONSOLE_RUN_CONFIG,
        tags=WRITES,
        description="Snapshot both systems for a window of change dates, plan, apply, write back.",
    )
    dry_run_job = dg.define_asset_job(
        "reconcile_dry_run",
        selection=dg.AssetSelection.assets(
            "hubspot_deals", "partner_central_opportunities", "partner_central_solutions", "sync_plan"
        ),
        partitions_def=partitions,
        executor_def=dg.in_process_executor,
        config=CONSOLE_RUN_CONFIG,
        description="The plan without applying it: read the sync_plan asset to see what a reconcile would do.",
    )
    return ReconcileGraph(partitions, assets, job, dry_run_job)


def reconcile_schedule(graph: ReconcileGraph, settings: Settings) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="reconcile_schedule",
        job=graph.job,
        cron_schedule=settings.reconcile_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Today's partition on every tick (HSPC_RECONCILE_CRON), unless a run for it is queued or "
        "running, or Partner Central's 24-hour read quota is down to its reserve.",
        required_resource_keys={"sync_state", "partner_central"},
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
        today = when.date().isoformat()
        busy = pileup.run_in_flight(context.instance, graph.job.name, today)
        if busy is not None:
            return pileup.skip_reason(busy, today)
        # A run that would spend the read quota waits (a skipped tick, saying why) rather than fail.
        short = reads_short(
            context.resources.sync_state.get_store(),
            context.resources.partner_central.quota_policy(),
            time.time(),
        )
        if short is not None:
            return dg.SkipReason(short)
        return dg.RunRequest(run_key=f"today-{when.isoformat()}", partition_key=today)

    return schedule


def sweep_schedule(graph: ReconcileGraph, settings: Settings) -> dg.ScheduleDefinition:
    """Its own schedule, so any reconcile cron (e.g. `30 * * * *`) still gets its nightly sweep."""
    sweep_days = settings.sweep_days  # 0: the whole range

    @dg.schedule(
        name="sweep_schedule",
        job=graph.job,
        cron_schedule=f"0 {settings.nightly_sweep_hour_utc} * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Once a night (HSPC_NIGHTLY_SWEEP_HOUR_UTC): every day of the range as one run.",
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        when = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
        today = when.date().isoformat()
        keys = graph.partitions.get_partition_keys(current_time=when)  # up to today (end_offset=1)
        first = keys[-sweep_days] if sweep_days and len(keys) >= sweep_days else keys[0]
        # A range run gets no partition's config: it names the console logger itself.
        return dg.RunRequest(
            run_key=f"sweep-{today}", tags=range_tags(first, today), run_config=CONSOLE_RUN_CONFIG
        )

    return schedule


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    graph = reconcile_graph(settings.partitions_start_date)
    return dg.Definitions(
        assets=graph.assets,
        jobs=[graph.job, graph.dry_run_job],
        schedules=[reconcile_schedule(graph, settings), sweep_schedule(graph, settings)],
        sensors=[reconcile_resume_sensor(graph.job, settings)],
    )
