"""Logs every failed run with its error and, when HSPC_ALERT_WEBHOOK_URL is set, posts a short alert
(Slack-compatible `{"text": …}`) there."""

from __future__ import annotations

import logging

import dagster as dg
import requests

from hspc_pipelines.settings import load_settings

log = logging.getLogger(__name__)


@dg.run_failure_sensor(
    name="run_failure_sensor", default_status=dg.DefaultSensorStatus.RUNNING, monitor_all_code_locations=False
)
def run_failure_sensor(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    text = f"hspc run {run.run_id} of job {run.job_name} failed: {message}"
    context.log.error(text)
    url = load_settings().alert_webhook_url
    if url:
        try:
            requests.post(
                url.get_secret_value(), json={"text": text[:3000]}, timeout=(3, 10)
            ).raise_for_status()
        except requests.RequestException as exc:
            context.log.warning(f"alert webhook failed: {type(exc).__name__}")


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[run_failure_sensor])
