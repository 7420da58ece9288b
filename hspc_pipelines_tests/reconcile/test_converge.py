"""The convergence check plans again only what apply and write-back can have moved, and reaches the
same verdict as planning every deal again."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import HealthCheck, given, settings

from hspc_pipelines.mapping import MappingConfig
from hspc_pipelines.mapping.vocabulary import Operation, RowStatus
from hspc_pipelines.partner_central.records import dumps
from hspc_pipelines.reconcile import frames
from hspc_pipelines.reconcile.converge import replan_after_apply, unsettled
from hspc_pipelines.reconcile.outcomes import ApplyResult, DealWrite
from hspc_pipelines.reconcile.plan import PlanRow, build_plan
from hspc_pipelines_tests.support.sync_frames import (
    json_cell,
    linked_frames,
    settled_frames,
    settled_pair_frames,
)

CONFIG = MappingConfig.default()


def _planned(rows: list[PlanRow]) -> dict[str, tuple[str, str | None]]:
    return {
        r.deal_id: (r.operation, r.opportunity_id)
        for r in rows
        if r.deal_id and r.entity_key.startswith("deal:")
    }


def _first(deals_df: Any, opps_df: Any, config: Any = CONFIG) -> tuple[Any, list[Any], list[PlanRow]]:
    snapshots = frames.deal_snapshots(deals_df)
    records, partitions = frames.opportunity_records(opps_df)
    return snapshots, records, build_plan(snapshots, records, partitions, config, "AWS")


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(linked_frames())
def test_narrowed_check_finds_what_planning_everything_finds(data: Any) -> None:
    deals_df, opps_df, config = data
    snapshots, records, rows = _first(deals_df, opps_df, config)
    everything = replan_after_apply(snapshots, records, [], [], config, "AWS")
    narrowed = replan_after_apply(snapshots, records, [], [], config, "AWS", _planned(rows))
    assert unsettled(narrowed) == unsettled(everything)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(settled_frames())
def test_settled_untouched_pairs_are_not_planned_again(data: Any) -> None:
    deals_df, opps_df, config = data
    snapshots, records, rows = _first(deals_df, opps_df, config)
    narrowed = replan_after_apply(snapshots, records, [], [], config, "AWS", _planned(rows))
    moved = {r.deal_id for r in rows if r.operation not in ("none", "blocked", "invalid")}
    assert {r.deal_id for r in narrowed} <= moved


def _write(deal_id: str, **properties: Any) -> tuple[DealWrite, str]:
    return DealWrite(deal_id, f"deal:{deal_id}", "2026-01-01", RowStatus.WRITTEN, properties), "written"


def test_a_written_deal_and_a_deal_whose_opportunity_was_written_are_planned_again() -> None:
    deals_df, opps_df = settled_pair_frames()
    snapshots, records, rows = _first(deals_df, opps_df)
    assert [r.operation for r in rows] == ["none"]
    planned = _planned(rows)
    assert replan_after_apply(snapshots, records, [], [], CONFIG, "AWS", planned) == []

    # the deal was written (here: a value the plan would not have written, so the replan sees it)
    (row,) = replan_after_apply(snapshots, records, [], [_write("501", amount="1")], CONFIG, "AWS", planned)
    assert row.deal_id == "501" and row.operation == "update"

    # another row's update rewrote the opportunity this settled deal is linked to
    record = dict(json_cell(opps_df, 0, "record_json"))
    record["Project"] = {**record["Project"], "Title": "Renamed elsewhere"}
    result = ApplyResult(
        "deal:999", "999", "O9001", Operation.UPDATE, RowStatus.UPDATED, "2026-01-01", record=record
    )
    (row,) = replan_after_apply(snapshots, records, [result], [], CONFIG, "AWS", planned)
    assert row.deal_id == "501" and row.operation != "none"


def test_a_deal_the_plan_left_out_is_planned_again_once_written() -> None:
    """An orphan's write-back can link a deal the first plan skipped (not co-sell, not linked)."""
    deals_df, opps_df = settled_pair_frames(dealname="Acme data platform")
    deal = json_cell(deals_df, 0, "deal_json")
    deal.pop("aws_opportunity_id")
    deals_df.loc[0, "deal_json"] = dumps(deal)
    deals_df.loc[0, "aws_opportunity_id"] = None
    snapshots, records, rows = _first(deals_df, opps_df.iloc[0:0])
    assert rows == []
    written = [_write("501", aws_opportunity_id="O9001")]
    (row,) = replan_after_apply(snapshots, records, [], written, CONFIG, "AWS", _planned(rows))
    assert row.deal_id == "501" and row.operation == "blocked", "linked to an opportunity not in the snapshot"
    assert dataclasses.asdict(row)["opportunity_id"] == "O9001"
