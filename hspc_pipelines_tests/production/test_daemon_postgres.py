"""The production instance on the machine's real PostgreSQL, with `dagster-daemon` running.

DAGSTER_HOME holds deploy/dagster.local-postgres.yaml (deploy/dagster.yaml with the default run
launcher and local step logs) pointed at a fresh database; the daemon loads workspace.yaml (code
location `hspc_pipelines.definitions`) with the emulator stack's environment. Shown:
- the events sensor and the reconcile schedule tick (tick records in PostgreSQL);
- a reconcile run submitted to the queued run coordinator is dequeued by the daemon and succeeds,
  and the Partner Central emulator then holds one opportunity per co-sell deal of its window;
- two runs in flight at once respect the write pools: their apply steps (pool
  `partner_central_writes`, pool `hubspot_writes`) never overlap, and each pool has one slot.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.execution.api import create_execution_plan
from dagster._core.scheduler.instigation import TickStatus
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from hspc_pipelines.defs.reconcile.jobs import range_tags
from hspc_pipelines_tests.support.dagster_dev import LOCATION, workspace_file
from hspc_pipelines_tests.support.environment import product_env
from hspc_pipelines_tests.support.processes import REPO, Processes, venv_bin, wait_for
from hspc_pipelines_tests.support.seeded import Seeded

REPOSITORY = "__repository__"
POOLS = {
    "partner_central_writes": ("opportunity_creates", "opportunity_updates"),
    "hubspot_writes": ("hubspot_deal_writes",),
}
RUN_TIMEOUT = 120
TERMINAL = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@pytest.fixture
def daemon_home(
    tmp_path: Path, seeded: Seeded, pg_database: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """DAGSTER_HOME with the local-PostgreSQL production config; the environment both this process
    (instance, workspace) and the daemon use."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.local-postgres.yaml", home / "dagster.yaml")
    now = dt.datetime.now(dt.UTC)
    env = (
        product_env(
            seeded.stack,
            home,
            DAGSTER_COMPUTE_LOGS_DIR=str(tmp_path / "compute_logs"),
            # Tick every minute; keep the nightly whole-range sweep away from this hour.
            HSPC_RECONCILE_CRON="* * * * *",
            HSPC_NIGHTLY_SWEEP_HOUR_UTC=str((now.hour + 12) % 24),
            HSPC_EVENTS_TICK_BUDGET_SECONDS="5",
        )
        | pg_database
    )  # the database's DAGSTER_PG_* variables
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env


def _step_intervals(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    types = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}
    for entry in instance.all_logs(run_id, of_type=types):
        event = entry.get_dagster_event()
        if event.event_type == DagsterEventType.STEP_START:
            starts[str(entry.step_key)] = entry.timestamp
        else:
            ends[str(entry.step_key)] = entry.timestamp
    return {key: (starts[key], ends[key]) for key in starts if key in ends}


def _run_window(instance: dg.DagsterInstance, run_id: str) -> tuple[float, float]:
    record = instance.get_run_record_by_id(run_id)
    assert record is not None and record.start_time and record.end_time
    return record.start_time, record.end_time


def _ticks(instance: dg.DagsterInstance, remote: Any) -> list[Any]:
    return list(instance.get_ticks(remote.get_remote_origin_id(), remote.selector_id, limit=20))


def test_daemon_on_postgres_ticks_dequeues_and_respects_pools(
    daemon_home: dict[str, str], seeded: Seeded, processes: Processes
) -> None:
    workspace_yaml = workspace_file(Path(daemon_home["DAGSTER_HOME"]))
    daemon = processes.start(
        "daemon",
        [venv_bin("dagster-daemon"), "run", "-w", str(workspace_yaml)],
        daemon_home,
    )
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    from hspc_pipelines.definitions import build_defs

    instance = dg.DagsterInstance.get()
    # Resolving reads Dagster's "current" defs-state storage, which an earlier test in this worker
    # process may have left pointing at its deleted temporary instance; use this test's own.
    with set_defs_state_storage(instance.defs_state_storage):
        job_def = build_defs(daemon_home["DAGSTER_HOME"]).resolve_job_def("reconcile")
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"

    with (
        instance,
        WorkspaceProcessContext(instance, WorkspaceFileTarget([str(workspace_yaml)])) as workspace,
    ):
        context = workspace.create_request_context()
        location = context.get_code_location(LOCATION)
        repository = location.get_repository(REPOSITORY)
        remote_job = repository.get_full_job("reconcile")

        def submit(tags: dict[str, str]) -> str:
            plan = create_execution_plan(job_def, run_config={}, tags=tags, instance_ref=instance.get_ref())
            run = instance.create_run_for_job(
                job_def=job_def,
                execution_plan=plan,
                tags=tags,
                remote_job_origin=remote_job.get_remote_origin(),
                job_code_origin=remote_job.get_python_origin(),
            )
            instance.submit_run(run.run_id, context)
            return run.run_id

        def finished(*run_ids: str) -> list[dg.DagsterRun] | None:
            assert daemon.poll() is None, "dagster-daemon exited:\n" + processes.log_tail("daemon")
            runs = [run for r in run_ids if (run := instance.get_run_by_id(r)) is not None]
            done = len(runs) == len(run_ids) and all(r.status in TERMINAL for r in runs)
            return runs if done else None

        # Three runs submitted at once over adjacent windows of days (each day in one window only):
        # - `queued`: the job's own tags (hspc/writes: one such run at a time across the instance);
        # - `pair`: without the run-level hspc/writes tag, so nothing but the pools keeps their apply
        #   steps (and those of `queued`) apart.
        days = sorted({d["properties"]["hs_lastmodifieddate"][:10] for d in seeded.data.deals})
        assert len(days) >= 3
        cut1, cut2 = len(days) // 3, 2 * len(days) // 3
        windows = [(days[0], days[cut1 - 1]), (days[cut1], days[cut2 - 1]), (days[cut2], seeded.today)]
        queued_id = submit({**job_def.run_tags, **range_tags(*windows[0])})
        pair = [submit(range_tags(*w)) for w in windows[1:]]
        queued = instance.get_run_by_id(queued_id)
        assert queued is not None and queued.tags.get("hspc/writes") == "true"
        all_ids = [queued_id, *pair]
        runs = wait_for("the three runs to finish", lambda: finished(*all_ids), RUN_TIMEOUT)
        assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 3, processes.log_tail("daemon")

        # The queue: each run was enqueued, then dequeued and started by the daemon.
        for run_id in all_ids:
            kinds = [e.dagster_event_type for e in instance.all_logs(run_id) if e.is_dagster_event]
            assert kinds.index(DagsterEventType.PIPELINE_ENQUEUED) < kinds.index(
                DagsterEventType.PIPELINE_STARTING
            )
        # The results: one opportunity per co-sell deal of the three windows.
        expected = seeded.cosell_ids_modified(days[0], seeded.today)
        assert expected
        assert len(seeded.opportunities()) == len(expected)

        # The pools: the runs were in flight together, yet no two apply steps of one pool overlapped.
        spans = {r: _run_window(instance, r) for r in all_ids}
        assert any(
            s1 < e2 and s2 < e1
            for i, (s1, e1) in enumerate(spans.values())
            for (s2, e2) in list(spans.values())[i + 1 :]
        ), f"no two runs were in flight together: {spans}"
        steps = {r: _step_intervals(instance, r) for r in all_ids}
        for pool, keys in POOLS.items():
            assert instance.event_log_storage.get_concurrency_info(pool).slot_count == 1
            intervals = sorted(steps[r][k] for r in all_ids for k in keys)
            assert len(intervals) == len(keys) * len(all_ids), steps
            for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
                assert end <= start, f"{pool}: two apply steps overlapped: {intervals}"
        blocked = [
            e.step_key
            for r in all_ids
            for e in instance.all_logs(r, of_type=DagsterEventType.ENGINE_EVENT)
            if e.message.startswith("Step blocked by limit for pool")
        ]
        print(f"apply steps that waited for a pool slot: {blocked}")  # timing-dependent, for the log

        # The events sensor and the every-minute schedule have ticked, recorded in PostgreSQL.
        sensor = repository.get_sensor("events_sensor")
        schedule = repository.get_schedule("reconcile_schedule")
        sensor_ticks = wait_for("an events_sensor tick", lambda: _ticks(instance, sensor), 60)
        schedule_ticks = wait_for(
            "a reconcile_schedule tick",
            lambda: [t for t in _ticks(instance, schedule) if t.status == TickStatus.SUCCESS],
            75,
        )
        assert all(t.status != TickStatus.FAILURE for t in sensor_ticks), [t.error for t in sensor_ticks]
        scheduled = instance.get_run_by_id(schedule_ticks[0].run_ids[0])
        assert scheduled is not None and scheduled.tags["dagster/schedule_name"] == "reconcile_schedule"
        assert scheduled.tags["dagster/partition"] == seeded.today
