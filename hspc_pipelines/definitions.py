"""The Dagster code location: assembles defs/ with resources chosen by environment."""

from __future__ import annotations

import os

import dagster as dg

from hspc_pipelines.defs import cosell
from hspc_pipelines.defs.cosell.jobs import cosell_jobs
from hspc_pipelines.defs.event_batching import apply_range_run_env
from hspc_pipelines.defs.external import external_specs
from hspc_pipelines.defs.reconcile.assets import reconcile_assets
from hspc_pipelines.defs.reconcile.jobs import reconcile_dry_run_job, reconcile_job, reconcile_schedule
from hspc_pipelines.defs.resources import build_resources
from hspc_pipelines.defs.sensors.events import build_events_sensor
from hspc_pipelines.defs.sensors.run_failure import run_failure_sensor


def dagster_home() -> str:
    home = os.environ.get("DAGSTER_HOME") or os.path.abspath(".dagster_home")
    os.makedirs(home, exist_ok=True)
    return home


def build_defs(home: str | None = None) -> dg.Definitions:
    """Definitions with resources read from the environment now (tests call this after setting it)."""
    apply_range_run_env()  # the run worker and in-process runs log events in this process
    reconcile = dg.Definitions(
        assets=[*external_specs, *reconcile_assets],
        jobs=[reconcile_job, reconcile_dry_run_job],
        schedules=[reconcile_schedule],
        sensors=[run_failure_sensor, build_events_sensor([reconcile_job, *cosell_jobs])],
    )
    return dg.Definitions.merge(
        reconcile, cosell.cosell_defs, dg.Definitions(resources=build_resources(home or dagster_home()))
    )


defs = build_defs()
