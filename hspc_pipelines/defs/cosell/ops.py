"""Invitations and submission as op jobs' steps: what they do depends on what a run is asked (the
invitation ids an event names, the deal a submit request names), so their results are not stored
as asset values that the next request would overwrite. Each step reports what it wrote on the
external assets (`partner_central/engagement_invitations`, `partner_central/opportunities`,
`hubspot/deals`) with the ids in metadata, and appends its rows to the sync history.
Wiring only; the logic is in hspc_pipelines.cosell."""

from collections.abc import Iterable, Iterator
from typing import Any

import dagster as dg
import pandas as pd
from dagster._core.definitions.metadata import RawMetadataValue
from pydantic import Field

from hspc_pipelines.cosell.history_rows import invitation_entries, submission_entry
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
from hspc_pipelines.cosell.submission.run import (
    SubmissionConfigError,
    SubmissionResult,
    submit_deal,
    who_asked,
)
from hspc_pipelines.defs import external
from hspc_pipelines.defs.cosell.assets import (
    INVITATION_COLUMNS,
    SUBMISSION_COLUMNS,
    _blank,
    _frame,
    _metadata,
)
from hspc_pipelines.defs.history import append_history, run_identity, run_scope
from hspc_pipelines.defs.resources import (
    IN_MEMORY_IO,
    HubSpotResource,
    MappingResource,
    PartnerCentralResource,
    SyncStateResource,
)
from hspc_pipelines.defs.run_metrics import StepCalls, flow_run_figures, plotted
from hspc_pipelines.mapping.vocabulary import (
    DEFAULT_INVOLVEMENT_TYPE,
    DEFAULT_VISIBILITY,
    INVOLVEMENT_TYPES,
    REQUEST_STATUS_OF,
    VISIBILITIES,
    InvitationAction,
    SubmissionStatus,
    SubmitRequestStatus,
)
from hspc_pipelines.settings import load_settings
from hspc_pipelines.state.submit_requests import Problem, SubmitRequestLog

# What an invitation row's action did to Partner Central's invitation / to HubSpot's deals.
ANSWERED = (InvitationAction.ACCEPTED, InvitationAction.REJECTED)
DEAL_WRITTEN = (InvitationAction.DEAL_CREATED, InvitationAction.LINKED, InvitationAction.ADOPTED)
# Submission statuses that wrote nothing on the deal (it does not exist, or AWS already has it).
DEAL_UNTOUCHED = ("not_found", "already_submitted")


def _ids(values: Iterable[object]) -> dg.MetadataValue:
    return dg.MetadataValue.json(sorted({str(v) for v in values if v}))


def _report(context: dg.OpExecutionContext, key: dg.AssetKey, **metadata: RawMetadataValue) -> None:
    context.log_event(
        dg.AssetMaterialization(asset_key=key, metadata={"written_by": context.op.name, **metadata})
    )


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


@dg.op(out=dg.Out(pd.DataFrame, io_manager_key=IN_MEMORY_IO), pool="partner_central_writes")
def pending_invitations(
    context: dg.OpExecutionContext,
    config: InvitationsConfig,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> dg.Output[pd.DataFrame]:
    """Opportunity invitations from AWS, decided by the rules, accepted or rejected, accept tasks followed."""
    step = StepCalls(partner_central=partner_central)
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
    answered = [r for r in rows if r.action in ANSWERED]
    if answered:
        _report(
            context,
            external.PC_INVITATIONS,
            accepted=_ids(r.invitation_id for r in answered if r.action == InvitationAction.ACCEPTED),
            rejected=_ids(r.invitation_id for r in answered if r.action == InvitationAction.REJECTED),
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
            **step.metadata(),
        ),
    )


@dg.op(out=dg.Out(pd.DataFrame, io_manager_key=IN_MEMORY_IO), pool="hubspot_writes")
def invitation_deals(
    context: dg.OpExecutionContext,
    pending_invitations: pd.DataFrame,
    hubspot: HubSpotResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> Iterator[dg.Output[pd.DataFrame]]:
    """The HubSpot deal (with company and contacts) of every accepted invitation, created exactly once.
    Failed rows are counted in `failed` (an op job has no asset checks) and come back next run."""
    step = StepCalls(hubspot=hubspot, partner_central=partner_central)
    rows = [
        InvitationRow(**{c: _blank(r.get(c)) for c in INVITATION_COLUMNS})
        for r in pending_invitations.to_dict("records")
    ]
    hubspot.ensure_properties(context.log)
    rows = create_invitation_deals(
        hubspot.get_client(), partner_central.get_client(), sync_state.get_store(), mapping.get_config(), rows
    )
    written = [r for r in rows if r.action in DEAL_WRITTEN]
    if written:
        _report(
            context,
            external.HUBSPOT_DEALS,
            deal_ids=_ids(r.deal_id for r in written),
            invitation_ids=_ids(r.invitation_id for r in written),
        )
    df = _frame([r.as_dict() for r in rows], INVITATION_COLUMNS)
    failed = int((df["action"] == InvitationAction.FAILED).sum()) if len(df) else 0
    if failed:
        context.log.warning(f"{failed} invitation(s) failed; the next run takes them up again")
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
            **step.metadata(),
            **plotted(flow_run_figures(context, step, len(df), failed)),
        ),
    )
    logged.raise_if_failed()  # after the deals and the output (defs/history.py)


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
    requested_by: str | None = Field(
        default=None,
        description="Who asked (api-token:<id>, hubspot-user:<id>); unset: the property's history says",
    )
    requested_at: str | None = Field(default=None, description="When they asked (ISO 8601)")

    def retry_config(self) -> dict[str, Any]:
        """The config a run started again after a quota deferral gets: the same deal, choices, request
        id and requester (so its ClientToken and its answer to the caller are the same)."""
        return self.model_dump(exclude={"poll_budget_seconds"}, exclude_defaults=True)  # deal_id has none


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


def _report_submission(context: dg.OpExecutionContext, result: SubmissionResult) -> None:
    common: dict[str, RawMetadataValue] = {"status": result.status.value}
    if result.task_id:  # AWS was asked to review the opportunity (StartEngagementFromOpportunityTask)
        _report(
            context,
            external.PC_OPPORTUNITIES,
            opportunity_ids=_ids([result.opportunity_id]),
            deal_ids=_ids([result.deal_id]),
            **common,
        )
    if result.status not in DEAL_UNTOUCHED:
        _report(context, external.HUBSPOT_DEALS, deal_ids=_ids([result.deal_id]), **common)


@dg.op(out=dg.Out(pd.DataFrame, io_manager_key=IN_MEMORY_IO), pool="partner_central_writes")
def submission(
    context: dg.OpExecutionContext,
    config: SubmissionConfig,
    hubspot: HubSpotResource,
    partner_central: PartnerCentralResource,
    sync_state: SyncStateResource,
    mapping: MappingResource,
) -> Iterator[dg.Output[pd.DataFrame]]:
    """Validate and submit the deal's opportunity (StartEngagementFromOpportunityTask); the deal is told."""
    step = StepCalls(hubspot=hubspot, partner_central=partner_central)
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
    retries = sync_state.get_submit_requests()
    try:
        hubspot.ensure_properties(context.log)
        actor, requested_at = who_asked(
            hubspot.get_client(), config.deal_id, config.requested_by, config.requested_at
        )
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
        retries.settled(config.deal_id.strip())
        raise dg.Failure(description=str(exc)) from exc
    except BaseException as exc:
        # The caller's answer says the run failed (the type only: details stay in the run's log); a
        # deferred submission is not started again after a failed run (submitting again does).
        answers.ended(SubmitRequestStatus.FAILED, f"the submission run failed: {type(exc).__name__}")
        retries.settled(config.deal_id.strip())
        raise
    if result.status == SubmissionStatus.PENDING and result.retry_at is not None:
        retries.defer(result.deal_id, config.retry_config(), result.message, result.retry_at)
        context.log.info(
            f"deal {result.deal_id}: submission_retry_sensor starts it again when the quota allows"
        )
    else:
        retries.settled(result.deal_id)
    answers.result(result)
    context.log.info(f"deal {result.deal_id}: {result.status}: {result.message}")
    _report_submission(context, result)
    df = _frame([result.as_dict()], SUBMISSION_COLUMNS)
    entry = submission_entry(
        result, run_id=run.run_id, job_name=run.job_name, actor=actor, requested_at=requested_at
    )
    logged = append_history(context, sync_state, [entry])
    yield dg.Output(
        df,
        metadata={
            **_metadata(df, "status", "message"),
            "status": result.status.value,
            "message": result.message,
            "aws_calls": dg.MetadataValue.json(result.aws_calls),
            **logged.metadata,
            **step.metadata(),
            **plotted(flow_run_figures(context, step, 1, int(result.status == SubmissionStatus.FAILED))),
        },
    )
    logged.raise_if_failed()  # after the submission and its output (defs/history.py)
