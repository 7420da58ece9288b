"""The three-way merge: for any base and any pair of edits, one run brings both sides to the same
values, an edit made on one side only is never lost, a conflict goes the policy's way and is noted
once, and a second run writes nothing."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hspc_pipelines.mapping import DealBundle, MappingConfig
from hspc_pipelines.mapping.build import build_body
from hspc_pipelines.mapping.vocabulary import Operation, RowStatus
from hspc_pipelines.reconcile import frames
from hspc_pipelines.reconcile.merge import (
    MERGED_FIELDS,
    FieldValue,
    conflict_winner,
    decide,
    hubspot_values,
    partner_central_values,
)
from hspc_pipelines.reconcile.outcomes import ApplyResult, deal_write_for
from hspc_pipelines.reconcile.plan import DealSnapshot, PlanRow, build_plan
from hspc_pipelines_tests.support.deals import bundle, current_opportunity, good_deal

CONFIG = MappingConfig.default()
DEAL_ID = "123"

# Each field's possible values, as (what the deal holds, what the opportunity holds) for the same value.
TITLES = ["Acme data platform", "Acme lakehouse", "Acme warehouse rollout"]
PROBLEMS = [
    "Acme needs to move its analytics warehouse to AWS this year.",
    "Acme must retire its data centre before the lease ends next spring.",
    "Acme wants managed streaming for its plant telemetry at scale.",
]
AMOUNTS = ["12000", "2500", "40000.5"]
STAGES = [
    ("qualifiedtobuy", "Qualified"),
    ("appointmentscheduled", "Prospect"),
    ("presentationscheduled", "Technical Validation"),
    ("contractsent", "Committed"),
]
DATES = ["2099-12-31", "2099-06-30", "2098-01-15"]
CHOICES: dict[str, int] = {
    "title": len(TITLES),
    "problem": len(PROBLEMS),
    "spend": len(AMOUNTS),
    "stage": len(STAGES),
    "close_date": len(DATES),
}


def set_on_deal(deal: dict[str, Any], name: str, i: int) -> None:
    if name == "title":
        deal["dealname"] = f"{TITLES[i]} #AWS"
    elif name == "problem":
        deal["description"] = PROBLEMS[i]
    elif name == "spend":
        deal["amount"] = AMOUNTS[i]
    elif name == "stage":
        deal["dealstage"] = STAGES[i][0]
    else:
        deal["closedate"] = f"{DATES[i]}T00:00:00Z"


def set_on_opportunity(opp: dict[str, Any], name: str, i: int) -> None:
    if name == "title":
        opp["Project"]["Title"] = TITLES[i]
    elif name == "problem":
        opp["Project"]["CustomerBusinessProblem"] = PROBLEMS[i]
    elif name == "spend":
        opp["Project"]["ExpectedCustomerSpend"] = [
            {"Amount": AMOUNTS[i], "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}
        ]
    elif name == "stage":
        opp["LifeCycle"]["Stage"] = STAGES[i][1]
    else:
        opp["LifeCycle"]["TargetCloseDate"] = DATES[i]


class Pair:
    """A deal and its opportunity held in memory, with a base; `run` plans, applies and writes back
    as the reconcile does (the update replaces the record, the deal write is `deal_write_for`)."""

    def __init__(self, config: MappingConfig = CONFIG) -> None:
        self.config = config
        start = bundle(deal=good_deal(aws_opportunity_id="O1234567"), deal_id=DEAL_ID)
        self.deal: dict[str, Any] = dict(start.deal)
        self.company, self.contacts = start.company, list(start.contacts)
        self.opp: dict[str, Any] = current_opportunity()
        self.base: dict[str, Any] | None = None
        self.clock = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self.run()  # converge once, as a pair linked before the merge existed
        assert self.run().operation == Operation.NONE and self.base is not None

    @property
    def bundle(self) -> DealBundle:
        return DealBundle(DEAL_ID, dict(self.deal), self.company, self.contacts)

    def plan(self) -> PlanRow:
        bases = {DEAL_ID: self.base} if self.base is not None else None
        snaps = [DealSnapshot(self.bundle, "2026-01-01")]
        (row,) = build_plan(snaps, [self.opp], {}, self.config, "AWS", bases=bases)
        return row

    def run(self) -> PlanRow:
        row = self.plan()
        if row.base is not None:
            self.base = row.base
        (planned,) = frames.plan_rows(frames.plan_frame([row]))
        result = None
        if row.operation == Operation.UPDATE:
            assert row.request is not None
            record = copy.deepcopy(row.request)
            for key in ("Catalog", "Identifier"):
                record.pop(key)
            self.clock += dt.timedelta(minutes=1)
            record.update(Id=self.opp["Id"], Arn=self.opp["Arn"], LastModifiedDate=self.clock)
            record["LifeCycle"]["ReviewStatus"] = self.opp["LifeCycle"]["ReviewStatus"]
            # UpdateOpportunity leaves the associated solutions as they were (Associate/Disassociate)
            record["RelatedEntityIdentifiers"] = copy.deepcopy(self.opp.get("RelatedEntityIdentifiers"))
            self.opp = record
            result = ApplyResult(
                row.entity_key, DEAL_ID, self.opp["Id"], row.operation, RowStatus.UPDATED, "2026-01-01"
            )
            result.record = self.opp
        write = deal_write_for(planned, result, self.config)
        if write is not None:
            self.deal.update(write.properties)
            self.last_status = write.final_status
        # the pair agrees now (what the replan after apply records)
        agreed = self.plan()
        if agreed.base is not None:
            self.base = agreed.base
        return row

    def values(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return hubspot_values(build_body(self.bundle, self.config)), partner_central_values(self.opp)


edits = st.dictionaries(
    st.sampled_from(MERGED_FIELDS), st.integers(min_value=0, max_value=2), max_size=len(MERGED_FIELDS)
)


def _edit_index(name: str, i: int) -> int:
    return i % CHOICES[name]


@pytest.mark.parametrize("policy", ["owner", "hubspot", "partner_central"])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(hs_edits=edits, pc_edits=edits, start=edits)
def test_one_run_converges_keeps_one_sided_edits_and_a_second_run_writes_nothing(
    policy: str, hs_edits: dict[str, int], pc_edits: dict[str, int], start: dict[str, int]
) -> None:
    pair = Pair(dataclasses.replace(CONFIG, conflict_policy=policy))  # type: ignore[arg-type]
    for name, i in start.items():  # any base: both sides moved together first
        set_on_deal(pair.deal, name, _edit_index(name, i))
        set_on_opportunity(pair.opp, name, _edit_index(name, i))
    pair.run()
    before_hs, before_pc = pair.values()
    assert before_hs == before_pc
    for name, i in hs_edits.items():
        set_on_deal(pair.deal, name, _edit_index(name, i))
    for name, i in pc_edits.items():
        set_on_opportunity(pair.opp, name, _edit_index(name, i))
    edited_hs, edited_pc = pair.values()

    first = pair.run()
    after_hs, after_pc = pair.values()
    assert after_hs == after_pc, "both sides hold the same values after one run"
    for name in MERGED_FIELDS:
        hs_moved = edited_hs[name] != before_hs[name]
        pc_moved = edited_pc[name] != before_pc[name]
        if hs_moved and not pc_moved:
            assert after_hs[name] == edited_hs[name], f"HubSpot's edit of {name} was lost"
        elif pc_moved and not hs_moved:
            assert after_pc[name] == edited_pc[name], f"Partner Central's edit of {name} was lost"
        elif hs_moved and pc_moved and edited_hs[name] != edited_pc[name]:
            winner = edited_pc if policy == "partner_central" else edited_hs
            assert after_hs[name] == winner[name], f"{name}: the policy's side wins"
            assert any(c["field"] == name for c in first.conflicts)
    if first.conflicts:
        assert pair.last_status == RowStatus.CONFLICT
        assert sum(1 for n in first.notes if n.key.startswith("conflict:")) == 1
    second = pair.run()
    assert second.operation == Operation.NONE and not second.deal_updates and not second.notes


def test_a_partner_central_edit_reaches_the_deal_instead_of_being_put_back() -> None:
    pair = Pair()
    set_on_opportunity(pair.opp, "stage", 2)  # Technical Validation
    set_on_opportunity(pair.opp, "close_date", 1)
    row = pair.run()
    assert row.operation == Operation.WRITE_BACK and row.request is None
    assert row.deal_updates["dealstage"] == "presentationscheduled"
    assert row.deal_updates["closedate"] == "2099-06-30T00:00:00Z"
    assert pair.run().operation == Operation.NONE


def test_title_and_spend_come_back_with_the_tag_and_in_the_amount_mode() -> None:
    pair = Pair(dataclasses.replace(CONFIG, amount_mode="total_contract"))
    set_on_opportunity(pair.opp, "title", 1)
    set_on_opportunity(pair.opp, "spend", 1)  # 2500 a month
    row = pair.run()
    assert row.deal_updates["dealname"] == "Acme lakehouse #AWS"
    assert row.deal_updates["amount"] == "30000"  # twelve months of 2500
    assert pair.run().operation == Operation.NONE


def test_under_review_the_hubspot_change_waits_and_the_partner_central_one_is_written_back() -> None:
    pair = Pair()
    pair.opp["LifeCycle"]["ReviewStatus"] = "Submitted"
    set_on_opportunity(pair.opp, "stage", 1)
    row = pair.run()
    assert row.operation == Operation.WRITE_BACK and row.deal_updates["dealstage"] == "appointmentscheduled"
    set_on_deal(pair.deal, "problem", 2)
    row = pair.run()
    assert row.operation == Operation.BLOCKED
    base_problem = pair.base["problem"] if pair.base else None
    assert base_problem == [PROBLEMS[0]], "the waiting change does not become the base"
    pair.opp["LifeCycle"]["ReviewStatus"] = "Approved"
    assert pair.run().operation == Operation.UPDATE, "once the review ends, HubSpot's change goes out"
    assert pair.values()[1]["problem"] == [PROBLEMS[2]]


def test_without_a_base_the_owner_wins_once_then_the_base_is_kept() -> None:
    pair = Pair()
    pair.base = None
    set_on_opportunity(pair.opp, "stage", 3)
    row = pair.run()
    assert row.operation == Operation.UPDATE and row.changed_fields, "as before the merge: HubSpot owns it"
    assert pair.values()[1]["stage"] == ["Qualified"] and pair.base is not None
    set_on_opportunity(pair.opp, "stage", 3)
    assert pair.run().operation == Operation.WRITE_BACK, "with a base, the edit is Partner Central's"


def test_a_conflict_is_noted_once_and_carried_in_the_history_reason() -> None:
    pair = Pair()
    set_on_deal(pair.deal, "title", 1)
    set_on_opportunity(pair.opp, "title", 2)
    row = pair.run()
    assert row.operation == Operation.UPDATE and pair.last_status == RowStatus.CONFLICT
    (note,) = [n for n in row.notes if n.key.startswith("conflict:")]
    assert "Acme warehouse rollout" in note.body and "kept HubSpot's Acme lakehouse" in note.body
    assert "conflict on title: hubspot wins, lost Acme warehouse rollout" in row.reason
    assert [c["field"] for c in row.conflicts] == ["title"]


def test_newest_policy_compares_the_deal_stamp_with_last_modified() -> None:
    config = dataclasses.replace(CONFIG, conflict_policy="newest")
    opp = {"LastModifiedDate": dt.datetime(2026, 3, 1, tzinfo=dt.UTC)}
    older = {"hs_lastmodifieddate": "2026-02-01T00:00:00Z"}
    newer = {"hs_lastmodifieddate": str(int(dt.datetime(2026, 4, 1, tzinfo=dt.UTC).timestamp() * 1000))}
    assert conflict_winner("stage", config, older, opp) == "partner_central"
    assert conflict_winner("stage", config, newer, opp) == "hubspot"
    assert conflict_winner("stage", config, {}, opp) == "hubspot"
    owner = dataclasses.replace(CONFIG, ownership={**CONFIG.ownership, "stage": "partner_central"})
    assert conflict_winner("stage", owner, older, opp) == "partner_central"
    assert conflict_winner("title", owner, older, opp) == "hubspot"


def test_decide_on_plain_values() -> None:
    base: dict[str, FieldValue] = {f: ["a"] for f in MERGED_FIELDS}
    hs: dict[str, FieldValue] = {**base, "title": ["b"], "stage": ["x"], "problem": ["same"]}
    pc: dict[str, FieldValue] = {**base, "spend": ["c"], "stage": ["y"], "problem": ["same"]}
    decision = decide(hs, pc, base, CONFIG, {}, {})
    assert decision.winners == {"title": "hubspot", "spend": "partner_central", "stage": "hubspot"}
    assert [c.field for c in decision.conflicts] == ["stage"]
    assert decision.agreed == {"problem": ["same"], "close_date": ["a"]}
    assert decide(hs, pc, None, CONFIG, {}, {}).winners == {}, "no base: nothing is decided here"
