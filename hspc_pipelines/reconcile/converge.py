"""The convergence check: plan the window again on the state the apply steps left behind.

No API call: the deal snapshots get the properties just written, the opportunities the records just
read back. A correct mapping and apply leave nothing to do but blocked and invalid rows (and the rows
that failed, which are reported as failures on their own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from hspc_pipelines.mapping import DealBundle, MappingConfig
from hspc_pipelines.mapping.vocabulary import SETTLED_OPERATIONS, Operation, RowStatus
from hspc_pipelines.partner_central.records import record_id
from hspc_pipelines.reconcile.merge import Base
from hspc_pipelines.reconcile.outcomes import ApplyResult, DealWrite
from hspc_pipelines.reconcile.plan import DealSnapshot, PlanRow, StoredDeals, build_plan


def replan_after_apply(
    snapshots: Sequence[DealSnapshot],
    opportunities: Iterable[Mapping[str, Any]],
    results: Iterable[ApplyResult],
    writes: Iterable[tuple[DealWrite, str]],  # (write, write status: a RowStatus value)
    config: MappingConfig,
    catalog: str,
    planned: Mapping[str, tuple[str, str | None]] | None = None,
    bases: Mapping[str, Base] | None = None,
) -> list[PlanRow]:
    """The plan of the deals after apply and write-back.

    `planned` (deal id -> the first plan's operation and opportunity id) narrows it to what can have
    moved: the plan is a pure function of a deal and its opportunity, so a deal that settled in the
    first plan, was not written and whose opportunity was not written either plans the same again,
    as does a deal the first plan left out. Without `planned` every deal is planned again. `bases`
    are the ones the first plan merged with: a field the merge left apart stays apart."""
    after, records = state_after_apply(snapshots, opportunities, results, writes, planned)
    return build_plan(after, records, {}, config, catalog, bases=bases)


def state_after_apply(
    snapshots: Sequence[DealSnapshot],
    opportunities: Iterable[Mapping[str, Any]],
    results: Iterable[ApplyResult],
    writes: Iterable[tuple[DealWrite, str]],
    planned: Mapping[str, tuple[str, str | None]] | None = None,
) -> tuple[list[DealSnapshot], list[Mapping[str, Any]]]:
    """The deals (those that can have moved, see `replan_after_apply`; all of them without `planned`)
    with the properties just written, and the records with those apply read back."""
    read_back: dict[str, Mapping[str, Any]] = {}
    failed: set[str] = set()
    for res in results:
        if res.record is not None:
            read_back[str(res.record["Id"])] = res.record
        # failed and deferred rows come back in the next plan, not in this one
        if res.status in (RowStatus.FAILED, RowStatus.DEFERRED) and res.deal_id:
            failed.add(res.deal_id)
    touched_opps = set(read_back)
    # The first plan's records as they were (a list: records whose key columns collide stay apart,
    # as they did in the first plan), each one apply read back replaced.
    opportunity_records = [r for r in opportunities if not read_back or record_id(r) not in read_back]
    opportunity_records += read_back.values()
    written: dict[str, dict[str, str | None]] = {}
    records: dict[tuple[str, str], dict[str, Any]] = {}  # (object type, id) -> properties written
    for write, status in writes:
        if status == RowStatus.WRITTEN:
            written.setdefault(write.deal_id, {}).update(write.properties)
            for record in write.records:
                key = (str(record["object_type"]), str(record["id"]))
                records.setdefault(key, {}).update(record["properties"])
                written.setdefault(write.deal_id, {})
        elif status in (RowStatus.FAILED, RowStatus.INVALID):
            failed.add(write.deal_id)

    def may_have_moved(deal_id: str) -> bool:
        if planned is None or deal_id in written:
            return True
        operation, opportunity_id = planned.get(deal_id, (Operation.NONE, None))
        return operation not in SETTLED_OPERATIONS or (
            opportunity_id is not None and opportunity_id in touched_opps
        )

    ids = (
        [snapshots.text(i).deal_id for i in range(len(snapshots))]
        if isinstance(snapshots, StoredDeals)
        else [snap.bundle.deal_id for snap in snapshots]
    )
    after = []
    for i, deal_id in enumerate(ids):
        if deal_id in failed or not may_have_moved(deal_id):
            continue
        snap = snapshots[i]
        deal = {**snap.bundle.deal, **written.get(deal_id, {})}
        bundle = replace(snap.bundle, deal=deal)
        if records:
            bundle = _with_records(bundle, records)
        after.append(replace(snap, bundle=bundle))
    return after, opportunity_records


def _with_records(bundle: DealBundle, records: Mapping[tuple[str, str], Mapping[str, Any]]) -> DealBundle:
    """The bundle's company and contacts with the properties just written to them."""
    company = bundle.company
    if company is not None:
        company = {**company, **records.get(("companies", str(company.get("hs_object_id"))), {})}
    contacts = [{**c, **records.get(("contacts", str(c.get("hs_object_id"))), {})} for c in bundle.contacts]
    return replace(bundle, company=company, contacts=contacts)


def unsettled(rows: Iterable[PlanRow]) -> list[PlanRow]:
    return [r for r in rows if r.operation not in SETTLED_OPERATIONS]
