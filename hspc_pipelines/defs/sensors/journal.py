"""journal_sensor: HubSpot's webhooks journal -> the same scoped runs as events_sensor starts.

A sensor of its own rather than a second source inside events_sensor: its cursor is one offset where
events_sensor's holds queue receipts, it fails and catches up on its own (a slow queue never delays
it), and `HSPC_HUBSPOT_EVENTS_SOURCE=both` is simply both sensors. Partner Central events and submit
requests stay on the queue, so events_sensor keeps running whatever the source. Thin: the tick's
logic is `hspc_pipelines.events.journal_tick`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import dagster as dg

from hspc_pipelines.defs.cosell.jobs import cosell_jobs
from hspc_pipelines.defs.logging import CONSOLE_RUN_CONFIG
from hspc_pipelines.defs.reconcile.jobs import reconcile_graph
from hspc_pipelines.defs.reconcile.scoped import sync_deals
from hspc_pipelines.defs.resources import HubSpotResource
from hspc_pipelines.defs.sensors.requests import intent_request
from hspc_pipelines.defs.tags import range_tags
from hspc_pipelines.events.journal import JournalCursor, sweep_range
from hspc_pipelines.events.journal_tick import TRIGGER_TAG, run_journal_tick
from hspc_pipelines.settings import Settings, load_settings

SENSOR = "journal_sensor"
EXPIRED_OFFSET_TAG = "hspc/journal_expired_offset"
REASON_TAG = "hspc/reason"


def build_journal_sensor(
    jobs: Sequence[dg.UnresolvedAssetJobDefinition | dg.JobDefinition],
    reconcile_job_name: str,
    settings: Settings,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR,
        jobs=jobs,
        minimum_interval_seconds=settings.events_sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Reads HubSpot's webhooks journal after its cursor (the last offset) and starts "
        "sync_deals and submission runs scoped to the deals it names (HSPC_HUBSPOT_EVENTS_SOURCE); "
        "a cursor older than the journal's three days starts a sweep.",
    )
    def journal_sensor(
        context: dg.SensorEvaluationContext, hubspot: HubSpotResource
    ) -> dg.SensorResult | dg.SkipReason:
        tick = load_settings()  # read when the tick runs, as events_sensor does
        if tick.hubspot_events_source == "queue":
            return dg.SkipReason("HSPC_HUBSPOT_EVENTS_SOURCE=queue: HubSpot events come from the queue")
        cursor = JournalCursor.load(context.cursor)
        result = run_journal_tick(
            hubspot.get_client(),
            cursor,
            portal_id=tick.journal_portal_id,
            budget_seconds=tick.events_tick_budget_seconds,
        )
        if result.expired is not None:
            context.log.warning(result.expired.reason)
            first_day = tick.partitions_start_date
            start, end = sweep_range(result.expired.last_at, dt.datetime.now(dt.UTC).date(), first_day)
            sweep = dg.RunRequest(
                run_key=f"journal-sweep:{result.expired.offset}",
                job_name=reconcile_job_name,
                run_config=CONSOLE_RUN_CONFIG,  # a range run gets no partition's config
                tags={
                    **range_tags(start, end),
                    TRIGGER_TAG: "journal",
                    EXPIRED_OFFSET_TAG: result.expired.offset,
                    REASON_TAG: "journal cursor older than the journal's retention: sweep from "
                    f"{start} to {end}",
                },
            )
            return dg.SensorResult(run_requests=[sweep], cursor=result.cursor.dump())
        requests = [intent_request(intent) for intent in result.intents]
        context.log.info(
            f"journal: {result.entries} entries, {result.events} events, {len(result.deals)} deals, "
            f"runs {len(requests)}{'' if result.caught_up else ', more to read next tick'}"
        )
        # The cursor moves in the same tick result as the run requests: a crash before Dagster stores
        # both reads the same entries again (same run keys), so nothing is lost.
        if not requests:
            return dg.SensorResult(
                skip_reason=f"journal: {result.entries} new entries, no deal to sync",
                cursor=result.cursor.dump(),
            )
        return dg.SensorResult(run_requests=requests, cursor=result.cursor.dump())

    return journal_sensor


@dg.definitions
def defs() -> dg.Definitions:
    settings = load_settings()
    graph = reconcile_graph(settings.partitions_start_date)
    return dg.Definitions(
        sensors=[build_journal_sensor([sync_deals, *cosell_jobs, graph.job], graph.job.name, settings)]
    )
