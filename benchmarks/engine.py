"""Engine only: plan N deal/opportunity pairs from frames, in this process, and print JSON figures.

Run as a subprocess (`python -m benchmarks.engine N`) so that its peak RSS is its own. The frames hold
what a previous sync leaves behind: each deal linked (`aws_opportunity_id` and the written-back
Partner-Central-owned properties) and its opportunity (the create request turned into a record, as
the service stores it). Timed: frames -> snapshots/records -> build_plan -> plan frame, i.e. the work of
the `sync_plan` asset without Dagster's IO.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from typing import Any

from hspc_pipelines.emulators.seed import generate_seed
from hspc_pipelines.emulators.stack import DEMO_MAPPING_CONFIG
from hspc_pipelines.mapping import DealBundle, build_create_request, opportunity_to_deal_properties
from hspc_pipelines.mapping.config import load_mapping_config
from hspc_pipelines.sync import frames
from hspc_pipelines.sync.plan import DealSnapshot, build_plan
from hspc_pipelines.sync.records import to_jsonable

CATALOG = "AWS"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _bundles(n: int) -> list[DealBundle]:
    data = generate_seed(n, 11, junk_ratio=0.0, cosell_ratio=1.0)
    companies = {c["id"]: c["properties"] for c in data.companies}
    contacts = {c["id"]: c["properties"] for c in data.contacts}
    company_of: dict[str, str] = {}
    contacts_of: dict[str, list[str]] = {}
    for link in data.associations:
        if link["from"]["type"] != "deals":
            continue
        if link["to"]["type"] == "companies":
            company_of[link["from"]["id"]] = link["to"]["id"]
        elif link["to"]["type"] == "contacts":
            contacts_of.setdefault(link["from"]["id"], []).append(link["to"]["id"])
    out = []
    for deal in data.deals:
        cid = company_of.get(deal["id"])
        company = dict(companies[cid], hs_object_id=cid) if cid else None
        if company and company.get("country") == "Brasil":
            company["country"] = "Brazil"
        out.append(
            DealBundle(
                deal_id=deal["id"],
                deal=dict(deal["properties"]),
                company=company,
                contacts=[dict(contacts[c]) for c in contacts_of.get(deal["id"], [])],
            )
        )
    return out


def build_frames(n: int) -> tuple[Any, Any, Any]:
    config = load_mapping_config(str(DEMO_MAPPING_CONFIG))
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    snaps, opps = [], []
    for i, bundle in enumerate(_bundles(n)):
        request = build_create_request(bundle, config, CATALOG).request
        if request is None:
            continue
        record = {k: v for k, v in request.items() if k not in ("ClientToken",)}
        record.update(
            Id=f"O{1_000_000 + i}",
            Arn=f"arn:aws:partnercentral:us-east-1::catalog/AWS/opportunity/O{1_000_000 + i}",
            CreatedDate=now,
            LastModifiedDate=now,
            LifeCycle={**(record.get("LifeCycle") or {}), "ReviewStatus": "Pending Submission"},
        )
        record = to_jsonable(record)
        deal = dict(bundle.deal)
        deal.update(opportunity_to_deal_properties(record, None, config, deal.get("pipeline")))
        deal.update(aws_sync_status="synced", aws_sync_error=None)
        snaps.append(
            DealSnapshot(
                bundle=DealBundle(bundle.deal_id, deal, bundle.company, bundle.contacts),
                partition_date="2025-12-31",
            )
        )
        opps.append((record, "2025-12-31", "counterpart"))
    return frames.deals_frame(snaps), frames.opportunities_frame(opps), config


def main(n: int) -> dict[str, Any]:
    deals_df, opps_df, config = build_frames(n)
    rss_before = _rss_mb()
    start = time.perf_counter()
    records, partitions = frames.opportunity_records(opps_df)
    snapshots = frames.deal_snapshots(deals_df)
    t_frames = time.perf_counter() - start
    rows = build_plan(snapshots, records, partitions, config, CATALOG)
    t_plan = time.perf_counter() - start - t_frames
    plan_df = frames.plan_frame(rows)
    total = time.perf_counter() - start
    ops: dict[str, int] = {}
    for r in rows:
        ops[r.operation] = ops.get(r.operation, 0) + 1
    return {
        "pairs": len(deals_df),
        "seconds": round(total, 2),
        "seconds_frames_in": round(t_frames, 2),
        "seconds_build_plan": round(t_plan, 2),
        "seconds_plan_frame": round(total - t_frames - t_plan, 2),
        "peak_rss_mb": round(_rss_mb(), 1),
        "rss_before_timing_mb": round(rss_before, 1),
        "operations": ops,
        "plan_rows": len(plan_df),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
