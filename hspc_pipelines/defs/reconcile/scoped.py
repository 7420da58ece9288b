"""`sync_deals`: the reconcile for a few named deals and opportunities (events, `hspc sync`).

An unpartitioned op job built from the reconcile's own functions (snapshot, plan, apply, write-back,
history), so scoped work never writes a partition of the reconcile assets: each of their partitions
keeps what the last full run of its window computed. What a run read and wrote is reported on the
external assets (`hubspot/deals`, `partner_central/opportunities`) with the ids in metadata, and its
rows go to the sync history like a reconcile's. Frames pass between its ops in memory (the job is
in-process, one run one process), so nothing of a scoped run is stored as an asset output.
"""

import datetime as dt
from collections.abc import Iterator, Sequence

import dagster as dg
import pandas as pd
from pydantic import Field

from hspc_pipelines.defs import external
from hspc_pipelines.defs.history import append_history, run_identity, run_scope
from hspc_pipelines.defs.reconcile.assets import _apply_metadata, _deal_writes, _frame_metadata
from hspc_pipelines.defs.resources import (
    IN_MEMORY_IO,
    IN_MEMORY_RESOURCES,
    HubSpotResource,
    MappingResource,
    PartnerCentralResource,
    SyncStateResource,
)
from hspc_pipelines.defs.tags import WRITES
from hspc_pipelines.events.coalesce import SCOPE_OP, SYNC_DEALS
from hspc_pipelines.mapping.vocabulary import Operation, RowStatus
from hspc_pipelines.reconcile import frames, report
from hspc_pipelines.reconcile.apply import apply_creates, apply_updates
from hspc_pipelines.reconcile.converge import replan_after_apply, unsettled
from hspc_pipelines.reconcile.history_rows import history_entries
from hspc_pipelines.reconcile.hubspot_snapshot import fetch_deal_snapshots
from hspc_pipelines.reconcile.pc_snapshot import fetch_opportunity_snapshot, wanted_opportunities
from hspc_pipelines.reconcile.plan import build_plan
from hspc_pipelines.reconcile.scope import ScopeError, parse_scope
from hspc_pipelines.reconcile.settled_store import keep_settled, load_settled
from hspc_pipelines.reconcile.writeback import write_deals
from hspc_pipelines.solutions.catalog import fetch_solutions, solution_rows
from hspc_pipelines.solutions.matching import choose_solutions

JOB = SYNC_DEALS  # events/coalesce.py names the job and its scope op (it is pure, it cannot import these)
MEMORY = IN_MEMORY_IO
MAX_IDS = 200  # ids listed in one metadata entry; the count is always exact


class SyncScopeConfig(dg.Config):
    """The deals and opportunities to sync (at least one id)."""

    deal_ids: list[str] = Field(default=[], description="HubSpot deal ids (digits)")
    opportunity_ids: list[str] = Field(default=[], description="Partner Central opportunity ids (O…)")


def _today() -> tuple[dt.datetime, dt.datetime]:
    """The day rows are filed under, as the event-scoped reconcile of today's partition did."""
    start = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(), dt.UTC)
    return start, start + dt.timedelta(days=1)


def _ids(values: Sequence[object]) -> dg.MetadataValue:
    ids = sorted({str(v) for v in pd.Series(list(values), dtype="object").dropna()})
    return dg.MetadataValue.json(ids[:MAX_IDS])


def _report(
    context: dg.OpExecutionContext,
    key: dg.AssetKey,
    df: pd.DataFrame,
    done: tuple[str, ...],
    status_column: str = "status",
) -> int:
    """A materialization of the external asset naming the rows this step wrote there, if any."""
    wrote = df[df[status_column].isin(done)] if len(df) else df
    if len(wrote):
        context.log_event(
            dg.AssetMaterialization(
                asset_key=key,
                metadata={
                    "written_by": f"{JOB}.{context.op.name}",
                    "rows": len(wrote),
                    "deal_ids": _ids(list(wrote["deal_id"])),
                    **(
                        {"opportunity_ids": _ids(list(wrote["opportunity_id"]))}
                        if "opportunity_id" in wrote
                        else {}
                    ),
                },
            )
        )
    return len(wrote)


@dg.op(
    out={
        "deals": dg.Out(pd.DataFrame, io_manager_key=MEMORY),
        "opportunities": dg.Out(pd.DataFrame, io_manager_key=MEMORY),
        "solutions": dg.Out(pd.DataFrame, io_manager_key=MEMORY),
    },
)
def scoped_snapshot(
    context: dg.OpExecutionContext,
    config: SyncScopeConfig,
    hubspot: HubSpotResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> Iterator[dg.Output[pd.DataFrame]]:
    """Exactly the named deals (archived too) and opportunities, the deals' counterparts, the solutions."""
    try:
        scope = parse_scope(config.deal_ids, config.opportunity_ids)
    except ScopeError as exc:
        raise dg.Failure(description=str(exc)) from exc
    hubspot.ensure_properties(context.log)
    start, end = _today()
    mapping_config, client = mapping.get_config(), partner_central.get_client()
    snaps = (
        fetch_deal_snapshots(hubspot.get_client(), mapping_config, start, end, list(scope.deal_ids))
        if scope.deal_ids
        else []
    )
    deals = frames.deals_frame(snaps)
    counterparts, candidates = wanted_opportunities(
        frames.records(deals), mapping_config.partner_opportunity_prefix
    )
    items = fetch_opportunity_snapshot(
        client, sync_state.get_store(), start, end, counterparts, candidates, list(scope.opportunity_ids)
    )
    opportunities = frames.opportunities_frame(items)
    solutions = frames.frame(
        solution_rows(fetch_solutions(client), frames.day(start)), frames.SOLUTION_COLUMNS
    )
    # Reads are observations: lineage shows which records of each system this run looked at.
    context.log_event(
        dg.AssetObservation(
            asset_key=external.HUBSPOT_DEALS,
            metadata={
                "read_by": JOB,
                "asked": _ids(scope.deal_ids),
                "deal_ids": _ids(list(deals["deal_id"])),
            },
        )
    )
    context.log_event(
        dg.AssetObservation(
            asset_key=external.PC_OPPORTUNITIES,
            metadata={
                "read_by": JOB,
                "asked": _ids(scope.opportunity_ids),
                "opportunity_ids": _ids(list(opportunities["opportunity_id"])),
            },
        )
    )
    yield dg.Output(deals, "deals", metadata=_frame_metadata(deals))
    yield dg.Output(opportunities, "opportunities", metadata=_frame_metadata(opportunities))
    yield dg.Output(solutions, "solutions", metadata=_frame_metadata(solutions))


@dg.op(out=dg.Out(pd.DataFrame, io_manager_key=MEMORY))
def scoped_plan(
    deals: pd.DataFrame,
    opportunities: pd.DataFrame,
    solutions: pd.DataFrame,
    mapping: MappingResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
) -> dg.Output[pd.DataFrame]:
    """The plan of the scope, made as `sync_plan` makes it (settled pairs included)."""
    config, catalog, store = mapping.get_config(), partner_central.catalog, sync_state.get_store()
    records, partitions = frames.opportunity_records(opportunities)
    settled = load_settled(store, catalog, deals["deal_id"].astype(str))
    rows = build_plan(frames.deal_snapshots(deals), records, partitions, config, catalog, settled)
    keep_settled(store, catalog, rows)
    choose_solutions(rows, frames.records(solutions), partner_central.default_solution_id)
    df = frames.plan_frame(rows)
    return dg.Output(
        df,
        metadata=_frame_metadata(
            df,
            operations=dg.MetadataValue.json(report.counts(df, "operation")),
            changed_fields=dg.MetadataValue.md(report.changed_fields_table(df)),
            invalid_and_blocked=dg.MetadataValue.md(
                report.failures_table(df, "operation", (Operation.INVALID, Operation.BLOCKED), "reason")
            ),
        ),
    )


@dg.op(out=dg.Out(pd.DataFrame, io_manager_key=MEMORY), pool="partner_central_writes")
def scoped_creates(
    context: dg.OpExecutionContext,
    plan: pd.DataFrame,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
) -> dg.Output[pd.DataFrame]:
    """CreateOpportunity for the scope's `create` rows, as `opportunity_creates` does."""
    rows = [r for r in frames.plan_rows(plan) if r["operation"] in (Operation.CREATE, Operation.LINK)]
    client, store = partner_central.get_client(), sync_state.get_store()
    df = frames.results_frame(apply_creates(client, store, rows, workers=partner_central.write_workers))
    _report(context, external.PC_OPPORTUNITIES, df, (RowStatus.CREATED,))
    dupes = store.duplicate_partner_identifiers(client.catalog)
    return dg.Output(df, metadata={**_apply_metadata(df), "deals_with_several_opportunities": len(dupes)})


@dg.op(out=dg.Out(pd.DataFrame, io_manager_key=MEMORY), pool="partner_central_writes")
def scoped_updates(
    context: dg.OpExecutionContext,
    plan: pd.DataFrame,
    deals: pd.DataFrame,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> dg.Output[pd.DataFrame]:
    """UpdateOpportunity for the scope's `update` rows, as `opportunity_updates` does."""
    rows = [r for r in frames.plan_rows(plan) if r["operation"] == Operation.UPDATE]
    bundles = {s.bundle.deal_id: s.bundle for s in frames.deal_snapshots(deals)}
    results = apply_updates(
        partner_central.get_client(),
        sync_state.get_store(),
        rows,
        bundles,
        mapping.get_config(),
        workers=partner_central.write_workers,
    )
    df = frames.results_frame(results)
    _report(context, external.PC_OPPORTUNITIES, df, (RowStatus.UPDATED,))
    return dg.Output(df, metadata=_apply_metadata(df))


@dg.op(out=dg.Out(pd.DataFrame, io_manager_key=MEMORY), pool="hubspot_writes")
def scoped_deal_writes(
    context: dg.OpExecutionContext,
    plan: pd.DataFrame,
    deals: pd.DataFrame,
    opportunities: pd.DataFrame,
    creates: pd.DataFrame,
    updates: pd.DataFrame,
    hubspot: HubSpotResource,
    mapping: MappingResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
) -> Iterator[dg.Output[pd.DataFrame]]:
    """The write-back to the deals and the sync history, as `hubspot_deal_writes` does. Its checks
    (failed writes, convergence) are counts in this step's metadata: an op job has no asset checks."""
    hubspot.ensure_properties(context.log)
    config = mapping.get_config()
    applied = frames.apply_results(creates) + frames.apply_results(updates)
    plan_rows = frames.plan_rows(plan)
    writes, planned = _deal_writes(plan_rows, applied, config)
    outcome = write_deals(hubspot.get_client(), writes)
    df = frames.writes_frame(outcome)
    _report(context, external.HUBSPOT_DEALS, df, (RowStatus.WRITTEN,), status_column="write_status")
    run = run_identity(context)
    logged_rows = history_entries(
        plan_rows,
        applied,
        outcome,
        run_id=run.run_id,
        job_name=run.job_name,
        window=None,
        scope=run_scope(run, (SCOPE_OP,), tuple(SyncScopeConfig.model_fields)),
    )
    logged = append_history(
        context, sync_state, logged_rows.entries, unchanged_not_logged=logged_rows.unchanged
    )
    records, _ = frames.opportunity_records(opportunities)
    leftover = unsettled(
        replan_after_apply(
            frames.deal_snapshots(deals),
            records,
            applied,
            [(w, status) for w, status, _, _ in outcome],
            config,
            partner_central.catalog,
            planned,
        )
    )
    failed = int((df["write_status"] == RowStatus.FAILED).sum()) if len(df) else 0
    if leftover:
        context.log.warning(f"{len(leftover)} row(s) would plan work again: {leftover[0].reason}")
    yield dg.Output(
        df,
        metadata=_frame_metadata(
            df,
            final_statuses=dg.MetadataValue.json(report.counts(df, "final_status")),
            write_statuses=dg.MetadataValue.json(report.counts(df, "write_status")),
            failed_writes=failed,
            unsettled_rows=len(leftover),
            failures=dg.MetadataValue.md(
                report.failures_table(df, "write_status", (RowStatus.FAILED,), "error_message")
            ),
            **logged.metadata,
        ),
    )
    logged.raise_if_failed()  # after the writes and the output (defs/history.py)


@dg.job(
    name=JOB,
    tags=WRITES,
    executor_def=dg.in_process_executor,
    description="Sync the named deals and opportunities now (events, `hspc sync`): the reconcile's "
    "steps without storing a partition; what it wrote is reported on hubspot/deals and "
    "partner_central/opportunities.",
)
def sync_deals() -> None:
    deals, opportunities, solutions = scoped_snapshot()
    plan = scoped_plan(deals, opportunities, solutions)
    creates = scoped_creates(plan)
    updates = scoped_updates(plan, deals)
    scoped_deal_writes(plan, deals, opportunities, creates, updates)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[sync_deals], resources=IN_MEMORY_RESOURCES)
