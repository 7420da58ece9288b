"""Records of the wrong shape plan as rows, never as a failed run.

Partner Central does not send a list where `LifeCycle` or `Project` belongs, or a number as a review
status, but the plan's inputs come from frames and a state store anyone can write to: such a record
must plan like one whose member is missing (the found-by-hypothesis regressions of
`test_fast_plan.test_frames_plan_like_decoded_dicts`)."""

from __future__ import annotations

from typing import Any

import pytest

from hspc_pipelines.mapping import MappingConfig, build_create_request
from hspc_pipelines.partner_central.records import dumps, to_jsonable
from hspc_pipelines.reconcile import frames
from hspc_pipelines.reconcile.plan import DealSnapshot, build_plan
from hspc_pipelines_tests.support.deals import bundle as make_bundle
from hspc_pipelines_tests.support.deals import good_deal

CONFIG = MappingConfig.default()
HOSTILE = [["Submitted"], {"a": 1}, 7, 1.5, True]


def _pair(**record_overrides: Any) -> tuple[DealSnapshot, dict[str, Any]]:
    bundle = make_bundle(good_deal(aws_opportunity_id="O9001"), deal_id="501")
    request = build_create_request(bundle, CONFIG, "AWS").request
    assert request is not None
    record = {k: v for k, v in request.items() if k != "ClientToken"}
    record.update(
        Id="O9001",
        PartnerOpportunityIdentifier="HUBSPOT-501",
        LastModifiedDate="2026-01-01T00:00:00+00:00",
        LifeCycle={**record["LifeCycle"], "ReviewStatus": "Pending Submission"},
    )
    record.update(record_overrides)
    return DealSnapshot(bundle, "2026-01-01"), to_jsonable(record)


def _plan(snap: DealSnapshot, record: dict[str, Any], window: bool = False) -> list[Any]:
    partitions = {"O9001": "2026-01-01"} if window else {}
    return build_plan([snap], [record], partitions, CONFIG, "AWS")


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
@pytest.mark.parametrize("member", ["LifeCycle", "Project"])
def test_a_record_member_of_the_wrong_type_plans_a_row(member: str, value: Any) -> None:
    snap, record = _pair(**{member: value})
    (row,) = _plan(snap, record)
    assert row.opportunity_id == "O9001"
    assert row.operation in ("update", "invalid", "write-back"), row.reason


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_a_review_status_that_is_not_a_string_is_unknown(value: Any) -> None:
    snap, record = _pair()
    record["LifeCycle"]["ReviewStatus"] = value
    (row,) = _plan(snap, record)
    assert row.operation != "blocked", "an unknown status does not lock the opportunity"
    assert row.notes == [], "no review note for a status that is not one"


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_an_orphan_with_a_hostile_review_status_is_written_back_without_a_note(value: Any) -> None:
    snap, record = _pair()
    record["LifeCycle"] = {"ReviewStatus": value, "ReviewComments": ["not", "text"]}
    other = DealSnapshot(make_bundle(deal_id="777"), "2026-01-01")
    rows = _plan(other, record, window=True)
    orphan = next(r for r in rows if r.entity_key == "opportunity:O9001")
    assert orphan.operation == "write-back" and orphan.deal_id == "501" and orphan.notes == []


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
@pytest.mark.parametrize("member", ["LifeCycle", "Project"])
def test_the_opportunity_frame_keeps_a_hostile_record_whole(member: str, value: Any) -> None:
    _, record = _pair(**{member: value})
    df = frames.opportunities_frame([(record, "2026-01-01", "window")])
    (row,) = frames.records(df)
    assert (
        row["review_status"] is None
        if member == "LifeCycle"
        else row["review_status"] == "Pending Submission"
    )
    assert row["title"] is None if member == "Project" else isinstance(row["title"], str)
    recs, _ = frames.opportunity_records(df)
    assert dict(recs[0])[member] == value, "the record itself is stored as it came"


def test_a_stored_record_that_lost_its_id_is_refused_by_name() -> None:
    """Key columns say O9001, the stored JSON has no Id (tampered): the plan cannot tell which
    opportunity it is, so it stops with an error naming the member rather than create a second one."""
    from hspc_pipelines.partner_central.records import RecordError

    snap, record = _pair()
    df = frames.opportunities_frame([(record, "2026-01-01", "window")])
    df.loc[0, "record_json"] = dumps({k: v for k, v in record.items() if k != "Id"})
    records, partitions = frames.opportunity_records(df)
    deals = frames.deal_snapshots(frames.deals_frame([snap]))
    with pytest.raises(RecordError, match="opportunity record without 'Id'"):
        build_plan(deals, records, partitions, CONFIG, "AWS")
