"""The run request of an event run (`events.coalesce.RunIntent`), shared by both event sensors."""

from __future__ import annotations

import dagster as dg

from hspc_pipelines.defs.logging import naming_console
from hspc_pipelines.events.coalesce import RunIntent


def intent_request(intent: RunIntent) -> dg.RunRequest:
    """Unpartitioned (an event run never replaces a partition of the reconcile assets), naming the
    console logger (submit_opportunity has required config, so no default run config carries it)."""
    return dg.RunRequest(
        run_key=intent.run_key,
        job_name=intent.job,
        run_config=naming_console(intent.run_config),
        tags=intent.tags,
    )
