"""The plan's fast path agrees with the full path.

`mapping.update.plan_update` (what `sync/plan.py` runs for every linked pair) recognises pairs whose
HubSpot-owned members already hold the deal's values and then neither builds nor validates the full
UpdateOpportunity request. For random deal/opportunity pairs (mostly in sync, some edited on either
side, some with junk) its answer must be what the full path gives: `build_update_request`, the diff
of the HubSpot-owned views, and for a frozen title the create request's title. In particular "no
change" from the fast comparison iff `build_update_request` yields no change.

The frames side: lazily decoded snapshots and stored records plan exactly like decoded dicts."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hspc_pipelines.mapping import (
    DealBundle,
    MappingConfig,
    build_create_request,
    build_update_request,
    hubspot_owned_view,
    model,
)
from hspc_pipelines.mapping.build import build_body
from hspc_pipelines.mapping.update import UpdatePlan, _unchanged, plan_update
from hspc_pipelines.mapping.view import diff_views
from hspc_pipelines.partner_central.records import StoredRecord, dumps, loads, to_jsonable
from hspc_pipelines.reconcile import frames
from hspc_pipelines.reconcile.plan import DealSnapshot, build_plan
from hspc_pipelines_tests.support.deals import bundle
from hspc_pipelines_tests.support.strategies import valid_bundles
from hspc_pipelines_tests.support.sync_frames import CONFIGS, REVIEW, linked_frames, opportunity_record, pairs

SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))


def full_path(bundle: DealBundle, current: Any, config: MappingConfig, catalog: str) -> UpdatePlan:
    """What sync/plan.py did before the fast path: three separate calls."""
    result = build_update_request(bundle, current, config, catalog)
    if result.errors or result.request is None:
        return UpdatePlan(list(result.errors), list(result.warnings))
    changed = diff_views(hubspot_owned_view(current, config), hubspot_owned_view(result.request, config))
    plan = UpdatePlan([], list(result.warnings), result.request if changed else None, changed)
    if any(w.startswith("title_frozen") for w in result.warnings):
        created = build_create_request(bundle, config, catalog).request or {}
        plan.wanted_title = created.get("Project", {}).get("Title")
    return plan


@SETTINGS
@given(pairs(), st.sampled_from(["AWS", "AWS", "Sandbox", "bad catalog"]))
def test_fast_path_agrees_with_the_full_path(
    pair: tuple[DealBundle, Any, MappingConfig], catalog: str
) -> None:
    bundle, current, config = pair
    before = copy.deepcopy(current)
    fast = plan_update(bundle, current, config, catalog)
    full = full_path(bundle, current, config, catalog)
    assert current == before or current != current, "the record is not modified"
    assert [str(e) for e in fast.errors] == [str(e) for e in full.errors]
    assert fast.warnings == full.warnings
    assert fast.changed == full.changed
    assert fast.request == full.request
    assert fast.wanted_title == full.wanted_title
    # the property the brief states: no change by the fast comparison iff none by the full path
    assert (not fast.errors and not fast.changed) == (not full.errors and not full.changed)
    taken = _unchanged(bundle, current, config, catalog, build_body(bundle, config)) is not None
    event("fast path" if taken else "full path")
    event("invalid" if full.errors else "changed" if full.changed else "no change")


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(valid_bundles, st.sampled_from(CONFIGS), REVIEW)
def test_a_pair_in_sync_takes_the_fast_path(
    bundle: DealBundle, config: MappingConfig, review: str | None
) -> None:
    created = build_create_request(bundle, config, "AWS").request
    if created is None:
        return
    record = to_jsonable(opportunity_record(created, review, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
    plan = _unchanged(bundle, record, config, "AWS", build_body(bundle, config))
    assert plan is not None, "an opportunity created from the deal is recognised without the full path"
    assert plan.errors == [] and plan.changed == {}
    assert not build_update_request(bundle, record, config, "AWS").errors


def test_unchanged_pair_with_an_invalid_record_is_still_invalid() -> None:
    """An opportunity whose own (not HubSpot-owned) members the model refuses: the full request is
    invalid, so the pair is too, even though nothing HubSpot owns changed."""
    bundle = next(iter(_sample_bundles(1)))
    config = MappingConfig.default()
    record = to_jsonable(
        opportunity_record(build_create_request(bundle, config, "AWS").request, None, "2026-01-01T00:00:00Z")
    )
    record["Marketing"] = {"Source": "Not a source"}
    fast = plan_update(bundle, record, config, "AWS")
    full = full_path(bundle, record, config, "AWS")
    assert fast.errors and [str(e) for e in fast.errors] == [str(e) for e in full.errors]


def _sample_bundles(n: int) -> list[DealBundle]:
    return [bundle(deal_id=str(100 + i)) for i in range(n)]


# -- frames: lazy snapshots and stored records --------------------------------------------------------


def _deal_snapshots_reference(df: pd.DataFrame) -> list[DealSnapshot]:  # frames.deal_snapshots before
    out = []
    for row in frames.records(df):
        bundle = DealBundle(
            deal_id=str(row["deal_id"]),
            deal=loads(row["deal_json"]) or {},
            company=loads(row["company_json"]),
            contacts=loads(row["contacts_json"]) or [],
        )
        out.append(
            DealSnapshot(bundle=bundle, partition_date=row["partition_date"], archived=bool(row["archived"]))
        )
    return out


def _plan_frame_reference(rows: Any) -> pd.DataFrame:  # frames.plan_frame before
    out = [
        {
            "entity_key": r.entity_key,
            "partition_date": r.partition_date,
            "deal_id": r.deal_id,
            "opportunity_id": r.opportunity_id,
            "operation": r.operation,
            "reason": r.reason,
            "changed_fields_json": dumps({k: list(v) for k, v in r.changed_fields.items()}),
            "request_json": dumps(r.request) if r.request is not None else None,
            "deal_updates_json": dumps(r.deal_updates),
            "deal_current_json": dumps(r.deal_current),
            "notes_json": dumps([dataclasses.asdict(n) for n in r.notes]),
            "errors_json": dumps(r.errors),
            "warnings_json": dumps(r.warnings),
            "solution_ids_json": dumps(r.solution_ids),
            "conflicts_json": dumps(r.conflicts),
            "record_updates_json": dumps(r.record_updates),
        }
        for r in rows
    ]
    return frames.frame(out, frames.PLAN_COLUMNS)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(linked_frames())
def test_frames_plan_like_decoded_dicts(data: tuple[pd.DataFrame, pd.DataFrame, MappingConfig]) -> None:
    deals_df, opps_df, config = data
    records, partitions = frames.opportunity_records(opps_df)
    assert all(isinstance(r, StoredRecord) for r in records)
    decoded = [loads(text) for text in opps_df["record_json"]]
    assert [dict(r) for r in records] == decoded
    snapshots = frames.deal_snapshots(deals_df)
    reference = _deal_snapshots_reference(deals_df)
    assert list(snapshots) == reference and len(snapshots) == len(reference)
    assert list(snapshots[1:]) == reference[1:]
    rows = build_plan(snapshots, records, partitions, config, "AWS")
    expected = build_plan(reference, decoded, partitions, config, "AWS")
    assert rows == expected
    df = frames.plan_frame(rows)
    expected_df = _plan_frame_reference(expected)
    assert df.equals(expected_df) and list(df.dtypes) == list(expected_df.dtypes)


def test_stored_record_is_the_decodedopportunity_record() -> None:
    record = {"Id": "O1", "PartnerOpportunityIdentifier": "HUBSPOT-1", "Project": {"Title": "T"}}
    stored = StoredRecord(dumps(record), "O1", "HUBSPOT-1")
    assert dict(stored) == record and stored["Project"] == {"Title": "T"} and len(stored) == 3
    assert stored.keys_match(record)
    assert not StoredRecord(dumps(record), "O2", "HUBSPOT-1").keys_match(record)
    assert model.project_input(stored, "UpdateOpportunity") == model.project_input(
        record, "UpdateOpportunity"
    )
