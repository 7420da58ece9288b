"""The code location loads, names others rely on exist, `dg check defs` passes, schedules decide right."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from hspc_pipelines.definitions import build_defs
from hspc_pipelines_tests.support.names import RECONCILE_ASSETS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_definitions_load_with_every_name_others_depend_on(tmp_path):
    defs = build_defs(str(tmp_path))
    for job in ("reconcile", "sync_deals", "sync_invitations", "sync_aws_summaries", "submit_opportunity"):
        assert defs.resolve_job_def(job).name == job
    for schedule in (
        "reconcile_schedule",
        "sweep_schedule",
        "invitations_schedule",
        "aws_summaries_schedule",
    ):
        assert defs.resolve_schedule_def(schedule).name == schedule
    for sensor in (
        "events_sensor",
        "journal_sensor",
        "run_failure_sensor",
        "reconcile_resume_sensor",
        "submission_retry_sensor",
    ):
        assert defs.resolve_sensor_def(sensor).name == sensor
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {*RECONCILE_ASSETS, "hubspot/deals", "partner_central/opportunities"} <= keys
    # Run-config-dependent work is op jobs, not assets whose stored value the last request decides.
    assert not {"pending_invitations", "invitation_deals", "submission"} & keys


def test_dg_check_defs_passes():
    env = {**os.environ, "DAGSTER_HOME": str(ROOT / ".dagster_home")}
    proc = subprocess.run(
        [str(BIN / "dg"), "check", "defs"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def _tick(
    instance: dg.DagsterInstance, defs: dg.Definitions, name: str, when: dt.datetime
) -> list[dg.RunRequest]:
    # the resources the code location binds for the schedules (the reconcile tick reads the ledger)
    resources = {key: (defs.resources or {})[key] for key in ("sync_state", "partner_central")}
    with dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=when,
        repository_def=defs.get_repository_def(),
        resources=resources,
    ) as ctx:
        return list(defs.resolve_schedule_def(name).evaluate_tick(ctx).run_requests or [])


# Definitions are built inside the instance's context: Dagster's loader reads the current instance's
# defs-state storage, which an earlier test's finished instance must not be.


def test_reconcile_schedule_runs_today_on_every_tick(tmp_path):
    with dg.instance_for_test() as instance:
        defs = build_defs(str(tmp_path))
        for hour in (10, 2):  # the sweep hour too: the sweep is its own schedule
            when = dt.datetime(2026, 11, 20, hour, 0, tzinfo=dt.UTC)
            [request] = _tick(instance, defs, "reconcile_schedule", when)
            assert request.partition_key == "2026-11-20"
            assert "dagster/asset_partition_range_start" not in request.tags


def test_sweep_schedule_reconciles_the_whole_range_once_a_night(tmp_path, monkeypatch):
    # A reconcile cron that never ticks at minute 0 used to mean no sweep at all.
    monkeypatch.setenv("HSPC_RECONCILE_CRON", "30 * * * *")
    monkeypatch.setenv("HSPC_NIGHTLY_SWEEP_HOUR_UTC", "3")
    with dg.instance_for_test() as instance:
        defs = build_defs(str(tmp_path))
        schedule = defs.resolve_schedule_def("sweep_schedule")
        assert schedule.cron_schedule == "0 3 * * *"
        assert schedule.job_name == "reconcile"
        [sweep] = _tick(instance, defs, "sweep_schedule", dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC))
    assert sweep.run_key == "sweep-2026-11-20"
    assert sweep.tags["dagster/asset_partition_range_start"] == "2025-01-01"
    assert sweep.tags["dagster/asset_partition_range_end"] == "2026-11-20"


def test_sweep_days_is_the_number_of_days_swept(tmp_path, monkeypatch):
    monkeypatch.setenv("HSPC_SWEEP_DAYS", "7")
    with dg.instance_for_test() as instance:
        defs = build_defs(str(tmp_path))
        [sweep] = _tick(instance, defs, "sweep_schedule", dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC))
    assert sweep.tags["dagster/asset_partition_range_start"] == "2026-11-14"  # 14..20: seven days
    assert sweep.tags["dagster/asset_partition_range_end"] == "2026-11-20"


def test_hspc_lists_every_command():
    proc = subprocess.run([str(BIN / "hspc"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for command in ("run", "dev", "emulate", "ingress", "bootstrap", "solutions"):
        assert command in proc.stdout


def test_hspc_run_without_a_token_reconciles_against_the_emulators(tmp_path):
    """What `make run` does on a fresh machine: emulators, seeded deals, one full reconcile, a summary."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HUBSPOT_", "AWS_", "PARTNER_CENTRAL_", "HSPC_"))
    }
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    proc = subprocess.run(
        [str(BIN / "hspc"), "run", "--deals", "15"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert "starting the local emulators" in out
    assert "succeeded" in out and "created" in out, out[-3000:]
    assert (tmp_path / "home" / "dagster.yaml").exists()
    assert proc.returncode in (0, 1), out[-3000:]  # 1 only when some rows failed, which the summary lists
