"""Proof of agreement: per field, how many linked pairs disagree and why; unexplained ones fail it."""

from __future__ import annotations

import copy
from typing import Any

from hspc_pipelines.mapping import DealBundle, MappingConfig
from hspc_pipelines.mapping.build import build_body, nest
from hspc_pipelines.reconcile.agreement import (
    CONFLICT_PENDING,
    INVALID_IN_HUBSPOT,
    NOT_REPRESENTABLE,
    TITLE_FROZEN,
    UNEXPLAINED,
    WAITING_FOR_REVIEW,
    agreement,
)
from hspc_pipelines.reconcile.merge import partner_central_values
from hspc_pipelines.reconcile.plan import DealSnapshot
from hspc_pipelines_tests.support.deals import bundle, current_opportunity, good_deal

CONFIG = MappingConfig.default()


def _pair(deal_id: str, **deal: Any) -> tuple[DealSnapshot, dict[str, Any]]:
    """A linked deal and an opportunity that holds exactly what the deal maps to."""
    opp_id = f"O{deal_id}"
    b = bundle(deal=good_deal(aws_opportunity_id=opp_id, **deal), deal_id=deal_id)
    opp = current_opportunity()
    for section, values in nest(build_body(b, CONFIG).values).items():
        opp[section] = {**opp[section], **values} if isinstance(values, dict) else values
    opp["Id"] = opp_id
    return DealSnapshot(b, "2026-01-01"), opp


def _with(snap: DealSnapshot, **deal: Any) -> DealSnapshot:
    b = snap.bundle
    return DealSnapshot(DealBundle(b.deal_id, {**b.deal, **deal}, b.company, b.contacts), snap.partition_date)


def test_agreeing_pairs_pass_and_each_disagreement_gets_its_reason() -> None:
    pairs = [_pair(str(i)) for i in range(1, 8)]
    snaps, opps = [p[0] for p in pairs], [copy.deepcopy(p[1]) for p in pairs]
    assert agreement(snaps, opps, CONFIG).passed and agreement(snaps, opps, CONFIG).pairs == 7

    opps[0]["LifeCycle"]["ReviewStatus"] = "In review"  # the deal's new stage waits
    snaps[0] = _with(snaps[0], dealstage="contractsent")
    opps[1]["LifeCycle"]["ReviewStatus"] = "Approved"  # title frozen after submission
    snaps[1] = _with(snaps[1], dealname="Renamed after approval #AWS")
    base: dict[str, Any] = {
        "problem": ["the old problem statement, agreed before"]
    }  # both moved since the base
    snaps[2] = _with(snaps[2], description="HubSpot's new statement of the customer's problem.")
    opps[3]["LifeCycle"]["Stage"] = "Closed Lost"  # moved in Partner Central after the run: no reason
    snaps[4] = _with(snaps[4], closedate="not a date")  # invalid on the HubSpot side
    report = agreement(snaps[:5], opps[:5], CONFIG, {"3": base})
    assert report.counts["stage"] == {WAITING_FOR_REVIEW: 1, UNEXPLAINED: 1}
    assert report.counts["title"] == {TITLE_FROZEN: 1}
    assert report.counts["problem"] == {CONFLICT_PENDING: 1}
    assert report.counts["close_date"] == {INVALID_IN_HUBSPOT: 1}
    assert not report.passed and report.unexplained == [("4", "O4", "stage")]
    assert "| stage | 3 | 1 | 0 | 0 | 0 | 0 | 1 |" in report.table()

    # a Partner Central stage the deal's pipeline cannot show is explained
    opps[5]["LifeCycle"]["Stage"] = "Committed"
    config = MappingConfig(stage_maps={"default": {"qualifiedtobuy": "Qualified"}})
    only = agreement([snaps[5]], [opps[5]], config)
    assert only.counts == {"stage": {NOT_REPRESENTABLE: 1}} and only.passed


def test_unlinked_and_archived_deals_are_not_pairs() -> None:
    snap, opp = _pair("9")
    unlinked = _with(snap, aws_opportunity_id=None)
    archived = DealSnapshot(snap.bundle, snap.partition_date, archived=True)
    assert agreement([unlinked, archived], [opp], CONFIG).pairs == 0
    assert partner_central_values(opp)["title"] == ["Acme data platform"]
