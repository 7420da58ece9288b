"""The reconcile's steps, shared by the partitioned assets (`assets.py`) and the scoped op job
(`scoped.py`): one body per step, so a rule added to the reconcile (merge bases, imports, the write
budget, run figures) reaches both ways in without a second copy. Each step takes frames and
resources and returns its frame with the metadata; the callers add what only they have (asset
checks, ids on the external assets).
"""

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd
from dagster._core.definitions.metadata import RawMetadataValue

from hspc_pipelines.defs.alerts import alert_on_rows
from hspc_pipelines.defs.history import HistoryWrite, append_history, run_identity
from hspc_pipelines.defs.reconcile.pileup import WAITING
from hspc_pipelines.defs.resources import (
    HubSpotResource,
    MappingResource,
    PartnerCentralResource,
    SyncStateResource,
)
from hspc_pipelines.defs.run_metrics import StepCalls, emit, plotted, run_calls, run_duration
from hspc_pipelines.defs.tags import EVENT_PRIORITY, GAVE_WAY_TAG
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
from hspc_pipelines.reconcile.import_deals import import_opportunities
from hspc_pipelines.reconcile.import_rules import import_candidates
from hspc_pipelines.reconcile.outcomes import ApplyResult, DealWrite, deal_write_for
from hspc_pipelines.reconcile.plan import PlanRow, build_plan
from hspc_pipelines.reconcile.settled_store import keep_settled, load_settled
from hspc_pipelines.reconcile.writeback import write_deals
from hspc_pipelines.settings import load_settings
from hspc_pipelines.solutions.matching import choose_solutions

Context = dg.AssetExecutionContext | dg.OpExecutionContext
Window = str | None  # the partition key or `start..end` (defs/history.window_of); None: scoped
IMPORT_COLUMNS = ["partition_date", "opportunity_id", "status", "deal_id", "pc_linked", "reason"]


def frame_metadata(df: pd.DataFrame, **extra: RawMetadataValue) -> dict[str, RawMetadataValue]:
    return {
        "dagster/row_count": len(df),
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(str(c), str(t)) for c, t in df.dtypes.items()]
        ),
        **extra,
    }


def links(deals: pd.DataFrame) -> dict[str, str]:
    """deal id -> the opportunity id the deal carries, for the linked deals of the snapshot."""
    linked = deals[deals["aws_opportunity_id"].notna()] if len(deals) else deals
    return {str(d): str(o) for d, o in zip(linked["deal_id"], linked["aws_opportunity_id"], strict=True)}


def apply_metadata(df: pd.DataFrame, step: StepCalls) -> dict[str, RawMetadataValue]:
    return frame_metadata(
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


@dataclass(frozen=True)
class Planned:
    df: pd.DataFrame
    rows: list[PlanRow]
    operations: dict[str, int]
    metadata: dict[str, RawMetadataValue]


def plan_step(
    deals: pd.DataFrame,
    opportunities: pd.DataFrame,
    solutions: pd.DataFrame,
    mapping: MappingResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
) -> Planned:
    """The plan: settled pairs skipped, the merge against each pair's base, solutions chosen."""
    config, catalog, store = mapping.get_config(), partner_central.catalog, sync_state.get_store()
    records, partitions = frames.opportunity_records(opportunities)
    settled = load_settled(store, catalog, deals["deal_id"].astype(str))
    bases = load_bases(store, catalog, links(deals))
    rows = build_plan(frames.deal_snapshots(deals), records, partitions, config, catalog, settled, bases)
    newly_settled = keep_settled(store, catalog, rows)
    bases_kept = keep_bases(store, catalog, rows)
    choose_solutions(rows, frames.records(solutions), partner_central.default_solution_id)
    df = frames.plan_frame(rows)
    ops = report.counts(df, "operation")
    metadata = frame_metadata(
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
    )
    return Planned(df, rows, ops, metadata)


def imports_step(
    context: Context,
    plan: pd.DataFrame,
    opportunities: pd.DataFrame,
    hubspot: HubSpotResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
    window: Window,
) -> tuple[pd.DataFrame, dict[str, RawMetadataValue], HistoryWrite]:
    """Opportunities created in Partner Central (no deal's identifier, not from an invitation, since
    `import_since`) become deals with their company and contacts, linked both ways (docs/two-way.md).
    The caller raises `HistoryWrite.raise_if_failed()` once its output is out."""
    step = StepCalls(hubspot=hubspot, partner_central=partner_central)
    config, store, client = mapping.get_config(), sync_state.get_store(), partner_central.get_client()
    paired = {
        str(r["opportunity_id"]) for r in frames.plan_rows(plan) if r["deal_id"] and r["opportunity_id"]
    }
    records, partitions = frames.opportunity_records(opportunities)
    decoded = [dict(r) for r in records]
    since = config.import_since or store.created_on(dt.datetime.now(dt.UTC).date().isoformat())
    from_invitations = store.invitation_opportunities(client.catalog, [str(r["Id"]) for r in decoded])
    candidates = import_candidates(decoded, paired, from_invitations, config, since)
    rows = import_opportunities(hubspot.get_client(), client, store, config, candidates)
    # partition_date as a timestamp like every reconcile frame: the store replaces the window's days
    df = frames.frame(
        [{**dataclasses.asdict(r), "partition_date": partitions.get(r.opportunity_id)} for r in rows],
        IMPORT_COLUMNS,
    )
    run = run_identity(context)
    entries = [
        HistoryEntry(
            run_id=run.run_id,
            job_name=run.job_name,
            window=window,
            operation="import",
            status=r.status,
            deal_id=r.deal_id,
            opportunity_id=r.opportunity_id,
            message=r.reason,
        )
        for r in rows
    ]
    logged = append_history(context, sync_state, entries)
    metadata: dict[str, RawMetadataValue] = {
        "dagster/row_count": len(df),
        "import_since": since,
        "import_enabled": config.import_opportunities,
        "statuses": dg.MetadataValue.json(report.counts(df, "status")),
        **step.metadata(),
        **logged.metadata,
    }
    return df, metadata, logged


def creates_step(
    plan: pd.DataFrame,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    *,
    event_scoped: bool,
    started: float | None = None,
    yield_to: Callable[[], str | None] | None = None,
) -> tuple[pd.DataFrame, dict[str, RawMetadataValue], dict[str, list[str]]]:
    """CreateOpportunity for each `create` row (and solution associations) within the write budget;
    `link` rows pass through. Returns the deals holding several opportunities too."""
    step = StepCalls(partner_central=partner_central)
    rows_all = frames.plan_rows(plan)
    rows = [r for r in rows_all if r["operation"] in (Operation.CREATE, Operation.LINK)]
    client, store = partner_central.get_client(), sync_state.get_store()
    # updates come first whichever step runs first: their writes are not the creates' to spend
    claimed = sum(write_cost(r) for r in rows_all if r["operation"] == Operation.UPDATE)
    results = apply_creates(
        client,
        store,
        rows,
        workers=partner_central.write_workers,
        budget=partner_central.write_budget(store, started, yield_to),
        claimed=claimed,
        event_scoped=event_scoped,
    )
    df = frames.results_frame(results)
    dupes = store.duplicate_partner_identifiers(client.catalog)
    return df, apply_metadata(df, step), dupes


def updates_step(
    plan: pd.DataFrame,
    deals: pd.DataFrame,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
    yield_to: Callable[[], str | None] | None = None,
) -> tuple[pd.DataFrame, dict[str, RawMetadataValue]]:
    """UpdateOpportunity with the full record for each `update` row, within the write budget (its
    write time counts from the step's start: the creates step leaves the updates their time)."""
    step = StepCalls(partner_central=partner_central)
    rows = [r for r in frames.plan_rows(plan) if r["operation"] == Operation.UPDATE]
    bundles = {s.bundle.deal_id: s.bundle for s in frames.deal_snapshots(deals)}
    store = sync_state.get_store()
    results = apply_updates(
        partner_central.get_client(),
        store,
        rows,
        bundles,
        mapping.get_config(),
        workers=partner_central.write_workers,
        budget=partner_central.write_budget(store, yield_to=yield_to),
    )
    df = frames.results_frame(results)
    return df, apply_metadata(df, step)


def deal_writes(
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


@dataclass(frozen=True)
class Written:
    """What the write-back step did: its frame and metadata, the failed writes, the rows that would
    plan work again, the proof of agreement, and the history write (raise once the output is out)."""

    df: pd.DataFrame
    metadata: dict[str, RawMetadataValue]
    failed: int
    leftover: list[PlanRow]
    proof: AgreementReport
    logged: HistoryWrite


def deal_writes_step(
    context: Context,
    plan: pd.DataFrame,
    deals: pd.DataFrame,
    opportunities: pd.DataFrame,
    applied_frames: Sequence[pd.DataFrame],
    hubspot: HubSpotResource,
    mapping: MappingResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    *,
    window: Window,
    scope: Sequence[str],
    sweep: bool,
) -> Written:
    """Ids, statuses, errors and Partner-Central-owned fields written to deals in batches; notes once.
    Every row's outcome goes to the sync history (`none` rows that ended unchanged are counted); the
    pairs brought together keep their base; the run's figures are recorded (plotted metadata, EMF
    when asked, alerts over the threshold). `sweep`: the proof of agreement covers every linked pair
    of the frames, otherwise the pairs the run planned to change."""
    step = StepCalls(hubspot=hubspot)
    hubspot.ensure_properties(context.log)
    config = mapping.get_config()
    applied = [r for f in applied_frames for r in frames.apply_results(f)]
    plan_rows = frames.plan_rows(plan)
    writes, planned = deal_writes(plan_rows, applied, config)
    outcome = write_deals(hubspot.get_client(), writes)
    df = frames.writes_frame(outcome)
    failed = int(df["write_status"].isin([RowStatus.FAILED, RowStatus.INVALID]).sum()) if len(df) else 0
    run = run_identity(context)
    logged_rows = history_entries(
        plan_rows, applied, outcome, run_id=run.run_id, job_name=run.job_name, window=window, scope=scope
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

    records, _ = frames.opportunity_records(opportunities)
    store, catalog = sync_state.get_store(), partner_central.catalog
    snapshots, written = frames.deal_snapshots(deals), [(w, status) for w, status, _, _ in outcome]
    replanned = replan_after_apply(
        snapshots,
        records,
        applied,
        written,
        config,
        catalog,
        planned,
        load_bases(store, catalog, links(deals)),
    )
    # The pairs this run brought together agree now: that is their base (`reconcile/merge.py`).
    keep_bases(store, catalog, replanned)
    after, after_records = state_after_apply(snapshots, records, applied, written, None if sweep else planned)
    pair_links = {s.bundle.deal_id: str(s.bundle.deal.get("aws_opportunity_id")) for s in after}
    proof = agreement(after, after_records, config, load_bases(store, catalog, pair_links))
    leftover = unsettled(replanned)
    metadata = frame_metadata(
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
    )
    return Written(df, metadata, failed, leftover, proof, logged)


def agreement_entry(context: Context, proof: AgreementReport, sweep: bool, window: Window) -> HistoryEntry:
    """The run's proof of agreement in the sync history: one entry, the counts per field and reason."""
    run = run_identity(context)
    examples = ", ".join(f"deal {d} / {o}: {f}" for d, o, f in proof.unexplained)
    return HistoryEntry(
        run_id=run.run_id,
        job_name=run.job_name,
        window=window,
        operation="agreement",
        status="agreed" if proof.passed else "disagreed",
        reason_code=None if proof.passed else "UnexplainedDisagreement",
        message=("sweep: " if sweep else "changed pairs: ")
        + proof.summary()
        + (f"; unexplained: {examples}" if examples else ""),
    )


class PriorityWaiting:
    """What a reconcile's write budget asks between rows: the runs with priority (event runs and
    submissions, `EVENT_PRIORITY`) queued for the writes slot this run holds, named; None when there
    are none. The reconcile then stops writing, so they wait for its write-back, not for its whole
    period; `mark()` tags the run (`GAVE_WAY_TAG`) so reconcile_resume_sensor starts it again once
    they are done. A failed question is logged and answered "none": the run goes on as before."""

    def __init__(self, context: dg.AssetExecutionContext) -> None:
        self.instance, self.log, self.run_id = context.instance, context.log, context.run_id
        self.said: str | None = None  # the runs it last named

    def __call__(self) -> str | None:
        waiting = dg.RunsFilter(statuses=WAITING, tags=EVENT_PRIORITY)
        try:
            runs = self.instance.get_runs(filters=waiting, limit=5)
        except Exception as exc:  # the instance's storage busy or away: keep writing
            self.log.warning(
                f"could not ask the instance for runs waiting with priority: {type(exc).__name__}"
            )
            return None
        if not runs:
            return None
        self.said = ", ".join(f"{r.job_name} {r.run_id[:8]}" for r in runs)
        return f"{'runs' if len(runs) > 1 else 'a run'} with priority waiting ({self.said})"

    def mark(self) -> dict[str, RawMetadataValue]:
        """Tag the run when it gave way; the step's metadata says to which runs (empty otherwise)."""
        if self.said is None:
            return {}
        self.instance.add_run_tags(self.run_id, {GAVE_WAY_TAG: self.said})
        return {"gave_way_to": self.said}


def run_started(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> float | None:
    """When this run started (epoch seconds): the write budget's deadline counts from it, so the
    snapshot and the plan are inside the run's period too. None when the instance does not know."""
    record = context.instance.get_run_record_by_id(context.run_id)
    return record.start_time if record is not None else None
