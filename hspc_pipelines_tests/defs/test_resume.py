"""reconcile_resume_sensor: a reconcile that gave the writes slot up starts again for the same window
once the runs with priority are done; never twice, never over a newer run, never after a failure."""

from __future__ import annotations

from typing import Any

import dagster as dg

from hspc_pipelines.definitions import build_defs
from hspc_pipelines.defs.reconcile.pileup import run_in_flight
from hspc_pipelines.defs.reconcile.resume import SENSOR, resume_request
from hspc_pipelines.defs.tags import EVENT_PRIORITY, GAVE_WAY_TAG, RESUMES_TAG, range_tags
from hspc_pipelines_tests.support.runs import add_run


def _run(instance: dg.DagsterInstance, job: str, status: dg.DagsterRunStatus, **tags: str) -> dg.DagsterRun:
    return add_run(instance, job, status, tags)


SUCCESS, QUEUED, STARTED, FAILURE = (
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.FAILURE,
)


def test_a_reconcile_that_gave_way_starts_again_once_the_event_runs_are_done() -> None:
    with dg.instance_for_test() as instance:
        assert resume_request(instance, "reconcile").skip_message == "no reconcile run yet"  # type: ignore[union-attr]
        event = _run(instance, "sync_deals", QUEUED, **EVENT_PRIORITY)
        gave = _run(
            instance,
            "reconcile",
            SUCCESS,
            **{"dagster/partition": "2026-12-06", GAVE_WAY_TAG: f"sync_deals {event.run_id[:8]}"},
        )
        waiting = resume_request(instance, "reconcile")
        assert isinstance(waiting, dg.SkipReason)
        assert f"sync_deals {event.run_id[:8]}" in str(waiting.skip_message), waiting
        instance.report_run_canceled(event)  # done (however it ended)
        request = resume_request(instance, "reconcile")
        assert isinstance(request, dg.RunRequest), request
        assert request.run_key == f"resume:{gave.run_id}"
        assert request.partition_key == "2026-12-06"
        assert request.tags[RESUMES_TAG] == gave.run_id
        assert f"gave way to sync_deals {event.run_id[:8]}" in request.tags["hspc/reason"]
        # the resumed run holds today's ticks back like a scheduled one (no pile-up)
        resumed = _run(instance, "reconcile", QUEUED, **{"dagster/partition": "2026-12-06", **request.tags})
        assert run_in_flight(instance, "reconcile", "2026-12-06") == resumed
        # the newest reconcile run is the resumed one: no second resume of the first
        skip = resume_request(instance, "reconcile")
        assert isinstance(skip, dg.SkipReason)
        assert f"({resumed.run_id[:8]}) did not give the writes slot up" in str(skip.skip_message)


def test_a_range_run_resumes_its_range_and_a_failed_one_is_left_to_the_next_tick() -> None:
    with dg.instance_for_test() as instance:
        sweep = _run(
            instance,
            "reconcile",
            SUCCESS,
            **{**range_tags("2026-11-06", "2026-12-06"), GAVE_WAY_TAG: "submit_opportunity 0123abcd"},
        )
        request = resume_request(instance, "reconcile")
        assert isinstance(request, dg.RunRequest)
        assert request.partition_key is None
        assert (
            request.tags["dagster/asset_partition_range_start"],
            request.tags["dagster/asset_partition_range_end"],
        ) == (
            "2026-11-06",
            "2026-12-06",
        )
        assert "console" in request.run_config["loggers"]  # a range run gets no partition's config
        assert request.run_key == f"resume:{sweep.run_id}"

        _run(
            instance,
            "reconcile",
            FAILURE,
            **{"dagster/partition": "2026-12-06", GAVE_WAY_TAG: "sync_deals 1"},
        )
        skip = resume_request(instance, "reconcile")
        assert isinstance(skip, dg.SkipReason) and "ended failure" in str(skip.skip_message)
        # a newer run that did not give way: nothing to resume
        _run(instance, "reconcile", STARTED, **{"dagster/partition": "2026-12-06"})
        skip = resume_request(instance, "reconcile")
        assert isinstance(skip, dg.SkipReason) and "did not give the writes slot up" in str(skip.skip_message)


def test_the_sensor_is_in_the_code_location_and_running_by_default(tmp_path: Any) -> None:
    defs = build_defs(str(tmp_path))
    sensor = defs.resolve_sensor_def(SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "reconcile"
    with dg.instance_for_test() as instance:
        _run(
            instance,
            "reconcile",
            SUCCESS,
            **{"dagster/partition": "2026-12-06", GAVE_WAY_TAG: "sync_deals 1"},
        )
        with dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def()) as ctx:
            requests = sensor.evaluate_tick(ctx).run_requests
    assert [r.partition_key for r in requests or []] == ["2026-12-06"]
