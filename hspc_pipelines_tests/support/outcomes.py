"""What a product run left behind, read as a person would check it: the frames of its plan and
write-back, its failed steps, and the deals and opportunities in the emulated systems."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from hspc_pipelines_tests.support.product import Product

SYNC_PROPS = ("dealname", "aws_opportunity_id", "aws_sync_status", "aws_sync_error", "hs_lastmodifieddate")


def since(days: int = 130) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()


def writes_by_deal(outcome: Any) -> dict[str, dict[str, Any]]:
    df = outcome.frames["hubspot_deal_writes"]
    return {str(r["deal_id"]): r for r in df.to_dict("records")}


def plan_ops(outcome: Any) -> Counter[str]:
    return Counter(outcome.frames["sync_plan"]["operation"])


def deals(prod: Product, ids: list[str], *props: str) -> dict[str, dict[str, Any]]:
    """Current properties of many deals in one batch read per 100 (no faults expected)."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), 100):
        body = {"inputs": [{"id": d} for d in ids[i : i + 100]], "properties": list(props)}
        for obj in prod.hubspot("POST", "/crm/v3/objects/deals/batch/read", json=body)["results"]:
            out[str(obj["id"])] = obj["properties"]
    return out


def duplicate_identifiers(prod: Product) -> dict[str | None, int]:
    idents = Counter(o.get("PartnerOpportunityIdentifier") for o in prod.opportunities())
    return {k: n for k, n in idents.items() if n > 1}


def step_failures(prod: Product, run_id: str) -> list[str]:
    """Each failed step with its error message, as the run's event log holds it."""
    import dagster as dg

    out = []
    for rec in prod.instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = rec.dagster_event
        err = event.step_failure_data.error if event and event.step_failure_data else None
        out.append(f"{event.step_key if event else '?'}: {err.to_string() if err else rec.user_message}")
    return out
