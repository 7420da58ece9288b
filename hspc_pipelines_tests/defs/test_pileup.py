"""No pile-up: the reconcile schedule skips a tick while a scheduled run for the same window is queued
or running, and says why; event-scoped runs do not hold it back."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import dagster as dg
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin

from hspc_pipelines.definitions import build_defs

WHEN = dt.datetime(2026, 11, 20, 10, 15, tzinfo=dt.UTC)


def _tick(instance: dg.DagsterInstance, defs: dg.Definitions) -> Any:
    ctx = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=WHEN, repository_def=defs.get_repository_def()
    )
    return defs.resolve_schedule_def("reconcile_schedule").evaluate_tick(ctx)


# Dagster requires a queued run to name where its job lives; these runs never leave the queue.
ORIGIN = RemoteJobOrigin(
    RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("hspc_pipelines"), "__repository__"), "reconcile"
)


def _run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, **tags: str) -> dg.DagsterRun:
    run = dg.DagsterRun(
        job_name="reconcile", run_id=str(uuid.uuid4()), status=status, tags=tags, remote_job_origin=ORIGIN
    )
    instance.add_run(run)
    return run


def test_a_tick_skips_while_a_run_for_its_window_is_queued_or_running(tmp_path: Any) -> None:
    with dg.instance_for_test() as instance:
        defs = build_defs(str(tmp_path))
        # an event-scoped run of today and a scheduled run of yesterday do not hold the tick back
        _run(instance, dg.DagsterRunStatus.STARTED, **{"dagster/partition": "2026-11-20"})
        _run(
            instance,
            dg.DagsterRunStatus.QUEUED,
            **{"dagster/partition": "2026-11-19", "dagster/schedule_name": "reconcile_schedule"},
        )
        [request] = _tick(instance, defs).run_requests
        assert request.partition_key == "2026-11-20"

        queued = _run(
            instance,
            dg.DagsterRunStatus.QUEUED,
            **{"dagster/partition": "2026-11-20", "dagster/schedule_name": "reconcile_schedule"},
        )
        result = _tick(instance, defs)
        assert not result.run_requests
        assert result.skip_message == (
            f"reconcile run {queued.run_id} for 2026-11-20 is still queued: not queueing another for "
            "the same window (it would plan the same rows again)"
        )
        instance.report_run_canceled(queued)
        assert len(_tick(instance, defs).run_requests) == 1


def test_the_nightly_sweep_running_holds_the_ticks_of_its_range(tmp_path: Any) -> None:
    with dg.instance_for_test() as instance:
        defs = build_defs(str(tmp_path))
        sweep = _run(
            instance,
            dg.DagsterRunStatus.STARTED,
            **{
                "dagster/schedule_name": "sweep_schedule",
                "dagster/asset_partition_range_start": "2025-01-01",
                "dagster/asset_partition_range_end": "2026-11-20",
            },
        )
        assert "is still started" in _tick(instance, defs).skip_message
        instance.report_run_failed(sweep)
        assert len(_tick(instance, defs).run_requests) == 1
