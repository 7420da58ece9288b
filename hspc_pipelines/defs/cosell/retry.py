"""submission_retry_sensor: a submission the 24-hour quota deferred starts again once it is due.

A deferred submission sent nothing (the deal says `pending`, why and until when); the submission run
keeps it in the state store (`hspc_deferred_submissions`) with its run config. Each tick starts one
`submit_opportunity` run per submission due, with the same config (deal, choices, request id: the same
ClientToken and the same answer to the caller). The run key counts the deferrals, so a submission
deferred again gets one new run per deferral, and a run that ended otherwise removed it.
"""

from __future__ import annotations

import time

import dagster as dg

from hspc_pipelines.defs.cosell.jobs import submit_opportunity_job
from hspc_pipelines.defs.logging import naming_console
from hspc_pipelines.defs.resources import SyncStateResource

SENSOR = "submission_retry_sensor"
TRIGGER_TAG, TRIGGER = "hspc/trigger", "quota-retry"
INTERVAL_SECONDS = 60  # a quota deferral is minutes to hours: a minute late is nothing


@dg.sensor(
    name=SENSOR,
    job=submit_opportunity_job,
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts again the submissions the 24-hour Partner Central quota deferred, once the "
    "quota is expected to cover them (same deal, choices and request id).",
)
def submission_retry_sensor(
    context: dg.SensorEvaluationContext, sync_state: SyncStateResource
) -> dg.SensorResult | dg.SkipReason:
    now = time.time()
    waiting = sync_state.get_submit_requests().deferred()
    due = [d for d in waiting if d.retry_at <= now]
    if not due:
        later = f"; {len(waiting)} waiting for the quota" if waiting else ""
        return dg.SkipReason(f"no deferred submission is due{later}")
    for d in due:
        context.log.info(f"deal {d.deal_id}: submitting again (deferred {d.attempts}x: {d.reason})")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"submit-retry:{d.deal_id}:{d.attempts}",
                job_name=submit_opportunity_job.name,
                run_config=naming_console({"ops": {"submission": {"config": d.config}}}),
                tags={TRIGGER_TAG: TRIGGER, "hspc/deal_id": d.deal_id},
            )
            for d in due
        ]
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[submission_retry_sensor])
