"""events_sensor: SQS queue -> targeted runs. Thin: the tick logic lives in hspc_pipelines.events."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

from hspc_pipelines.events.coalesce import RECONCILE
from hspc_pipelines.events.queue import EventsQueue
from hspc_pipelines.events.tick import Cursor, run_tick

TICK_BUDGET_SECONDS = float(os.environ.get("HSPC_EVENTS_TICK_BUDGET_SECONDS", "20"))
# Seconds between ticks (Dagster's sensor loop runs every 5 s, so lower values mean "every loop"). The
# queue's visibility timeout must outlast two ticks: messages are deleted on the tick after their run.
TICK_INTERVAL_SECONDS = int(os.environ.get("HSPC_EVENTS_SENSOR_INTERVAL_SECONDS", "15"))


def _run_exists(instance: dg.DagsterInstance, run_key: str) -> bool:
    runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/run_key": run_key}), limit=1)
    return bool(runs)


def build_events_sensor(
    jobs: list[dg.UnresolvedAssetJobDefinition | dg.JobDefinition],
) -> dg.SensorDefinition:
    @dg.sensor(
        name="events_sensor",
        jobs=jobs,
        minimum_interval_seconds=TICK_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Reads HubSpot webhooks, Partner Central events and submit requests from SQS "
        "and starts reconcile, invitation and submission runs scoped to them.",
    )
    def events_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        queue_url = os.environ.get("HSPC_EVENTS_QUEUE_URL")
        if not queue_url:
            return dg.SkipReason("HSPC_EVENTS_QUEUE_URL is not set: the event path is off")
        cursor = Cursor.load(context.cursor)
        result = run_tick(
            EventsQueue(queue_url),
            cursor,
            lambda key: _run_exists(context.instance, key),
            budget_seconds=TICK_BUDGET_SECONDS,
        )
        for message_id, reason in result.unusable:
            context.log.warning(f"message {message_id} not processed, left for the DLQ: {reason}")
        today = dt.datetime.now(dt.UTC).date().isoformat()
        requests = [
            dg.RunRequest(
                run_key=intent.run_key,
                job_name=intent.job,
                run_config=intent.run_config,
                tags=intent.tags,
                partition_key=today if intent.job == RECONCILE else None,
            )
            for intent in result.intents
        ]
        context.log.info(
            f"received {result.received}, deleted {result.deleted}, runs {len(requests)}, "
            f"unusable {len(result.unusable)}"
        )
        return dg.SensorResult(run_requests=requests, cursor=result.cursor.dump())

    return events_sensor
