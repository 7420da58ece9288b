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
from hspc_pipelines.defs.history import run_identity, run_scope
from hspc_pipelines.defs.logging import CONSOLE_RUN_CONFIG
from hspc_pipelines.defs.reconcile.steps import (
    creates_step,
    deal_writes_step,
    frame_metadata,
    imports_step,
    plan_step,
    run_started,
    updates_step,
)
from hspc_pipelines.defs.resources import (
    IN_MEMORY_IO,
    IN_MEMORY_RESOURCES,
    HubSpotResource,
    MappingResource,
    PartnerCentralResource,
    SyncStateResource,
)
from hspc_pipelines.defs.run_metrics import StepCalls
from hspc_pipelines.defs.tags import PRIORITY_RUN
from hspc_pipelines.events.coalesce import SCOPE_OP, SYNC_DEALS
from hspc_pipelines.mapping.vocabulary import RowStatus
from hspc_pipelines.reconcile import frames
from hspc_pipelines.reconcile.hubspot_snapshot import fetch_deal_snapshots
from hspc_pipelines.reconcile.pc_snapshot import fetch_opportunity_snapshot, wanted_opportunities
from hspc_pipelines.reconcile.scope import ScopeError, parse_scope
from hspc_pipelines.solutions.catalog import fetch_solutions, solution_rows

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
    step = StepCalls(hubspot=hubspot, partner_central=partner_central)
    hubspot.ensure_properties(context.log)
    start, end = _today()
    mapping_config, client = mapping.get_config(), partner_central.get_client()
    snaps = (
        fetch_deal_snapshots(hubspot.get_client(), mapping_config, start, end, list(scope.deal_ids))
        if scope.deal_ids
        else []
    )
    hubspot.keep_daily(sync_state.get_store())  # an event run may spend the reserve; later creates wait
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
    # the step's calls on one output only: the run's figures count each step once
    yield dg.Output(deals, "deals", metadata=frame_metadata(deals, **step.metadata()))
    yield dg.Output(opportunities, "opportunities", metadata=frame_metadata(opportunities))
    yield dg.Output(solutions, "solutions", metadata=frame_metadata(solutions))


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
    planned = plan_step(deals, opportunities, solutions, mapping, partner_central, sync_state)
    return dg.Output(planned.df, metadata=planned.metadata)


@dg.op(out=dg.Out(pd.DataFrame, io_manager_key=MEMORY), pool="hubspot_writes")
def scoped_imports(
    context: dg.OpExecutionContext,
    plan: pd.DataFrame,
    opportunities: pd.DataFrame,
    hubspot: HubSpotResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> Iterator[dg.Output[pd.DataFrame]]:
    """The scope's opportunities created in Partner Central become deals, as `opportunity_imports`
    does (the "Opportunity Created" event's way in)."""
    df, metadata, logged = imports_step(
        context, plan, opportunities, hubspot, partner_central, sync_state, mapping, None
    )
    _report(context, external.HUBSPOT_DEALS, df, (RowStatus.CREATED,))
    yield dg.Output(df, metadata=metadata)
    logged.raise_if_failed()  # after the deals and the output (defs/history.py)


@dg.op(out=dg.Out(pd.DataFrame, io_manager_key=MEMORY), pool="partner_central_writes")
def scoped_creates(
    context: dg.OpExecutionContext,
    plan: pd.DataFrame,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
) -> dg.Output[pd.DataFrame]:
    """CreateOpportunity for the scope's `create` rows, as `opportunity_creates` does."""
    # event-scoped work may spend the write reserve that first-load creates leave (quotas/)
    df, metadata, dupes = creates_step(
        plan, partner_central, sync_state, event_scoped=True, started=run_started(context)
    )
    _report(context, external.PC_OPPORTUNITIES, df, (RowStatus.CREATED,))
    return dg.Output(df, metadata={**metadata, "deals_with_several_opportunities": len(dupes)})


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
    df, metadata = updates_step(plan, deals, partner_central, sync_state, mapping)
    _report(context, external.PC_OPPORTUNITIES, df, (RowStatus.UPDATED,))
    return dg.Output(df, metadata=metadata)


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
    run = run_identity(context)
    done = deal_writes_step(
        context,
        plan,
        deals,
        opportunities,
        (creates, updates),
        hubspot,
        mapping,
        partner_central,
        sync_state,
        window=None,
        scope=run_scope(run, (SCOPE_OP,), tuple(SyncScopeConfig.model_fields)),
        sweep=False,
    )
    _report(context, external.HUBSPOT_DEALS, done.df, (RowStatus.WRITTEN,), status_column="write_status")
    if done.leftover:
        context.log.warning(f"{len(done.leftover)} row(s) would plan work again: {done.leftover[0].reason}")
    if not done.proof.passed:
        context.log.warning(f"pairs disagree without a known reason: {done.proof.summary()}")
    yield dg.Output(
        done.df,
        metadata={
            **done.metadata,
            "failed_writes": done.failed,
            "unsettled_rows": len(done.leftover),
            "unexplained_disagreements": done.proof.unexplained_total,
        },
    )
    done.logged.raise_if_failed()  # after the writes and the output (defs/history.py)


@dg.job(
    name=JOB,
    tags=PRIORITY_RUN,
    executor_def=dg.in_process_executor,
    config=CONSOLE_RUN_CONFIG,
    description="Sync the named deals and opportunities now (events, `hspc sync`): the reconcile's "
    "steps without storing a partition; what it wrote is reported on hubspot/deals and "
    "partner_central/opportunities.",
)
def sync_deals() -> None:
    deals, opportunities, solutions = scoped_snapshot()
    plan = scoped_plan(deals, opportunities, solutions)
    scoped_imports(plan, opportunities)
    creates = scoped_creates(plan)
    updates = scoped_updates(plan, deals)
    scoped_deal_writes(plan, deals, opportunities, creates, updates)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[sync_deals], resources=IN_MEMORY_RESOURCES)
