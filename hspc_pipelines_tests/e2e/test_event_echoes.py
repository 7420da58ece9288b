"""Partner Central events whose change the product already holds start no run (`events/echo.py`);
the rest start their run as before."""

from __future__ import annotations

import logging
import time

import requests

from hspc_pipelines.defs.sensors.events import _known_events
from hspc_pipelines.events.tick import Cursor, run_tick
from hspc_pipelines.queue.receive import EventsQueue
from hspc_pipelines_tests.support.product import DEAL_ID, queue_depth, seed_deal


def test_events_older_than_the_stored_record_are_dropped_and_a_newer_one_starts_its_run(product):
    seed_deal(product)
    assert product.reconcile().success  # creates the opportunity: "Opportunity Created" (+ our association)
    opp_id = product.deal(DEAL_ID, "aws_opportunity_id")["aws_opportunity_id"]
    assert opp_id

    time.sleep(1.1)  # AWS's review lands in a later second than our create
    pc_url = product.stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"]
    requests.post(
        f"{pc_url}/_emulator/opportunities/{opp_id}/review",
        json={"ReviewStatus": "Action Required", "ReviewComments": "Add the AWS account id"},
        timeout=10,
    ).raise_for_status()
    # The sweep reads the reviewed record before the events are handled (delivery is best effort).
    assert product.reconcile().success
    assert product.deal(DEAL_ID, "aws_review_status")["aws_review_status"] == "Action Required"
    assert product.stack.partner_central.flush_events()

    store = product.defs.resources["sync_state"].get_store()
    known = _known_events(lambda: store, "AWS", logging.getLogger("test"))
    queue = EventsQueue(product.stack.env["HSPC_EVENTS_QUEUE_URL"], client=product.stack.aws_client("sqs"))
    cursor, runs, dropped = Cursor(), [], 0
    stored: set[str] = set()  # run keys of the runs started so far
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        result = run_tick(queue, cursor, stored.__contains__, budget_seconds=1, known_events=known)
        stored |= {r.run_key for r in result.intents}
        runs += result.intents
        dropped += result.known
        cursor = result.cursor
        if runs and not cursor.pending and queue_depth(product) == 0:
            break
    assert dropped >= 1, "'Opportunity Created' for an opportunity the store holds is known"
    assert [r.job for r in runs] == ["sync_deals"]
    scope = runs[0].run_config["ops"]["scoped_snapshot"]["config"]
    assert scope["opportunity_ids"] == [opp_id]
    assert len(runs[0].event_ids) == 1, "only the review's event (the record's own second) starts the run"
    assert queue_depth(product) == 0, "known events are deleted like covered ones"


def test_a_state_store_that_cannot_be_opened_drops_nothing(tmp_path, caplog):
    """The sensor must keep starting runs when the state database is down."""
    from hspc_pipelines.events.coalesce import RECONCILE, Trigger
    from hspc_pipelines.state.store import SyncStateStore

    def unreachable() -> SyncStateStore:
        return SyncStateStore(f"sqlite:///{tmp_path}/missing-dir/state.sqlite")  # cannot be created

    created = Trigger(RECONCILE, "aws:1", "m1", opportunity_id="O1", detail_type="Opportunity Created")
    with caplog.at_level(logging.WARNING):
        assert _known_events(unreachable, "AWS", logging.getLogger("test"))([created]) == set()
    assert "state store not read" in caplog.text
