"""The submit-request log on SQLite and on a throwaway PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from hspc_pipelines.mapping.vocabulary import SubmitRequestStatus
from hspc_pipelines.state.submit_requests import Problem, SubmitRequestLog
from hspc_pipelines_tests.support.postgres import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    admin_connection,
    temporary_database,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def log(request, tmp_path) -> Iterator[SubmitRequestLog]:
    if request.param == "sqlite":
        requests_log = SubmitRequestLog.from_url(f"sqlite:///{tmp_path / 'state.sqlite'}")
        yield requests_log
        requests_log.dispose()
        return
    with temporary_database(admin_connection(), "hspc_requests") as env:
        requests_log = SubmitRequestLog.from_url(
            f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{env['DAGSTER_PG_DB']}"
        )
        yield requests_log
        requests_log.dispose()


def test_queued_running_then_the_outcome(log: SubmitRequestLog) -> None:
    rid = str(uuid.uuid4())
    t0 = dt.datetime(2026, 12, 6, 1, 0, tzinfo=dt.UTC)
    log.queued(rid, "42", "Co-Sell", "Limited", now=t0)
    first = log.get(rid)
    assert first is not None and first.status == SubmitRequestStatus.QUEUED and first.created_at == t0
    log.record(rid, "42", SubmitRequestStatus.RUNNING, run_id="run-1", now=t0 + dt.timedelta(seconds=1))
    problems = [
        Problem("Project.DeliveryModels", "required"),
        Problem("aws_visibility", "not Full | Limited"),
    ]
    log.record(
        rid,
        "42",
        SubmitRequestStatus.VALIDATION_FAILED,
        run_id="run-1",
        message="not submitted",
        problems=problems,
        now=t0 + dt.timedelta(seconds=2),
    )
    ended = log.get(rid)
    assert ended is not None
    assert (ended.status, ended.run_id, ended.message) == ("validation_failed", "run-1", "not submitted")
    assert ended.problems == tuple(problems)
    # the choices the ingress recorded stay when the run reports none; created_at is the ingress's
    assert (ended.involvement_type, ended.visibility) == ("Co-Sell", "Limited")
    assert ended.created_at == t0 and ended.updated_at == t0 + dt.timedelta(seconds=2)


def test_a_late_queued_never_overwrites_the_runs_status(log: SubmitRequestLog) -> None:
    rid = str(uuid.uuid4())
    log.record(rid, "7", SubmitRequestStatus.SUBMITTED, run_id="r", visibility="Full")
    log.queued(rid, "7", "Co-Sell", "Full")
    stored = log.get(rid)
    assert stored is not None and stored.status == SubmitRequestStatus.SUBMITTED


def test_forget_drops_only_a_request_still_queued(log: SubmitRequestLog) -> None:
    queued, ran = str(uuid.uuid4()), str(uuid.uuid4())
    log.queued(queued, "1", None, None)
    log.queued(ran, "2", None, None)
    log.record(ran, "2", SubmitRequestStatus.RUNNING)
    log.forget(queued)
    log.forget(ran)
    assert log.get(queued) is None
    assert log.get(ran) is not None
    assert log.get(str(uuid.uuid4())) is None


def test_a_deferred_submission_is_kept_until_a_run_ends_otherwise(log: SubmitRequestLog) -> None:
    config = {"deal_id": "42", "involvement_type": "Co-Sell", "request_id": "req-1"}
    first = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
    log.defer("42", config, "deferred: the 24-hour write quota (10000) is spent", 1_000.0, now=first)
    log.defer("7", {"deal_id": "7"}, "deferred: the 24-hour read quota (100000) is spent", 500.0, now=first)
    assert [d.deal_id for d in log.deferred()] == ["7", "42"]  # soonest first
    assert [d.retry_at for d in log.deferred()] == [500.0, 1_000.0]
    # deferred again: a later time, one more attempt, the first time kept
    log.defer("42", config, "deferred: still spent", 2_000.0, now=first + dt.timedelta(hours=1))
    [again] = [d for d in log.deferred() if d.deal_id == "42"]
    assert (again.config, again.retry_at, again.attempts, again.since) == (config, 2_000.0, 2, first)
    assert again.reason == "deferred: still spent"
    log.settled("42")
    assert [d.deal_id for d in log.deferred()] == ["7"]
    log.settled("42")  # nothing kept: nothing to do
