"""Faults (issue 9): with HubSpot answering 10% 429/5xx and Partner Central 10% throttling/500 and 2%
ConflictException, a full reconcile converges within two runs; failed rows carry their reason."""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

import pytest

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines_tests.support.outcomes import (
    SYNC_PROPS,
    deals,
    duplicate_identifiers,
    plan_ops,
    since,
    step_failures,
    writes_by_deal,
)

HUBSPOT_FAULTS: dict[str, Any] = {"rate": 0.10, "kinds": ["429", "500", "503"], "seed": 11}
# rate 0.12 over 12 kinds: 5/12 throttling + 5/12 500s = 10%, 2/12 conflicts = 2%.
PC_FAULTS: dict[str, Any] = {
    "rate": 0.12,
    "kinds": ["ThrottlingException"] * 5 + ["InternalServerException"] * 5 + ["ConflictException"] * 2,
    "seed": 7,
}


def _converges(product, caplog, n_deals: int) -> dict[str, object]:
    data = generate_seed(n_deals, seed=21, now_ms=anchor_now())
    product.stack.hubspot.load_seed(data)
    cosell = sorted(data.cosell_deal_ids)
    window = since(130)
    hs, pc = product.stack.hubspot, product.stack.partner_central
    # A portal that has run hspc before already has its custom properties (see the bootstrap test).
    bootstrap_properties(
        HubSpotClient(product.stack.env["HUBSPOT_ACCESS_TOKEN"], product.stack.env["HUBSPOT_BASE_URL"])
    )
    caplog.set_level(logging.INFO, logger="hspc_pipelines")

    figures: dict[str, Any] = {"deals": n_deals, "cosell": len(cosell)}
    failed_seen: dict[str, str] = {}
    runs_to_converge = None
    hs_injected: Counter[str] = Counter()
    started = time.monotonic()
    for run in (1, 2):
        hs.set_faults(**{**HUBSPOT_FAULTS, "seed": HUBSPOT_FAULTS["seed"] + run})
        pc.set_faults({**PC_FAULTS, "seed": PC_FAULTS["seed"] + run})
        t0 = time.monotonic()
        outcome = product.reconcile(since=window)
        figures[f"run{run}_seconds"] = round(time.monotonic() - t0, 1)
        hs_injected.update(hs.stats()["faults_injected"])
        # Look at the result as a person would: with the services answering normally.
        hs.set_faults(None)
        pc.set_faults()
        assert outcome.success, (run, step_failures(product, outcome.run_id))
        writes = writes_by_deal(outcome)
        assert set(writes) == set(cosell), "every co-sell deal gets a result row in every run"
        now = deals(product, cosell, *SYNC_PROPS)
        for deal_id, w in writes.items():
            if w["final_status"] == "failed" and w["write_status"] != "failed":
                # The row failed at Partner Central: the deal says so, with the service's reason.
                assert now[deal_id]["aws_sync_status"] == "failed", (deal_id, now[deal_id])
                assert now[deal_id]["aws_sync_error"], deal_id
                failed_seen[deal_id] = now[deal_id]["aws_sync_error"]
        figures[f"run{run}_statuses"] = dict(Counter(w["final_status"] for w in writes.values()))
        if runs_to_converge is None and not any(w["final_status"] == "failed" for w in writes.values()):
            runs_to_converge = run
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["runs_to_converge"] = runs_to_converge
    figures["hubspot_faults_injected"] = dict(hs_injected)
    figures["pc_faults_injected"] = dict(pc.stats()["faults_injected"])
    figures["hubspot_client_retries_logged"] = sum("retrying" in r.getMessage() for r in caplog.records)
    figures["rows_failed_on_the_way"] = len(failed_seen)
    print("fault-run figures:", figures)
    assert runs_to_converge in (1, 2), figures
    assert (
        sum(figures["pc_faults_injected"].values()) > 0
        and sum(figures["hubspot_faults_injected"].values()) > 0
    )

    # Converged: a third (fault-free) run plans nothing but invalid rows.
    third = product.reconcile(since=window)
    assert third.success
    assert set(plan_ops(third)) <= {"none", "invalid"}, plan_ops(third)

    # Exactly one opportunity per valid deal, linked both ways; rows that failed on the way recovered.
    assert duplicate_identifiers(product) == {}
    by_ident = {o["PartnerOpportunityIdentifier"]: o["Id"] for o in product.opportunities()}
    final = deals(product, cosell, *SYNC_PROPS)
    invalid = {d for d, w in writes_by_deal(third).items() if w["final_status"] == "invalid"}
    valid = set(cosell) - invalid
    assert {f"HUBSPOT-{d}" for d in valid} == set(by_ident), "one opportunity per valid deal, no other"
    for deal_id in valid:
        assert final[deal_id]["aws_opportunity_id"] == by_ident[f"HUBSPOT-{deal_id}"], deal_id
        assert final[deal_id]["aws_sync_status"] == "synced" and not final[deal_id]["aws_sync_error"], (
            deal_id,
            final[deal_id],
        )
    for deal_id in invalid:
        assert final[deal_id]["aws_sync_status"] == "invalid" and final[deal_id]["aws_sync_error"]
    assert set(failed_seen) <= valid, "a row failed by a transient fault must end synced"
    return figures


def test_reconcile_under_faults_converges_within_two_runs(product, caplog):
    # CI size; the 1,000 deals run with -m bench. 150 deals measured: 4 rows failed in run 1
    # (2 ConflictException on create, 2 after botocore's retries), all synced by run 2.
    _converges(product, caplog, n_deals=80)


@pytest.mark.bench
def test_reconcile_of_1000_deals_under_faults_converges_within_two_runs(product, caplog):
    _converges(product, caplog, n_deals=1000)


def test_first_run_property_bootstrap_survives_one_transient_500(product):
    data = generate_seed(10, seed=3, now_ms=anchor_now())
    product.stack.hubspot.load_seed(data)
    product.stack.hubspot.set_faults(schedule=["500"], match="POST /crm/properties/2026-09/deals")
    outcome = product.reconcile(since=since(130))
    assert outcome.success, step_failures(product, outcome.run_id)
