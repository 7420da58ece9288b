"""Runs the daemon launches log Dagster's console lines through hspc's `console` logger (issue 18):
JSON with HSPC_LOG_FORMAT=json, at LOG_LEVEL, although no run config they get names a logger."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from typing import Any, cast

import dagster as dg
import pytest
from dagster._core.system_config.objects import ResolvedRunConfig

from hspc_pipelines.defs.logging import naming_console
from hspc_pipelines_tests.support.product import Product, product

__all__ = ["product"]  # the fixture

IMPLICIT = "__ASSET_JOB"  # Dagster's own job for asset-graph clicks: it takes no default config


def _jobs(defs: dg.Definitions) -> list[dg.JobDefinition]:
    repo = defs.get_repository_def()
    return [job for job in repo.get_all_jobs() if job.name != IMPLICIT]


def _default_run_config(job: dg.JobDefinition) -> dict[str, Any]:
    """What a run of the job gets when nobody gives it config: a partitioned job's is the config
    of its partition (what a schedule's, a backfill's and the launchpad's runs get)."""
    if job.partitioned_config is not None:
        key = job.partitions_def.get_last_partition_key()  # type: ignore[union-attr]
        assert key is not None
        return dict(job.partitioned_config.get_run_config_for_partition_key(key))
    return {}


def _required_config(job: dg.JobDefinition) -> bool:
    try:
        ResolvedRunConfig.build(job, _default_run_config(job))
    except dg.DagsterInvalidConfigError:
        return True
    return False


def test_every_job_names_the_console_logger_without_being_told(product: Product) -> None:
    jobs = _jobs(product.defs)
    assert {"reconcile", "sync_deals", "sync_invitations", "sync_aws_summaries"} <= {j.name for j in jobs}
    for job in jobs:
        if _required_config(job):
            continue  # only submit_opportunity: the sensor names the logger in its requests
        assert "console" in ResolvedRunConfig.build(job, _default_run_config(job)).loggers, job.name
    assert [j.name for j in jobs if _required_config(j)] == ["submit_opportunity"]


def test_the_sensors_requests_name_it_and_keep_their_own_config(product: Product) -> None:
    submit = {"ops": {"submission": {"config": {"deal_id": "42"}}}}
    job = product.defs.resolve_job_def("submit_opportunity")
    resolved = ResolvedRunConfig.build(job, naming_console(submit))
    op_config = cast(dict[str, Any], resolved.ops["submission"].config)
    assert "console" in resolved.loggers and op_config["deal_id"] == "42"
    quiet = naming_console({"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
    assert quiet["loggers"]["console"] == {"config": {"log_level": "CRITICAL"}}


@pytest.mark.parametrize(("fmt", "level"), [("json", "DEBUG"), ("text", "DEBUG"), ("json", "INFO")])
def test_a_run_with_no_run_config_writes_dagster_lines_in_the_format_and_level_asked(
    product: Product, fmt: str, level: str
) -> None:
    """What a schedule or a sensor's run gets: no run config. The run worker's stderr is what
    CloudWatch receives; before, every Dagster line in it was colored text at DEBUG."""
    env = {**os.environ, "HSPC_LOG_FORMAT": fmt, "LOG_LEVEL": level, "DAGSTER_HOME": str(product.home)}
    command = [sys.executable, "-m", "dagster", "job", "execute", "-m", "hspc_pipelines.definitions"]
    done = subprocess.run(
        [*command, "-j", "sync_invitations"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if "sync_invitations" in line]
    if fmt == "text":
        assert lines and all(" - dagster - " in line and not line.startswith("{") for line in lines)
        assert any("STEP_SUCCESS" in line for line in lines)
        return
    parsed = [json.loads(line) for line in lines]  # every Dagster line is one JSON object
    events = {
        p["dagster_meta"]["dagster_event"]["event_type_value"]
        for p in parsed
        if p["dagster_meta"].get("dagster_event")
    }
    levels = {p["levelname"] for p in parsed}
    if level == "DEBUG":
        assert {"STEP_START", "STEP_OUTPUT", "STEP_SUCCESS"} <= events  # Dagster logs its events at DEBUG
    else:
        assert parsed and "DEBUG" not in levels and not events


def test_the_schedules_runs_name_it_for_a_day_and_for_a_range(product: Product) -> None:
    """The reconcile schedule's run is one partition (its config comes from the job); the sweep's is
    a range of days, which gets no partition's config, so it names the logger itself."""
    repo = product.defs.get_repository_def()
    job = product.defs.resolve_job_def("reconcile")
    with dg.instance_for_test() as instance:
        for name in ("reconcile_schedule", "sweep_schedule"):
            schedule = repo.get_schedule_def(name)
            now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
            with dg.build_schedule_context(
                instance=instance,
                scheduled_execution_time=now,
                repository_def=repo,
                resources=product.defs.resources,
            ) as context:
                data = schedule.evaluate_tick(context)
            assert data.run_requests, name
            for request in data.run_requests:
                run_config = dict(request.run_config)
                if request.partition_key:
                    key = request.partition_key
                    run_config = dict(job.partitioned_config.get_run_config_for_partition_key(key))  # type: ignore[union-attr]
                assert "console" in ResolvedRunConfig.build(job, run_config).loggers, name
