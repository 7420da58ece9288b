"""Crashes (issue 9): the reconcile process killed (SIGKILL) at five points of the apply steps; the
re-run ends with no duplicate opportunity, deal, note or association.

The reconcile runs in a subprocess (`python -c`: build defs, run_reconcile) against the same
DAGSTER_HOME, state store and emulators; the test polls the emulators' `/_emulator/stats` and kills
the process when the target call count is reached, then re-runs in process and checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import dagster as dg
import requests

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines_tests.support.outcomes import SYNC_PROPS, deals, duplicate_identifiers, since

SCRIPT = """
import sys
import dagster as dg
from hspc_pipelines.definitions import build_defs
from hspc_pipelines.reconcile.runner import run_reconcile
defs = build_defs()
with dg.DagsterInstance.get() as instance:
    run_reconcile(since=sys.argv[1], today=sys.argv[2], instance=instance, defs=defs)
"""
Stats = dict[str, Any]


def _stats(product) -> tuple[Stats, Stats]:
    env = product.stack.env
    hs = requests.get(env["HUBSPOT_BASE_URL"] + "/_emulator/stats", timeout=5).json()
    pc = requests.get(env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"] + "/_emulator/stats", timeout=5).json()
    return hs, pc


def _deal_batch_updates(hs: Stats) -> int:
    return sum(n for k, n in hs["calls"].items() if "batch/update" in k and "notes" not in k)


def _kill_when(product, point: str, reached: Callable[[Stats, Stats], bool], log) -> Stats:
    """Run the reconcile in a subprocess and SIGKILL it once `reached(hubspot, pc)`; returns the
    emulators' stats at the kill."""
    product.stack.hubspot.reset_stats()
    product.stack.partner_central.reset_stats()
    out = open(product.home / f"crash-{point.replace(' ', '_')}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, since(130), product.today],
        # Writes 100 ms apart, so the 20 ms poll sees each one: at the tests' fast pacing the apply pool
        # finished 6 creates before the poll saw the first, and the next kill point was never reached.
        env={**os.environ, "HSPC_PC_WRITES_PER_SECOND": "10"},
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            hs, pc = _stats(product)
            if reached(hs, pc):
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                log[point] = {"pc": pc["calls"], "hubspot_deal_batch_updates": _deal_batch_updates(hs)}
                return _stats(product)[1]
            assert proc.poll() is None, f"run ended before the kill point '{point}' (exit {proc.returncode})"
            time.sleep(0.02)
        raise AssertionError(f"kill point '{point}' not reached in time")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        out.close()


def _review(product, opp_id: str, *statuses: str) -> None:
    url = (
        product.stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"]
        + f"/_emulator/opportunities/{opp_id}/review"
    )
    for status in statuses:
        requests.post(url, json={"ReviewStatus": status}, timeout=10).raise_for_status()


def _no_duplicates(product, n_deals: int) -> None:
    assert duplicate_identifiers(product) == {}, "duplicate opportunity"
    assert product.stack.hubspot.stats()["objects"]["deals"] == n_deals, "a deal was created"


def _notes_and_associations_once(product, deal_ids: list[str]) -> int:
    total = 0
    for deal_id in deal_ids:
        links = product.hubspot(
            "POST", "/crm/v4/associations/deals/notes/batch/read", json={"inputs": [{"id": deal_id}]}
        )["results"]
        targets = [str(t["toObjectId"]) for r in links for t in r["to"]]
        assert len(targets) == len(set(targets)), f"duplicate association on deal {deal_id}"
        keys = Counter(n["properties"]["hspc_note_key"] for n in product.notes_on(deal_id))
        assert all(n == 1 for n in keys.values()), f"duplicate note on deal {deal_id}: {keys}"
        total += len(keys)
    return total


def test_killed_at_four_points_of_the_apply_steps_rerun_leaves_no_duplicates(product):
    started = time.monotonic()
    data = generate_seed(12, seed=17, junk_ratio=0.0, now_ms=anchor_now())
    product.stack.hubspot.load_seed(data)
    n_deals = len(data.deals)
    cosell = sorted(data.cosell_deal_ids)
    killed: dict[str, Any] = {}

    # 1-3: creates and the write-back, each re-run starting from the previous crash.
    _kill_when(product, "after 1 create", lambda hs, pc: pc["calls"].get("CreateOpportunity", 0) >= 1, killed)
    _no_duplicates(product, n_deals)
    _kill_when(
        product, "after 3 more creates", lambda hs, pc: pc["calls"].get("CreateOpportunity", 0) >= 3, killed
    )
    _no_duplicates(product, n_deals)
    _kill_when(product, "after the HubSpot batch write", lambda hs, pc: _deal_batch_updates(hs) >= 1, killed)
    _no_duplicates(product, n_deals)
    rerun = product.reconcile(since=since(130))
    assert rerun.success
    _no_duplicates(product, n_deals)
    by_ident = {o["PartnerOpportunityIdentifier"]: o["Id"] for o in product.opportunities()}
    now = deals(product, cosell, *SYNC_PROPS)
    created = [d for d in cosell if now[d]["aws_sync_status"] == "synced"]
    assert created and {f"HUBSPOT-{d}" for d in created} == set(by_ident), (now, by_ident)
    for deal_id in created:
        assert now[deal_id]["aws_opportunity_id"] == by_ident[f"HUBSPOT-{deal_id}"]

    # 4: updates (and a write-back with approval notes) killed half-way.
    for deal_id in created[:4]:
        product.hubspot(
            "PATCH",
            f"/crm/v3/objects/deals/{deal_id}",
            json={
                "properties": {
                    "description": f"Crash test edit for {deal_id}: migrate the data warehouse to AWS."
                }
            },
        )
    for deal_id in created[:3]:
        _review(product, by_ident[f"HUBSPOT-{deal_id}"], "Submitted", "In review", "Approved")
    _kill_when(product, "during updates", lambda hs, pc: pc["calls"].get("UpdateOpportunity", 0) >= 2, killed)
    _no_duplicates(product, n_deals)
    final = product.reconcile(since=since(130))
    assert final.success
    _no_duplicates(product, n_deals)
    assert len(product.opportunities()) == len(created)
    pc = product.pc()
    for deal_id in created[:4]:
        full = pc.get_opportunity(Catalog="AWS", Identifier=by_ident[f"HUBSPOT-{deal_id}"])
        assert full["Project"]["CustomerBusinessProblem"].startswith("Crash test edit"), deal_id
    notes = _notes_and_associations_once(product, created)
    assert notes >= 3, "one approval note per approved opportunity"
    # Converged: the final run's own check re-plans after applying and finds nothing left to do
    # (cheaper than one more run; the faults test runs that extra run).
    checks = [
        r.dagster_event.event_specific_data
        for r in product.instance.all_logs(final.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]
    assert [c.passed for c in checks if c.check_name == "plan_converged"] == [True], checks
    killed["seconds"] = round(time.monotonic() - started, 1)
    print("crash points:", killed)


def test_killed_between_the_notes_and_the_property_write_rerun_writes_each_note_once(product):
    """The write-back creates notes before the deal properties they report, so a kill between the two
    leaves the note and an unchanged property; the re-run writes the property and no second note."""
    data = generate_seed(4, seed=23, junk_ratio=0.0, cosell_ratio=1.0, now_ms=anchor_now())
    product.stack.hubspot.load_seed(data)
    assert product.reconcile(since=since(130)).success
    by_ident = {o["PartnerOpportunityIdentifier"]: o["Id"] for o in product.opportunities()}
    approved = [d for d in sorted(data.cosell_deal_ids) if f"HUBSPOT-{d}" in by_ident][:2]
    assert approved
    for deal_id in approved:
        _review(product, by_ident[f"HUBSPOT-{deal_id}"], "Submitted", "In review", "Approved")
    # Widen the gap between the notes and the deal batch write (the batch update answers late), so
    # the kill lands there every time.
    product.stack.hubspot.set_faults(
        rate=1.0, kinds=["slow"], delay_seconds=4, match="POST /crm/objects/2026-09/deals/batch/update"
    )
    killed: dict[str, Any] = {}
    try:
        _kill_when(
            product,
            "between the notes and the property write",
            lambda hs, pc: hs["objects"].get("notes", 0) >= len(approved),
            killed,
        )
    finally:
        product.stack.hubspot.set_faults(None)
    for deal_id in approved:
        assert product.deal(deal_id, "aws_review_status")["aws_review_status"] != "Approved", "killed before"
    assert product.reconcile(since=since(130)).success
    _no_duplicates(product, len(data.deals))
    _notes_and_associations_once(product, approved)
    for deal_id in approved:
        keys = [n["properties"]["hspc_note_key"] for n in product.notes_on(deal_id)]
        assert sum(k.startswith("review:") and ":Approved:" in k for k in keys) == 1, (deal_id, keys)
