"""Engagement side: submission tasks, invitations (list/get/accept/reject/accept-task), engagements,
members, resource associations, resource snapshots, solutions.

Tasks start IN_PROGRESS and finish after `task_delay_seconds` (immediately when it is 0, so the
Start answer already says COMPLETE or FAILED); failures carry the model's ReasonCode.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

from . import rules
from .context import Context
from .errors import conflict, not_found
from .events import invitation_detail
from .ops_opportunities import get_record, mark_submitted, new_opportunity
from .paging import page
from .store import CatalogStore

AWS_ACCOUNT = "aws"  # how AWS appears as sender/creator (AwsAccount allows `\w{1,12}`)
AWS_MEMBER = {
    "CompanyName": "Amazon Web Services",
    "WebsiteUrl": "https://aws.amazon.com",
    "AccountId": AWS_ACCOUNT,
}
PARTNER_NAME = "Example Partner"


def _ident(value: str) -> str:
    """ARN or bare id -> bare id (the last path segment)."""
    return value.rsplit("/", 1)[-1]


def _sorted(rows: list[dict[str, Any]], params: dict[str, Any], default_key: str) -> list[dict[str, Any]]:
    sort = params.get("Sort") or {}
    key = {"InvitationDate": "InvitationDate", "StartTime": "StartTime", "CreatedDate": "CreatedAt"}.get(
        sort.get("SortBy", ""), default_key
    )
    return sorted(
        rows,
        key=lambda r: (r.get(key), r.get("Id") or r.get("TaskId")),
        reverse=sort.get("SortOrder", "DESCENDING") == "DESCENDING",
    )


# Engagements ---------------------------------------------------------------------------------------
def new_engagement(
    ctx: Context, store: CatalogStore, title: str, created_by: str, members: list[dict[str, Any]]
) -> dict[str, Any]:
    engagement_id = ctx.ids.engagement()
    now = ctx.clock.tick()
    record = {
        "Id": engagement_id,
        "Arn": ctx.arn(store.catalog, "engagement", engagement_id),
        "Title": title[:40],
        "CreatedAt": now,
        "CreatedBy": created_by,
        "ModifiedAt": now,
        "ModifiedBy": created_by,
        "ContextTypes": ["CustomerProject"],
        "_members": members,
    }
    record["MemberCount"] = len(members)
    store.engagements[engagement_id] = record
    return record


def partner_member(ctx: Context) -> dict[str, Any]:
    return {
        "CompanyName": PARTNER_NAME,
        "WebsiteUrl": "https://partner.example.com",
        "AccountId": ctx.ids.account_id,
    }


def join(ctx: Context, store: CatalogStore, engagement_id: str, opportunity_id: str) -> None:
    engagement = store.engagements.get(engagement_id)
    if engagement is None:
        return
    if all(m["AccountId"] != ctx.ids.account_id for m in engagement["_members"]):
        engagement["_members"].append(partner_member(ctx))
        engagement["MemberCount"] = len(engagement["_members"])
        ctx.events.publish(
            "Engagement Member Joined",
            {"schemaVersion": "1", "catalog": store.catalog, "engagement": {"id": engagement_id}},
            [engagement["Arn"]],
        )
    engagement["ModifiedAt"] = ctx.clock.tick()
    engagement["ModifiedBy"] = ctx.ids.account_id
    store.engagement_of[opportunity_id] = engagement_id


def engagement(store: CatalogStore, identifier: str) -> dict[str, Any]:
    record = store.engagements.get(_ident(identifier))
    if record is None:
        raise not_found("Engagement", identifier)
    return record


def list_engagements(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    rows = list(store.engagements.values())
    if params.get("EngagementIdentifier"):
        wanted = {_ident(i) for i in params["EngagementIdentifier"]}
        rows = [r for r in rows if r["Id"] in wanted]
    if params.get("CreatedBy"):
        rows = [r for r in rows if r["CreatedBy"] in params["CreatedBy"]]
    if params.get("ExcludeCreatedBy"):
        rows = [r for r in rows if r["CreatedBy"] not in params["ExcludeCreatedBy"]]
    if params.get("ContextTypes"):
        rows = [r for r in rows if set(r["ContextTypes"]) & set(params["ContextTypes"])]
    if params.get("ExcludeContextTypes"):
        rows = [r for r in rows if not set(r["ContextTypes"]) & set(params["ExcludeContextTypes"])]
    return page(_sorted(rows, params, "CreatedAt"), params, 20, "EngagementSummaryList")


def list_engagement_members(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    record = engagement(store, params["Identifier"])
    return page(record["_members"], params, 10, "EngagementMemberList")


def list_engagement_resource_associations(
    ctx: Context, store: CatalogStore, params: dict[str, Any]
) -> dict[str, Any]:
    rows = []
    for opportunity_id, engagement_id in store.engagement_of.items():
        created_by = store.engagements[engagement_id]["CreatedBy"]
        row = {
            "Catalog": store.catalog,
            "EngagementId": engagement_id,
            "ResourceType": "Opportunity",
            "ResourceId": opportunity_id,
            "CreatedBy": created_by,
        }
        if params.get("EngagementIdentifier") not in (None, engagement_id):
            continue
        if params.get("ResourceIdentifier") not in (None, opportunity_id):
            continue
        if params.get("CreatedBy") not in (None, created_by):
            continue
        rows.append(row)
    return page(rows, params, 100, "EngagementResourceAssociationSummaries")


# Submission ----------------------------------------------------------------------------------------
def _task(ctx: Context, store: CatalogStore, kind: str, **fields: Any) -> dict[str, Any]:
    task_id = ctx.ids.task()
    return {
        "TaskId": task_id,
        "TaskArn": ctx.arn(store.catalog, kind, task_id),
        "StartTime": ctx.clock.tick(),
        "TaskStatus": "IN_PROGRESS",
        **fields,
    }


def _fail(task: dict[str, Any], reason: str, message: str) -> None:
    task.update(TaskStatus="FAILED", ReasonCode=reason, Message=message)


def start_engagement_from_opportunity_task(
    ctx: Context, store: CatalogStore, params: dict[str, Any]
) -> dict[str, Any]:
    record = get_record(store, params["Identifier"])
    submission = params["AwsSubmission"]
    task = _task(ctx, store, "engagement-from-opportunity-task", OpportunityId=record["Id"])
    store.from_opportunity_tasks[task["TaskId"]] = task

    def finish() -> None:
        current = store.opportunities.get(record["Id"])
        if current is None:
            return _fail(task, "OpportunityValidationFailed", "The opportunity no longer exists")
        if current.get("_submitted"):
            return _fail(task, "OpportunityConflict", "The opportunity has already been submitted")
        problems = rules.submission_problems(current)
        if problems:
            return _fail(
                task,
                "OpportunityValidationFailed",
                "; ".join(f"{p['FieldName']}: {p['Message']}" for p in problems),
            )
        mark_submitted(ctx, store, current, submission["InvolvementType"], submission.get("Visibility"))
        title = rules.dig(current, "Project", "Title") or current["Id"]
        eng = new_engagement(ctx, store, title, ctx.ids.account_id, [partner_member(ctx)])
        store.engagement_of[current["Id"]] = eng["Id"]
        task.update(TaskStatus="COMPLETE", EngagementId=eng["Id"])

    ctx.later(finish)
    return task


def _list_tasks(
    tasks: dict[str, dict[str, Any]],
    params: dict[str, Any],
    filters: dict[str, Callable[[dict[str, Any]], Any]],
) -> dict[str, Any]:
    rows = list(tasks.values())
    if params.get("TaskIdentifier"):
        wanted = {_ident(t) for t in params["TaskIdentifier"]}
        rows = [r for r in rows if r["TaskId"] in wanted]
    if params.get("TaskStatus"):
        rows = [r for r in rows if r["TaskStatus"] in params["TaskStatus"]]
    for name, getter in filters.items():
        if params.get(name):
            wanted = {_ident(v) for v in params[name]}
            rows = [r for r in rows if getter(r) in wanted]
    return page(_sorted(rows, params, "StartTime"), params, 20, "TaskSummaries")


def list_engagement_from_opportunity_tasks(
    ctx: Context, store: CatalogStore, params: dict[str, Any]
) -> dict[str, Any]:
    return _list_tasks(
        store.from_opportunity_tasks,
        params,
        {
            "OpportunityIdentifier": lambda r: r.get("OpportunityId"),
            "EngagementIdentifier": lambda r: r.get("EngagementId"),
        },
    )


# Invitations ---------------------------------------------------------------------------------------
def invitation(store: CatalogStore, identifier: str) -> dict[str, Any]:
    record = store.invitations.get(_ident(identifier))
    if record is None:
        raise not_found("Engagement invitation", identifier)
    expire_if_due(record)
    return record


def expire_if_due(record: dict[str, Any]) -> None:
    if record["Status"] == "PENDING" and record["ExpirationDate"] <= dt.datetime.now(dt.UTC):
        record["Status"] = "EXPIRED"


def list_engagement_invitations(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    rows = list(store.invitations.values())
    for row in rows:
        expire_if_due(row)
    rows = [r for r in rows if r["ParticipantType"] == params["ParticipantType"]]
    if params.get("PayloadType"):
        rows = [r for r in rows if r["PayloadType"] in params["PayloadType"]]
    if params.get("Status"):
        rows = [r for r in rows if r["Status"] in params["Status"]]
    if params.get("EngagementIdentifier"):
        wanted = {_ident(i) for i in params["EngagementIdentifier"]}
        rows = [r for r in rows if r.get("EngagementId") in wanted]
    if params.get("SenderAwsAccountId"):
        rows = [r for r in rows if r.get("SenderAwsAccountId") in params["SenderAwsAccountId"]]
    return page(_sorted(rows, params, "InvitationDate"), params, 20, "EngagementInvitationSummaries")


def get_engagement_invitation(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    return invitation(store, params["Identifier"])


def _require_pending(record: dict[str, Any]) -> None:
    if record["Status"] != "PENDING":
        raise conflict(f"Engagement invitation {record['Id']} is {record['Status']}, not PENDING")


def accept(ctx: Context, store: CatalogStore, record: dict[str, Any]) -> dict[str, Any]:
    """Accept a pending invitation: the AWS referral becomes an opportunity in the partner's catalog."""
    payload = (record.get("Payload") or {}).get("OpportunityInvitation") or {}
    customer, project = payload.get("Customer") or {}, payload.get("Project") or {}
    account = {k: customer[k] for k in ("CompanyName", "Industry", "WebsiteUrl") if customer.get(k)}
    if customer.get("CountryCode"):
        account["Address"] = {"CountryCode": customer["CountryCode"]}
    fields: dict[str, Any] = {
        "Customer": {"Account": account, "Contacts": copy.deepcopy(record.get("_customer_contacts") or [])},
        "Project": {
            k: v
            for k, v in {
                "Title": project.get("Title"),
                "CustomerBusinessProblem": project.get("BusinessProblem"),
                "ExpectedCustomerSpend": copy.deepcopy(project.get("ExpectedCustomerSpend") or []),
            }.items()
            if v
        },
        "LifeCycle": {
            "Stage": "Prospect",
            "ReviewStatus": "Approved",
            **(
                {"TargetCloseDate": project["TargetCompletionDate"]}
                if project.get("TargetCompletionDate")
                else {}
            ),
        },
        "OpportunityType": payload.get("OpportunityType") or "Net New Business",
    }
    opportunity = new_opportunity(ctx, store, fields, "AWS Referral")
    team = [
        {k: v for k, v in c.items() if k in ("Email", "FirstName", "LastName")}
        | {"BusinessTitle": "AWSSalesRep"}
        for c in payload.get("SenderContacts") or []
    ]
    store.aws_summaries[opportunity["Id"]] = {
        "Origin": "AWS Referral",
        "InvolvementType": "Co-Sell",
        "Visibility": "Full",
        "OpportunityTeam": team,
    }
    record["Status"] = "ACCEPTED"
    record["_opportunity_id"] = opportunity["Id"]
    if record.get("EngagementId"):
        join(ctx, store, record["EngagementId"], opportunity["Id"])
    ctx.events.publish(
        "Engagement Invitation Accepted",
        invitation_detail(store.catalog, record["Id"], opportunity["Id"]),
        [record["Arn"]],
    )
    return opportunity


def accept_engagement_invitation(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    record = invitation(store, params["Identifier"])
    _require_pending(record)
    accept(ctx, store, record)
    return {}


def reject_engagement_invitation(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    record = invitation(store, params["Identifier"])
    _require_pending(record)
    record["Status"] = "REJECTED"
    if params.get("RejectionReason"):
        record["RejectionReason"] = params["RejectionReason"]
    ctx.events.publish(
        "Engagement Invitation Rejected", invitation_detail(store.catalog, record["Id"]), [record["Arn"]]
    )
    return {}


def start_engagement_by_accepting_invitation_task(
    ctx: Context, store: CatalogStore, params: dict[str, Any]
) -> dict[str, Any]:
    record = invitation(store, params["Identifier"])
    task = _task(ctx, store, "engagement-by-accepting-invitation-task", EngagementInvitationId=record["Id"])
    store.accepting_tasks[task["TaskId"]] = task

    def finish() -> None:
        expire_if_due(record)
        if record["Status"] != "PENDING":
            return _fail(
                task,
                "EngagementInvitationConflict",
                f"The invitation is {record['Status']} and can no longer be accepted",
            )
        opportunity = accept(ctx, store, record)
        task.update(TaskStatus="COMPLETE", OpportunityId=opportunity["Id"])

    ctx.later(finish)
    return task


def list_engagement_by_accepting_invitation_tasks(
    ctx: Context, store: CatalogStore, params: dict[str, Any]
) -> dict[str, Any]:
    return _list_tasks(
        store.accepting_tasks,
        params,
        {
            "OpportunityIdentifier": lambda r: r.get("OpportunityId"),
            "EngagementInvitationIdentifier": lambda r: r.get("EngagementInvitationId"),
        },
    )


# Resource snapshots --------------------------------------------------------------------------------
def list_resource_snapshots(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    engagement_id = engagement(store, params["EngagementIdentifier"])["Id"]
    rows = [s for s in store.snapshots if s["EngagementId"] == engagement_id]
    for name, key in (
        ("ResourceIdentifier", "ResourceId"),
        ("ResourceType", "ResourceType"),
        ("ResourceSnapshotTemplateIdentifier", "ResourceSnapshotTemplateName"),
        ("CreatedBy", "CreatedBy"),
    ):
        if params.get(name):
            rows = [s for s in rows if s[key] == params[name]]
    return page(rows, params, 100, "ResourceSnapshotSummaries")


def get_resource_snapshot(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    engagement_id = _ident(params["EngagementIdentifier"])
    rows = [
        s
        for s in store.snapshots
        if s["EngagementId"] == engagement_id
        and s["ResourceType"] == params["ResourceType"]
        and s["ResourceId"] == params["ResourceIdentifier"]
        and s["ResourceSnapshotTemplateName"] == params["ResourceSnapshotTemplateIdentifier"]
    ]
    if params.get("Revision") is not None:
        rows = [s for s in rows if s["Revision"] == params["Revision"]]
    if not rows:
        raise not_found("Resource snapshot", f"{engagement_id}/{params['ResourceIdentifier']}")
    return max(rows, key=lambda s: s["Revision"])


# Solutions -----------------------------------------------------------------------------------------
def list_solutions(ctx: Context, store: CatalogStore, params: dict[str, Any]) -> dict[str, Any]:
    rows = list(store.solutions.values())
    for name, key in (
        ("Status", "Status"),
        ("Identifier", "Id"),
        ("Category", "Category"),
        ("AwsMarketplaceSolutionArn", "AwsMarketplaceSolutionArn"),
    ):
        if params.get(name):
            rows = [r for r in rows if r.get(key) in params[name]]
    sort = params.get("Sort") or {"SortBy": "Identifier", "SortOrder": "ASCENDING"}
    key = {"Identifier": "Id"}.get(sort["SortBy"], sort["SortBy"])
    rows.sort(key=lambda r: (r.get(key) or "", r["Id"]), reverse=sort["SortOrder"] == "DESCENDING")
    return page(rows, params, 20, "SolutionSummaries")


HANDLERS = {
    "StartEngagementFromOpportunityTask": start_engagement_from_opportunity_task,
    "ListEngagementFromOpportunityTasks": list_engagement_from_opportunity_tasks,
    "ListEngagementInvitations": list_engagement_invitations,
    "GetEngagementInvitation": get_engagement_invitation,
    "AcceptEngagementInvitation": accept_engagement_invitation,
    "RejectEngagementInvitation": reject_engagement_invitation,
    "StartEngagementByAcceptingInvitationTask": start_engagement_by_accepting_invitation_task,
    "ListEngagementByAcceptingInvitationTasks": list_engagement_by_accepting_invitation_tasks,
    "ListEngagements": list_engagements,
    "ListEngagementMembers": list_engagement_members,
    "ListEngagementResourceAssociations": list_engagement_resource_associations,
    "ListResourceSnapshots": list_resource_snapshots,
    "GetResourceSnapshot": get_resource_snapshot,
    "ListSolutions": list_solutions,
}
