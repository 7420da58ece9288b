"""What AWS does on its side, for tests to drive: send invitations, review opportunities, set the
summary (insights, AWS team), publish resource snapshots, close opportunities as lost.

These are methods of `PartnerCentralEmulator` (bound in app.py) and routes of the control API.
Each takes `catalog` (default "AWS") and emits the EventBridge event AWS would.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import TYPE_CHECKING, Any

from . import model, rules
from .errors import ApiError
from .events import invitation_detail, opportunity_detail
from .ops_engagements import AWS_ACCOUNT, AWS_MEMBER, new_engagement
from .ops_opportunities import get_record, touch
from .validation import field_errors

if TYPE_CHECKING:
    from .app import PartnerCentralEmulator

REVIEW_EVENTS = {"Approved": "Opportunity Accepted", "Rejected": "Opportunity Rejected"}
SNAPSHOT_TEMPLATES = ("OpportunitySummaryView", "AwsOpportunitySummaryFullView")


def _check(shape_name: str, value: Any, what: str) -> None:
    errors = field_errors(value, model.service_model().shape_for(shape_name))
    if errors:
        raise ApiError(
            "ValidationException",
            f"{what} is not valid",
            Reason="REQUEST_VALIDATION_FAILED",
            ErrorList=errors,
        )


def send_invitation(
    self: PartnerCentralEmulator,
    payload: dict[str, Any] | None = None,
    *,
    catalog: str = "AWS",
    message: str | None = None,
    customer_contacts: list[dict[str, Any]] | None = None,
    expires_in_days: float = 15,
) -> str:
    """AWS invites the partner to an opportunity; returns the invitation id.

    `payload` is an `OpportunityInvitationPayload` (Customer, Project, SenderContacts,
    ReceiverResponsibilities, OpportunityType); missing parts get plausible defaults.
    `customer_contacts` become the opportunity's Customer.Contacts once accepted.
    """
    payload = copy.deepcopy(payload or {})
    payload.setdefault("ReceiverResponsibilities", ["Co-Sell Facilitator"])
    payload.setdefault(
        "SenderContacts",
        [
            {
                "Email": "aws-seller@amazon.com",
                "FirstName": "Alex",
                "LastName": "Seller",
                "BusinessTitle": "AWS Account Manager",
            }
        ],
    )
    customer = payload.setdefault("Customer", {})
    customer.setdefault("CompanyName", "Example Customer")
    customer.setdefault("Industry", "Software and Internet")
    customer.setdefault("WebsiteUrl", "https://example.com")
    customer.setdefault("CountryCode", "US")
    project = payload.setdefault("Project", {})
    project.setdefault("Title", f"{customer['CompanyName']} migration")
    project.setdefault("BusinessProblem", "The customer needs help moving workloads to AWS.")
    project.setdefault("TargetCompletionDate", (dt.date.today() + dt.timedelta(days=90)).isoformat())
    project.setdefault(
        "ExpectedCustomerSpend",
        [{"Amount": "10000", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS"}],
    )
    _check("OpportunityInvitationPayload", payload, "Invitation payload")
    with self.lock:
        ctx = self.ctx
        store = ctx.store(catalog)
        eng = new_engagement(ctx, store, project["Title"], AWS_ACCOUNT, [dict(AWS_MEMBER)])
        invitation_id = ctx.ids.invitation()
        now = ctx.clock.tick()
        record = {
            "Id": invitation_id,
            "Arn": ctx.arn(catalog, "engagement-invitation", invitation_id),
            "Catalog": catalog,
            "PayloadType": "OpportunityInvitation",
            "EngagementId": eng["Id"],
            "EngagementTitle": project["Title"][:40],
            "Status": "PENDING",
            "InvitationDate": now,
            "ExpirationDate": now + dt.timedelta(days=expires_in_days),
            "SenderAwsAccountId": AWS_ACCOUNT,
            "SenderCompanyName": "Amazon Web Services",
            "ParticipantType": "RECEIVER",
            "Receiver": {"Account": {"AwsAccountId": ctx.ids.account_id}},
            "Payload": {"OpportunityInvitation": payload},
            "InvitationMessage": message or "AWS would like to co-sell this opportunity with you",
            "ExistingMembers": [
                {"CompanyName": AWS_MEMBER["CompanyName"], "WebsiteUrl": AWS_MEMBER["WebsiteUrl"]}
            ],
            "_customer_contacts": copy.deepcopy(customer_contacts or []),
        }
        store.invitations[invitation_id] = record
        ctx.events.publish(
            "Engagement Invitation Created", invitation_detail(catalog, invitation_id), [record["Arn"]]
        )
        return invitation_id


def review(
    self: PartnerCentralEmulator,
    opportunity_id: str,
    review_status: str,
    review_comments: str | None = None,
    review_status_reason: str | None = None,
    *,
    catalog: str = "AWS",
) -> dict[str, Any]:
    """AWS's reviewer sets LifeCycle.ReviewStatus (In review, Approved, Action Required, Rejected...)."""
    if review_status not in model.enum_values("ReviewStatus"):
        raise ApiError(
            "ValidationException",
            f"ReviewStatus {review_status!r} is not one of {model.enum_values('ReviewStatus')}",
            Reason="REQUEST_VALIDATION_FAILED",
        )
    with self.lock:
        store = self.ctx.store(catalog)
        record = get_record(store, opportunity_id)
        lifecycle = {
            k: v for k, v in (record.get("LifeCycle") or {}).items() if k not in rules.REVIEW_FIELDS[1:]
        }
        lifecycle["ReviewStatus"] = review_status
        if review_comments:
            lifecycle["ReviewComments"] = review_comments
        if review_status_reason:
            lifecycle["ReviewStatusReason"] = review_status_reason
        record["LifeCycle"] = lifecycle
        record["_submitted"] = record.get("_submitted") or review_status != "Pending Submission"
        touch(self.ctx, store, record)
        if review_status in REVIEW_EVENTS:
            self.events.publish(
                REVIEW_EVENTS[review_status], opportunity_detail(catalog, opportunity_id), [record["Arn"]]
            )
        return {"Id": opportunity_id, "LastModifiedDate": record["LastModifiedDate"]}


def set_summary(
    self: PartnerCentralEmulator, opportunity_id: str, summary: dict[str, Any], *, catalog: str = "AWS"
) -> dict[str, Any]:
    """Merge AWS-side fields (Insights, OpportunityTeam, LifeCycle, InvolvementType, Visibility...)
    into GetAwsOpportunitySummary's answer; checked against the model's output shape."""
    shape = model.operation("GetAwsOpportunitySummary").output_shape
    assert shape is not None
    _check(shape.name, {"Catalog": catalog, **summary}, "AWS opportunity summary")
    with self.lock:
        store = self.ctx.store(catalog)
        record = get_record(store, opportunity_id)
        current = store.aws_summaries.setdefault(opportunity_id, {})
        current.update(copy.deepcopy(summary))
        touch(self.ctx, store, record)  # AWS's changes surface as an update of the opportunity
        return copy.deepcopy(current)


def publish_snapshot(
    self: PartnerCentralEmulator,
    opportunity_id: str,
    *,
    catalog: str = "AWS",
    template: str = "AwsOpportunitySummaryFullView",
) -> dict[str, Any]:
    """AWS shares a resource snapshot of the opportunity in its engagement (made on demand)."""
    if template not in SNAPSHOT_TEMPLATES:
        raise ApiError(
            "ValidationException",
            f"template must be one of {SNAPSHOT_TEMPLATES}",
            Reason="REQUEST_VALIDATION_FAILED",
        )
    with self.lock:
        ctx = self.ctx
        store = ctx.store(catalog)
        record = get_record(store, opportunity_id)
        engagement_id = store.engagement_of.get(opportunity_id)
        if engagement_id is None:
            eng = new_engagement(
                ctx,
                store,
                rules.dig(record, "Project", "Title") or opportunity_id,
                AWS_ACCOUNT,
                [dict(AWS_MEMBER)],
            )
            engagement_id = store.engagement_of[opportunity_id] = eng["Id"]
        if template == "AwsOpportunitySummaryFullView":
            view = {
                "RelatedOpportunityId": opportunity_id,
                "Origin": record.get("Origin"),
                **copy.deepcopy(store.aws_summaries.get(opportunity_id, {})),
            }
            payload = {template: model.project(view, model.service_model().shape_for(template))}
        else:
            view = {**record, "Lifecycle": record.get("LifeCycle")}
            payload = {"OpportunitySummary": model.project(view, model.service_model().shape_for(template))}
        revision = 1 + sum(
            1
            for s in store.snapshots
            if s["EngagementId"] == engagement_id
            and s["ResourceId"] == opportunity_id
            and s["ResourceSnapshotTemplateName"] == template
        )
        arn = ctx.arn(
            catalog,
            "engagement",
            f"{engagement_id}/resource/Opportunity/{opportunity_id}/"
            f"template/{template}/resource-snapshot/{revision}",
        )
        snapshot = {
            "Catalog": catalog,
            "Arn": arn,
            "CreatedBy": AWS_ACCOUNT,
            "CreatedAt": ctx.clock.tick(),
            "EngagementId": engagement_id,
            "ResourceType": "Opportunity",
            "ResourceId": opportunity_id,
            "ResourceSnapshotTemplateName": template,
            "Revision": revision,
            "Payload": payload,
        }
        store.snapshots.append(snapshot)
        detail = {
            **opportunity_detail(catalog, opportunity_id),
            "engagement": {"id": engagement_id},
            "resourceSnapshot": {"arn": arn, "revision": revision, "template": template},
        }
        self.events.publish("Engagement Resource Snapshot Created", detail, [arn])
        return copy.deepcopy(snapshot)


def close_lost(
    self: PartnerCentralEmulator, opportunity_id: str, reason: str = "Other", *, catalog: str = "AWS"
) -> dict[str, Any]:
    """AWS closes the opportunity as lost (Stage `Closed Lost` with a ClosedLostReason)."""
    if reason not in model.enum_values("ClosedLostReason"):
        raise ApiError(
            "ValidationException",
            f"ClosedLostReason {reason!r} is not valid",
            Reason="REQUEST_VALIDATION_FAILED",
        )
    with self.lock:
        store = self.ctx.store(catalog)
        record = get_record(store, opportunity_id)
        record["LifeCycle"] = {
            **(record.get("LifeCycle") or {}),
            "Stage": "Closed Lost",
            "ClosedLostReason": reason,
        }
        touch(self.ctx, store, record)
        return {"Id": opportunity_id, "LastModifiedDate": record["LastModifiedDate"]}
