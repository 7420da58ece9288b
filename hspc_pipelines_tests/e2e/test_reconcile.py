"""The reconcile graph end to end against the emulators (issue: snapshot, plan, apply, write back)."""

from __future__ import annotations

import json
from collections import Counter

import dagster as dg
import pytest
import requests

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines_tests.support.product import Product, running_product

DEAL_PROPS = (
    "dealname",
    "aws_opportunity_id",
    "aws_sync_status",
    "aws_sync_error",
    "aws_review_status",
    "hs_lastmodifieddate",
    "description",
    "amount",
)


def _seed(product, n=40, seed=3):
    data = generate_seed(n, seed=seed, now_ms=anchor_now())
    product.stack.hubspot.load_seed(data)
    return data


def _first_day(data) -> str:
    """The day the earliest seeded deal was last modified: a range from it to today holds every deal
    (the seeds here span 95-115 days; each day of the range is a partition the run stores events for)."""
    return min(d["properties"]["hs_lastmodifieddate"][:10] for d in data.deals)


def _writes(outcome):
    df = outcome.frames["hubspot_deal_writes"]
    return {str(r["deal_id"]): r for r in df.to_dict("records")}


def _review(product, opp_id, status, comments=None):
    body = {"ReviewStatus": status, **({"ReviewComments": comments} if comments else {})}
    url = (
        product.stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"]
        + f"/_emulator/opportunities/{opp_id}/review"
    )
    requests.post(url, json=body, timeout=10).raise_for_status()


def _synced(product: Product):
    """Seeded deals reconciled once over their whole date range."""
    data = _seed(product)
    outcome = product.reconcile(since=_first_day(data))
    assert outcome.success
    return product, data, outcome


@pytest.fixture
def synced(product):
    """A portal of its own, for a test that changes it."""
    return _synced(product)


@pytest.fixture(scope="module")
def synced_to_read(tmp_path_factory):
    """One portal for the tests that only read it (no write, reconcile or stats reset)."""
    with (
        pytest.MonkeyPatch.context() as mp,
        running_product(tmp_path_factory.mktemp("synced"), mp) as product,
    ):
        yield _synced(product)


def test_first_run_creates_exactly_one_linked_opportunity_per_valid_cosell_deal(synced_to_read):
    product, data, outcome = synced_to_read
    writes = _writes(outcome)
    cosell = set(data.cosell_deal_ids)
    assert set(writes) == cosell, "every co-sell deal gets a result row, and only those"
    statuses = Counter(w["final_status"] for w in writes.values())
    assert set(statuses) <= {"created", "invalid"} and statuses["created"] > len(cosell) // 2

    opps = product.opportunities()
    idents = Counter(o.get("PartnerOpportunityIdentifier") for o in opps)
    assert all(n == 1 for n in idents.values()), f"duplicate opportunities: {idents.most_common(3)}"
    assert len(opps) == statuses["created"]
    by_ident = {o["PartnerOpportunityIdentifier"]: o for o in opps}
    pc = product.pc()
    for deal_id, w in writes.items():
        deal = product.deal(deal_id, *DEAL_PROPS)
        if w["final_status"] == "created":
            opp = by_ident[f"HUBSPOT-{deal_id}"]
            assert deal["aws_opportunity_id"] == opp["Id"], "linked both ways"
            assert deal["aws_sync_status"] == "synced" and not deal["aws_sync_error"]
            full = pc.get_opportunity(Catalog="AWS", Identifier=opp["Id"])
            assert full["Customer"]["Account"]["CompanyName"]
            assert full["Customer"]["Contacts"], "contacts mapped"
            assert "#aws" not in full["Project"]["Title"].lower()
        else:
            assert deal["aws_sync_status"] == "invalid" and not deal["aws_opportunity_id"]
            assert deal["aws_sync_error"] and ":" in deal["aws_sync_error"], "field-level reason on the deal"


def test_non_cosell_deals_are_untouched(synced_to_read):
    product, data, _ = synced_to_read
    others = [d for d in data.deals if d["id"] not in set(data.cosell_deal_ids)]
    assert others
    for d in others[:10]:
        now = product.deal(d["id"], *DEAL_PROPS)
        assert now["hs_lastmodifieddate"] == d["properties"]["hs_lastmodifieddate"]
        assert not now.get("aws_sync_status") and not now.get("aws_opportunity_id")


def test_second_run_writes_nothing_anywhere(synced):
    product, data, _ = synced
    product.stack.hubspot.reset_stats()
    product.stack.partner_central.reset_stats()
    outcome = product.reconcile(since=_first_day(data))
    assert outcome.success
    plan_ops = Counter(outcome.frames["sync_plan"]["operation"])
    assert set(plan_ops) <= {"none", "invalid"}, plan_ops
    pc_calls = product.pc_calls()
    assert not {op for op in pc_calls if not op.startswith(("Get", "List"))}, pc_calls
    hs_calls = product.hubspot_calls()
    writes = {
        k: v
        for k, v in hs_calls.items()
        if "batch/update" in k or "batch/create" in k or k.startswith(("PATCH", "PUT", "DELETE"))
    }
    assert writes == {}, writes


def test_five_edited_deals_give_exactly_five_full_record_updates(synced):
    product, _, outcome = synced
    created = [d for d, w in _writes(outcome).items() if w["final_status"] == "created"][:5]
    for deal_id in created:
        product.hubspot(
            "PATCH",
            f"/crm/v3/objects/deals/{deal_id}",
            json={
                "properties": {
                    "description": f"Edited problem statement for deal {deal_id}: migrate the analytics platform to AWS."
                }
            },
        )
    product.stack.partner_central.reset_stats()
    second = product.reconcile()
    assert second.success
    assert product.pc_calls().get("UpdateOpportunity") == 5
    pc = product.pc()
    for deal_id in created:
        opp_id = product.deal(deal_id, "aws_opportunity_id")["aws_opportunity_id"]
        full = pc.get_opportunity(Catalog="AWS", Identifier=opp_id)
        assert full["Project"]["CustomerBusinessProblem"].startswith("Edited problem statement")
        assert full["Customer"]["Account"]["CompanyName"] and full["LifeCycle"]["Stage"], "whole record kept"
    third = product.reconcile()
    assert Counter(third.frames["sync_plan"]["operation"]).get("update", 0) == 0


def test_edits_during_review_wait_then_apply_and_renames_after_submission_get_one_note(synced):
    product, _, outcome = synced
    deal_id = next(d for d, w in _writes(outcome).items() if w["final_status"] == "created")
    opp_id = product.deal(deal_id, "aws_opportunity_id")["aws_opportunity_id"]
    _review(product, opp_id, "Submitted")
    _review(product, opp_id, "In review")
    product.hubspot("PATCH", f"/crm/v3/objects/deals/{deal_id}", json={"properties": {"amount": "12345"}})

    product.stack.partner_central.reset_stats()
    waiting = product.reconcile()
    row = waiting.frames["sync_plan"].set_index("deal_id").loc[deal_id]
    assert row["operation"] == "blocked" and "review" in row["reason"]
    assert "UpdateOpportunity" not in product.pc_calls()
    assert product.deal(deal_id, "aws_sync_status")["aws_sync_status"] == "blocked"

    _review(product, opp_id, "Approved")
    applied = product.reconcile()
    assert applied.frames["sync_plan"].set_index("deal_id").loc[deal_id]["operation"] == "update"
    full = product.pc().get_opportunity(Catalog="AWS", Identifier=opp_id)
    assert [s["Amount"] for s in full["Project"]["ExpectedCustomerSpend"]] == ["12345"] or float(
        full["Project"]["ExpectedCustomerSpend"][0]["Amount"]
    ) > 0
    title = full["Project"]["Title"]

    product.hubspot(
        "PATCH",
        f"/crm/v3/objects/deals/{deal_id}",
        json={"properties": {"dealname": "A completely new name #AWS"}},
    )
    product.reconcile()
    product.reconcile()
    after = product.pc().get_opportunity(Catalog="AWS", Identifier=opp_id)
    assert after["Project"]["Title"] == title, "title frozen after submission"
    keys = [n["properties"]["hspc_note_key"] for n in product.notes_on(deal_id)]
    assert sum(k.startswith("title-blocked:") for k in keys) == 1, keys
    assert sum(k.startswith(f"review:{opp_id}:Approved") for k in keys) == 1, keys


def test_create_whose_write_back_was_lost_is_linked_not_duplicated(product):
    since = _first_day(_seed(product, n=12, seed=5))
    crashed = product.materialize(
        "hubspot_deals",
        "partner_central_opportunities",
        "partner_central_solutions",
        "sync_plan",
        "opportunity_creates",
        since=since,
    )
    assert crashed.success
    opps_before = product.opportunities()
    assert opps_before
    product.stack.partner_central.reset_stats()
    outcome = product.reconcile(since=since)
    assert "CreateOpportunity" not in product.pc_calls()
    assert len(product.opportunities()) == len(opps_before)
    linked = [w for w in _writes(outcome).values() if w["final_status"] == "linked"]
    assert len(linked) == len(opps_before)
    for opp in opps_before:
        deal_id = opp["PartnerOpportunityIdentifier"].removeprefix("HUBSPOT-")
        assert product.deal(deal_id, "aws_opportunity_id")["aws_opportunity_id"] == opp["Id"]


def test_conflicting_change_is_reread_and_merged_not_overwritten(synced):
    product, _, outcome = synced
    deal_id = next(d for d, w in _writes(outcome).items() if w["final_status"] == "created")
    opp_id = product.deal(deal_id, "aws_opportunity_id")["aws_opportunity_id"]
    product.hubspot(
        "PATCH",
        f"/crm/v3/objects/deals/{deal_id}",
        json={
            "properties": {
                "description": "A changed problem: consolidate three data centres onto AWS within a year."
            }
        },
    )
    assert product.materialize(
        "hubspot_deals", "partner_central_opportunities", "partner_central_solutions", "sync_plan"
    ).success
    # Another writer changes the opportunity after the snapshot.
    pc = product.pc()
    current = pc.get_opportunity(Catalog="AWS", Identifier=opp_id)
    other = {
        k: v
        for k, v in current.items()
        if k
        in (
            "Customer",
            "Project",
            "LifeCycle",
            "PrimaryNeedsFromAws",
            "OpportunityType",
            "NationalSecurity",
            "Origin",
            "PartnerOpportunityIdentifier",
        )
    }
    other["LifeCycle"] = {**other["LifeCycle"], "NextSteps": "Partner manager: call the customer on Monday"}
    other["LifeCycle"].pop("ReviewStatus", None)
    pc.update_opportunity(
        Catalog="AWS",
        Identifier=opp_id,
        LastModifiedDate=current["LastModifiedDate"],
        **{k: v for k, v in other.items() if k != "Origin"},
    )
    product.stack.partner_central.reset_stats()
    assert product.materialize("opportunity_updates").success
    calls = product.pc_calls()
    assert calls.get("UpdateOpportunity") == 2, calls  # the stale attempt, then the merged one
    final = pc.get_opportunity(Catalog="AWS", Identifier=opp_id)
    assert final["Project"]["CustomerBusinessProblem"].startswith("A changed problem")
    assert final["LifeCycle"]["NextSteps"] == "Partner manager: call the customer on Monday"


def test_backfill_of_three_days_is_one_run_over_exactly_those_days(product):
    data = _seed(product, n=80, seed=9)
    days = sorted({d["properties"]["hs_lastmodifieddate"][:10] for d in data.deals})
    start, end = days[len(days) // 2], days[len(days) // 2 + 2]
    window = {
        d["id"]
        for d in data.deals
        if start <= d["properties"]["hs_lastmodifieddate"][:10] <= end
        and d["id"] in set(data.cosell_deal_ids)
    }
    job = product.defs.resolve_job_def("reconcile")
    result = job.execute_in_process(
        instance=product.instance,
        tags={"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end},
    )
    assert result.success
    assert len(product.instance.get_run_records()) == 1
    planned = set(result.output_for_node("sync_plan")["deal_id"].dropna())
    assert planned == window
    filed = {json.dumps(str(x)[:10]) for x in result.output_for_node("hubspot_deals")["partition_date"]}
    assert all(start <= json.loads(f) <= end for f in filed)


def _plan_metadata(product, outcome) -> dict:
    events = product.instance.all_logs(outcome.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    for event in events:
        mat = event.asset_materialization
        if mat is not None and mat.asset_key == dg.AssetKey("sync_plan"):
            return {k: v.value for k, v in mat.metadata.items()}
    raise AssertionError("no sync_plan materialization in the run")


def test_settled_pairs_are_skipped_until_either_side_changes(synced):
    product, data, outcome = synced
    since = _first_day(data)
    created = [d for d, w in _writes(outcome).items() if w["final_status"] == "created"]
    second = product.reconcile(since=since)  # the write-back moved every deal: planned in full
    meta = _plan_metadata(product, second)
    nones = Counter(second.frames["sync_plan"]["operation"])["none"]
    assert nones >= len(created) > 2 and meta["settled_pairs_recorded"] == nones

    third = product.reconcile(since=since)
    meta = _plan_metadata(product, third)
    assert meta["settled_pairs_skipped"] == nones and meta["settled_pairs_recorded"] == 0
    assert third.frames["sync_plan"].equals(second.frames["sync_plan"]), (
        "the skip plans what the full plan did"
    )

    edited, reviewed = created[0], created[1]
    product.hubspot("PATCH", f"/crm/v3/objects/deals/{edited}", json={"properties": {"amount": "777"}})
    _review(product, product.deal(reviewed, "aws_opportunity_id")["aws_opportunity_id"], "Approved")
    fourth = product.reconcile(since=since)
    plan = fourth.frames["sync_plan"].set_index("deal_id")
    assert plan.loc[edited, "operation"] == "update"
    assert plan.loc[reviewed, "operation"] == "write-back"
    assert _plan_metadata(product, fourth)["settled_pairs_skipped"] == nones - 2
    assert product.deal(reviewed, "aws_review_status")["aws_review_status"] == "Approved"
