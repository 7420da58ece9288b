"""The convergence check: plan the window again on the state the apply steps left behind.

No API call: the deal snapshots get the properties just written, the opportunities the records just
read back. A correct mapping and apply leave nothing to do but blocked and invalid rows (and the rows
that failed, which are reported as failures on their own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from hspc_pipelines.mapping import MappingConfig
from hspc_pipelines.sync.outcomes import ApplyResult, DealWrite
from hspc_pipelines.sync.plan import DealSnapshot, PlanRow, build_plan

SETTLED = frozenset({"none", "blocked", "invalid"})


def replan_after_apply(
    snapshots: Sequence[DealSnapshot],
    opportunities: Iterable[Mapping[str, Any]],
    results: Iterable[ApplyResult],
    writes: Iterable[tuple[DealWrite, str]],
    config: MappingConfig,
    catalog: str,
) -> list[PlanRow]:
    records = {str(r["Id"]): r for r in opportunities}
    failed: set[str] = set()
    for res in results:
        if res.record is not None:
            records[str(res.record["Id"])] = res.record
        if res.status == "failed" and res.deal_id:
            failed.add(res.deal_id)
    written: dict[str, dict[str, str | None]] = {}
    for write, status in writes:
        if status == "written":
            written.setdefault(write.deal_id, {}).update(write.properties)
        elif status == "failed":
            failed.add(write.deal_id)
    after = []
    for snap in snapshots:
        if snap.bundle.deal_id in failed:
            continue
        deal = {**snap.bundle.deal, **written.get(snap.bundle.deal_id, {})}
        after.append(replace(snap, bundle=replace(snap.bundle, deal=deal)))
    return build_plan(after, records.values(), {}, config, catalog)


def unsettled(rows: Iterable[PlanRow]) -> list[PlanRow]:
    return [r for r in rows if r.operation not in SETTLED]
