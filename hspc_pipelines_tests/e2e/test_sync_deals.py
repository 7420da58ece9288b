"""Scoped work never writes a partition of the reconcile assets (issue 14): `sync_deals` runs, and
`hspc sync` through hspc_pipelines.cli.main, against the emulators."""

from __future__ import annotations

from typing import Any, cast

import dagster as dg
import pandas as pd
import pytest
from dagster._core.storage.defs_state.base import set_defs_state_storage

from hspc_pipelines.cli import main
from hspc_pipelines.defs import external
from hspc_pipelines.history import SyncHistory
from hspc_pipelines.history.cli import state_url
from hspc_pipelines.mapping.vocabulary import Operation
from hspc_pipelines.reconcile.runner import ReconcileOutcome
from hspc_pipelines.reconcile.scope import parse_scope
from hspc_pipelines.reconcile.sync import run_sync
from hspc_pipelines_tests.support.names import RECONCILE_ASSETS
from hspc_pipelines_tests.support.partner_central import set_review
from hspc_pipelines_tests.support.product import Product, seed_deal


def _stored(product: Product) -> dict[str, pd.DataFrame]:
    """Today's partition of every reconcile asset, loaded through the IO manager as a run would."""
    with set_defs_state_storage(product.instance.defs_state_storage):
        return {
            name: cast(
                pd.DataFrame,
                product.defs.load_asset_value(name, instance=product.instance, partition_key=product.today),
            )
            for name in RECONCILE_ASSETS
        }


def _materializations(product: Product, key: dg.AssetKey) -> list[Any]:
    records = product.instance.fetch_materializations(key, limit=1000).records
    return [r.event_log_entry for r in records]


def _sync(
    product: Product, deals: tuple[str, ...] = (), opportunities: tuple[str, ...] = ()
) -> ReconcileOutcome:
    outcome = run_sync(parse_scope(deals, opportunities), instance=product.instance, defs=product.defs)
    assert outcome.success
    return outcome


def _opportunity_of(product: Product, deal_id: str) -> str:
    return str(product.deal(deal_id, "aws_opportunity_id")["aws_opportunity_id"])


def test_scoped_runs_leave_each_reconcile_partition_as_the_full_run_stored_and_reach_both_systems(
    product: Product,
) -> None:
    seed_deal(product, "7001")
    seed_deal(product, "7002")
    full = product.reconcile()
    assert full.success
    before = _stored(product)
    assert sorted(before["hubspot_deals"]["deal_id"]) == ["7001", "7002"]
    assert sorted(before["opportunity_creates"]["status"]) == ["created", "created"]
    reconcile_events = {n: len(_materializations(product, dg.AssetKey(n))) for n in RECONCILE_ASSETS}
    opp_1, opp_2 = _opportunity_of(product, "7001"), _opportunity_of(product, "7002")

    # 1. A seller edits deal 7001 (a webhook would name it): the opportunity is updated.
    product.hubspot("PATCH", "/crm/v3/objects/deals/7001", json={"properties": {"amount": "54321"}})
    edited = _sync(product, deals=("7001",))
    assert list(edited.frames["sync_plan"]["operation"]) == ["update"]
    # 2. A new co-sell deal: its opportunity is created and linked on the deal.
    seed_deal(product, "7003")
    created = _sync(product, deals=("7003",))
    assert list(created.frames["hubspot_deal_writes"]["final_status"]) == ["created"]
    # 3. AWS reviews 7002's opportunity (a Partner Central event names it): the deal is told.
    set_review(product.stack, opp_2, "Submitted")
    product.stack.hubspot.reset_stats()
    _pc_emulator(product).reset_stats()
    reviewed = _sync(product, opportunities=(opp_2,))
    assert list(reviewed.frames["sync_plan"]["operation"]) == [Operation.WRITE_BACK]
    # Exactly the named record: no search of today's deals, no listing of today's opportunities.
    assert not [k for k in product.hubspot_calls() if "search" in k], product.hubspot_calls()
    assert product.pc_calls().get("GetOpportunity") == 1, product.pc_calls()

    after = _stored(product)
    for name in RECONCILE_ASSETS:
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)
    assert {n: len(_materializations(product, dg.AssetKey(n))) for n in RECONCILE_ASSETS} == reconcile_events

    spend = product.pc().get_opportunity(Catalog="AWS", Identifier=opp_1)["Project"]["ExpectedCustomerSpend"]
    assert float(spend[0]["Amount"]) == 54321
    opp_3 = _opportunity_of(product, "7003")
    assert opp_3.startswith("O") and opp_3 not in (opp_1, opp_2)
    assert product.deal("7002", "aws_review_status")["aws_review_status"] == "Submitted"

    # What each run wrote is on the external assets, with the ids.
    pc_written = [
        e.asset_materialization.metadata
        for e in _materializations(product, external.PC_OPPORTUNITIES)
        if e.run_id in (edited.run_id, created.run_id)
    ]
    assert sorted(m["opportunity_ids"].value[0] for m in pc_written) == sorted([opp_1, opp_3])
    deals_written = {
        e.run_id: e.asset_materialization.metadata["deal_ids"].value
        for e in _materializations(product, external.HUBSPOT_DEALS)
        if e.run_id in (edited.run_id, created.run_id, reviewed.run_id)
    }
    assert deals_written[created.run_id] == ["7003"]
    assert deals_written[reviewed.run_id] == ["7002"]

    # And in the sync history, as sync_deals rows with their scope.
    history = SyncHistory.from_url(state_url())
    try:
        rows = [r for r in history.timeline("7003") if r.job_name == "sync_deals"]
    finally:
        history.dispose()
    assert [(r.status, r.scope, r.window) for r in rows] == [("created", ("7003",), None)]


def test_hspc_sync_runs_through_dagster_and_prints_the_run_summary(
    product: Product, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_deal(product, "7001")
    capsys.readouterr()
    assert main(["sync", "--deal", "7001", "--deal", " 7001 "]) == 0
    captured = capsys.readouterr()
    out = captured.out
    steps = [line for line in out.splitlines() if line.startswith("[")]
    assert steps[0] == "[1/6] scoped_snapshot" and steps[-1].startswith("[6/6] scoped_deal_writes"), steps
    assert "STEP_START" not in out + captured.err  # Dagster's event log stays quiet, as in `hspc run`
    assert "Plan (operation: rows)" in out and "create" in out
    assert "Result (status: deals)" in out and "created" in out
    runs = dg.DagsterInstance.get().get_run_records(dg.RunsFilter(job_name="sync_deals"))
    assert len(runs) == 1 and runs[0].dagster_run.run_id in out
    run_config = cast(dict[str, Any], runs[0].dagster_run.run_config)
    assert run_config["ops"]["scoped_snapshot"]["config"]["deal_ids"] == ["7001"]
    assert runs[0].dagster_run.tags["hspc/writes"] == "true"
    assert len(product.opportunities()) == 1
    assert _opportunity_of(product, "7001") == product.opportunities()[0]["Id"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--deal", "abc"], "--deal: 'abc' is not allowed; expected a HubSpot deal id"),
        (
            ["--opportunity", "7001"],
            "--opportunity: '7001' is not allowed; expected a Partner Central opportunity id",
        ),
        (["--deal", "7001", "--opportunity", "o-12"], "--opportunity: 'o-12'"),
        ([], "--deal: nothing is not allowed; expected at least one deal id or opportunity id"),
    ],
)
def test_bad_ids_are_one_clear_error_and_start_no_run(
    product: Product, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    capsys.readouterr()
    assert main(["sync", *argv]) == 2
    assert message in capsys.readouterr().err
    assert not dg.DagsterInstance.get().get_run_records(dg.RunsFilter(job_name="sync_deals"))
    assert product.opportunities() == []


def test_the_reconcile_takes_no_scope_so_a_partition_always_holds_its_whole_window(product: Product) -> None:
    seed_deal(product, "7001")
    seed_deal(product, "7002")
    # The scope the events used to pass to the reconcile (issue 14) now narrows nothing.
    old_scope = {"deal_ids": ["7001"], "opportunity_ids": []}
    outcome = product.reconcile(
        run_config={
            "ops": {
                "hubspot_deals": {"config": old_scope},
                "partner_central_opportunities": {"config": old_scope},
            }
        }
    )
    assert outcome.success
    assert sorted(_stored(product)["hubspot_deals"]["deal_id"]) == ["7001", "7002"]
    assert len(product.opportunities()) == 2


def _pc_emulator(product: Product) -> Any:
    emulator = product.stack.partner_central
    assert emulator is not None, "the stack runs the Partner Central emulator"
    return emulator
