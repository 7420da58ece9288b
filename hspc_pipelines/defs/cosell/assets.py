"""Co-sell asset `aws_summaries` and the frames every co-sell step returns. Wiring only; the logic is
in hspc_pipelines.cosell (each flow its rules and its run). Invitations and submission are op jobs
(`ops.py`): what they hold depends on what a run was asked, so they are not stored as assets."""

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from hspc_pipelines.cosell.history_rows import summary_entries
from hspc_pipelines.cosell.summaries.run import sync_aws_summaries
from hspc_pipelines.defs import external
from hspc_pipelines.defs.history import append_history, run_identity
from hspc_pipelines.defs.resources import (
    HubSpotResource,
    MappingResource,
    PartnerCentralResource,
    SyncStateResource,
)
from hspc_pipelines.defs.run_metrics import StepCalls, flow_run_figures, plotted
from hspc_pipelines.mapping.vocabulary import RowStatus
from hspc_pipelines.reconcile import report
from hspc_pipelines.settings import load_settings

GROUP = "cosell"
INVITATION_COLUMNS = (
    "invitation_id",
    "status",
    "action",
    "opportunity_id",
    "deal_id",
    "task_id",
    "rule",
    "reason",
    "title",
    "customer",
    "sender",
    "message",
)
SUBMISSION_COLUMNS = (
    "deal_id",
    "status",
    "message",
    "opportunity_id",
    "review_status",
    "involvement_type",
    "visibility",
    "task_id",
    "engagement_id",
    "problems",
    "aws_calls",
)
SUMMARY_COLUMNS = (
    "deal_id",
    "opportunity_id",
    "status",
    "review_status",
    "engagement_score",
    "changed_properties",
    "notes_written",
    "tasks_written",
    "snapshot_notes",
    "errors",
)


COUNT_COLUMNS = frozenset({"notes_written", "tasks_written", "snapshot_notes"})


def _frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Text columns (lists and dicts as JSON) and integer counts, typed even when empty or all null,
    so the stored tables keep one schema from run to run."""

    def cell(value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool | int | float):
            return value
        return json.dumps(value, sort_keys=True, default=str)

    df = pd.DataFrame([{c: cell(r.get(c)) for c in columns} for r in rows], columns=list(columns))
    return df.astype({c: "int64" if c in COUNT_COLUMNS else "string" for c in columns})


def _metadata(df: pd.DataFrame, status_column: str, message_column: str, **extra: Any) -> dict[str, Any]:
    return {
        "dagster/row_count": len(df),
        "statuses": dg.MetadataValue.json(report.counts(df, status_column)),
        "rows": dg.MetadataValue.md(
            report.markdown_table(
                [
                    {str(k): v for k, v in r.items()}
                    for r in df.head(report.MAX_TABLE_ROWS).to_dict("records")
                ],
                [c for c in df.columns if c not in ("message",)][:7] + [message_column],
            )
        ),
        **extra,
    }


def _blank(value: Any) -> Any:
    """None for the missing values a stored table gives back (None, NaN, pd.NA)."""
    if value is None or (not isinstance(value, list | dict) and pd.isna(value)):
        return None
    return str(value)


# -- AWS summaries -------------------------------------------------------------------------------


@dg.asset(
    deps=[external.PC_OPPORTUNITIES, external.HUBSPOT_DEALS],
    kinds={"aws", "hubspot", "pandas"},
    group_name=GROUP,
    pool="hubspot_writes",
    check_specs=[dg.AssetCheckSpec("no_failed_summaries", asset="aws_summaries", blocking=False)],
)
def aws_summaries(
    context: dg.AssetExecutionContext,
    hubspot: HubSpotResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    """AWS's view (review, insights, team, resource snapshots) written to the deals; notifications once.
    No run config: the stored table is always every linked deal AWS is reviewing or has approved."""
    step = StepCalls(hubspot=hubspot, partner_central=partner_central)
    hubspot.ensure_properties(context.log)
    rows = sync_aws_summaries(
        hubspot.get_client(),
        partner_central.get_client(),
        sync_state.get_store(),
        mapping.get_config(),
        notify_tasks=load_settings().notify_tasks,
    )
    df = _frame([r.as_dict() for r in rows], SUMMARY_COLUMNS)
    failed = int((df["status"] == RowStatus.FAILED).sum()) if len(df) else 0
    run = run_identity(context)
    entries, unchanged = summary_entries(rows, run_id=run.run_id, job_name=run.job_name, scope=[])
    logged = append_history(context, sync_state, entries, unchanged_not_logged=unchanged)
    yield dg.Output(
        df,
        metadata=_metadata(
            df,
            "status",
            "errors",
            notes_written=int(df["notes_written"].sum()) if len(df) else 0,
            tasks_written=int(df["tasks_written"].sum()) if len(df) else 0,
            **logged.metadata,
            **step.metadata(),
            **plotted(flow_run_figures(context, step, len(df), failed)),
        ),
    )
    yield dg.AssetCheckResult(
        check_name="no_failed_summaries",
        passed=failed == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed": failed},
    )
    logged.raise_if_failed()  # after the writes, the output and the check (defs/history.py)


cosell_assets = [aws_summaries]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=cosell_assets)
