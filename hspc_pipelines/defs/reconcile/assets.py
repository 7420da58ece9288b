"""The reconciliation graph: snapshot -> plan -> apply -> write back. Wiring only; logic lives in
hspc_pipelines.reconcile (its pure plan beside its I/O).

The assets are partitioned by a setting (the first day), so each body is registered here with its
decorator arguments and `reconcile_assets(partitions_def)` builds them when definitions load.
"""

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import pandas as pd
from dagster._core.definitions.metadata import RawMetadataValue

from hspc_pipelines.defs import external
from hspc_pipelines.defs.alerts import alert_on_rows
from hspc_pipelines.defs.history import append_history, run_identity, window_of
from hspc_pipelines.defs.resources import (
    HubSpotResource,
    MappingResource,
    PartnerCentralResource,
    SyncStateResource,
)
from hspc_pipelines.defs.run_metrics import StepCalls, emit, plotted, run_calls, run_duration
from hspc_pipelines.history import HistoryEntry
from hspc_pipelines.mapping import MappingConfig
from hspc_pipelines.mapping.vocabulary import Operation, RowStatus
from hspc_pipelines.metrics.figures import reconcile_figures
from hspc_pipelines.quotas.budget import write_cost
from hspc_pipelines.reconcile import frames, report
from hspc_pipelines.reconcile.agreement import AgreementReport, agreement
from hspc_pipelines.reconcile.apply import apply_creates, apply_updates
from hspc_pipelines.reconcile.base_store import keep_bases, load_bases
from hspc_pipelines.reconcile.converge import replan_after_apply, state_after_apply, unsettled
from hspc_pipelines.reconcile.history_rows import history_entries
from hspc_pipelines.reconcile.hubspot_snapshot import fetch_deal_snapshots
from hspc_pipelines.reconcile.import_deals import import_opportunities
from hspc_pipelines.reconcile.import_rules import import_candidates
from hspc_pipelines.reconcile.outcomes import ApplyResult, DealWrite, deal_write_for
from hspc_pipelines.reconcile.pc_snapshot import fetch_opportunity_snapshot, wanted_opportunities
from hspc_pipelines.reconcile.plan import PlanRow, build_plan
from hspc_pipelines.reconcile.settled_store import keep_settled, load_settled
from hspc_pipelines.reconcile.writeback import write_deals
from hspc_pipelines.settings import load_settings
from hspc_pipelines.solutions.catalog import fetch_solutions, solution_rows
from hspc_pipelines.solutions.matching import choose_solutions

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


def _frame_metadata(df: pd.DataFrame, **extra: RawMetadataValue) -> dict[str, RawMetadataValue]:
    return {
        "dagster/row_count": len(df),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(str(c), str(t)) for c, t in df.dtypes.items()]
        ),
        **extra,
    }


@_reconcile_asset(
    deps=[external.HUBSPOT_DEALS, external.HUBSPOT_COMPANIES, external.HUBSPOT_CONTACTS],
    kinds={"hubspot", "pandas"},
)
def hubspot_deals(
    context: dg.AssetExecutionContext, hubspot: HubSpotResource, mapping: MappingResource
) -> dg.Output[pd.DataFrame]:
    """Co-sell (or already linked) deals changed in the window, with their company and contacts.
    No scope config: a partition always holds its whole window (named records: `sync_deals`)."""
    step = StepCalls(hubspot=hubspot)
    hubspot.ensure_properties(context.log)
    start, end = _window(context)
    snaps = fetch_deal_snapshots(hubspot.get_client(), mapping.get_config(), start, end)
    df = frames.deals_frame(snaps)
    linked = int(df["aws_opportunity_id"].notna().sum()) if len(df) else 0
    return dg.Output(
        df,
        metadata=_frame_metadata(df, linked=linked, archived=int(df["archived"].sum()), **step.metadata()),
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
        metadata=_frame_metadata(
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
    return dg.Output(df, metadata=_frame_metadata(df, **step.metadata()))


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
    config, catalog, store = mapping.get_config(), partner_central.catalog, sync_state.get_store()
    records, partitions = frames.opportunity_records(partner_central_opportunities)
    settled = load_settled(store, catalog, hubspot_deals["deal_id"].astype(str))
    bases = load_bases(store, catalog, _links(hubspot_deals))
    rows = build_plan(
        frames.deal_snapshots(hubspot_deals), records, partitions, config, catalog, settled, bases
    )
    newly_settled = keep_settled(store, catalog, rows)
    bases_kept = keep_bases(store, catalog, rows)
    choose_solutions(rows, frames.records(partner_central_solutions), partner_central.default_solution_id)
    df = frames.plan_frame(rows)
    ops = report.counts(df, "operation")
    yield dg.Output(
        df,
        metadata=_frame_metadata(
            df,
            operations=dg.MetadataValue.json(ops),
            settled_pairs_skipped=sum(1 for r in rows if r.skipped),
            settled_pairs_recorded=newly_settled,
            merge_bases_recorded=bases_kept,
            conflicts=sum(1 for r in rows if r.conflicts),
            changed_fields=dg.MetadataValue.md(report.changed_fields_table(df)),
            invalid_and_blocked=dg.MetadataValue.md(
                report.failures_table(df, "operation", (Operation.INVALID, Operation.BLOCKED), "reason")
            ),
        ),
    )
    invalid = ops.get(Operation.INVALID, 0)
    yield dg.AssetCheckResult(
        check_name="no_invalid_rows",
        passed=invalid == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"invalid_rows": invalid, "blocked_rows": ops.get(Operation.BLOCKED, 0)},
    )


def _links(hubspot_deals: pd.DataFrame) -> dict[str, str]:
    """deal id -> the opportunity id the deal carries, for the linked deals of the snapshot."""
    linked = (
        hubspot_deals[hubspot_deals["aws_opportunity_id"].notna()] if len(hubspot_deals) else hubspot_deals
    )
    return {str(d): str(o) for d, o in zip(linked["deal_id"], linked["aws_opportunity_id"], strict=True)}


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
) -> dg.Output[pd.DataFrame]:
    """Opportunities created in Partner Central (no deal's identifier, not from an invitation, since
    `import_since`) become deals with their company and contacts, linked both ways (docs/two-way.md)."""
    config, store, client = mapping.get_config(), sync_state.get_store(), partner_central.get_client()
    paired = {
        str(r["opportunity_id"]) for r in frames.plan_rows(sync_plan) if r["deal_id"] and r["opportunity_id"]
    }
    records, partitions = frames.opportunity_records(partner_central_opportunities)
    decoded = [dict(r) for r in records]
    since = config.import_since or store.created_on(dt.datetime.now(dt.UTC).date().isoformat())
    from_invitations = store.invitation_opportunities(client.catalog, [str(r["Id"]) for r in decoded])
    candidates = import_candidates(decoded, paired, from_invitations, config, since)
    rows = import_opportunities(hubspot.get_client(), client, store, config, candidates)
    df = pd.DataFrame(
        [{**dataclasses.asdict(r), "partition_date": partitions.get(r.opportunity_id)} for r in rows],
        columns=["partition_date", "opportunity_id", "status", "deal_id", "pc_linked", "reason"],
    ).astype({"partition_date": "string", "opportunity_id": "string", "status": "string"})
    _report_external(context, external.HUBSPOT_DEALS, df, (RowStatus.CREATED,))
    run = run_identity(context)
    logged = append_history(
        context,
        sync_state,
        [
            HistoryEntry(
                run_id=run.run_id,
                job_name=run.job_name,
                window=window_of(context),
                operation="import",
                status=r.status,
                deal_id=r.deal_id,
                opportunity_id=r.opportunity_id,
                message=r.reason,
            )
            for r in rows
        ],
    )
    logged.raise_if_failed()
    return dg.Output(
        df,
        metadata={
            "dagster/row_count": len(df),
            "import_since": since,
            "import_enabled": config.import_opportunities,
            "statuses": dg.MetadataValue.json(report.counts(df, "status")),
            **logged.metadata,
        },
    )


def _apply_metadata(df: pd.DataFrame, step: StepCalls) -> dict[str, RawMetadataValue]:
    return _frame_metadata(
        df,
        **step.metadata(),
        statuses=dg.MetadataValue.json(report.counts(df, "status")),
        failures=dg.MetadataValue.md(
            report.failures_table(
                df,
                "status",
                (RowStatus.FAILED, RowStatus.INVALID, RowStatus.BLOCKED, RowStatus.DEFERRED),
                "error_message",
            )
        ),
    )


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
    step = StepCalls(partner_central=partner_central)
    plan = frames.plan_rows(sync_plan)
    rows = [r for r in plan if r["operation"] in (Operation.CREATE, Operation.LINK)]
    client, store = partner_central.get_client(), sync_state.get_store()
    # updates come first whichever step runs first: their writes are not the creates' to spend
    claimed = sum(write_cost(r) for r in plan if r["operation"] == Operation.UPDATE)
    budget = partner_central.write_budget(store)
    scoped = run_scope(run_identity(context), ("hubspot_deals",), tuple(ScopeConfig.model_fields))
    results = apply_creates(
        client,
        store,
        rows,
        workers=partner_central.write_workers,
        budget=budget,
        claimed=claimed,
        event_scoped=bool(scoped),
    )
    df = frames.results_frame(results)
    _report_external(context, external.PC_OPPORTUNITIES, df, (RowStatus.CREATED,))
    yield dg.Output(df, metadata=_apply_metadata(df, step))
    dupes = store.duplicate_partner_identifiers(client.catalog)
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
    step = StepCalls(partner_central=partner_central)
    rows = [r for r in frames.plan_rows(sync_plan) if r["operation"] == Operation.UPDATE]
    bundles = {s.bundle.deal_id: s.bundle for s in frames.deal_snapshots(hubspot_deals)}
    store = sync_state.get_store()
    results = apply_updates(
        partner_central.get_client(),
        store,
        rows,
        bundles,
        mapping.get_config(),
        workers=partner_central.write_workers,
        budget=partner_central.write_budget(store),
    )
    df = frames.results_frame(results)
    _report_external(context, external.PC_OPPORTUNITIES, df, (RowStatus.UPDATED,))
    return dg.Output(df, metadata=_apply_metadata(df, step))


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
    step = StepCalls(hubspot=hubspot)
    hubspot.ensure_properties(context.log)
    config = mapping.get_config()
    applied = frames.apply_results(opportunity_creates) + frames.apply_results(opportunity_updates)
    plan = frames.plan_rows(sync_plan)
    writes, planned = _deal_writes(plan, applied, config)
    outcome = write_deals(hubspot.get_client(), writes)
    df = frames.writes_frame(outcome)
    df_status = df.rename(columns={"write_status": "status"})
    _report_external(context, external.HUBSPOT_DEALS, df_status, (RowStatus.WRITTEN,))
    failed = int((df["write_status"] == RowStatus.FAILED).sum()) if len(df) else 0
    run = run_identity(context)
    logged_rows = history_entries(
        plan,
        applied,
        outcome,
        run_id=run.run_id,
        job_name=run.job_name,
        window=window_of(context),
        scope=[],  # the whole window (scoped work is sync_deals)
    )
    logged = append_history(
        context, sync_state, logged_rows.entries, unchanged_not_logged=logged_rows.unchanged
    )
    figures = reconcile_figures(
        report.counts(df, "final_status"),
        int((df["write_status"] == RowStatus.WRITTEN).sum()) if len(df) else 0,
        run_calls(context, step.figures()),
        writes_per_day=load_settings().pc_writes_per_day,
        duration_seconds=run_duration(context),
    )
    emit(figures, run.job_name)
    alert_on_rows(context.log, run, figures)
    yield dg.Output(
        df,
        metadata=_frame_metadata(
            df,
            **step.metadata(),
            **plotted(figures),
            final_statuses=dg.MetadataValue.json(report.counts(df, "final_status")),
            write_statuses=dg.MetadataValue.json(report.counts(df, "write_status")),
            notes_written=int(df["notes_written"].sum()) if len(df) else 0,
            failures=dg.MetadataValue.md(
                report.failures_table(df, "write_status", (RowStatus.FAILED,), "error_message")
            ),
            **logged.metadata,
        ),
    )
    yield dg.AssetCheckResult(check_name="no_failed_writes", passed=failed == 0, metadata={"failed": failed})
    records, _ = frames.opportunity_records(partner_central_opportunities)
    store, catalog = sync_state.get_store(), partner_central.catalog
    snapshots, written = frames.deal_snapshots(hubspot_deals), [(w, status) for w, status, _, _ in outcome]
    replanned = replan_after_apply(
        snapshots,
        records,
        applied,
        written,
        config,
        catalog,
        planned,
        load_bases(store, catalog, _links(hubspot_deals)),
    )
    # The pairs this run brought together agree now: that is their base (`reconcile/merge.py`).
    keep_bases(store, catalog, replanned)
    yield _plan_converged(unsettled(replanned))
    # Proof of agreement: a range run (the nightly sweep) checks every linked pair of its window,
    # other runs the pairs they planned to change (cheap enough every 15 minutes).
    sweep = _is_range_run(context)
    after, after_records = state_after_apply(snapshots, records, applied, written, None if sweep else planned)
    links = {s.bundle.deal_id: str(s.bundle.deal.get("aws_opportunity_id")) for s in after}
    proof = agreement(after, after_records, config, load_bases(store, catalog, links))
    # In the history: every sweep's proof, and any run's unexplained disagreement.
    logged_proof = [_agreement_entry(context, proof, sweep)] if sweep or not proof.passed else []
    agreed = append_history(context, sync_state, logged_proof)
    yield _pairs_agree(proof, sweep, agreed.metadata)
    logged.raise_if_failed()  # after the writes, the output and the checks


def _deal_writes(
    plan: list[dict[str, Any]], applied: list[ApplyResult], config: MappingConfig
) -> tuple[list[DealWrite], dict[str, tuple[str, str | None]]]:
    """(the write of each plan row that has one, deal id -> (planned operation, opportunity id))."""
    results = {r.entity_key: r for r in applied}
    writes = []
    planned: dict[str, tuple[str, str | None]] = {}
    for row in plan:
        write = deal_write_for(row, results.get(row["entity_key"]), config)
        if write is not None:
            writes.append(write)
        if row["deal_id"] and str(row["entity_key"]).startswith("deal:"):
            planned[str(row["deal_id"])] = (str(row["operation"]), row["opportunity_id"])
    return writes, planned


def _is_range_run(context: dg.AssetExecutionContext) -> bool:
    if not context.has_partition_key_range:
        return False
    keys = context.partition_key_range
    return bool(keys.start != keys.end)


def _agreement_entry(context: dg.AssetExecutionContext, proof: AgreementReport, sweep: bool) -> HistoryEntry:
    """The run's proof of agreement in the sync history: one entry, the counts per field and reason."""
    run = run_identity(context)
    examples = ", ".join(f"deal {d} / {o}: {f}" for d, o, f in proof.unexplained)
    return HistoryEntry(
        run_id=run.run_id,
        job_name=run.job_name,
        window=window_of(context),
        operation="agreement",
        status="agreed" if proof.passed else "disagreed",
        reason_code=None if proof.passed else "UnexplainedDisagreement",
        message=("sweep: " if sweep else "changed pairs: ")
        + proof.summary()
        + (f"; unexplained: {examples}" if examples else ""),
    )


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
