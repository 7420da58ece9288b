"""No pile-up: the reconcile schedule skips a tick while a scheduled run for the same window is queued
or running, and says why; event-scoped runs do not hold it back."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import dagster as dg

from hspc_pipelines.definitions import build_defs
from hspc_pipelines.quotas.meter import READ, SERVICE
from hspc_pipelines.settings import load_settings
from hspc_pipelines.state.store import SyncStateStore
from hspc_pipelines_tests.support.runs import add_run

WHEN = dt.datetime(2026, 11, 20, 10, 15, tzinfo=dt.UTC)


def _tick(instance: dg.DagsterInstance, defs: dg.Definitions) -> Any:
    # the resources the code location gives the schedule (the state store: its quota ledger)
    with dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=WHEN,
        repository_def=defs.get_repository_def(),
        resources={key: (defs.resources or {})[key] for key in ("sync_state", "partner_central")},
    ) as ctx:
        return defs.resolve_schedule_def("reconcile_schedule").evaluate_tick(ctx)


def _run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, **tags: str) -> dg.DagsterRun:
    return add_run(instance, "reconcile", status, tags)


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


def test_a_tick_waits_while_the_read_quota_is_down_to_its_reserve(tmp_path: Any, monkeypatch: Any) -> None:
    """A scheduled reconcile snapshots Partner Central: with fewer reads left in the window than the
    reserve kept for updates and events, the tick is skipped, saying why and until when."""
    monkeypatch.delenv("HSPC_STATE_URL", raising=False)
    monkeypatch.setenv("HSPC_PC_READS_PER_DAY", "100")
    monkeypatch.setenv("HSPC_PC_READ_RESERVE", "20")
    store = SyncStateStore(load_settings().state_url_or_default(str(tmp_path)))
    try:
        with dg.instance_for_test() as instance:
            defs = build_defs(str(tmp_path))
            store.book_spend(SERVICE, READ, 80, time.time(), 86_400)  # 20 left: still the reserve's
            assert len(_tick(instance, defs).run_requests) == 1
            store.book_spend(SERVICE, READ, 1, time.time(), 86_400)
            result = _tick(instance, defs)
            assert not result.run_requests
            assert result.skip_message.startswith(
                "the 24-hour read quota (100) has 19 left, below the 20 kept for updates and events: "
                "deferred: this tick waits; expected after "
            )
    finally:
        store.dispose()
