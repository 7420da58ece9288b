"""The three-way merge: for any base and any pair of edits, one run brings both sides to the same
values, an edit made on one side only is never lost, a conflict goes the policy's way and is noted
once, and a second run writes nothing."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hspc_pipelines.mapping import DealBundle, MappingConfig
from hspc_pipelines.mapping.build import build_body
from hspc_pipelines.mapping.vocabulary import Operation, RowStatus
from hspc_pipelines.reconcile import frames
from hspc_pipelines.reconcile.merge import (
    DEAL_FIELDS,
    MERGED_FIELDS,
    PROPERTY_TIMESTAMPS,
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
# Members HubSpot holds on the company, the contact and the deal's multi-selects:
# (HubSpot record, property, its values) and the opportunity's path with the same values.
MEMBERS: dict[str, tuple[str, str, list[str], tuple[str, ...], list[Any]]] = {
    "customer.name": (
        "company",
        "name",
        NAMES := ["Acme Inc", "Acme Holdings", "Acme Group"],
        ("Customer", "Account", "CompanyName"),
        NAMES,
    ),
    "customer.city": (
        "company",
        "city",
        CITIES := ["San Francisco", "Oakland", "San Jose"],
        ("Customer", "Account", "Address", "City"),
        CITIES,
    ),
    "customer.postal_code": (
        "company",
        "zip",
        ZIPS := ["94105", "94607", "95113"],
        ("Customer", "Account", "Address", "PostalCode"),
        ZIPS,
    ),
    "customer.website": (
        "company",
        "website",
        SITES := ["https://www.acme.com", "https://acme.io", ("https://acme.example")],
        ("Customer", "Account", "WebsiteUrl"),
        SITES,
    ),
    "customer.industry": (
        "company",
        "industry",
        ["COMPUTER_GAMES", "FINANCIAL_SERVICES", "FARMING"],
        ("Customer", "Account", "Industry"),
        ["Gaming", "Financial Services", "Agriculture"],
    ),
    "customer.country": (
        "company",
        "country",
        ["United States", "Canada", "Germany"],
        ("Customer", "Account", "Address", "CountryCode"),
        ["US", "CA", "DE"],
    ),
    "customer.street": (
        "company",
        "address",
        STREETS := ["1 Main St", "2 Market St", "3 Bay St"],
        ("Customer", "Account", "Address", "StreetAddress"),
        STREETS,
    ),
    "contacts": ("contact", "jobtitle", JOBS := ["CTO", "CIO", "VP Data"], ("BusinessTitle",), JOBS),
    "delivery_models": (
        "deal",
        "aws_delivery_models",
        ["SaaS or PaaS", "Managed Services", ("Professional Services")],
        ("Project", "DeliveryModels"),
        [["SaaS or PaaS"], ["Managed Services"], ["Professional Services"]],
    ),
    "primary_needs": (
        "deal",
        "aws_primary_needs",
        ["Co-Sell - Pricing Assistance", ("Co-Sell - Business Presentation")],
        ("PrimaryNeedsFromAws",),
        [["Co-Sell - Pricing Assistance"], ["Co-Sell - Business Presentation"]],
    ),
    "use_case": (
        "deal",
        "aws_use_case",
        ["Archiving", "Blockchain"],
        ("Project", "CustomerUseCase"),
        ["Archiving", "Blockchain"],
    ),
}
CHOICES: dict[str, int] = {
    "title": len(TITLES),
    "problem": len(PROBLEMS),
    "spend": len(AMOUNTS),
    "stage": len(STAGES),
    "close_date": len(DATES),
    **{name: len(member[2]) for name, member in MEMBERS.items()},
}


def set_on_records(pair: Pair, name: str, i: int) -> None:
    """An edit in HubSpot: the deal's own fields, or the company's, the contact's, the multi-selects."""
    if name not in MEMBERS:
        set_on_deal(pair.deal, name, i)
        return
    record, prop, values, _, _ = MEMBERS[name]
    target = {"company": pair.company, "contact": pair.contacts[0], "deal": pair.deal}[record]
    target[prop] = values[i]


def set_on_pc(opp: dict[str, Any], name: str, i: int) -> None:
    """An edit in Partner Central (the contact: the first contact's title)."""
    if name not in MEMBERS:
        set_on_opportunity(opp, name, i)
        return
    _, _, _, path, values = MEMBERS[name]
    node: Any = opp["Customer"]["Contacts"][0] if name == "contacts" else opp
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = copy.deepcopy(values[i])


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
        self.written = False
        start = bundle(deal=good_deal(aws_opportunity_id="O1234567"), deal_id=DEAL_ID)
        self.deal: dict[str, Any] = dict(start.deal)
        # no state: a US state is normalised to its name, a country edit would move the state too
        self.company: dict[str, Any] = {**(start.company or {}), "state": None}
        # an international phone: a national one is read with the company's country as the hint
        self.contacts: list[dict[str, Any]] = [
            {**c, "hs_object_id": "800", "phone": "+1 415-555-0123"} for c in start.contacts
        ]
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
            self.written = bool(write.properties or write.records)
            for record in write.records:  # the company's and contacts' batch updates
                if record["object_type"] == "companies":
                    assert record["id"] == self.company["hs_object_id"]
                    self.company.update(record["properties"])
                else:
                    (contact,) = [c for c in self.contacts if c["hs_object_id"] == record["id"]]
                    contact.update(record["properties"])
        # the pair agrees now (what the replan after apply records)
        agreed = self.plan()
        if agreed.base is not None:
            self.base = agreed.base
        return row

    def values(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return hubspot_values(build_body(self.bundle, self.config)), partner_central_values(self.opp)


# Every merged field but the state (its value depends on the country: a US state is a full name);
# `test_a_state_edit_in_partner_central_reaches_the_company` covers it.
EDITED = [f for f in MERGED_FIELDS if f in CHOICES]
edits = st.dictionaries(st.sampled_from(EDITED), st.integers(min_value=0, max_value=2), max_size=len(EDITED))


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
        set_on_records(pair, name, _edit_index(name, i))
        set_on_pc(pair.opp, name, _edit_index(name, i))
    pair.run()
    before_hs, before_pc = pair.values()
    assert before_hs == before_pc
    for name, i in hs_edits.items():
        set_on_records(pair, name, _edit_index(name, i))
    for name, i in pc_edits.items():
        set_on_pc(pair.opp, name, _edit_index(name, i))
    edited_hs, edited_pc = pair.values()

    first = pair.run()
    after_hs, after_pc = pair.values()
    assert after_hs == after_pc, "both sides hold the same values after one run"
    for name in EDITED:
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
    assert not second.record_updates and not pair.written


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


def _stamped(modified: str, record: str = "deal", **stamps: str) -> DealBundle:
    """A bundle whose deal was last modified at `modified` and whose `record`'s properties last
    changed at `stamps` (as the snapshot reads them from HubSpot's property history)."""
    deal: dict[str, Any] = {"hs_lastmodifieddate": modified}
    company: dict[str, Any] = {"hs_object_id": "9", "hs_lastmodifieddate": modified}
    target = deal if record == "deal" else company
    if stamps:
        target[PROPERTY_TIMESTAMPS] = json.dumps(stamps)
    return DealBundle(DEAL_ID, deal, company)


def test_newest_policy_compares_the_property_stamp_with_last_modified() -> None:
    config = dataclasses.replace(CONFIG, conflict_policy="newest")
    opp = {"LastModifiedDate": dt.datetime(2026, 3, 1, tzinfo=dt.UTC)}
    april = str(int(dt.datetime(2026, 4, 1, tzinfo=dt.UTC).timestamp() * 1000))
    # the deal changed after the opportunity, but not its stage: Partner Central's stage is newer
    assert conflict_winner("stage", config, _stamped(april, dealstage="2026-02-01T00:00:00.000Z"), opp) == (
        "partner_central"
    )
    assert conflict_winner("stage", config, _stamped(april, dealstage="2026-03-02T00:00:00.000Z"), opp) == (
        "hubspot"
    )
    # a member of the customer: the company's property history
    older_name = _stamped(april, "company", name="2026-02-01T00:00:00.000Z")
    assert conflict_winner("customer.name", config, older_name, opp) == "partner_central"
    assert conflict_winner("customer.city", config, older_name, opp) == "hubspot", "no history: the record"
    # no history read: the record's own stamp, as before; no stamp at all: HubSpot
    assert conflict_winner("stage", config, _stamped("2026-02-01T00:00:00Z"), opp) == "partner_central"
    assert conflict_winner("stage", config, _stamped(april), opp) == "hubspot"
    assert conflict_winner("stage", config, DealBundle(DEAL_ID, {}), opp) == "hubspot"
    owner = dataclasses.replace(CONFIG, ownership={**CONFIG.ownership, "stage": "partner_central"})
    assert conflict_winner("stage", owner, _stamped(april), opp) == "partner_central"
    assert conflict_winner("title", owner, _stamped(april), opp) == "hubspot"
    assert conflict_winner("customer.name", owner, _stamped(april), opp) == "hubspot"


def test_decide_on_plain_values() -> None:
    base: dict[str, FieldValue] = {f: ["a"] for f in DEAL_FIELDS}
    hs: dict[str, FieldValue] = {**base, "title": ["b"], "stage": ["x"], "problem": ["same"]}
    pc: dict[str, FieldValue] = {**base, "spend": ["c"], "stage": ["y"], "problem": ["same"]}
    nobody = DealBundle(DEAL_ID, {})
    decision = decide(hs, pc, base, CONFIG, nobody, {})
    assert decision.winners == {"title": "hubspot", "spend": "partner_central", "stage": "hubspot"}
    assert [c.field for c in decision.conflicts] == ["stage"]
    assert decision.agreed == {"problem": ["same"], "close_date": ["a"]}
    assert decide(hs, pc, None, CONFIG, nobody, {}).winners == {}, "no base: nothing is decided here"


def test_a_member_hubspot_cannot_hold_is_kept_in_partner_central_not_reverted() -> None:
    pair = Pair(dataclasses.replace(CONFIG, conflict_policy="partner_central"))
    added = {"Email": "grace@acme.com", "FirstName": "Grace", "LastName": "Hopper"}
    pair.opp["Customer"]["Contacts"].append(added)
    row = pair.run()
    assert row.operation == Operation.NONE and not row.record_updates and not pair.written
    assert [c.get("Email") for c in pair.opp["Customer"]["Contacts"]] == ["jane@acme.com", "grace@acme.com"]
    hs, pc = pair.values()
    assert hs["contacts"] != pc["contacts"], "kept apart: the agreement check says why"
    # HubSpot edits the contacts too: a conflict; Partner Central's value still cannot be held
    pair.contacts[0]["jobtitle"] = "CIO"
    row = pair.run()
    assert row.operation == Operation.UPDATE and [c["winner"] for c in row.conflicts] == ["hubspot"]
    assert any("grace@acme.com" in n.body for n in row.notes), "the note keeps the value that lost"
    assert pair.values()[0] == pair.values()[1]
    assert pair.run().operation == Operation.NONE


def test_an_industry_edit_reaches_the_company_and_clears_the_deal_override() -> None:
    pair = Pair()
    set_on_records(pair, "customer.industry", 0)  # Gaming
    pair.deal["aws_industry"] = "Gaming"  # the deal's override, read before the company's
    set_on_pc(pair.opp, "customer.industry", 0)
    pair.run()
    pair.opp["Customer"]["Account"]["Industry"] = "Healthcare"
    row = pair.run()
    assert row.operation == Operation.WRITE_BACK and row.deal_updates["aws_industry"] is None
    assert [u["properties"] for u in row.record_updates] == [{"industry": "HOSPITAL_HEALTH_CARE"}]
    assert pair.values()[0]["customer.industry"] == ["Healthcare", None]
    assert pair.run().operation == Operation.NONE
    # "Other" with a text no HubSpot option matches: kept in Partner Central
    pair.opp["Customer"]["Account"].update(Industry="Other", OtherIndustry="Basket weaving")
    row = pair.run()
    assert row.operation == Operation.NONE and not row.record_updates and not pair.written
    assert pair.opp["Customer"]["Account"]["OtherIndustry"] == "Basket weaving"


def test_a_state_edit_in_partner_central_reaches_the_company() -> None:
    pair = Pair()
    pair.company["state"] = "CA"  # a US customer's state maps to its full name
    pair.run()
    assert pair.values()[1]["customer.state"] == ["California"]
    pair.opp["Customer"]["Account"]["Address"]["StateOrRegion"] = "Oregon"
    row = pair.run()
    assert row.operation == Operation.WRITE_BACK
    assert [u["properties"] for u in row.record_updates] == [{"state": "Oregon"}]
    assert pair.values()[0]["customer.state"] == ["Oregon"]
    assert pair.run().operation == Operation.NONE
    # not a US state name for a US customer: the company could not hold it; kept in Partner Central
    pair.opp["Customer"]["Account"]["Address"]["StateOrRegion"] = "Atlantis"
    assert pair.run().operation == Operation.NONE and not pair.written
    assert pair.opp["Customer"]["Account"]["Address"]["StateOrRegion"] == "Atlantis"
