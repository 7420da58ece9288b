"""events_sensor: SQS queue -> targeted runs. Thin: the tick logic lives in hspc_pipelines.events."""

from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
from sqlalchemy.exc import SQLAlchemyError

from hspc_pipelines.defs.cosell.jobs import cosell_jobs
from hspc_pipelines.defs.reconcile.scoped import sync_deals
from hspc_pipelines.defs.resources import SyncStateResource
from hspc_pipelines.defs.sensors.requests import intent_request
from hspc_pipelines.events import echo
from hspc_pipelines.events.coalesce import Trigger
from hspc_pipelines.events.tick import Cursor, run_tick
from hspc_pipelines.partner_central.records import parse_timestamp
from hspc_pipelines.queue.receive import EventsQueue
from hspc_pipelines.settings import Settings, load_settings
from hspc_pipelines.state.store import SyncStateStore


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
    jobs: "Sequence[dg.UnresolvedAssetJobDefinition | dg.JobDefinition]", settings: Settings
) -> dg.SensorDefinition:
    # Seconds between ticks (Dagster's sensor loop runs every 5 s, so lower values mean "every loop").
    # The queue's visibility timeout must outlast two ticks: messages are deleted on the tick after their run.
    @dg.sensor(
        name="events_sensor",
        jobs=jobs,
        minimum_interval_seconds=settings.events_sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Reads HubSpot webhooks, Partner Central events and submit requests from SQS "
        "and starts sync_deals, invitation and submission runs scoped to them.",
    )
    def events_sensor(
        context: dg.SensorEvaluationContext, sync_state: SyncStateResource
    ) -> dg.SensorResult | dg.SkipReason:
        tick = load_settings()  # read when the tick runs, as the sensor always has
        queue_url = tick.events_queue_url
        if not queue_url:
            return dg.SkipReason("HSPC_EVENTS_QUEUE_URL is not set: the event path is off")
        cursor = Cursor.load(context.cursor)
        result = run_tick(
            EventsQueue(queue_url),
            cursor,
            lambda key: _run_exists(context.instance, key),
            budget_seconds=tick.events_tick_budget_seconds,
            known_events=_known_events(sync_state.get_store, tick.partner_central_catalog, context.log),
        )
        for message_id, reason in result.unusable:
            context.log.warning(f"message {message_id} not processed, left for the DLQ: {reason}")
        requests = [intent_request(intent) for intent in result.intents]
        context.log.info(
            f"received {result.received}, deleted {result.deleted}, runs {len(requests)}, "
            f"unusable {len(result.unusable)}, already known {result.known}"
        )
        return dg.SensorResult(run_requests=requests, cursor=result.cursor.dump())

    return events_sensor


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[build_events_sensor([sync_deals, *cosell_jobs], load_settings())])
