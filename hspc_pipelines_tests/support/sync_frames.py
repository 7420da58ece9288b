"""Generated inputs of the sync plan: deal/opportunity pairs (in sync, edited on either side, junk) and
the deals and opportunities frames the plan reads, as linked, orphan or settled pairs."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, cast

import pandas as pd
from hypothesis import strategies as st

from hspc_pipelines.mapping import (
    DealBundle,
    MappingConfig,
    build_create_request,
    opportunity_to_deal_properties,
)
from hspc_pipelines.mapping.config import DEFAULT_OWNERSHIP, PARTNER_CENTRAL
from hspc_pipelines.partner_central.records import dumps, loads, to_jsonable
from hspc_pipelines.reconcile import frames
from hspc_pipelines.reconcile.plan import DealSnapshot
from hspc_pipelines_tests.support.deals import bundle as make_bundle
from hspc_pipelines_tests.support.deals import good_deal
from hspc_pipelines_tests.support.strategies import bundles, junk, mutated, valid_bundles

DEFAULT_CONFIG = MappingConfig.default()
CONFIGS = [
    MappingConfig.default(),
    MappingConfig(amount_mode="total_contract", primary_needs_default=("Co-Sell - Deal Support",)),
    MappingConfig(ownership={**DEFAULT_OWNERSHIP, "title": PARTNER_CENTRAL, "stage": PARTNER_CENTRAL}),
    MappingConfig(ownership={**DEFAULT_OWNERSHIP, "contacts": PARTNER_CENTRAL, "customer": PARTNER_CENTRAL}),
]
REVIEW = st.sampled_from(
    [None, "Pending Submission", "Submitted", "In review", "Approved", "Action Required"]
)
DEAL_EDITS = st.dictionaries(
    st.sampled_from(["dealname", "amount", "dealstage", "closedate", "description", "aws_delivery_models"]),
    st.one_of(junk, st.sampled_from(["New name #AWS", "12.5", "closedwon", "2031-02-03", "SaaS or PaaS"])),
    max_size=2,
)


def opportunity_record(request: dict[str, Any] | None, review: str | None, stamp: Any) -> dict[str, Any]:
    """The stored record of an opportunity created by `request`, at review status `review`."""
    record: dict[str, Any] = {k: v for k, v in (request or {}).items() if k != "ClientToken"}
    record.update(Id="O123", Arn="arn:aws:partnercentral:x", CreatedDate=stamp, LastModifiedDate=stamp)
    record["LifeCycle"] = {**record.get("LifeCycle", {}), "ReviewStatus": review}
    return record


STAMPS = st.one_of(
    st.just("2026-01-01T00:00:00+00:00"),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.isoformat()),
)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[DealBundle, Any, MappingConfig]:
    """A deal and its opportunity: mostly created from the same deal (in sync), else with the deal
    or the record edited, an opportunity of another deal, or junk on either side."""
    config = draw(st.sampled_from(CONFIGS))
    how = draw(st.sampled_from(["sync", "sync", "sync", "edit deal", "edit record", "other", "junk"]))
    bundle = draw(bundles if how == "junk" else valid_bundles)
    source = draw(valid_bundles) if how == "other" else bundle
    stamp = draw(st.one_of(STAMPS, junk) if how == "junk" else STAMPS)
    record: Any = opportunity_record(build_create_request(source, config, "AWS").request, draw(REVIEW), stamp)
    if draw(st.booleans()):
        record = to_jsonable(record)  # as stored: timestamps as text
    if how in ("edit record", "junk"):
        record = draw(mutated(st.just(record)))
    if how in ("edit deal", "junk") and isinstance(bundle.deal, dict):
        bundle = dataclasses.replace(bundle, deal={**bundle.deal, **draw(DEAL_EDITS)})
    return bundle, record, config


def _texts(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if isinstance(v, str | None)}


@st.composite
def linked_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, MappingConfig]:
    config = draw(st.sampled_from(CONFIGS))
    snaps, opps = [], []
    for i in range(draw(st.integers(0, 6))):
        bundle, record, _ = draw(pairs())
        deal_id = f"{500 + i}"
        deal = dict(bundle.deal) if isinstance(bundle.deal, dict) else {}
        deal = {k: v for k, v in deal.items() if isinstance(v, str | None)}  # as HubSpot gives them
        opp_id = f"O{9000 + i}"
        if isinstance(record, dict):
            record = to_jsonable(
                {**record, "Id": opp_id, "PartnerOpportunityIdentifier": f"HUBSPOT-{deal_id}"}
            )
            try:
                dumps(record)
            except (TypeError, ValueError):  # junk JSON cannot hold (Decimal): no opportunity
                record = None
        if isinstance(record, dict):
            how = draw(st.sampled_from(["linked", "by-identifier", "orphan", "stale"]))
            if how == "linked":
                deal["aws_opportunity_id"] = opp_id
            elif how == "orphan":
                record["PartnerOpportunityIdentifier"] = f"HUBSPOT-{700 + i}"
            opps.append((record, "2025-12-31", draw(st.sampled_from(["window", "counterpart"]))))
        company = _texts(bundle.company) if isinstance(bundle.company, dict) else None
        contacts = (
            [_texts(c) for c in bundle.contacts if isinstance(c, dict)]
            if isinstance(bundle.contacts, list)
            else []
        )
        snaps.append(
            DealSnapshot(
                DealBundle(deal_id, {**deal, "dealname": f"{deal.get('dealname')} #AWS"}, company, contacts),
                draw(st.sampled_from(["2025-12-30", "2025-12-31"])),
                archived=draw(st.integers(0, 9)) == 0,
            )
        )
    deals_df = frames.deals_frame(snaps)
    opps_df = frames.opportunities_frame(opps)
    if len(opps_df) and draw(st.booleans()):  # a key column that does not match its record
        opps_df.loc[0, "opportunity_id"] = draw(st.sampled_from(["O9001", "O1", "bogus"]))
    return deals_df, opps_df, config


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
            record = to_jsonable(opportunity_record(request, draw(REVIEW), "2026-01-01T00:00:00+00:00"))
            record.update(Id=opp_id, PartnerOpportunityIdentifier=f"HUBSPOT-{deal_id}")
            if draw(st.integers(0, 4)):
                deal["aws_opportunity_id"] = opp_id
            deal.update(opportunity_to_deal_properties(record, None, config, deal.get("pipeline")))
            deal.update(aws_sync_status="synced", aws_sync_error=None)
            opps.append((record, "2026-01-01", draw(st.sampled_from(["window", "counterpart"]))))
        snaps.append(DealSnapshot(dataclasses.replace(bundle, deal_id=deal_id, deal=deal), "2026-01-01"))
    return frames.deals_frame(snaps), frames.opportunities_frame(opps), config


def settled_pair_frames(**deal_overrides: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deal 501 and opportunity O9001 as a finished sync leaves them (the default mapping), with the
    deal's properties in `deal_overrides` changed since."""
    bundle = make_bundle(good_deal(aws_opportunity_id="O9001", **deal_overrides), deal_id="501")
    request = build_create_request(make_bundle(good_deal(), deal_id="501"), DEFAULT_CONFIG, "AWS").request
    assert request is not None
    record = {k: v for k, v in request.items() if k != "ClientToken"}
    record.update(
        Id="O9001", PartnerOpportunityIdentifier="HUBSPOT-501", LastModifiedDate="2026-01-01T00:00:00Z"
    )
    record["LifeCycle"] = {**record["LifeCycle"], "ReviewStatus": "Pending Submission"}
    record = to_jsonable(record)
    deal = dict(bundle.deal)  # as the write-back left it
    deal.update(opportunity_to_deal_properties(record, None, DEFAULT_CONFIG, deal.get("pipeline")))
    deal.update(aws_sync_status="synced", aws_sync_error=None)
    bundle = dataclasses.replace(bundle, deal=deal)
    deals_df = frames.deals_frame([DealSnapshot(bundle, "2026-01-01")])
    opps_df = frames.opportunities_frame([(record, "2026-01-01", "counterpart")])
    return deals_df, opps_df


def json_cell(df: pd.DataFrame, row: int, column: str) -> Any:
    """The decoded JSON of one text cell (pandas-stubs type a cell as any scalar; these hold JSON text)."""
    return loads(cast("str | None", df.loc[row, column]))
