"""Co-sell assets: invitations, submission, AWS summaries. Wiring only; the logic is in
hspc_pipelines.cosell (each flow its rules and its run)."""

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from hspc_pipelines.cosell.history_rows import invitation_entries, submission_entry, summary_entries
from hspc_pipelines.cosell.invitations.rules import RulesConfigError
from hspc_pipelines.cosell.invitations.rules_file import load_invitation_rules
from hspc_pipelines.cosell.invitations.run import (
    InvitationRow,
    advance_invitations,
    create_invitation_deals,
    list_invitation_ids,
)
from hspc_pipelines.cosell.steps import invitation_id_of
from hspc_pipelines.cosell.submission.rules import problems_by_field
from hspc_pipelines.cosell.submission.run import SubmissionConfigError, SubmissionResult, submit_deal
from hspc_pipelines.cosell.summaries.run import sync_aws_summaries
from hspc_pipelines.defs import external
from hspc_pipelines.defs.history import append_history, run_identity, run_scope
from hspc_pipelines.defs.resources import (
    HubSpotResource,
    MappingResource,
    PartnerCentralResource,
    SyncStateResource,
)
from hspc_pipelines.mapping.vocabulary import (
    DEFAULT_INVOLVEMENT_TYPE,
    DEFAULT_VISIBILITY,
    INVOLVEMENT_TYPES,
    REQUEST_STATUS_OF,
    VISIBILITIES,
    InvitationAction,
    RowStatus,
    SubmitRequestStatus,
)
from hspc_pipelines.reconcile import report
from hspc_pipelines.settings import load_settings
from hspc_pipelines.state.submit_requests import Problem, SubmitRequestLog

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


# -- invitations ---------------------------------------------------------------------------------


class InvitationsConfig(dg.Config):
    """Which invitations to handle: the ids an event named, or (empty) every pending one."""

    invitation_ids: list[str] = Field(
        default=[],
        description="Engagement invitation ids (engi-…); empty: "
        "list PENDING and recently ACCEPTED opportunity invitations",
    )
    poll_budget_seconds: float = Field(
        default=-1.0,
        description="Time to follow accept tasks before leaving "
        "them to the next run; -1: HSPC_TASK_POLL_BUDGET_SECONDS or 60",
    )
    lookback_days: int = Field(
        default=-1,
        description="How far back ACCEPTED invitations are re-checked to "
        "finish half-done ones; -1: HSPC_INVITATION_LOOKBACK_DAYS or 14",
    )


@dg.asset(
    deps=[external.PC_INVITATIONS], kinds={"aws", "pandas"}, group_name=GROUP, pool="partner_central_writes"
)
def pending_invitations(
    context: dg.AssetExecutionContext,
    config: InvitationsConfig,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> dg.Output[pd.DataFrame]:
    """Opportunity invitations from AWS, decided by the rules, accepted or rejected, accept tasks followed."""
    try:
        rules = load_invitation_rules(mapping_config=mapping.get_config())
    except RulesConfigError as exc:
        raise dg.Failure(description=str(exc)) from exc
    client, settings = partner_central.get_client(), load_settings()
    lookback = config.lookback_days if config.lookback_days >= 0 else settings.invitation_lookback_days
    budget = (
        config.poll_budget_seconds if config.poll_budget_seconds >= 0 else settings.task_poll_budget_seconds
    )
    # An event names its invitations: exactly those; otherwise everything pending (and recent accepts).
    ids = (
        list(dict.fromkeys(invitation_id_of(i) for i in config.invitation_ids if i.strip()))
        if config.invitation_ids
        else list_invitation_ids(client, (), lookback)
    )
    rows = advance_invitations(client, sync_state.get_store(), rules, ids, budget)
    for row in rows:
        context.log.info(
            f"invitation {row.invitation_id}: {row.action} -> {row.status}"
            + (f" ({row.reason})" if row.reason else "")
        )
    df = _frame([r.as_dict() for r in rows], INVITATION_COLUMNS)
    return dg.Output(
        df,
        metadata=_metadata(
            df,
            "status",
            "reason",
            scoped=bool(config.invitation_ids),
            rules=len(rules.rules),
            default_action=rules.default,
        ),
    )


@dg.asset(
    deps=[external.HUBSPOT_DEALS, external.HUBSPOT_COMPANIES, external.HUBSPOT_CONTACTS],
    kinds={"hubspot", "pandas"},
    group_name=GROUP,
    pool="hubspot_writes",
    check_specs=[dg.AssetCheckSpec("no_failed_invitations", asset="invitation_deals", blocking=False)],
)
def invitation_deals(
    context: dg.AssetExecutionContext,
    pending_invitations: pd.DataFrame,
    hubspot: HubSpotResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    """The HubSpot deal (with company and contacts) of every accepted invitation, created exactly once."""
    rows = [
        InvitationRow(**{c: _blank(r.get(c)) for c in INVITATION_COLUMNS})
        for r in pending_invitations.to_dict("records")
    ]
    hubspot.ensure_properties(context.log)
    rows = create_invitation_deals(
        hubspot.get_client(), partner_central.get_client(), sync_state.get_store(), mapping.get_config(), rows
    )
    df = _frame([r.as_dict() for r in rows], INVITATION_COLUMNS)
    failed = int((df["action"] == InvitationAction.FAILED).sum()) if len(df) else 0
    # Logged here, the job's last step, once each row is final (accept or reject, then the deal).
    run = run_identity(context)
    entries, idle = invitation_entries(
        rows,
        run_id=run.run_id,
        job_name=run.job_name,
        scope=run_scope(run, ("pending_invitations",), ("invitation_ids",)),
    )
    logged = append_history(context, sync_state, entries, idle_not_logged=idle)
    yield dg.Output(
        df,
        metadata=_metadata(
            df,
            "status",
            "reason",
            deals_created=int((df["action"] == InvitationAction.DEAL_CREATED).sum()) if len(df) else 0,
            failed=failed,
            **logged.metadata,
        ),
    )
    yield dg.AssetCheckResult(
        check_name="no_failed_invitations",
        passed=failed == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed": failed},
    )
    logged.raise_if_failed()  # after the deals, the output and the check (defs/history.py)


# -- submission ----------------------------------------------------------------------------------


class SubmissionConfig(dg.Config):
    """Submit one deal's opportunity to AWS."""

    deal_id: str = Field(description="HubSpot deal id (the deal must be linked: aws_opportunity_id)")
    involvement_type: str = Field(
        default="",
        description=" | ".join(INVOLVEMENT_TYPES)
        + f"; empty: the deal's aws_involvement_type, else {DEFAULT_INVOLVEMENT_TYPE}",
    )
    visibility: str = Field(
        default="",
        description=" | ".join(VISIBILITIES)
        + f"; empty: the deal's aws_visibility, else {DEFAULT_VISIBILITY}",
    )
    poll_budget_seconds: float = Field(
        default=-1.0,
        description="Time to follow the submission task; -1: HSPC_TASK_POLL_BUDGET_SECONDS or 60",
    )
    request_id: str = Field(
        default="",
        description="the ingress's requestId: the run records its status for GET /submit-opportunity/{id}",
    )


@dg.asset(
    deps=[external.HUBSPOT_DEALS, external.PC_OPPORTUNITIES],
    kinds={"aws", "hubspot", "pandas"},
    group_name=GROUP,
    pool="partner_central_writes",
)
def submission(
    context: dg.AssetExecutionContext,
    config: SubmissionConfig,
    hubspot: HubSpotResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> Iterator[dg.Output[pd.DataFrame]]:
    """Validate and submit the deal's opportunity (StartEngagementFromOpportunityTask); the deal is told."""
    budget = (
        config.poll_budget_seconds
        if config.poll_budget_seconds >= 0
        else load_settings().task_poll_budget_seconds
    )
    run = run_identity(context)
    answers = RequestAnswers(
        sync_state.get_submit_requests() if config.request_id else None, config, run.run_id
    )
    answers.running()
    try:
        hubspot.ensure_properties(context.log)
        result = submit_deal(
            hubspot.get_client(),
            partner_central.get_client(),
            sync_state.get_store(),
            mapping.get_config(),
            config.deal_id,
            config.involvement_type,
            config.visibility,
            budget,
        )
    except SubmissionConfigError as exc:
        answers.ended(SubmitRequestStatus.VALIDATION_FAILED, str(exc))
        raise dg.Failure(description=str(exc)) from exc
    except BaseException as exc:
        # The caller's answer says the run failed (the type only: details stay in the run's log).
        answers.ended(SubmitRequestStatus.FAILED, f"the submission run failed: {type(exc).__name__}")
        raise
    answers.result(result)
    context.log.info(f"deal {result.deal_id}: {result.status}: {result.message}")
    df = _frame([result.as_dict()], SUBMISSION_COLUMNS)
    entry = submission_entry(result, run_id=run.run_id, job_name=run.job_name)
    logged = append_history(context, sync_state, [entry])
    yield dg.Output(
        df,
        metadata={
            **_metadata(df, "status", "message"),
            "status": result.status.value,
            "message": result.message,
            "aws_calls": dg.MetadataValue.json(result.aws_calls),
            **logged.metadata,
        },
    )
    logged.raise_if_failed()  # after the submission and its output (defs/history.py)


class RequestAnswers:
    """The request's status for the caller who sent it through the ingress (nothing without a request id)."""

    def __init__(self, log: SubmitRequestLog | None, config: SubmissionConfig, run_id: str) -> None:
        self.log, self.config, self.run_id = log, config, run_id

    def _record(self, status: SubmitRequestStatus, **fields: Any) -> None:
        if self.log is not None:
            self.log.record(self.config.request_id, self.config.deal_id, status, run_id=self.run_id, **fields)

    def running(self) -> None:
        self._record(SubmitRequestStatus.RUNNING)

    def ended(self, status: SubmitRequestStatus, message: str) -> None:
        self._record(status, message=message)

    def result(self, result: SubmissionResult) -> None:
        problems = problems_by_field(result.status, result.problems, result.message)
        self._record(
            REQUEST_STATUS_OF[result.status],
            message=result.message,
            problems=[Problem(name, text) for name, text in problems],
            opportunity_id=result.opportunity_id,
            review_status=result.review_status,
            involvement_type=result.involvement_type,
            visibility=result.visibility,
        )


# -- AWS summaries -------------------------------------------------------------------------------


class SummariesConfig(dg.Config):
    deal_ids: list[str] = Field(
        default=[], description="Only these deals; empty: every linked deal AWS is reviewing or has approved"
    )


@dg.asset(
    deps=[external.PC_OPPORTUNITIES, external.HUBSPOT_DEALS],
    kinds={"aws", "hubspot", "pandas"},
    group_name=GROUP,
    pool="hubspot_writes",
    check_specs=[dg.AssetCheckSpec("no_failed_summaries", asset="aws_summaries", blocking=False)],
)
def aws_summaries(
    context: dg.AssetExecutionContext,
    config: SummariesConfig,
    hubspot: HubSpotResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    """AWS's view (review, insights, team, resource snapshots) written to the deals; notifications once."""
    hubspot.ensure_properties(context.log)
    rows = sync_aws_summaries(
        hubspot.get_client(),
        partner_central.get_client(),
        sync_state.get_store(),
        mapping.get_config(),
        notify_tasks=load_settings().notify_tasks,
        deal_ids=list(config.deal_ids) or None,
    )
    df = _frame([r.as_dict() for r in rows], SUMMARY_COLUMNS)
    failed = int((df["status"] == RowStatus.FAILED).sum()) if len(df) else 0
    run = run_identity(context)
    entries, unchanged = summary_entries(
        rows, run_id=run.run_id, job_name=run.job_name, scope=list(config.deal_ids)
    )
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
        ),
    )
    yield dg.AssetCheckResult(
        check_name="no_failed_summaries",
        passed=failed == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed": failed},
    )
    logged.raise_if_failed()  # after the writes, the output and the check (defs/history.py)


cosell_assets = [pending_invitations, invitation_deals, submission, aws_summaries]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=cosell_assets)
