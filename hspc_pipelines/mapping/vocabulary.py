"""Partner Central's rules and the product's closed sets of words, each defined once.

Pure (botocore's model, no I/O). The enums are `StrEnum`s: a member equals its string, so stored
frames, HubSpot properties and messages hold the same text as before. What botocore's
`partnercentral-selling` model already enumerates (stages, involvement types, visibilities) is read
from it through `model`; ReviewStatus is spelt out because the rules below name its members, and
hspc_pipelines_tests/mapping/test_vocabulary.py checks it against the model.
Sources of the rules: /work/shared/API_NOTES.md (AWS's "Working with opportunity updates").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Final

from . import model


class ReviewStatus(StrEnum):
    """LifeCycle.ReviewStatus, in the model's order (AWS sets it; note the lower-case "review")."""

    PENDING_SUBMISSION = "Pending Submission"
    SUBMITTED = "Submitted"
    IN_REVIEW = "In review"
    APPROVED = "Approved"
    REJECTED = "Rejected"
    ACTION_REQUIRED = "Action Required"


# ACE rule: UpdateOpportunity is refused while ReviewStatus is Submitted or In review; the plan
# blocks the change and it is applied once the review ends.
LOCKED_REVIEW_STATUSES: Final[frozenset[ReviewStatus]] = frozenset(
    {ReviewStatus.SUBMITTED, ReviewStatus.IN_REVIEW}
)
# ACE rule: an opportunity under review or rejected by AWS cannot be submitted (again).
UNSUBMITTABLE_REVIEW_STATUSES: Final[frozenset[ReviewStatus]] = LOCKED_REVIEW_STATUSES | {
    ReviewStatus.REJECTED
}
# ACE rule: Project.Title cannot change once the opportunity has been submitted. Before submission
# the status is Pending Submission, or absent on a record that never had one.
EDITABLE_REVIEW_STATUSES: Final[frozenset[ReviewStatus | None]] = frozenset(
    {None, ReviewStatus.PENDING_SUBMISSION}
)
# Every status AWS sets once the opportunity was submitted: a deal there is not submitted again.
SUBMITTED_REVIEW_STATUSES: Final[frozenset[ReviewStatus]] = frozenset(ReviewStatus) - {
    ReviewStatus.PENDING_SUBMISSION
}
# ACE rule: GetAwsOpportunitySummary has something to say while AWS looks at the opportunity
# (submitted, reviewing, approved or waiting for the partner): the summary flow refreshes these deals.
WATCHED_REVIEW_STATUSES: Final[frozenset[ReviewStatus]] = frozenset(
    {ReviewStatus.SUBMITTED, ReviewStatus.IN_REVIEW, ReviewStatus.APPROVED, ReviewStatus.ACTION_REQUIRED}
)
# Review outcomes a seller hears about from the summary flow (one note per distinct outcome).
NOTIFIED_REVIEW_STATUSES: Final[frozenset[ReviewStatus]] = frozenset(
    {ReviewStatus.APPROVED, ReviewStatus.ACTION_REQUIRED, ReviewStatus.REJECTED}
)


def in_model_order(statuses: Iterable[ReviewStatus]) -> list[str]:
    """`statuses` as plain strings in ReviewStatus order (a stable order for request bodies)."""
    wanted = set(statuses)
    return [status.value for status in ReviewStatus if status in wanted]


# -- stages, involvement types, visibilities: botocore's enums -------------------------------------


def _member(values: tuple[str, ...], value: str, path: str) -> str:
    """`value`, once botocore's model confirms it is one of `values` (fails at import otherwise)."""
    if value not in values:
        raise ValueError(f"{path} = {value!r} is not in botocore's model; allowed: {' | '.join(values)}")
    return value


def _first(values: tuple[str, ...], first: str) -> tuple[str, ...]:
    return (first, *(v for v in values if v != first))


STAGES: Final = model.STAGES  # LifeCycle.Stage
# ACE rule: an opportunity at these stages is closed; it cannot be submitted.
CLOSED_STAGES: Final = frozenset(
    {_member(STAGES, "Launched", "LifeCycle.Stage"), _member(STAGES, "Closed Lost", "LifeCycle.Stage")}
)
CLOSED_LOST: Final = _member(STAGES, "Closed Lost", "LifeCycle.Stage")

# An opportunity's Id (API_NOTES: id patterns); anything else is not one, so no call is made for it.
OPPORTUNITY_ID: Final = re.compile(r"O[0-9]{1,19}")

_AWS_SUBMISSION = "StartEngagementFromOpportunityTask"
# The product's defaults (a choice, not AWS's): listed first, as HubSpot shows the options.
DEFAULT_INVOLVEMENT_TYPE: Final = _member(
    model.enum("AwsSubmission.InvolvementType", _AWS_SUBMISSION), "Co-Sell", "AwsSubmission.InvolvementType"
)
DEFAULT_VISIBILITY: Final = _member(
    model.enum("AwsSubmission.Visibility", _AWS_SUBMISSION), "Full", "AwsSubmission.Visibility"
)
INVOLVEMENT_TYPES: Final = _first(
    model.enum("AwsSubmission.InvolvementType", _AWS_SUBMISSION), DEFAULT_INVOLVEMENT_TYPE
)
VISIBILITIES: Final = _first(model.enum("AwsSubmission.Visibility", _AWS_SUBMISSION), DEFAULT_VISIBILITY)


# -- the sync's own words -----------------------------------------------------------------------------


class Operation(StrEnum):
    """What a plan row asks the apply steps to do (the plan frame's `operation` column)."""

    CREATE = "create"
    LINK = "link"
    UPDATE = "update"
    WRITE_BACK = "write-back"
    NONE = "none"
    BLOCKED = "blocked"
    INVALID = "invalid"


# Operations that leave nothing to apply: a pair planned so is settled until one side changes.
SETTLED_OPERATIONS: Final[frozenset[Operation]] = frozenset(
    {Operation.NONE, Operation.BLOCKED, Operation.INVALID}
)


class RowStatus(StrEnum):
    """How a row ended: apply results' `status`, deal writes' `final_status` and `write_status`."""

    CREATED = "created"
    LINKED = "linked"
    UPDATED = "updated"
    WRITTEN = "written"
    UNCHANGED = "unchanged"
    BLOCKED = "blocked"
    INVALID = "invalid"
    FAILED = "failed"
    SKIPPED = "skipped"
    # Not attempted: the run's write budget or Partner Central's 24-hour quota did not cover it; the
    # next run takes it first (`quotas/`).
    DEFERRED = "deferred"
    # Both sides changed a field differently since they last agreed; the policy chose (reconcile/merge.py)
    CONFLICT = "conflict"


# The status a row ends with when no apply step touched it.
PLANNED_STATUS: Final[dict[Operation, RowStatus]] = {
    Operation.CREATE: RowStatus.CREATED,
    Operation.LINK: RowStatus.LINKED,
    Operation.UPDATE: RowStatus.UPDATED,
    Operation.WRITE_BACK: RowStatus.WRITTEN,
    Operation.NONE: RowStatus.UNCHANGED,
    Operation.BLOCKED: RowStatus.BLOCKED,
    Operation.INVALID: RowStatus.INVALID,
}


class InvitationAction(StrEnum):
    """What one run did with one engagement invitation (the invitation rows' `action`)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    POLLED = "polled"
    DEAL_CREATED = "deal_created"
    LINKED = "linked"
    ADOPTED = "adopted"
    NONE = "none"
    FAILED = "failed"
    # HubSpot's portal refused the deal with a required-property rule: the reason names the property
    # and the rule; the deal is created once the data or the rule changes.
    INVALID = "invalid"
    SKIPPED = "skipped"


class SyncStatus(StrEnum):
    """The deal's `aws_sync_status` property (a HubSpot enumeration the bootstrap creates)."""

    SYNCED = "synced"
    PENDING = "pending"
    BLOCKED = "blocked"
    INVALID = "invalid"
    FAILED = "failed"


class SubmissionStatus(StrEnum):
    """How one submission run ended for its deal (the submission row's `status`)."""

    SUBMITTED = "submitted"
    PENDING = "pending"  # the task was started and is still running at AWS
    ALREADY_SUBMITTED = "already_submitted"
    INVALID = "invalid"
    NOT_LINKED = "not_linked"
    NOT_FOUND = "not_found"
    FAILED = "failed"


class SubmitRequestStatus(StrEnum):
    """What `GET /submit-opportunity/{requestId}` answers a caller."""

    QUEUED = "queued"
    RUNNING = "running"
    SUBMITTED = "submitted"
    ALREADY_SUBMITTED = "already_submitted"
    VALIDATION_FAILED = "validation_failed"
    FAILED = "failed"  # AWS refused or the task failed: the answer carries the reason


# A submission run's outcome as the caller's answer; PENDING stays `running` (the task runs at AWS).
REQUEST_STATUS_OF: Final[dict[SubmissionStatus, SubmitRequestStatus]] = {
    SubmissionStatus.SUBMITTED: SubmitRequestStatus.SUBMITTED,
    SubmissionStatus.PENDING: SubmitRequestStatus.RUNNING,
    SubmissionStatus.ALREADY_SUBMITTED: SubmitRequestStatus.ALREADY_SUBMITTED,
    SubmissionStatus.INVALID: SubmitRequestStatus.VALIDATION_FAILED,
    SubmissionStatus.NOT_LINKED: SubmitRequestStatus.VALIDATION_FAILED,
    SubmissionStatus.NOT_FOUND: SubmitRequestStatus.VALIDATION_FAILED,
    SubmissionStatus.FAILED: SubmitRequestStatus.FAILED,
}


class DealEvent(StrEnum):
    """HubSpot webhook `subscriptionType`s of deals: the ones the webhook parser knows, and each
    can change what the reconcile must do for its deal."""

    CREATION = "deal.creation"
    PROPERTY_CHANGE = "deal.propertyChange"
    DELETION = "deal.deletion"
    ASSOCIATION_CHANGE = "deal.associationChange"
    RESTORE = "deal.restore"
    MERGE = "deal.merge"


class DetailType(StrEnum):
    """Partner Central's EventBridge `detail-type`s (source `aws.partnercentral-selling`)."""

    OPPORTUNITY_CREATED = "Opportunity Created"
    OPPORTUNITY_UPDATED = "Opportunity Updated"
    OPPORTUNITY_ACCEPTED = "Opportunity Accepted"
    OPPORTUNITY_REJECTED = "Opportunity Rejected"
    INVITATION_CREATED = "Engagement Invitation Created"
    INVITATION_ACCEPTED = "Engagement Invitation Accepted"
    INVITATION_REJECTED = "Engagement Invitation Rejected"
    INVITATION_EXPIRED = "Engagement Invitation Expired"
    MEMBER_JOINED = "Engagement Member Joined"
    MEMBER_ADDED = "Engagement Member Added"
    SNAPSHOT_CREATED = "Resource Snapshot Created"
    ENGAGEMENT_SNAPSHOT_CREATED = "Engagement Resource Snapshot Created"


# -- the title freeze ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TitleFrozen:
    """A title change not applied because ACE freezes Project.Title once submitted.

    `str()` is the warning text kept in plans and stored settled pairs (unchanged since it was a
    bare string starting with `CODE`)."""

    CODE: ClassVar[str] = "title_frozen"
    wanted: object
    kept: object
    review_status: object

    def __str__(self) -> str:
        return (
            f"{self.CODE}: title {str(self.wanted)[:255]!r} not applied: the opportunity was submitted "
            f"(review status {self.review_status}); Partner Central keeps {str(self.kept)[:255]!r}"
        )


def title_freeze(review_status: object, current_title: object, wanted_title: object) -> TitleFrozen | None:
    """The warning when `wanted_title` may not replace `current_title` (ACE: Project.Title is frozen
    once the opportunity was submitted), else None: the title may be sent as wanted."""
    if review_status in EDITABLE_REVIEW_STATUSES or wanted_title == current_title:
        return None
    return TitleFrozen(wanted_title, current_title, review_status)


# -- at the edges -------------------------------------------------------------------------------------


def plain_fields(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A `dataclasses.asdict` dict_factory that stores members as their plain strings, so frames and
    payloads built from rows hold `str` (what they held before the enums)."""
    return {key: value.value if isinstance(value, StrEnum) else value for key, value in pairs}
