"""Submitting a deal's opportunity to AWS (StartEngagementFromOpportunityTask), with the seller told why not.

Order of checks, each stopping before any AWS write:
1. the run's choices (involvement type, visibility) are valid; a run without them (a submit the seller
   asked for on the deal) uses the deal's `aws_involvement_type` / `aws_visibility`, else the defaults;
2. the deal exists and is linked (`aws_opportunity_id`); if not, the deal says so;
3. a deal that already shows a submitted review status is confirmed with one GetOpportunity and left
   unchanged ("already submitted"); when the seller asked on the deal (`aws_submit_requested`), the
   flag is reset and the deal gets one note saying so;
4. the deal as the mapping sees it (create-level errors and `validate_for_submission` of the record the
   deal maps to) — no AWS call at all when this fails;
5. the opportunity as Partner Central holds it: already submitted (left unchanged) or failing
   `validate_for_submission` (no write).
Invalid deals get ONE note listing every problem, `aws_sync_status = invalid` and `aws_sync_error`.
Otherwise the task is started with a deterministic ClientToken and followed inside a budget; on
completion the deal records the submission and gets one note.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import botocore.session

from hspc_pipelines.cosell import steps
from hspc_pipelines.cosell.hubspot_ops import hubspot_time
from hspc_pipelines.cosell.submission.request import SUBMIT_PROPERTY, requester_from_history
from hspc_pipelines.cosell.submission.rules import submit_choices, validate_for_submission
from hspc_pipelines.cosell.tasks import COMPLETE, FAILED, follow_tasks
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.errors import HubSpotError
from hspc_pipelines.hubspot.notes import (
    NoteSpec,
    already_submitted_note,
    invalid_submission_note,
    not_linked_note,
    submission_failed_note,
    submission_note,
)
from hspc_pipelines.mapping import MappingConfig, build_create_request
from hspc_pipelines.mapping.build import OWNED_PATHS, build_body, nest
from hspc_pipelines.mapping.properties import DEAL_PROPERTIES
from hspc_pipelines.mapping.vocabulary import (
    SUBMITTED_REVIEW_STATUSES,
    RowStatus,
    SubmissionStatus,
    SyncStatus,
    plain_fields,
)
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.partner_central.errors import AccessDeniedError, PartnerCentralError, QuotaDeferredError
from hspc_pipelines.partner_central.records import to_jsonable
from hspc_pipelines.reconcile.hubspot_snapshot import fetch_deal_snapshots
from hspc_pipelines.reconcile.outcomes import DealWrite
from hspc_pipelines.reconcile.plan import property_changes
from hspc_pipelines.reconcile.writeback import write_deals
from hspc_pipelines.state.store import SyncStateStore

log = logging.getLogger(__name__)

_GET_OPPORTUNITY_OUTPUT = (
    botocore.session.get_session()
    .get_service_model("partnercentral-selling")
    .operation_model("GetOpportunity")
    .output_shape
)
GET_OPPORTUNITY_MEMBERS = (
    tuple(_GET_OPPORTUNITY_OUTPUT.members) if _GET_OPPORTUNITY_OUTPUT is not None else ()
)


class SubmissionConfigError(ValueError):
    """The run's own configuration is wrong (names the field, the value and what is allowed)."""


@dataclass
class SubmissionResult:
    deal_id: str
    status: SubmissionStatus
    message: str
    opportunity_id: str | None = None
    review_status: str | None = None
    involvement_type: str | None = None
    visibility: str | None = None
    task_id: str | None = None
    engagement_id: str | None = None
    problems: list[str] = field(default_factory=list)
    aws_calls: dict[str, int] = field(default_factory=dict)
    retry_at: float | None = None  # pending on the quota: when it is expected to cover the submission

    def as_dict(self) -> dict[str, Any]:
        return asdict(self, dict_factory=plain_fields)


def _write(
    hs: HubSpotClient,
    deal_id: str,
    current: Mapping[str, Any],
    wanted: Mapping[str, str | None],
    notes: list[NoteSpec],
    now: dt.datetime,
) -> str | None:
    """Only the properties that differ, and notes once; returns an error text or None."""
    write = DealWrite(
        deal_id=deal_id,
        entity_key=f"deal:{deal_id}",
        partition_date=now.date().isoformat(),
        final_status=RowStatus.WRITTEN,
        properties=property_changes(current, wanted),
        notes=notes,
    )
    ((_, status, _, error),) = write_deals(hs, [write], now)
    return error if status in (RowStatus.FAILED, RowStatus.INVALID) else None


def _refuse(
    hs: HubSpotClient,
    deal_id: str,
    deal: Mapping[str, Any],
    sync_status: SyncStatus,
    reason: str,
    note: NoteSpec,
    now: dt.datetime,
) -> str:
    """The deal says why nothing was submitted (its sync status and error, the request cleared) and gets
    one note; returns what the result's message adds when that write failed ("" when it did not)."""
    error = _write(
        hs,
        deal_id,
        deal,
        {"aws_sync_status": sync_status.value, "aws_sync_error": reason, "aws_submit_requested": "false"},
        [note],
        now,
    )
    return f" (deal not updated: {error})" if error else ""


def who_asked(
    hs: HubSpotClient, deal_id: str, requested_by: str | None = None, requested_at: str | None = None
) -> tuple[str | None, dt.datetime | None]:
    """Who asked for this submission and when, for the sync history: the run's own answer (the
    ingress token's id, or the webhook's user) when it has one, else the HubSpot user who last set
    `aws_submit_requested` to true, from the property's history (one GET). (None, None) when nobody
    can be named (a run started by hand in Dagster, an integration set the property)."""
    if requested_by:
        try:
            when = dt.datetime.fromisoformat(requested_at) if requested_at else None
        except ValueError:
            when = None
        return requested_by, (when.astimezone(dt.UTC) if when and when.tzinfo else None)
    try:
        deal = hs.request(
            "GET",
            hs.paths.objects("/{deal_id}"),
            params={"properties": "hs_object_id", "propertiesWithHistory": SUBMIT_PROPERTY},
            object_type="deals",
            deal_id=deal_id,
        )
    except HubSpotError as exc:  # the audit must not stop the submission: the row says nobody
        log.warning("who asked to submit deal %s is unknown: HubSpot %s", deal_id, exc.status)
        return None, None
    history = ((deal or {}).get("propertiesWithHistory") or {}).get(SUBMIT_PROPERTY) or []
    found = requester_from_history(history if isinstance(history, list) else [])
    return found if found else (None, None)


def submit_deal(
    hs: HubSpotClient,
    pc: PartnerCentralClient,
    store: SyncStateStore,
    config: MappingConfig,
    deal_id: str,
    involvement_type: str | None = None,
    visibility: str | None = None,
    budget_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    now: dt.datetime | None = None,
) -> SubmissionResult:
    # None (or ""): the deal's own choice, else the default (resolved once the deal is read).
    involvement_type, visibility = involvement_type or None, visibility or None
    errors = steps.submission_request_errors(involvement_type, visibility)
    if not str(deal_id or "").strip().isdigit():
        errors.insert(0, f"deal_id = {deal_id!r} is not valid; allowed: a HubSpot deal id (digits)")
    if errors:
        raise SubmissionConfigError("submit_opportunity: " + "; ".join(errors))
    deal_id = str(deal_id).strip()
    now = now or dt.datetime.now(dt.UTC)
    calls_before = dict(pc.stats.calls)
    result = _submit(hs, pc, store, config, deal_id, involvement_type, visibility, budget_s, sleep, now)
    result.aws_calls = {
        op: n - calls_before.get(op, 0) for op, n in pc.stats.calls.items() if n - calls_before.get(op, 0)
    }
    log.info("submit deal %s: %s — %s", deal_id, result.status, result.message)
    return result


def _submit(
    hs: HubSpotClient,
    pc: PartnerCentralClient,
    store: SyncStateStore,
    config: MappingConfig,
    deal_id: str,
    requested_involvement: str | None,
    requested_visibility: str | None,
    budget_s: float,
    sleep: Callable[[float], None],
    now: dt.datetime,
) -> SubmissionResult:
    read = hs.batch_read("deals", [deal_id], DEAL_PROPERTIES)
    if not read.results:
        return SubmissionResult(deal_id, SubmissionStatus.NOT_FOUND, f"deal {deal_id} not found in HubSpot")
    deal: dict[str, Any] = dict(read.results[0].get("properties") or {})
    choices = submit_choices(requested_involvement, requested_visibility, deal)
    involvement, visibility = choices.involvement_type, choices.visibility
    opp_id = (deal.get("aws_opportunity_id") or "").strip()
    if not opp_id:
        return _chosen(_not_linked(hs, deal_id, deal, now), involvement, visibility)
    if choices.problems:
        problems = [str(p) for p in choices.problems]
        return _chosen(_invalid(hs, deal_id, deal, opp_id, problems, now), involvement, visibility)
    try:
        checked = _check_submittable(hs, pc, store, config, deal_id, deal, opp_id, now)
    except QuotaDeferredError as exc:  # its reads: the 24-hour read quota is spent
        return _chosen(_deferred(hs, deal_id, deal, opp_id, exc, now), involvement, visibility)
    if isinstance(checked, SubmissionResult):
        return _chosen(checked, involvement, visibility)

    token = steps.submit_client_token(pc.catalog, opp_id, involvement, visibility)
    try:
        task = pc.start_engagement_from_opportunity_task(opp_id, token, involvement, visibility)
    except AccessDeniedError:
        raise
    except QuotaDeferredError as exc:
        return _chosen(_deferred(hs, deal_id, deal, opp_id, exc, now), involvement, visibility)
    except PartnerCentralError as exc:
        return _chosen(
            _failed(hs, deal_id, deal, opp_id, exc.code, str(exc), None, now), involvement, visibility
        )
    task_id = str(task.get("TaskId") or "")
    task = _followed_task(pc, task_id, task, budget_s, sleep)
    if task.get("TaskStatus") == FAILED:
        failed = _failed(hs, deal_id, deal, opp_id, task.get("ReasonCode"), task.get("Message"), task_id, now)
        return _chosen(failed, involvement, visibility)
    recorded = _record_submission(
        hs, pc, store, deal_id, deal, opp_id, checked, task_id, task, involvement, visibility, budget_s, now
    )
    return _chosen(recorded, involvement, visibility)


def _chosen(result: SubmissionResult, involvement: str, visibility: str) -> SubmissionResult:
    result.involvement_type, result.visibility = involvement, visibility
    return result


def _not_linked(
    hs: HubSpotClient, deal_id: str, deal: Mapping[str, Any], now: dt.datetime
) -> SubmissionResult:
    """Step 2: a deal without `aws_opportunity_id` says so (status invalid, one note); nothing is submitted."""
    message = (
        f"deal {deal_id} is not linked to a Partner Central opportunity (aws_opportunity_id is empty); "
        "nothing was submitted"
    )
    unsaved = _refuse(hs, deal_id, deal, SyncStatus.INVALID, message, not_linked_note(deal_id), now)
    return SubmissionResult(deal_id, SubmissionStatus.NOT_LINKED, message + unsaved)


def _check_submittable(
    hs: HubSpotClient,
    pc: PartnerCentralClient,
    store: SyncStateStore,
    config: MappingConfig,
    deal_id: str,
    deal: Mapping[str, Any],
    opp_id: str,
    now: dt.datetime,
) -> SubmissionResult | dict[str, Any]:
    """Steps 3 to 5: the result that ends the run here (already submitted, invalid), or else the
    opportunity as Partner Central holds it, ready to be submitted."""
    if deal.get("aws_review_status") in SUBMITTED_REVIEW_STATUSES:
        opp = _read_opportunity(pc, store, opp_id)
        if steps.already_submitted(opp):
            return _already(hs, deal_id, deal, opp_id, opp, now)

    problems = _deal_problems(hs, config, pc.catalog, deal_id)
    if problems:
        return _invalid(hs, deal_id, deal, opp_id, problems, now)

    opp = _read_opportunity(pc, store, opp_id)
    if steps.already_submitted(opp):
        return _already(hs, deal_id, deal, opp_id, opp, now)
    problems = _opportunity_problems(opp)
    if problems:
        return _invalid(hs, deal_id, deal, opp_id, problems, now)
    return opp


def _followed_task(
    pc: PartnerCentralClient,
    task_id: str,
    task: dict[str, Any],
    budget_s: float,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """The started task's latest summary, followed inside the budget (one without an id is taken as is)."""
    if not task_id:
        return task
    latest = follow_tasks(pc.list_engagement_from_opportunity_tasks, {task_id: task}, budget_s, sleep)
    return latest.get(task_id, task)


def _record_submission(
    hs: HubSpotClient,
    pc: PartnerCentralClient,
    store: SyncStateStore,
    deal_id: str,
    deal: Mapping[str, Any],
    opp_id: str,
    opp: Mapping[str, Any],
    task_id: str,
    task: Mapping[str, Any],
    involvement: str,
    visibility: str,
    budget_s: float,
    now: dt.datetime,
) -> SubmissionResult:
    """The deal records the submission: complete (review status read again, one note) or still pending."""
    submitted_at = hubspot_time(now)
    wanted: dict[str, str | None] = {
        "aws_submission_date": submitted_at,
        "aws_involvement_type": involvement,
        "aws_visibility": visibility,
        "aws_submit_requested": "false",
    }
    if task.get("TaskStatus") == COMPLETE:
        opp = _read_opportunity(pc, store, opp_id)
        review = steps.review_status(opp)
        wanted.update(
            {"aws_review_status": review, "aws_sync_status": SyncStatus.SYNCED.value, "aws_sync_error": None}
        )
        notes = [submission_note(opp_id, involvement, visibility)]
        status, message = (
            SubmissionStatus.SUBMITTED,
            f"opportunity {opp_id} submitted to AWS ({involvement}, {visibility}): {review}",
        )
    else:
        review = steps.review_status(opp)
        wanted.update(
            {
                "aws_sync_status": SyncStatus.PENDING.value,
                "aws_sync_error": f"submission task {task_id} still in progress at AWS; "
                "the AWS summary sync will show the review status",
            }
        )
        notes = []
        status, message = (
            SubmissionStatus.PENDING,
            f"submission task {task_id} for {opp_id} still in progress after {budget_s:.0f}s",
        )
    error = _write(hs, deal_id, deal, wanted, notes, now)
    if error:
        message += f" (deal not updated: {error})"
    return SubmissionResult(
        deal_id,
        status,
        message,
        opp_id,
        review,
        task_id=task_id or None,
        engagement_id=task.get("EngagementId"),
    )


def _read_opportunity(pc: PartnerCentralClient, store: SyncStateStore, opp_id: str) -> dict[str, Any]:
    record: dict[str, Any] = to_jsonable(pc.get_opportunity(opp_id))
    store.put_opportunities(pc.catalog, [record])
    return record


def _already(
    hs: HubSpotClient,
    deal_id: str,
    deal: Mapping[str, Any],
    opp_id: str,
    opp: Mapping[str, Any],
    now: dt.datetime,
) -> SubmissionResult:
    """Nothing is submitted again; a seller who asked on the deal sees the flag reset and one note
    (a caller who asked through the ingress reads the answer there, and the deal is left alone)."""
    review = steps.review_status(opp)
    message = f"opportunity {opp_id} was already submitted (review status {review}); nothing changed"
    if str(deal.get("aws_submit_requested") or "").strip().lower() == "true":
        error = _write(
            hs,
            deal_id,
            deal,
            {"aws_submit_requested": "false"},
            [already_submitted_note(opp_id, review)],
            now,
        )
        if error:
            message += f" (deal not updated: {error})"
    return SubmissionResult(deal_id, SubmissionStatus.ALREADY_SUBMITTED, message, opp_id, review)


def _field_path(field_name: str) -> tuple[str, ...]:
    """'Project.ExpectedCustomerSpend[0].Amount' -> ('Project', 'ExpectedCustomerSpend', 'Amount')."""
    return tuple(re.sub(r"\[\d+\]", "", part) for part in field_name.split("."))


def _deal_problems(hs: HubSpotClient, config: MappingConfig, catalog: str, deal_id: str) -> list[str]:
    """Every reason the deal (with its company and contacts) cannot be submitted, without asking AWS:
    the mapping's create-level errors, and `validate_for_submission` of what the deal maps to; a
    field the mapping already rejected is not reported a second time as missing."""
    far = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    snaps = fetch_deal_snapshots(hs, config, far, dt.datetime.now(dt.UTC), [deal_id])
    if not snaps:
        return [f"deal {deal_id} could not be read with its company and contacts"]
    bundle = snaps[0].bundle
    mapped = build_create_request(bundle, config, catalog)
    problems = [str(e) for e in mapped.errors]
    body = build_body(bundle, config)
    rejected = {
        path for logical, errs in body.errors.items() if errs for path in OWNED_PATHS.get(logical, ())
    }
    record: dict[str, Any] = (
        dict(mapped.request)
        if mapped.request is not None
        else {
            "Origin": config.origin,
            "OpportunityType": config.opportunity_type,
            "NationalSecurity": config.national_security,
            **nest(body.values),
        }
    )
    for error in validate_for_submission(record):
        path = _field_path(error.field)
        if any(path[: len(r)] == r for r in rejected):
            continue
        if str(error) not in problems:
            problems.append(str(error))
    return problems


def _opportunity_problems(opportunity: Mapping[str, Any]) -> list[str]:
    """`validate_for_submission` of the record GetOpportunity returned, leaving out members that
    GetOpportunity never returns (Origin is set at creation and not readable back)."""
    readable = set(GET_OPPORTUNITY_MEMBERS)
    problems = [str(e) for e in validate_for_submission(opportunity) if _field_path(e.field)[0] in readable]
    if not (opportunity.get("RelatedEntityIdentifiers") or {}).get("Solutions"):
        problems.append(
            "RelatedEntityIdentifiers.Solutions: no partner solution is associated (value: []; allowed: at "
            "least one solution id, from the deal's aws_solution_ids or PARTNER_CENTRAL_SOLUTION_ID)"
        )
    return problems


def _invalid(
    hs: HubSpotClient,
    deal_id: str,
    deal: Mapping[str, Any],
    opp_id: str,
    problems: list[str],
    now: dt.datetime,
) -> SubmissionResult:
    text = "\n".join(problems)
    unsaved = _refuse(
        hs, deal_id, deal, SyncStatus.INVALID, text, invalid_submission_note(deal_id, problems), now
    )
    message = f"not submitted: {len(problems)} problem(s): " + "; ".join(problems) + unsaved
    return SubmissionResult(deal_id, SubmissionStatus.INVALID, message, opp_id, problems=problems)


def _deferred(
    hs: HubSpotClient,
    deal_id: str,
    deal: Mapping[str, Any],
    opp_id: str,
    exc: QuotaDeferredError,
    now: dt.datetime,
) -> SubmissionResult:
    """The 24-hour quota did not cover the submission: nothing was sent; the deal says why and when
    (pending, not failed). `submission_retry_sensor` starts it again at that time (same ClientToken)."""
    wanted = {"aws_sync_status": SyncStatus.PENDING.value, "aws_sync_error": exc.message}
    error = _write(hs, deal_id, deal, wanted, [], now)
    message = f"submission of {opp_id} not started: {exc.message}" + (
        f" (deal not updated: {error})" if error else ""
    )
    return SubmissionResult(deal_id, SubmissionStatus.PENDING, message, opp_id, retry_at=exc.retry_at)


def _failed(
    hs: HubSpotClient,
    deal_id: str,
    deal: Mapping[str, Any],
    opp_id: str,
    code: str | None,
    text: str | None,
    task_id: str | None,
    now: dt.datetime,
) -> SubmissionResult:
    reason = ": ".join(p for p in (code, text) if p) or "submission failed"
    unsaved = _refuse(
        hs, deal_id, deal, SyncStatus.FAILED, reason, submission_failed_note(opp_id, code, text), now
    )
    message = f"submission of {opp_id} failed: {reason}{unsaved}"
    return SubmissionResult(deal_id, SubmissionStatus.FAILED, message, opp_id, task_id=task_id)
