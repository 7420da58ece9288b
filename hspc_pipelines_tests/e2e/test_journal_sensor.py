"""journal_sensor end to end: deal changes written to the HubSpot emulator's webhooks journal ->
journal_sensor -> the scoped sync_deals runs events_sensor starts -> opportunities in Partner Central.
A restart loses nothing, an hour without ticks loses nothing, an expired cursor starts a sweep. The
product signs in as the developer-platform app (client credentials: the only tokens the journal takes)
and subscribes the journal to deals with `hspc bootstrap --journal`, as an operator does."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from hspc_pipelines.cli import main
from hspc_pipelines.defs.sensors.journal import EXPIRED_OFFSET_TAG, REASON_TAG, SENSOR
from hspc_pipelines_tests.support.product import DEAL_ID, Product, app_product, seed_deal

SCOPE = ("ops", "scoped_snapshot", "config", "deal_ids")


class JournalDriver:
    """Evaluates journal_sensor as the daemon does: tick, launch the run requests it has not launched
    (run keys), keep the cursor."""

    def __init__(self, product: Product, cursor: str | None = None) -> None:
        self.product = product
        self.cursor = cursor
        self.launched: list[dg.RunRequest] = []

    def evaluate(self) -> dg.SensorResult | dg.SkipReason:
        sensor = self.product.defs.resolve_sensor_def(SENSOR)
        with dg.build_sensor_context(
            instance=self.product.instance,
            cursor=self.cursor,
            definitions=self.product.defs,
            resources=self.product.defs.resources,
        ) as context:  # entered, as the daemon does: a resource may tear down
            result = sensor(context)
        assert isinstance(result, dg.SensorResult | dg.SkipReason)
        return result

    def tick(self) -> list[dg.RunRequest]:
        result = self.evaluate()
        assert isinstance(result, dg.SensorResult)
        self.cursor = result.cursor
        for rr in result.run_requests or []:
            assert rr.run_key is not None
            if self.product.instance.get_run_records(
                dg.RunsFilter(tags={"dagster/run_key": rr.run_key}), limit=1
            ):
                continue  # the daemon starts a run key once
            assert rr.job_name is not None
            job = self.product.defs.resolve_job_def(rr.job_name)
            run = job.execute_in_process(
                run_config=rr.run_config,
                instance=self.product.instance,
                tags={**rr.tags, "dagster/run_key": rr.run_key, "dagster/sensor_name": SENSOR},
            )
            assert run.success
            self.launched.append(rr)
        return list(result.run_requests or [])

    def synced_deals(self) -> set[str]:
        return {d for rr in self.launched if rr.job_name == "sync_deals" for d in _dig(rr.run_config, SCOPE)}


def _dig(config: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = config
    for key in path:
        value = value[key]
    return value


@pytest.fixture
def journal_product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Product]:
    portal = {"HSPC_HUBSPOT_EVENTS_SOURCE": "journal", "HSPC_JOURNAL_PORTAL_ID": "62515"}  # the stack's
    with app_product(tmp_path, monkeypatch, portal) as product:
        assert product.stack.hubspot.state.portal_id == 62515
        assert main(["bootstrap", "--journal"]) == 0, "the journal records only what it is subscribed to"
        seed_deal(product)  # deal 7001 with its company 9001 and contact 8001 (no journal entry: seeded)
        try:
            yield product
        finally:
            product.stack.hubspot.configure(clock_offset_seconds=0)


def _new_cosell_deal(product: Product, n: int) -> str:
    body = {
        "properties": {
            "dealname": f"Outage deal {n} #AWS",
            "amount": str(10_000 + n),
            "dealstage": "qualifiedtobuy",
            "pipeline": "default",
            "closedate": "2027-03-31T00:00:00.000Z",
            "deal_currency_code": "USD",
            "description": "A customer moving its analytics cluster to a managed AWS service.",
        },
        "associations": [
            {"to": {"id": "9001"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}]},
            {"to": {"id": "8001"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}]},
        ],
    }  # fmt: skip
    return str(product.hubspot("POST", "/crm/v3/objects/deals", json=body)["id"])


def _touch(product: Product, deal_id: str, description: str) -> None:
    product.hubspot(
        "PATCH", f"/crm/v3/objects/deals/{deal_id}", json={"properties": {"description": description}}
    )


def _linked(product: Product) -> set[str]:
    return {
        o["PartnerOpportunityIdentifier"].removeprefix("HUBSPOT-")
        for o in product.opportunities()
        if o.get("PartnerOpportunityIdentifier", "").startswith("HUBSPOT-")
    }


def test_a_deal_change_in_the_journal_starts_a_sync_deals_run_for_that_deal(journal_product):
    product = journal_product
    driver = JournalDriver(product)
    assert driver.tick() == [], "an empty journal: nothing to do, the cursor waits at its start"
    _touch(product, DEAL_ID, "Acme needs a managed analytics service on AWS, this quarter.")
    [run] = driver.tick()
    assert run.job_name == "sync_deals" and run.partition_key is None
    assert _dig(run.run_config, SCOPE) == [DEAL_ID]
    assert run.tags["hspc/trigger"] == "journal"
    assert DEAL_ID in _linked(product), "the run created the deal's opportunity"
    # The sync wrote the link back to the deal: that write is in the journal too, and syncs to nothing new.
    driver.tick()
    assert driver.tick() == [], "caught up: no entry after the cursor"
    assert (
        len([o for o in product.opportunities() if o["PartnerOpportunityIdentifier"] == f"HUBSPOT-{DEAL_ID}"])
        == 1
    )


def test_a_restart_with_the_stored_cursor_loses_nothing_and_starts_nothing_twice(journal_product):
    product = journal_product
    first = JournalDriver(product)
    first.tick()
    deal = _new_cosell_deal(product, 1)
    # The daemon died after evaluating the tick but before storing it: the cursor did not move.
    lost_tick = first.evaluate()
    assert isinstance(lost_tick, dg.SensorResult) and lost_tick.run_requests
    # It restarts with the cursor it had stored.
    restarted = JournalDriver(product, cursor=first.cursor)
    [again] = restarted.tick()
    assert again.run_key == lost_tick.run_requests[0].run_key, "the same entries, the same run key"
    assert _dig(again.run_config, SCOPE) == [deal] and deal in _linked(product)
    restarted.tick()  # the link written back to the deal is a journal entry too
    # Restarted again from the cursor it stored this time: what it already requested is not read again.
    later = JournalDriver(product, cursor=restarted.cursor)
    other = _new_cosell_deal(product, 2)
    runs = later.tick()
    assert [_dig(r.run_config, SCOPE) for r in runs if r.job_name == "sync_deals"] == [[other]]


def test_an_hour_without_ticks_loses_no_event(journal_product):
    product = journal_product
    hubspot = product.stack.hubspot
    driver = JournalDriver(product)
    driver.tick()
    written_before = hubspot.stats()["journal_entries_written"]
    changed: list[str] = []
    # The daemon is down for an hour: twelve changes, one every five emulated minutes.
    for minute in range(0, 60, 5):
        hubspot.configure(clock_offset_seconds=minute * 60)
        changed.append(_new_cosell_deal(product, minute))
    hubspot.configure(clock_offset_seconds=3600)
    during_outage = hubspot.stats()["journal_entries_written"] - written_before
    for _ in range(3):  # it catches up in its first tick; the next ones see its own write-backs
        driver.tick()
    lost = sorted(set(changed) - driver.synced_deals())
    print(f"outage: {during_outage} journal entries for {len(changed)} deal changes, lost {len(lost)}")
    assert during_outage == len(changed) == 12
    assert lost == []
    assert set(changed) <= _linked(product), "every deal changed during the outage has its opportunity"
    # The hour outlived the app's 30-minute token: HubSpot refused it once, hspc took a new one.
    assert hubspot.stats()["tokens_issued"] >= 2


def test_a_cursor_older_than_the_journal_keeps_starts_a_sweep_that_says_why(journal_product):
    product = journal_product
    hubspot = product.stack.hubspot
    hubspot.configure(journal_retention_seconds=600)
    driver = JournalDriver(product)
    driver.tick()
    _touch(product, DEAL_ID, "Acme needs a managed analytics service on AWS, this quarter.")
    driver.tick()
    stale_cursor = driver.cursor
    # The sensor stops; a deal changes, then the journal drops everything older than ten minutes.
    missed = _new_cosell_deal(product, 99)
    hubspot.configure(clock_offset_seconds=1200)
    after = _new_cosell_deal(product, 100)
    [sweep] = driver.tick()
    assert sweep.job_name == "reconcile" and sweep.tags["hspc/trigger"] == "journal"
    assert sweep.tags[EXPIRED_OFFSET_TAG] in (stale_cursor or "")
    assert "older than the journal's retention" in sweep.tags[REASON_TAG]
    assert sweep.tags["dagster/asset_partition_range_end"] == product.today
    assert {missed, after} <= _linked(product), "the sweep synced what the journal no longer holds"
    # The cursor moved to the newest entry: the next ticks read the sweep's own write-backs, no sweep.
    assert [r.job_name for r in driver.tick() + driver.tick()] in ([], ["sync_deals"])


def test_with_the_queue_as_source_the_journal_sensor_stands_by(product, monkeypatch):
    monkeypatch.setenv("HSPC_HUBSPOT_EVENTS_SOURCE", "queue")
    result = JournalDriver(product).evaluate()
    assert isinstance(result, dg.SkipReason) and "HSPC_HUBSPOT_EVENTS_SOURCE=queue" in (
        result.skip_message or ""
    )
