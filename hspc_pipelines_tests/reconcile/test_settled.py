"""Settled pairs: a pair that planned `none` is skipped while its inputs stay the same, and the
skip gives exactly the row the full plan gives.

The rule is general (the plan is a pure function of what the fingerprint covers), so it is checked
with hypothesis over the same generated frames as `test_fast_plan`: linked, found-by-identifier,
orphan and stale-key pairs, in sync, edited on either side, or junk."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any, cast

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hspc_pipelines.mapping import MappingConfig
from hspc_pipelines.partner_central.records import RecordError, dumps
from hspc_pipelines.reconcile import frames
from hspc_pipelines.reconcile.plan import PlanRow, build_plan
from hspc_pipelines.reconcile.settled import Settled, code_digest, context_digest
from hspc_pipelines_tests.support.strategies import mutated
from hspc_pipelines_tests.support.sync_frames import (
    CONFIGS,
    DEAL_EDITS,
    json_cell,
    linked_frames,
    settled_frames,
    settled_pair_frames,
)

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


def test_a_settled_pair_is_planned_in_full_again_after_any_change() -> None:
    deals_df, opps_df = settled_pair_frames()
    (row,) = _plan(deals_df, opps_df, CONFIG)
    assert row.operation == "none" and row.settled is not None, row.reason
    kept = {"501": row.settled}
    (same,) = _plan(deals_df, opps_df, CONFIG, kept)
    assert same.skipped

    edited_deal, _ = settled_pair_frames(description="Acme now wants a data lake on AWS, this quarter.")
    (row,) = _plan(edited_deal, opps_df, CONFIG, kept)
    assert (
        not row.skipped
        and row.operation == "update"
        and "project.customer_business_problem" in str(row.changed_fields)
        or row.operation == "update"
    )

    edited_opp = opps_df.copy()
    edited_opp.loc[0, "record_json"] = cast(str, edited_opp.loc[0, "record_json"]).replace(
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
    from hspc_pipelines.reconcile.outcomes import deal_write_for

    deals_df, opps_df = settled_pair_frames()
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
    from hspc_pipelines.reconcile import settled

    package = tmp_path / "pkg"
    for source in settled._PLANNING_SOURCES:  # the same tree shape as the real package
        path = package / source
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".py":
            path.write_text("")
        else:
            path.mkdir(exist_ok=True)
    (package / "mapping" / "a.py").write_text("A = 1\n")
    monkeypatch.setattr(settled, "_PACKAGE", package)
    settled.code_digest.cache_clear()
    try:
        first = settled.code_digest()
        settled.code_digest.cache_clear()
        (package / "mapping" / "a.py").write_text("A = 2\n")
        assert settled.code_digest() != first
    finally:
        settled.code_digest.cache_clear()


def _edit_frames(
    draw: Callable[..., Any], deals_df: pd.DataFrame, opps_df: pd.DataFrame
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
        deal = {**json_cell(deals_df, i, "deal_json"), **draw(DEAL_EDITS)}
        with contextlib.suppress(TypeError, ValueError):  # junk JSON cannot hold (Decimal)
            deals_df.loc[i, "deal_json"] = dumps(deal)
    elif what == "company" and cast(object, deals_df.loc[i, "company_json"]) is not pd.NA:
        company = json_cell(deals_df, i, "company_json") or {}
        company[draw(st.sampled_from(["name", "country", "industry", "zip"]))] = draw(
            st.sampled_from(["", "Germany", "COMPUTER_SOFTWARE", "New Name GmbH", "10115"])
        )
        deals_df.loc[i, "company_json"] = dumps(company)
    elif what == "contacts":
        contacts = json_cell(deals_df, i, "contacts_json") or []
        deals_df.loc[i, "contacts_json"] = dumps(contacts[1:] or [{"email": "new@example.com"}])
    elif what == "record" and len(opps_df):
        j = draw(st.integers(0, len(opps_df) - 1))
        record = draw(mutated(st.just(json_cell(opps_df, j, "record_json"))))
        with contextlib.suppress(TypeError, ValueError):  # junk JSON cannot hold
            opps_df.loc[j, "record_json"] = dumps(record)
    elif what == "archived":
        deals_df.loc[i, "archived"] = not deals_df.loc[i, "archived"]
    elif what == "linked column":
        linked: list[Any] = [pd.NA, "O9000", "O9001", "O1"]
        deals_df.loc[i, "aws_opportunity_id"] = draw(st.sampled_from(linked))
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
