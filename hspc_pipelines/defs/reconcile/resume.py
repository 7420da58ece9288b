"""reconcile_resume_sensor: a reconcile that gave the writes slot up starts again once the runs it gave
way to are done, rather than leaving its rows to the next tick (a first load would lose the rest of
each period an event arrived in).

The reconcile tags itself `hspc/gave_way` (defs/reconcile/steps.py: `PriorityWaiting.mark`). The
sensor looks at the newest reconcile run only: a newer one (the next tick, a resume) already took its
rows. It starts one run for the same window (partition or range), keyed by the run it resumes, once
that run has succeeded and no run with priority is queued or running. A resumed run that gives way
again is resumed again; one that failed is left to the next tick (run_failure_sensor reports it).
"""

from __future__ import annotations

import dagster as dg

from hspc_pipelines.defs.logging import CONSOLE_RUN_CONFIG
from hspc_pipelines.defs.reconcile.pileup import IN_FLIGHT
from hspc_pipelines.defs.tags import (
    EVENT_PRIORITY,
    GAVE_WAY_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    RESUMES_TAG,
    range_tags,
)
from hspc_pipelines.settings import Settings

SENSOR = "reconcile_resume_sensor"


def resume_request(instance: dg.DagsterInstance, job_name: str) -> dg.RunRequest | dg.SkipReason:
    records = instance.get_run_records(dg.RunsFilter(job_name=job_name), limit=1)  # newest first
    if not records:
        return dg.SkipReason("no reconcile run yet")
    run = records[0].dagster_run
    gave_way = run.tags.get(GAVE_WAY_TAG)
    if not gave_way:
        return dg.SkipReason(f"the newest reconcile run ({run.run_id[:8]}) did not give the writes slot up")
    if run.status in IN_FLIGHT or run.status == dg.DagsterRunStatus.CANCELING:
        return dg.SkipReason(f"reconcile run {run.run_id[:8]} is still {run.status.value.lower()}")
    if run.status != dg.DagsterRunStatus.SUCCESS:
        return dg.SkipReason(
            f"reconcile run {run.run_id[:8]} ended {run.status.value.lower()}: the next tick takes its rows"
        )
    busy = instance.get_runs(dg.RunsFilter(statuses=IN_FLIGHT, tags=EVENT_PRIORITY), limit=1)
    if busy:
        return dg.SkipReason(
            f"reconcile run {run.run_id[:8]} gave way; runs with priority are still queued or running "
            f"({busy[0].job_name} {busy[0].run_id[:8]}): it starts again after them"
        )
    tags = {RESUMES_TAG: run.run_id, "hspc/reason": f"resumes {run.run_id[:8]}, which gave way to {gave_way}"}
    start, end = run.tags.get(RANGE_START_TAG), run.tags.get(RANGE_END_TAG)
    if start and end:  # a range run gets no partition's config: it names the console logger itself
        return dg.RunRequest(
            run_key=f"resume:{run.run_id}",
            tags={**tags, **range_tags(start, end)},
            run_config=CONSOLE_RUN_CONFIG,
        )
    return dg.RunRequest(
        run_key=f"resume:{run.run_id}", partition_key=run.tags.get("dagster/partition"), tags=tags
    )


def reconcile_resume_sensor(job: dg.UnresolvedAssetJobDefinition, settings: Settings) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR,
        job=job,
        minimum_interval_seconds=settings.events_sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts a reconcile that gave the writes slot up to event runs or submissions again, "
        "once they are done (same window), instead of leaving its rows to the next tick.",
    )
    def sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        return resume_request(context.instance, job.name)

    return sensor
