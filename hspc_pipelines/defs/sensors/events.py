"""events_sensor: SQS queue -> targeted runs. Thin: the tick logic lives in hspc_pipelines.events."""

import datetime as dt
import os
from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
from sqlalchemy.exc import SQLAlchemyError

from hspc_pipelines.defs.resources import SyncStateResource
from hspc_pipelines.env_numbers import env_count, env_seconds
from hspc_pipelines.events import echo
from hspc_pipelines.events.coalesce import RECONCILE, Trigger
from hspc_pipelines.events.queue import EventsQueue
from hspc_pipelines.events.tick import Cursor, run_tick
from hspc_pipelines.state.store import SyncStateStore
from hspc_pipelines.sync.records import parse_timestamp

TICK_BUDGET_SECONDS = env_seconds("HSPC_EVENTS_TICK_BUDGET_SECONDS", 20.0)
# Seconds between ticks (Dagster's sensor loop runs every 5 s, so lower values mean "every loop"). The
# queue's visibility timeout must outlast two ticks: messages are deleted on the tick after their run.
TICK_INTERVAL_SECONDS = env_count("HSPC_EVENTS_SENSOR_INTERVAL_SECONDS", 15, minimum=0)


def _known_events(
    store: Callable[[], SyncStateStore], catalog: str, log: Any
) -> Callable[[Sequence[Trigger]], set[str]]:
    """`echo.known_events` over the state store's stamps. The store is opened only when a tick has
    Partner Central opportunity events, and a store that cannot be opened or read makes none known:
    every event starts its run, as before, and the sensor never fails on the store."""

    def known(triggers: Sequence[Trigger]) -> set[str]:
        ids = echo.opportunity_ids(triggers)
        if not ids:
            return set()
        try:
            stamps = store().get_last_modified(catalog, ids)
            stored = {i: parse_timestamp(s) for i, s in stamps.items()}
        except (SQLAlchemyError, ValueError) as exc:
            log.warning(f"state store not read, every event starts its run: {type(exc).__name__}")
            return set()
        return echo.known_events(triggers, stored)

    return known


def _run_exists(instance: dg.DagsterInstance, run_key: str) -> bool:
    runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/run_key": run_key}), limit=1)
    return bool(runs)


def build_events_sensor(
    jobs: "list[dg.UnresolvedAssetJobDefinition | dg.JobDefinition]",
) -> dg.SensorDefinition:
    @dg.sensor(
        name="events_sensor",
        jobs=jobs,
        minimum_interval_seconds=TICK_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Reads HubSpot webhooks, Partner Central events and submit requests from SQS "
        "and starts reconcile, invitation and submission runs scoped to them.",
    )
    def events_sensor(
        context: dg.SensorEvaluationContext, sync_state: SyncStateResource
    ) -> dg.SensorResult | dg.SkipReason:
        queue_url = os.environ.get("HSPC_EVENTS_QUEUE_URL")
        if not queue_url:
            return dg.SkipReason("HSPC_EVENTS_QUEUE_URL is not set: the event path is off")
        cursor = Cursor.load(context.cursor)
        result = run_tick(
            EventsQueue(queue_url),
            cursor,
            lambda key: _run_exists(context.instance, key),
            budget_seconds=TICK_BUDGET_SECONDS,
            known_events=_known_events(
                sync_state.get_store, os.environ.get("PARTNER_CENTRAL_CATALOG", "AWS"), context.log
            ),
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
            f"unusable {len(result.unusable)}, already known {result.known}"
        )
        return dg.SensorResult(run_requests=requests, cursor=result.cursor.dump())

    return events_sensor
