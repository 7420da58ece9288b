"""No pile-up: a scheduled reconcile is not queued for a window while one for it is queued or running.

Run keys differ per tick, so without this a run that outlasts its period (a first load) gets a new
run queued behind it every tick, each planning everything again. A range run (the nightly sweep)
covers today too. Event-scoped runs do not count: they are small and carry their own scope.
"""

from __future__ import annotations

import dagster as dg

from hspc_pipelines.defs.tags import RANGE_END_TAG, RANGE_START_TAG, RESUMES_TAG

WAITING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]  # not started by the queue yet
IN_FLIGHT = [*WAITING, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
SCHEDULES = frozenset({"reconcile_schedule", "sweep_schedule"})


def covers(tags: dict[str, str], day: str) -> bool:
    if tags.get("dagster/partition") == day:
        return True
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    return start is not None and end is not None and start <= day <= end


def run_in_flight(instance: dg.DagsterInstance, job_name: str, day: str) -> dg.DagsterRun | None:
    """A scheduled (or resumed) run of `job_name` queued or running whose window holds `day`, if any."""
    records = instance.get_run_records(dg.RunsFilter(job_name=job_name, statuses=IN_FLIGHT), limit=50)
    for record in records:
        run = record.dagster_run
        scheduled = run.tags.get("dagster/schedule_name") in SCHEDULES or RESUMES_TAG in run.tags
        if scheduled and covers(dict(run.tags), day):
            return run
    return None


def skip_reason(run: dg.DagsterRun, day: str) -> dg.SkipReason:
    return dg.SkipReason(
        f"reconcile run {run.run_id} for {day} is still {run.status.value.lower()}: "
        "not queueing another for the same window (it would plan the same rows again)"
    )
