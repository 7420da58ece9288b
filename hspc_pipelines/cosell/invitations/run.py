"""AWS opportunity invitations: decide, accept or reject, follow the accept task, create the HubSpot deal.

Two halves, each safe to repeat and to interrupt anywhere:

1. `advance_invitations` (AWS side): lists pending invitations (and recently accepted ones, to finish
   those a crash left half done), reads each, applies the rules, starts
   StartEngagementByAcceptingInvitationTask with a per-invitation ClientToken or calls
   RejectEngagementInvitation with the rule's reason, and follows accept tasks with
   ListEngagementByAcceptingInvitationTasks inside a time budget. Progress is recorded in the state
   store (`hspc_invitation_state`) before and after every AWS write.
2. `create_invitation_deals` (HubSpot side): for accepted invitations, reads the opportunities (through
   the opportunity cache), looks for a deal that already carries the opportunity or invitation id,
   finds or creates the company by domain and the contacts by email, and creates the missing deals
   with their associations in one batch call. A deal write that fails leaves the row `accepted`, so the
   next run completes it; a deal that exists is linked, never duplicated.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from hspc_pipelines.cosell import steps
from hspc_pipelines.cosell.hubspot_ops import (
    CONTACT_TO_COMPANY,
    DEAL_TO_COMPANY_PRIMARY,
    DEAL_TO_CONTACT,
    companies_by_domain,
    contacts_by_email,
    deals_by_properties,
)
from hspc_pipelines.cosell.invitations.rules import InvitationRules, facts_from_invitation
from hspc_pipelines.cosell.tasks import COMPLETE, FAILED, follow_tasks
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.hubspot.notes import invitation_accepted_note
from hspc_pipelines.mapping import MappingConfig, opportunity_to_new_deal
from hspc_pipelines.mapping.vocabulary import InvitationAction, RowStatus, SyncStatus, plain_fields
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.partner_central.errors import AccessDeniedError, PartnerCentralError, QuotaDeferredError
from hspc_pipelines.partner_central.records import to_jsonable
from hspc_pipelines.reconcile.outcomes import DealWrite
from hspc_pipelines.reconcile.pc_snapshot import fetch_opportunity_snapshot
from hspc_pipelines.reconcile.writeback import write_deals
from hspc_pipelines.settings import DEFAULT_INVITATION_LOOKBACK_DAYS as DEFAULT_LOOKBACK_DAYS
from hspc_pipelines.state.store import SyncStateStore

log = logging.getLogger(__name__)

OPPORTUNITY_INVITATION = "OpportunityInvitation"
DEAL_LOOKUP_PROPERTIES = ("dealname", "aws_opportunity_id", "aws_invitation_id")


@dataclass
class InvitationRow:
    """What one run did with one invitation, and where it stands."""

    invitation_id: str
    status: str  # the stored status after this run (`cosell.steps` constants), or skipped
    action: str  # an InvitationAction (read back from a stored frame as its plain string)
    opportunity_id: str | None = None
    deal_id: str | None = None
    task_id: str | None = None
    rule: str | None = None
    reason: str | None = None
    title: str | None = None
    customer: str | None = None
    sender: str | None = None
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self, dict_factory=plain_fields)


def _detail(row: Mapping[str, Any] | None) -> dict[str, Any]:
    if not row or not row.get("detail"):
        return {}
    try:
        value = json.loads(str(row["detail"]))
    except ValueError:
        return {"note": str(row["detail"])}
    return value if isinstance(value, dict) else {}


def _dump(detail: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in detail.items() if v is not None}, sort_keys=True, default=str)


def list_invitation_ids(
    pc: PartnerCentralClient,
    explicit: Sequence[str] = (),
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    now: dt.datetime | None = None,
) -> list[str]:
    """Explicit ids (events) first, then every PENDING opportunity invitation, then those ACCEPTED
    within the look-back (a crashed run's half-done invitations are among them)."""
    ids = list(dict.fromkeys(steps.invitation_id_of(i) for i in explicit if i and i.strip()))
    sort = {"SortBy": "InvitationDate", "SortOrder": "DESCENDING"}
    for summary in pc.list_engagement_invitations(
        "RECEIVER", [OPPORTUNITY_INVITATION], ["PENDING"], Sort=sort
    ):
        ids.append(str(summary["Id"]))
    if lookback_days > 0:
        since = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=lookback_days)
        for summary in pc.list_engagement_invitations(
            "RECEIVER", [OPPORTUNITY_INVITATION], ["ACCEPTED"], Sort=sort
        ):
            when = summary.get("InvitationDate")
            if isinstance(when, dt.datetime):
                when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
                if when < since:
                    break  # sorted newest first
            ids.append(str(summary["Id"]))
    return list(dict.fromkeys(ids))


def advance_invitations(
    pc: PartnerCentralClient,
    store: SyncStateStore,
    rules: InvitationRules,
    invitation_ids: Sequence[str],
    budget_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[InvitationRow]:
    """Move each invitation as far as the AWS side allows within the budget."""
    catalog = pc.catalog
    out: dict[str, InvitationRow] = {}
    started: dict[str, dict[str, Any]] = {}  # task id -> latest summary
    task_owner: dict[str, str] = {}  # task id -> invitation id

    for inv_id in invitation_ids:
        out[inv_id] = _advance_invitation(pc, store, rules, inv_id, started, task_owner)

    if started:
        latest = follow_tasks(pc.list_engagement_by_accepting_invitation_tasks, started, budget_s, sleep)
        for task_id, task in latest.items():
            _record_task(store, catalog, out[task_owner[task_id]], task)
    return [out[i] for i in invitation_ids if i in out]


def _advance_invitation(
    pc: PartnerCentralClient,
    store: SyncStateStore,
    rules: InvitationRules,
    inv_id: str,
    started: dict[str, dict[str, Any]],
    task_owner: dict[str, str],
) -> InvitationRow:
    """One invitation: left alone when finished, read, skipped when not an opportunity or not to be
    retried, else its next step applied (an accept task it starts joins `started`)."""
    row = store.get_invitation(pc.catalog, inv_id)
    status = row["status"] if row else None
    detail = _detail(row)
    if status in steps.TERMINAL:
        return _finished_row(inv_id, str(status), row, detail)
    try:
        invitation = pc.get_engagement_invitation(inv_id)
    except AccessDeniedError:
        raise
    except QuotaDeferredError as exc:
        return InvitationRow(inv_id, status or "", InvitationAction.SKIPPED, reason=exc.message)
    except PartnerCentralError as exc:
        return InvitationRow(inv_id, status or steps.SKIPPED, InvitationAction.FAILED, reason=str(exc))
    facts = facts_from_invitation(invitation)
    result = InvitationRow(
        inv_id,
        status or "",
        InvitationAction.NONE,
        title=facts.title,
        customer=facts.company_name,
        opportunity_id=row.get("opportunity_id") if row else None,
        task_id=row.get("task_id") if row else None,
        sender=_text(invitation.get("SenderCompanyName")) or _text(invitation.get("SenderAwsAccountId")),
        message=_text(invitation.get("InvitationMessage")),
    )
    if invitation.get("PayloadType") not in (None, OPPORTUNITY_INVITATION):
        result.status, result.action = steps.SKIPPED, InvitationAction.SKIPPED
        result.reason = (
            f"PayloadType {invitation.get('PayloadType')!r}: only {OPPORTUNITY_INVITATION} is handled"
        )
        return result
    step = steps.next_invitation_step(status, invitation.get("Status"))
    if step == steps.RETRY and not steps.may_retry_accept(
        detail.get("reason_code"), int(detail.get("attempt", 0))
    ):
        result.status, result.action = steps.FAILED, InvitationAction.NONE
        result.reason = f"accept failed and is not retried: {detail.get('reason')}"
        return result
    try:
        _apply_step(pc, store, rules, step, inv_id, invitation, row, detail, result, started, task_owner)
    except AccessDeniedError:
        raise
    except QuotaDeferredError as exc:
        # Not sent: the store keeps the step it was at (accepting / rejecting), so the next run,
        # once the quota allows, takes it up again with the same ClientToken.
        result.action, result.reason = InvitationAction.SKIPPED, exc.message
        log.info("invitation %s: %s", inv_id, exc.message)
    except PartnerCentralError as exc:
        result.action, result.reason = InvitationAction.FAILED, str(exc)
        log.warning("invitation %s: %s", inv_id, exc)
    return result


def _finished_row(
    inv_id: str, status: str, row: Mapping[str, Any] | None, detail: Mapping[str, Any]
) -> InvitationRow:
    """An invitation already in a terminal state, as the store recorded it (no AWS call)."""
    return InvitationRow(
        inv_id,
        status,
        InvitationAction.NONE,
        row.get("opportunity_id") if row else None,
        row.get("deal_id") if row else None,
        rule=detail.get("rule"),
        reason=detail.get("reason"),
    )


def _apply_step(
    pc: PartnerCentralClient,
    store: SyncStateStore,
    rules: InvitationRules,
    step: str,
    inv_id: str,
    invitation: Mapping[str, Any],
    row: Mapping[str, Any] | None,
    detail: dict[str, Any],
    result: InvitationRow,
    started: dict[str, dict[str, Any]],
    task_owner: dict[str, str],
) -> None:
    catalog = pc.catalog
    if step in (steps.DONE, steps.SKIP):
        result.status = result.status or steps.SKIPPED
        result.action = InvitationAction.NONE if step == steps.DONE else InvitationAction.SKIPPED
        result.reason = detail.get("reason") or f"invitation is {invitation.get('Status')}"
        return
    if step == steps.CREATE_DEAL:
        result.status = steps.ACCEPTED
        return
    if step == steps.POLL and row and row.get("task_id"):
        task_id = str(row["task_id"])
        started[task_id] = {"TaskId": task_id, "TaskStatus": "IN_PROGRESS"}
        task_owner[task_id] = inv_id
        result.status, result.action, result.task_id = steps.ACCEPTING, InvitationAction.POLLED, task_id
        return
    if step == steps.ADOPT:
        _adopt(pc, store, inv_id, result)
        return
    if step == steps.REJECT:
        _reject(pc, store, inv_id, detail.get("reason"), detail.get("rule"), result)
        return
    # DECIDE, RETRY (and POLL without a task id: the start was lost, starting again is idempotent)
    decision = rules.decide(facts_from_invitation(invitation))
    result.rule = decision.rule
    if not decision.accept:
        store.put_invitation(
            catalog,
            inv_id,
            status=steps.REJECTING,
            detail=_dump({"reason": decision.reason, "rule": decision.rule}),
        )
        _reject(pc, store, inv_id, decision.reason, decision.rule, result)
        return
    attempt = int(detail.get("attempt", 0)) + (1 if step == steps.RETRY else 0)
    _start_accept(pc, store, inv_id, attempt, decision.rule, detail, result, started, task_owner)


def _start_accept(
    pc: PartnerCentralClient,
    store: SyncStateStore,
    inv_id: str,
    attempt: int,
    rule: str | None,
    detail: Mapping[str, Any],
    result: InvitationRow,
    started: dict[str, dict[str, Any]],
    task_owner: dict[str, str],
) -> None:
    """Start the accept task (ClientToken per invitation and attempt), recorded in the store before and
    after; the task joins `started` to be followed."""
    catalog = pc.catalog
    token = steps.accept_client_token(catalog, inv_id, attempt)
    store.put_invitation(
        catalog,
        inv_id,
        status=steps.ACCEPTING,
        detail=_dump({**detail, "attempt": attempt, "rule": rule}),
    )
    task = pc.start_engagement_by_accepting_invitation_task(inv_id, token)
    task_id = str(task.get("TaskId") or "")
    store.put_invitation(
        catalog,
        inv_id,
        status=steps.ACCEPTING,
        task_id=task_id or None,
        opportunity_id=task.get("OpportunityId"),
    )
    result.status, result.action, result.task_id = steps.ACCEPTING, InvitationAction.ACCEPTED, task_id
    result.opportunity_id = task.get("OpportunityId") or result.opportunity_id
    if task_id:
        started[task_id] = dict(task)
        task_owner[task_id] = inv_id


def _reject(
    pc: PartnerCentralClient,
    store: SyncStateStore,
    inv_id: str,
    reason: str | None,
    rule: str | None,
    result: InvitationRow,
) -> None:
    pc.reject_engagement_invitation(inv_id, reason)
    store.put_invitation(
        pc.catalog, inv_id, status=steps.REJECTED, detail=_dump({"reason": reason, "rule": rule})
    )
    result.status, result.action, result.reason, result.rule = (
        steps.REJECTED,
        InvitationAction.REJECTED,
        reason,
        rule,
    )
    log.info("invitation %s rejected (rule %s): %s", inv_id, rule, reason)


def _adopt(pc: PartnerCentralClient, store: SyncStateStore, inv_id: str, result: InvitationRow) -> None:
    """An invitation accepted without a row here (in the console, or a lost row): find its opportunity."""
    tasks = pc.call(
        "ListEngagementByAcceptingInvitationTasks", EngagementInvitationIdentifier=[inv_id], MaxResults=10
    ).get("TaskSummaries", [])
    done = [t for t in tasks if t.get("TaskStatus") == COMPLETE and t.get("OpportunityId")]
    if not done:
        result.status, result.action = steps.SKIPPED, InvitationAction.SKIPPED
        result.reason = "invitation accepted outside hspc; no completed accept task names its opportunity"
        return
    task = done[0]
    store.put_invitation(
        pc.catalog,
        inv_id,
        status=steps.ACCEPTED,
        task_id=task.get("TaskId"),
        opportunity_id=task["OpportunityId"],
        detail=_dump({"adopted": True}),
    )
    result.status, result.action = steps.ACCEPTED, InvitationAction.ADOPTED
    result.opportunity_id, result.task_id = str(task["OpportunityId"]), task.get("TaskId")


def _record_task(store: SyncStateStore, catalog: str, result: InvitationRow, task: Mapping[str, Any]) -> None:
    status = task.get("TaskStatus")
    inv_id = result.invitation_id
    if status == COMPLETE and task.get("OpportunityId"):
        store.put_invitation(catalog, inv_id, status=steps.ACCEPTED, opportunity_id=task["OpportunityId"])
        result.status, result.opportunity_id = steps.ACCEPTED, str(task["OpportunityId"])
    elif status == FAILED:
        reason = (
            ": ".join(str(p) for p in (task.get("ReasonCode"), task.get("Message")) if p) or "task failed"
        )
        row = store.get_invitation(catalog, inv_id)
        detail = {**_detail(row), "reason": reason, "reason_code": task.get("ReasonCode")}
        store.put_invitation(catalog, inv_id, status=steps.FAILED, detail=_dump(detail))
        result.status, result.action, result.reason = steps.FAILED, InvitationAction.FAILED, reason
    else:
        result.status = steps.ACCEPTING
        result.reason = f"accept task {task.get('TaskId')} still in progress; the next run follows it"


# -- HubSpot side ---------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def create_invitation_deals(
    hs: HubSpotClient,
    pc: PartnerCentralClient,
    store: SyncStateStore,
    config: MappingConfig,
    rows: Iterable[InvitationRow],
    now: dt.datetime | None = None,
) -> list[InvitationRow]:
    """Create (or link) the deal of every accepted invitation; other rows pass through unchanged."""
    rows = list(rows)
    catalog = pc.catalog
    todo = [r for r in rows if r.status == steps.ACCEPTED and r.opportunity_id]
    if not todo:
        return rows
    now = now or dt.datetime.now(dt.UTC)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    opp_ids = sorted({str(r.opportunity_id) for r in todo})
    records = {
        str(rec["Id"]): rec
        for rec, _, _ in fetch_opportunity_snapshot(
            pc,
            store,
            day_start,
            day_start + dt.timedelta(days=1),
            {o: day_start.date().isoformat() for o in opp_ids},
            {},
            scope_ids=opp_ids,
        )
    }

    existing = deals_by_properties(
        hs,
        {"aws_opportunity_id": opp_ids, "aws_invitation_id": [r.invitation_id for r in todo]},
        DEAL_LOOKUP_PROPERTIES,
    )
    to_create: list[tuple[InvitationRow, Any]] = []
    for r in todo:
        found = existing.get(("aws_opportunity_id", str(r.opportunity_id))) or existing.get(
            ("aws_invitation_id", r.invitation_id)
        )
        if found:
            r.deal_id, r.status, r.action = str(found[0]["id"]), steps.DEAL_CREATED, InvitationAction.LINKED
            r.reason = "a deal already carries this opportunity; linked instead of creating another"
            store.put_invitation(catalog, r.invitation_id, status=steps.DEAL_CREATED, deal_id=r.deal_id)
            continue
        opp = records.get(str(r.opportunity_id))
        if opp is None:
            r.action, r.reason = (
                InvitationAction.FAILED,
                f"opportunity {r.opportunity_id} not found in catalog {catalog}",
            )
            continue
        r.title = r.title or _text((opp.get("Project") or {}).get("Title"))
        to_create.append((r, opportunity_to_new_deal(opp, config, r.invitation_id)))

    if to_create:
        _create_deals(hs, store, catalog, to_create)
        _add_origin_notes(hs, [r for r, _ in to_create if r.status == steps.DEAL_CREATED], now)
    return rows


def _company_domain(company: Mapping[str, Any] | None) -> str | None:
    if not company:
        return None
    return (
        _text(company.get("domain"))
        and str(company["domain"]).lower()
        or steps.website_domain(_text(company.get("website")))
    )


def _create_deals(
    hs: HubSpotClient, store: SyncStateStore, catalog: str, items: list[tuple[InvitationRow, Any]]
) -> None:
    companies_wanted: dict[str, Mapping[str, Any]] = {}
    contacts_wanted: dict[str, Mapping[str, Any]] = {}
    for _, new in items:
        domain = _company_domain(new.company)
        if domain:
            companies_wanted.setdefault(domain, new.company)
        for contact in new.contacts or []:
            email = _text(contact.get("email"))
            if email:
                contacts_wanted.setdefault(email.strip().lower(), contact)
    companies = companies_by_domain(hs, companies_wanted)
    contacts = contacts_by_email(hs, contacts_wanted)

    inputs: list[dict[str, Any]] = []
    for r, new in items:
        deal = {k: v for k, v in dict(new.deal).items() if v not in (None, "")}
        deal["dealname"] = steps.deal_name_with_tag(_text(deal.get("dealname")) or r.title)
        deal["aws_opportunity_id"] = str(r.opportunity_id)
        deal["aws_invitation_id"] = r.invitation_id
        deal.setdefault("aws_sync_status", SyncStatus.SYNCED.value)
        assoc = []
        company_id = companies.ids.get(_company_domain(new.company) or "")
        if company_id:
            assoc.append(_association(company_id, DEAL_TO_COMPANY_PRIMARY))
        for contact in new.contacts or []:
            contact_id = contacts.ids.get((_text(contact.get("email")) or "").strip().lower())
            if contact_id:
                assoc.append(_association(contact_id, DEAL_TO_CONTACT))
        inputs.append({"properties": {k: str(v) for k, v in deal.items()}, "associations": assoc})

    result = hs.batch_create("deals", inputs)
    failed = result.failed_positions()
    refused = result.refused_by_rules()  # a portal's required-property rule: invalid, not retried as is
    by_invitation = {str((d.get("properties") or {}).get("aws_invitation_id")): d for d in result.results}
    for pos, (r, _) in enumerate(items):
        created = by_invitation.get(r.invitation_id)
        if created is None:
            if pos in refused:
                r.action, r.reason = InvitationAction.INVALID, f"deal not created: {failed[pos]}"
                continue
            r.action = InvitationAction.FAILED
            r.reason = (
                f"deal not created: {failed.get(pos, 'HubSpot returned no record')} (the next run retries)"
            )
            continue
        r.deal_id, r.status, r.action, r.reason = (
            str(created["id"]),
            steps.DEAL_CREATED,
            InvitationAction.DEAL_CREATED,
            None,
        )
        store.put_invitation(catalog, r.invitation_id, status=steps.DEAL_CREATED, deal_id=r.deal_id)
    problems = list(companies.errors.values()) + list(contacts.errors.values())
    if problems:
        log.warning("invitation deals: %s", "; ".join(problems))

    # New contacts belong to the new company as well (unlabeled: never displaces a primary company).
    pairs = []
    for _, new in items:
        company_id = companies.ids.get(_company_domain(new.company) or "")
        for contact in new.contacts or []:
            email = (_text(contact.get("email")) or "").strip().lower()
            if company_id and email in contacts.created:
                pairs.append((contacts.ids[email], company_id))
    if pairs:
        hs.batch_create_associations("contacts", "companies", sorted(set(pairs)), CONTACT_TO_COMPANY)


def _association(to_id: str, type_id: int) -> dict[str, Any]:
    return {
        "to": {"id": to_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


def _add_origin_notes(hs: HubSpotClient, rows: list[InvitationRow], now: dt.datetime) -> None:
    writes = [
        DealWrite(
            deal_id=str(r.deal_id),
            entity_key=f"invitation:{r.invitation_id}",
            partition_date=now.date().isoformat(),
            final_status=RowStatus.CREATED,
            notes=[invitation_accepted_note(r.invitation_id, str(r.opportunity_id), r.sender, r.message)],
        )
        for r in rows
    ]
    for write, status, _, error in write_deals(hs, writes, now):
        if status in (RowStatus.FAILED, RowStatus.INVALID):
            log.warning("deal %s: origin note not written: %s", write.deal_id, error)


def rows_jsonable(rows: Iterable[InvitationRow]) -> list[dict[str, Any]]:
    return [to_jsonable(r.as_dict()) for r in rows]
