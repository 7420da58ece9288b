"""A reconcile gives the writes slot up to a run with priority (an event run, a submission) waiting in
the queue: it stops writing between rows, its rows not started end deferred naming the waiting run, and
the next reconcile writes them (issue 19: event runs do not wait behind a long reconcile)."""

from __future__ import annotations

import dagster as dg

from hspc_pipelines.defs.reconcile.resume import resume_request
from hspc_pipelines.defs.tags import EVENT_PRIORITY, GAVE_WAY_TAG, PRIORITY_TAG, WRITES_TAG
from hspc_pipelines_tests.support.product import Product, seed_deal
from hspc_pipelines_tests.support.runs import add_run

DEALS = ["7101", "7102", "7103", "7104"]


def _queued(product: Product, job: str) -> dg.DagsterRun:
    """A run of `job` with the job's own tags, left in the queue (as the events sensor leaves one while
    the reconcile holds the writes slot)."""
    return add_run(product.instance, job, dg.DagsterRunStatus.QUEUED, product.defs.resolve_job_def(job).tags)


def test_event_runs_and_submissions_carry_the_priority_the_reconcile_yields_to(product: Product) -> None:
    for name in ("sync_deals", "submit_opportunity"):
        tags = product.defs.resolve_job_def(name).tags
        assert tags[PRIORITY_TAG] == EVENT_PRIORITY[PRIORITY_TAG], name
        assert int(tags["dagster/priority"]) > 0, name  # the queue takes them before a queued reconcile
        assert tags[WRITES_TAG] == "true", name  # still one writer at a time
    for name in ("reconcile", "sync_invitations"):
        assert PRIORITY_TAG not in product.defs.resolve_job_def(name).tags, name


def test_a_reconcile_stops_writing_for_a_queued_event_run_and_the_next_one_writes_the_rest(
    product: Product,
) -> None:
    for deal_id in DEALS:
        seed_deal(product, deal_id)
    waiting = _queued(product, "sync_deals")

    first = product.reconcile()
    created = {o["PartnerOpportunityIdentifier"] for o in product.opportunities()}
    # the first row always goes (every run makes progress); the run asks before the next one
    assert len(created) == 1, created
    left = [d for d in DEALS if f"HUBSPOT-{d}" not in created]
    for deal_id in left:
        props = product.deal(deal_id, "aws_sync_status", "aws_sync_error")
        assert props["aws_sync_status"] == "pending", (deal_id, props)
        assert f"sync_deals {waiting.run_id[:8]}" in props["aws_sync_error"], props
        assert "left the writes slot to it" in props["aws_sync_error"], props
    assert first.success, first
    # the run says what it gave way to, and reconcile_resume_sensor starts it again once that is done
    [record] = product.instance.get_run_records(dg.RunsFilter(job_name="reconcile"), limit=1)
    assert record.dagster_run.tags[GAVE_WAY_TAG] == f"sync_deals {waiting.run_id[:8]}"
    event = product.instance.get_latest_materialization_event(dg.AssetKey("opportunity_creates"))
    assert event is not None and event.asset_materialization is not None
    assert event.asset_materialization.metadata["gave_way_to"].value == f"sync_deals {waiting.run_id[:8]}"
    assert isinstance(resume_request(product.instance, "reconcile"), dg.SkipReason)  # still queued

    # the event run has had its turn: the resumed reconcile writes the deferred rows first
    product.instance.report_run_canceled(waiting)
    resume = resume_request(product.instance, "reconcile")
    assert isinstance(resume, dg.RunRequest) and resume.partition_key == product.today, resume
    second = product.reconcile()
    assert second.success, second
    created = {o["PartnerOpportunityIdentifier"] for o in product.opportunities()}
    assert created == {f"HUBSPOT-{d}" for d in DEALS}
    for deal_id in DEALS:
        assert product.deal(deal_id, "aws_sync_status")["aws_sync_status"] == "synced", deal_id


def test_a_reconcile_with_nothing_waiting_writes_every_row(product: Product) -> None:
    for deal_id in DEALS:
        seed_deal(product, deal_id)
    # a queued run without the priority (invitations, the AWS summaries) does not stop it
    _queued(product, "sync_invitations")
    _queued(product, "sync_aws_summaries")
    assert product.reconcile().success
    assert {o["PartnerOpportunityIdentifier"] for o in product.opportunities()} == {
        f"HUBSPOT-{d}" for d in DEALS
    }
