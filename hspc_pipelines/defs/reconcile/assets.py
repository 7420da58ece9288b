"""The reconciliation graph: snapshot -> plan -> apply -> write back. Wiring only; logic lives in
hspc_pipelines.reconcile (its pure plan beside its I/O).

The assets are partitioned by a setting (the first day), so each body is registered here with its
decorator arguments and `reconcile_assets(partitions_def)` builds them when definitions load.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import pandas as pd

from hspc_pipelines.defs import external
from hspc_pipelines.defs.history import append_history, window_of
from hspc_pipelines.defs.reconcile.steps import (
    PriorityWaiting,
    agreement_entry,
    creates_step,
    deal_writes_step,
    frame_metadata,
    imports_step,
    plan_step,
    run_started,
    updates_step,
)
from hspc_pipelines.defs.resources import (
    HubSpotResource,
    MappingResource,
    PartnerCentralResource,
    SyncStateResource,
)
from hspc_pipelines.defs.run_metrics import StepCalls
from hspc_pipelines.mapping.vocabulary import Operation, RowStatus
from hspc_pipelines.reconcile import frames, report
from hspc_pipelines.reconcile.agreement import AgreementReport
from hspc_pipelines.reconcile.hubspot_snapshot import fetch_deal_snapshots
from hspc_pipelines.reconcile.pc_snapshot import fetch_opportunity_snapshot, wanted_opportunities
from hspc_pipelines.reconcile.plan import PlanRow
from hspc_pipelines.solutions.catalog import fetch_solutions, solution_rows

GROUP = "reconcile"
COMMON: dict[str, Any] = {
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "group_name": GROUP,
    "metadata": {"partition_expr": "partition_date"},
}
_TEMPLATES: list[tuple[Callable[..., Any], dict[str, Any]]] = []


def _reconcile_asset(**kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@dg.asset(**kwargs, **COMMON)` once the partitions are known (see `reconcile_assets`)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _TEMPLATES.append((fn, kwargs))
        return fn

    return register


def reconcile_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The graph's assets over `partitions_def`, in graph order."""
    return [dg.asset(**kwargs, **COMMON, partitions_def=partitions_def)(fn) for fn, kwargs in _TEMPLATES]


def _window(context: dg.AssetExecutionContext) -> tuple[dt.datetime, dt.datetime]:
    window = context.partition_time_window
    return window.start, window.end


@_reconcile_asset(
    deps=[external.HUBSPOT_DEALS, external.HUBSPOT_COMPANIES, external.HUBSPOT_CONTACTS],
    kinds={"hubspot", "pandas"},
)
def hubspot_deals(
    context: dg.AssetExecutionContext,
    hubspot: HubSpotResource,
    mapping: MappingResource,
    sync_state: SyncStateResource,
) -> dg.Output[pd.DataFrame]:
    """Co-sell (or already linked) deals changed in the window, with their company and contacts.
    No scope config: a partition always holds its whole window (named records: `sync_deals`)."""
    step = StepCalls(hubspot=hubspot)
    hubspot.ensure_properties(context.log)
    start, end = _window(context)
    snaps = fetch_deal_snapshots(hubspot.get_client(), mapping.get_config(), start, end)
    held = hubspot.keep_daily(sync_state.get_store())
    if held:
        context.log.warning(f"first-load creates wait: {held}")
    df = frames.deals_frame(snaps)
    linked = int(df["aws_opportunity_id"].notna().sum()) if len(df) else 0
    return dg.Output(
        df,
        metadata=frame_metadata(df, linked=linked, archived=int(df["archived"].sum()), **step.metadata()),
    )


@_reconcile_asset(deps=[external.PC_OPPORTUNITIES], kinds={"aws", "pandas"})
def partner_central_opportunities(
    context: dg.AssetExecutionContext,
    hubspot_deals: pd.DataFrame,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> dg.Output[pd.DataFrame]:
    """Opportunities changed in the window plus the counterparts of the window's deals."""
    step = StepCalls(partner_central=partner_central)
    start, end = _window(context)
    prefix = mapping.get_config().partner_opportunity_prefix
    counterparts, candidates = wanted_opportunities(frames.records(hubspot_deals), prefix)
    client = partner_central.get_client()
    items = fetch_opportunity_snapshot(client, sync_state.get_store(), start, end, counterparts, candidates)
    df = frames.opportunities_frame(items)
    return dg.Output(
        df,
        metadata=frame_metadata(
            df,
            catalog=client.catalog,
            by_review_status=dg.MetadataValue.json(report.counts(df, "review_status")),
            **step.metadata(),
        ),
    )


@_reconcile_asset(deps=[external.PC_SOLUTIONS], kinds={"aws", "pandas"})
def partner_central_solutions(
    context: dg.AssetExecutionContext, partner_central: PartnerCentralResource
) -> dg.Output[pd.DataFrame]:
    """The partner's solutions catalog, for matching deals and associating solutions on create."""
    step = StepCalls(partner_central=partner_central)
    _, end = _window(context)
    filed_under = frames.day(end - dt.timedelta(days=1))
    df = frames.frame(
        solution_rows(fetch_solutions(partner_central.get_client()), filed_under), frames.SOLUTION_COLUMNS
    )
    return dg.Output(df, metadata=frame_metadata(df, **step.metadata()))


@_reconcile_asset(
    kinds={"pandas"},
    check_specs=[dg.AssetCheckSpec("no_invalid_rows", asset="sync_plan", blocking=False)],
)
def sync_plan(
    context: dg.AssetExecutionContext,
    hubspot_deals: pd.DataFrame,
    partner_central_opportunities: pd.DataFrame,
    partner_central_solutions: pd.DataFrame,
    mapping: MappingResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    """What each entity needs: create, link, update, write-back, none, blocked or invalid, and why.
    Materializing this asset alone is the dry run. Pairs whose inputs are those of an earlier `none`
    plan are not mapped again (`settled_pairs_skipped`)."""
    planned = plan_step(
        hubspot_deals,
        partner_central_opportunities,
        partner_central_solutions,
        mapping,
        partner_central,
        sync_state,
    )
    yield dg.Output(planned.df, metadata=planned.metadata)
    ops = planned.operations
    invalid = ops.get(Operation.INVALID, 0)
    yield dg.AssetCheckResult(
        check_name="no_invalid_rows",
        passed=invalid == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"invalid_rows": invalid, "blocked_rows": ops.get(Operation.BLOCKED, 0)},
    )


@_reconcile_asset(
    kinds={"hubspot", "pandas"},
    pool="hubspot_writes",
    deps=[external.HUBSPOT_DEALS],
)
def opportunity_imports(
    context: dg.AssetExecutionContext,
    sync_plan: pd.DataFrame,
    partner_central_opportunities: pd.DataFrame,
    hubspot: HubSpotResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> Iterator[dg.Output[pd.DataFrame]]:
    """Opportunities created in Partner Central (no deal's identifier, not from an invitation, since
    `import_since`) become deals with their company and contacts, linked both ways (docs/two-way.md)."""
    df, metadata, logged = imports_step(
        context,
        sync_plan,
        partner_central_opportunities,
        hubspot,
        partner_central,
        sync_state,
        mapping,
        window_of(context),
    )
    _report_external(context, external.HUBSPOT_DEALS, df, (RowStatus.CREATED,))
    yield dg.Output(df, metadata=metadata)
    logged.raise_if_failed()  # after the deals and the output (defs/history.py)


def _report_external(
    context: dg.AssetExecutionContext, key: dg.AssetKey, df: pd.DataFrame, done: tuple[str, ...]
) -> None:
    """Record on the external asset what this step wrote there, so lineage ends at the real system."""
    written = int(df["status"].isin(done).sum()) if len(df) else 0
    if written:
        context.log_event(
            dg.AssetMaterialization(
                asset_key=key,
                partition=None,
                metadata={"written_by": context.asset_key.to_user_string(), "rows": written},
            )
        )


@_reconcile_asset(
    kinds={"aws", "pandas"},
    pool="partner_central_writes",
    check_specs=[dg.AssetCheckSpec("one_opportunity_per_deal", asset="opportunity_creates")],
)
def opportunity_creates(
    context: dg.AssetExecutionContext,
    sync_plan: pd.DataFrame,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    """CreateOpportunity for each `create` row (and solution associations); `link` rows pass through."""
    waiting = PriorityWaiting(context)
    df, metadata, dupes = creates_step(
        sync_plan,
        partner_central,
        sync_state,
        event_scoped=False,
        started=run_started(context),
        yield_to=waiting,
    )
    metadata.update(waiting.mark())
    _report_external(context, external.PC_OPPORTUNITIES, df, (RowStatus.CREATED,))
    yield dg.Output(df, metadata=metadata)
    yield dg.AssetCheckResult(
        check_name="one_opportunity_per_deal",
        passed=not dupes,
        metadata={
            "deals_with_several_opportunities": len(dupes),
            "examples": dg.MetadataValue.json(dict(list(dupes.items())[:10])),
        },
    )


@_reconcile_asset(kinds={"aws", "pandas"}, pool="partner_central_writes")
def opportunity_updates(
    context: dg.AssetExecutionContext,
    sync_plan: pd.DataFrame,
    hubspot_deals: pd.DataFrame,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> dg.Output[pd.DataFrame]:
    """UpdateOpportunity with the full record for each `update` row; conflicts are re-read and merged."""
    waiting = PriorityWaiting(context)
    df, metadata = updates_step(
        sync_plan, hubspot_deals, partner_central, sync_state, mapping, yield_to=waiting
    )
    metadata.update(waiting.mark())
    _report_external(context, external.PC_OPPORTUNITIES, df, (RowStatus.UPDATED,))
    return dg.Output(df, metadata=metadata)


@_reconcile_asset(
    kinds={"hubspot", "pandas"},
    pool="hubspot_writes",
    check_specs=[
        dg.AssetCheckSpec("no_failed_writes", asset="hubspot_deal_writes", blocking=False),
        dg.AssetCheckSpec("plan_converged", asset="hubspot_deal_writes"),
        dg.AssetCheckSpec("pairs_agree", asset="hubspot_deal_writes", blocking=False),
    ],
)
def hubspot_deal_writes(
    context: dg.AssetExecutionContext,
    sync_plan: pd.DataFrame,
    hubspot_deals: pd.DataFrame,
    partner_central_opportunities: pd.DataFrame,
    opportunity_creates: pd.DataFrame,
    opportunity_updates: pd.DataFrame,
    hubspot: HubSpotResource,
    mapping: MappingResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    """Ids, statuses, errors and Partner-Central-owned fields written to deals in batches; notes once.
    Then every row's outcome goes to the sync history (`none` rows that ended unchanged are counted).
    Records the run's figures (rows per final status, writes, calls, quota share, duration) as
    numbers Dagster plots, and prints them as a CloudWatch EMF line when asked."""
    sweep = _is_range_run(context)
    window = window_of(context)
    done = deal_writes_step(
        context,
        sync_plan,
        hubspot_deals,
        partner_central_opportunities,
        (opportunity_creates, opportunity_updates),
        hubspot,
        mapping,
        partner_central,
        sync_state,
        window=window,
        scope=[],  # the whole window (scoped work is sync_deals)
        sweep=sweep,
    )
    df_status = done.df.rename(columns={"write_status": "status"})
    _report_external(context, external.HUBSPOT_DEALS, df_status, (RowStatus.WRITTEN,))
    yield dg.Output(done.df, metadata=done.metadata)
    yield dg.AssetCheckResult(
        check_name="no_failed_writes", passed=done.failed == 0, metadata={"failed": done.failed}
    )
    yield _plan_converged(done.leftover)
    # Proof of agreement: a range run (the nightly sweep) checks every linked pair of its window,
    # other runs the pairs they planned to change (cheap enough every 15 minutes). In the history:
    # every sweep's proof, and any run's unexplained disagreement.
    proof = done.proof
    logged_proof = [agreement_entry(context, proof, sweep, window)] if sweep or not proof.passed else []
    agreed = append_history(context, sync_state, logged_proof)
    yield _pairs_agree(proof, sweep, agreed.metadata)
    done.logged.raise_if_failed()  # after the writes, the output and the checks


def _is_range_run(context: dg.AssetExecutionContext) -> bool:
    if not context.has_partition_key_range:
        return False
    keys = context.partition_key_range
    return bool(keys.start != keys.end)


def _pairs_agree(proof: AgreementReport, sweep: bool, history: dict[str, Any]) -> dg.AssetCheckResult:
    """Passed when every disagreement between linked pairs has a known reason (docs/two-way.md)."""
    return dg.AssetCheckResult(
        check_name="pairs_agree",
        passed=proof.passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "scope": "every linked pair of the window" if sweep else "the pairs this run planned to change",
            "pairs_checked": proof.pairs,
            "unexplained": proof.unexplained_total,
            "by_field_and_reason": dg.MetadataValue.md(proof.table()),
            "unexplained_examples": dg.MetadataValue.json(
                [{"deal_id": d, "opportunity_id": o, "field": f} for d, o, f in proof.unexplained]
            ),
            **{k: v for k, v in history.items() if k == "history_rows_appended"},
        },
    )


def _plan_converged(leftover: list[PlanRow]) -> dg.AssetCheckResult:
    """Passed when planning again after apply and write-back leaves nothing to do (20 examples shown)."""
    return dg.AssetCheckResult(
        check_name="plan_converged",
        passed=not leftover,
        metadata={
            "unsettled_rows": len(leftover),
            "examples": dg.MetadataValue.md(
                report.markdown_table(
                    [
                        {"entity_key": r.entity_key, "operation": r.operation, "reason": r.reason}
                        for r in leftover[:20]
                    ],
                    ["entity_key", "operation", "reason"],
                )
            ),
        },
    )
