"""Runs put straight into a Dagster instance with a status and tags, as the daemon would leave them
(queued behind the writes slot, running, ended): what the schedules and sensors look at."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import dagster as dg
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin


def add_run(
    instance: dg.DagsterInstance, job: str, status: dg.DagsterRunStatus, tags: Mapping[str, str]
) -> dg.DagsterRun:
    """A run of `job`; Dagster requires a queued run to name where its job lives (these never leave)."""
    origin = RemoteJobOrigin(
        RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("hspc_pipelines"), "__repository__"), job
    )
    run = dg.DagsterRun(
        job_name=job, run_id=str(uuid.uuid4()), status=status, tags=dict(tags), remote_job_origin=origin
    )
    instance.add_run(run)
    return run
