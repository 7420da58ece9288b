"""Logs every failed run with its error, counts it (CloudWatch metric hspc FailedRuns when
HSPC_CLOUDWATCH_METRICS is set) and sends a short alert: Slack through dagster-slack when a token
and channel are set, else the Slack-compatible webhook (defs/alerts.py)."""

from __future__ import annotations

import dagster as dg

from hspc_pipelines.defs.alerts import deliver_or_log
from hspc_pipelines.defs.run_metrics import emit_failed_run


@dg.run_failure_sensor(
    name="run_failure_sensor", default_status=dg.DefaultSensorStatus.RUNNING, monitor_all_code_locations=False
)
def run_failure_sensor(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    text = f"hspc run {run.run_id} of job {run.job_name} failed: {message}"
    context.log.error(text)
    emit_failed_run(run.job_name)
    deliver_or_log(text, context.log)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[run_failure_sensor])
