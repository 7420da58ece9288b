"""Run the reconcile job in this process against the DAGSTER_HOME instance, and summarize it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pandas as pd

from hspc_pipelines.defs.tags import range_tags
from hspc_pipelines.mapping.vocabulary import Operation, RowStatus
from hspc_pipelines.reconcile import report


@dataclass
class ReconcileOutcome:
    run_id: str
    success: bool
    dry_run: bool
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def failed_rows(self) -> int:
        writes = self.frames.get("hubspot_deal_writes")
        if writes is None or writes.empty:
            return 0
        return int(
            (writes["final_status"] == RowStatus.FAILED).sum()
            + (writes["write_status"] == RowStatus.FAILED).sum()
        )


def run_reconcile(
    *,
    dry_run: bool = False,
    since: str | None = None,
    today: str,
    run_config: dict[str, Any] | None = None,
    instance: dg.DagsterInstance | None = None,
    defs: dg.Definitions | None = None,
    run_id: str | None = None,
) -> ReconcileOutcome:
    """Run the reconcile (or its dry run) over `since`..`today` and collect its frames. `run_id`: the
    id to give the run (a progress listener subscribed to it sees the run's events)."""
    if defs is None:
        from hspc_pipelines.definitions import build_defs

        defs = build_defs()
    instance = instance or dg.DagsterInstance.get()
    # Resolving definitions reads Dagster's "current" defs-state storage, a context variable any other
    # instance in this process may have set (and left pointing at a deleted directory); use ours.
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(instance.defs_state_storage):
        job = defs.resolve_job_def("reconcile_dry_run" if dry_run else "reconcile")
    kwargs: dict[str, Any] = {
        "instance": instance,
        "raise_on_error": False,
        "run_config": run_config,
        "run_id": run_id,
    }
    if since and since != today:
        kwargs["tags"] = range_tags(since, today)
    else:
        kwargs["partition_key"] = today
    result = job.execute_in_process(**kwargs)
    outcome = ReconcileOutcome(run_id=result.run_id, success=result.success, dry_run=dry_run)
    for name in (
        "sync_plan",
        "opportunity_creates",
        "opportunity_updates",
        "hubspot_deal_writes",
        "opportunity_imports",
    ):
        try:
            outcome.frames[name] = result.output_for_node(name)
        except dg.DagsterInvariantViolationError:
            continue  # not part of this job, or the step failed before output
    return outcome


def job_steps(defs: dg.Definitions, dry_run: bool, instance: dg.DagsterInstance) -> list[str]:
    """The reconcile job's steps in execution order (for the progress's `[2/7]`)."""
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(instance.defs_state_storage):
        job = defs.resolve_job_def("reconcile_dry_run" if dry_run else "reconcile")
    return [n.name for n in job.graph.nodes_in_topological_order]


def summarize(outcome: ReconcileOutcome) -> str:
    lines = [
        f"Reconcile run {outcome.run_id}: {'succeeded' if outcome.success else 'FAILED'}"
        + (" (dry run: nothing applied)" if outcome.dry_run else "")
    ]
    plan = outcome.frames.get("sync_plan")
    if plan is not None:
        lines.append("\nPlan (operation: rows)")
        lines += [f"  {op:<11} {n}" for op, n in report.counts(plan, "operation").items()] or ["  (empty)"]
    writes = outcome.frames.get("hubspot_deal_writes")
    if writes is not None:
        lines.append("\nResult (status: deals)")
        lines += [f"  {st:<11} {n}" for st, n in report.counts(writes, "final_status").items()] or [
            "  (none)"
        ]
        bad = writes[writes["final_status"].isin([RowStatus.FAILED, RowStatus.INVALID, RowStatus.BLOCKED])]
        if len(bad):
            lines.append("\nRows needing attention (first 20)")
            for rec in bad.head(20).to_dict("records"):
                lines.append(f"  deal {rec['deal_id']}: {rec['final_status']}")
    if plan is not None:
        bad_plan = plan[plan["operation"].isin([Operation.INVALID, Operation.BLOCKED])]
        for rec in bad_plan.head(20).to_dict("records"):
            lines.append(f"  deal {rec['deal_id']}: {rec['operation']}: {rec['reason']}")
    return "\n".join(lines)
