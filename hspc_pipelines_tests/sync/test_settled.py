"""Settled pairs: a pair that planned `none` is skipped while its inputs stay the same, and the
skip gives exactly the row the full plan gives.

The rule is general (the plan is a pure function of what the fingerprint covers), so it is checked
with hypothesis over the same generated frames as `test_fast_plan`: linked, found-by-identifier,
orphan and stale-key pairs, in sync, edited on either side, or junk."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hspc_pipelines.mapping import MappingConfig, build_create_request, opportunity_to_deal_properties
from hspc_pipelines.sync import frames
from hspc_pipelines.sync.plan import DealSnapshot, PlanRow, build_plan
from hspc_pipelines.sync.records import RecordError, to_jsonable
from hspc_pipelines.sync.settled import Settled, code_digest, context_digest
from hspc_pipelines_tests.mapping.conftest import bundle as make_bundle
from hspc_pipelines_tests.mapping.conftest import good_deal
from hspc_pipelines_tests.mapping.test_fast_paths import mutated
from hspc_pipelines_tests.mapping.test_properties import valid_bundles
from hspc_pipelines_tests.sync.test_fast_plan import CONFIGS, DEAL_EDITS, REVIEW, _record, linked_frames

CONFIG = MappingConfig.default()


def _plan(
    deals_df: pd.DataFrame, opps_df: pd.DataFrame, config: MappingConfig, settled: Any = None, catalog="AWS"
):
    records, partitions = frames.opportunity_records(opps_df)
    return build_plan(frames.deal_snapshots(deals_df), records, partitions, config, catalog, settled)


def _kept(rows: list[PlanRow]) -> dict[str, Settled]:
    return {r.deal_id: r.settled for r in rows if r.settled is not None and r.deal_id}


def _written_back(deals_df: pd.DataFrame, rows: list[PlanRow]) -> pd.DataFrame:
    """The deals as the write-back of `rows` leaves them (so that in-sync pairs plan `none`)."""
    updates = {r.deal_id: r.deal_updates for r in rows if r.entity_key.startswith("deal:")}
    snaps = [
        dataclasses.replace(
            s,
            bundle=dataclasses.replace(s.bundle, deal={**s.bundle.deal, **updates.get(s.bundle.deal_id, {})}),
        )
        for s in frames.deal_snapshots(deals_df)
    ]
    return frames.deals_frame(snaps)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(linked_frames(), st.booleans())
def test_a_plan_with_settled_pairs_is_the_plan_without(data: Any, write_back: bool) -> None:
    deals_df, opps_df, config = data
    if write_back:
        deals_df = _written_back(deals_df, _plan(deals_df, opps_df, config))
    full = _plan(deals_df, opps_df, config)
    kept = _kept(full)
    assert all(r.operation == "none" and r.opportunity_id for r in full if r.settled), (
        "only pairs that settled"
    )
    again = _plan(deals_df, opps_df, config, kept)
    assert again == full
    assert frames.plan_frame(again).equals(frames.plan_frame(full))
    skipped = [r for r in again if r.skipped]
    assert {r.deal_id for r in skipped} == set(kept), "every settled pair is skipped, and only those"
    assert all(r.settled is None for r in skipped), "a skipped pair is not recorded again"
    event(f"skipped {len(skipped)} of {len(full)}")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(linked_frames(), st.data())
def test_a_fingerprint_from_other_inputs_is_not_trusted(data: Any, draw: st.DataObject) -> None:
    """Settled entries that do not match (another pair's fingerprint, a tampered one) change nothing."""
    deals_df, opps_df, config = data
    full = _plan(deals_df, opps_df, config)
    ids = [str(d) for d in deals_df["deal_id"]]
    prints = [s.fingerprint for s in _kept(full).values()] + ["0" * 40]
    bogus = {d: Settled(draw.draw(st.sampled_from(prints)), ("bogus warning",)) for d in ids}
    own = _kept(full)
    bogus = {d: s for d, s in bogus.items() if d not in own or s.fingerprint != own[d].fingerprint}
    again = _plan(deals_df, opps_df, config, bogus)
    assert again == full and not any(r.skipped for r in again)


def _pair_frames(**deal_overrides: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    bundle = make_bundle(good_deal(aws_opportunity_id="O9001", **deal_overrides), deal_id="501")
    request = build_create_request(make_bundle(good_deal(), deal_id="501"), CONFIG, "AWS").request
    assert request is not None
    record = {k: v for k, v in request.items() if k != "ClientToken"}
    record.update(
        Id="O9001", PartnerOpportunityIdentifier="HUBSPOT-501", LastModifiedDate="2026-01-01T00:00:00Z"
    )
    record["LifeCycle"] = {**record["LifeCycle"], "ReviewStatus": "Pending Submission"}
    record = to_jsonable(record)
    deal = dict(bundle.deal)  # as the write-back left it
    deal.update(opportunity_to_deal_properties(record, None, CONFIG, deal.get("pipeline")))
    deal.update(aws_sync_status="synced", aws_sync_error=None)
    bundle = dataclasses.replace(bundle, deal=deal)
    deals_df = frames.deals_frame([DealSnapshot(bundle, "2026-01-01")])
    opps_df = frames.opportunities_frame([(record, "2026-01-01", "counterpart")])
    return deals_df, opps_df


def test_a_settled_pair_is_planned_in_full_again_after_any_change() -> None:
    deals_df, opps_df = _pair_frames()
    (row,) = _plan(deals_df, opps_df, CONFIG)
    assert row.operation == "none" and row.settled is not None, row.reason
    kept = {"501": row.settled}
    (same,) = _plan(deals_df, opps_df, CONFIG, kept)
    assert same.skipped

    edited_deal, _ = _pair_frames(description="Acme now wants a data lake on AWS, this quarter.")
    (row,) = _plan(edited_deal, opps_df, CONFIG, kept)
    assert (
        not row.skipped
        and row.operation == "update"
        and "project.customer_business_problem" in str(row.changed_fields)
        or row.operation == "update"
    )

    edited_opp = opps_df.copy()
    edited_opp.loc[0, "record_json"] = edited_opp.loc[0, "record_json"].replace(
        "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"
    )
    (row,) = _plan(deals_df, edited_opp, CONFIG, kept)
    assert not row.skipped and row.operation == "none"

    (row,) = _plan(deals_df, opps_df, dataclasses.replace(CONFIG, max_contacts=3), kept)
    assert not row.skipped, "another mapping configuration plans in full"
    (row,) = _plan(deals_df, opps_df, CONFIG, kept, catalog="Sandbox")
    assert not row.skipped, "another catalog plans in full"

    archived = deals_df.copy()
    archived["archived"] = True
    (row,) = _plan(archived, opps_df, CONFIG, kept)
    assert not row.skipped and row.operation == "blocked"


def test_a_none_row_carries_no_copy_of_the_deal_and_needs_no_read_to_write() -> None:
    from hspc_pipelines.sync.outcomes import deal_write_for

    deals_df, opps_df = _pair_frames()
    (row,) = _plan(deals_df, opps_df, CONFIG)
    assert row.operation == "none" and row.deal_current == {}
    (plan,) = frames.plan_rows(frames.plan_frame([row]))
    write = deal_write_for(plan, None, CONFIG)
    assert (
        write is not None
        and write.properties == {}
        and write.has_current
        and write.final_status == "unchanged"
    )


def test_the_context_digest_covers_code_configuration_and_catalog() -> None:
    assert len(code_digest()) == 64
    base = context_digest(CONFIG, "AWS")
    assert base == context_digest(MappingConfig.default(), "AWS")
    assert base != context_digest(CONFIG, "Sandbox")
    assert base != context_digest(dataclasses.replace(CONFIG, cosell_tag="#ACE"), "AWS")
    assert base != context_digest(
        dataclasses.replace(CONFIG, industry_overrides={"Widgets": "Manufacturing"}), "AWS"
    )


def test_the_code_digest_follows_the_planning_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from hspc_pipelines.sync import settled

    package = tmp_path / "pkg"
    (package / "mapping").mkdir(parents=True)
    (package / "sync").mkdir()
    (package / "mapping" / "a.py").write_text("A = 1\n")
    for name in ("plan.py", "notes.py", "records.py", "settled.py"):
        (package / "sync" / name).write_text("")
    monkeypatch.setattr(settled, "_PACKAGE", package)
    settled.code_digest.cache_clear()
    try:
        first = settled.code_digest()
        settled.code_digest.cache_clear()
        (package / "mapping" / "a.py").write_text("A = 2\n")
        assert settled.code_digest() != first
    finally:
        settled.code_digest.cache_clear()


@st.composite
def settled_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, MappingConfig]:
    """Pairs as a finished sync leaves them: each opportunity created from its deal, the deal carrying
    the opportunity's id (or only its identifier) and the written-back Partner-Central-owned fields."""
    config = draw(st.sampled_from(CONFIGS))
    snaps, opps = [], []
    for i in range(draw(st.integers(1, 5))):
        bundle = draw(valid_bundles)
        deal_id, opp_id = f"{500 + i}", f"O{9000 + i}"
        request = build_create_request(bundle, config, "AWS").request
        deal = {k: v for k, v in bundle.deal.items() if isinstance(v, str | None)}
        if request is not None:
            record = to_jsonable(_record(request, draw(REVIEW), "2026-01-01T00:00:00+00:00"))
            record.update(Id=opp_id, PartnerOpportunityIdentifier=f"HUBSPOT-{deal_id}")
            if draw(st.integers(0, 4)):
                deal["aws_opportunity_id"] = opp_id
            deal.update(opportunity_to_deal_properties(record, None, config, deal.get("pipeline")))
            deal.update(aws_sync_status="synced", aws_sync_error=None)
            opps.append((record, "2026-01-01", draw(st.sampled_from(["window", "counterpart"]))))
        snaps.append(DealSnapshot(dataclasses.replace(bundle, deal_id=deal_id, deal=deal), "2026-01-01"))
    return frames.deals_frame(snaps), frames.opportunities_frame(opps), config


def _edit_frames(
    draw: st.DrawFn, deals_df: pd.DataFrame, opps_df: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One change of the kind a later run sees: an edit on either side, or frames that lie."""
    deals_df, opps_df = deals_df.copy(), opps_df.copy()
    i = draw(st.integers(0, len(deals_df) - 1))
    what = draw(
        st.sampled_from(
            ["nothing", "deal", "company", "contacts", "record", "archived", "linked column", "record key"]
        )
    )
    event(f"edit: {what}")
    if what == "deal":
        deal = {**frames.loads(deals_df.loc[i, "deal_json"]), **draw(DEAL_EDITS)}
        with contextlib.suppress(TypeError, ValueError):  # junk JSON cannot hold (Decimal)
            deals_df.loc[i, "deal_json"] = frames.dumps(deal)
    elif what == "company" and deals_df.loc[i, "company_json"] is not pd.NA:
        company = frames.loads(deals_df.loc[i, "company_json"]) or {}
        company[draw(st.sampled_from(["name", "country", "industry", "zip"]))] = draw(
            st.sampled_from(["", "Germany", "COMPUTER_SOFTWARE", "New Name GmbH", "10115"])
        )
        deals_df.loc[i, "company_json"] = frames.dumps(company)
    elif what == "contacts":
        contacts = frames.loads(deals_df.loc[i, "contacts_json"]) or []
        deals_df.loc[i, "contacts_json"] = frames.dumps(contacts[1:] or [{"email": "new@example.com"}])
    elif what == "record" and len(opps_df):
        j = draw(st.integers(0, len(opps_df) - 1))
        record = draw(mutated(st.just(frames.loads(opps_df.loc[j, "record_json"]))))
        with contextlib.suppress(TypeError, ValueError):  # junk JSON cannot hold
            opps_df.loc[j, "record_json"] = frames.dumps(record)
    elif what == "archived":
        deals_df.loc[i, "archived"] = not deals_df.loc[i, "archived"]
    elif what == "linked column":
        deals_df.loc[i, "aws_opportunity_id"] = draw(st.sampled_from([pd.NA, "O9000", "O9001", "O1"]))
    elif what == "record key" and len(opps_df):
        opps_df.loc[0, "opportunity_id"] = draw(st.sampled_from(["O9001", "O1", "bogus"]))
    return deals_df, opps_df


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(settled_frames(), st.data())
def test_after_any_change_the_skip_still_gives_the_full_plan(data: Any, draw: st.DataObject) -> None:
    deals_df, opps_df, config = data
    first = _plan(deals_df, opps_df, config)
    kept = _kept(first)
    event(f"settled {len(kept)} of {len(first)}")
    edited_deals, edited_opps = _edit_frames(draw.draw, deals_df, opps_df)
    other_config = draw.draw(st.sampled_from([config, config, *CONFIGS]))
    full = _outcome(edited_deals, edited_opps, other_config, None)
    skipping = _outcome(edited_deals, edited_opps, other_config, kept)
    assert skipping == full
    if full[0] == "rows":
        assert frames.plan_frame(skipping[1]).equals(frames.plan_frame(full[1]))


def _outcome(
    deals_df: pd.DataFrame, opps_df: pd.DataFrame, config: MappingConfig, settled: Any
) -> tuple[Any, ...]:
    """The plan's rows, or the clear error it refuses a record it cannot use with (a record whose
    Id an edit removed): the skip must end the same way as the full plan."""
    try:
        return ("rows", _plan(deals_df, opps_df, config, settled))
    except RecordError as exc:
        event("refused: record without Id")
        return ("refused", str(exc))
