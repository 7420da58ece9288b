"""Partner Central's business rules that are not expressible in the shapes.

From AWS's "Working with opportunity updates" and the LifeCycle.ReviewStatus reference: no updates
while `Submitted`/`In review` (Rejected is read-only too), `Project.Title` frozen once submitted,
review fields owned by AWS (except in the Sandbox catalog, where an update may set them to simulate
a review), at most 10 partner solutions per opportunity, and what a submission needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ApiError, business, field_error, validation

LOCKED_STATUSES = frozenset({"Submitted", "In review"})
READ_ONLY_STATUSES = LOCKED_STATUSES | {"Rejected"}
REVIEW_FIELDS = ("ReviewStatus", "ReviewComments", "ReviewStatusReason")
MAX_SOLUTIONS = 10
SANDBOX = "Sandbox"

# What StartEngagementFromOpportunityTask / SubmitOpportunity insist on (AWS's submission checklist).
SUBMISSION_FIELDS = (
    ("Customer", "Account", "CompanyName"),
    ("Customer", "Account", "Industry"),
    ("Customer", "Account", "WebsiteUrl"),
    ("Customer", "Account", "Address", "CountryCode"),
    ("LifeCycle", "Stage"),
    ("LifeCycle", "TargetCloseDate"),
    ("Project", "Title"),
    ("Project", "CustomerBusinessProblem"),
    ("Project", "DeliveryModels"),
    ("Project", "ExpectedCustomerSpend"),
    ("OpportunityType",),
)


def dig(record: Mapping[str, Any] | None, *path: str) -> Any:
    value: Any = record
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def review_status(record: Mapping[str, Any]) -> str | None:
    status = dig(record, "LifeCycle", "ReviewStatus")
    return str(status) if status is not None else None


def check_updatable(record: Mapping[str, Any]) -> None:
    status = review_status(record)
    if status in READ_ONLY_STATUSES:
        raise business(
            "LifeCycle.ReviewStatus",
            f"The opportunity cannot be updated while its review status is {status!r}",
            "INVALID_RESOURCE_STATE",
        )


def check_title(record: Mapping[str, Any], new_title: str | None) -> None:
    old = dig(record, "Project", "Title")
    if record.get("_submitted") and new_title != old:
        raise business(
            "Project.Title",
            "Project.Title cannot be changed after the opportunity has been submitted",
            "ACTION_NOT_PERMITTED",
        )


def requested_review(
    catalog: str, record: Mapping[str, Any], params: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The review fields an update asks to set, when that is a Sandbox review simulation; else None.

    In the AWS catalog the review fields are AWS's: sending the current values is fine (clients send
    the record back whole), sending another status is refused.
    """
    asked = dig(params, "LifeCycle", "ReviewStatus")
    if asked is None or asked == review_status(record):
        return None
    if catalog != SANDBOX:
        raise business(
            "LifeCycle.ReviewStatus",
            "LifeCycle.ReviewStatus is set by AWS; it can only be changed in the Sandbox catalog",
            "ACTION_NOT_PERMITTED",
        )
    lifecycle = params.get("LifeCycle") or {}
    return {k: lifecycle.get(k) for k in REVIEW_FIELDS}


def check_solution_quota(solutions: list[str]) -> None:
    if len(solutions) >= MAX_SOLUTIONS:
        raise ApiError(
            "ServiceQuotaExceededException",
            f"An opportunity can have at most {MAX_SOLUTIONS} solutions associated",
        )


def submission_problems(record: Mapping[str, Any]) -> list[dict[str, str]]:
    problems = []
    for path in SUBMISSION_FIELDS:
        if dig(record, *path) in (None, "", []):
            name = ".".join(path)
            problems.append(field_error(name, f"{name} is required for submission", "REQUIRED_FIELD_MISSING"))
    if not dig(record, "RelatedEntityIdentifiers", "Solutions"):
        problems.append(
            field_error(
                "RelatedEntityIdentifiers.Solutions",
                "Associate at least one solution before submitting",
                "REQUIRED_FIELD_MISSING",
            )
        )
    return problems


def check_submittable(record: Mapping[str, Any]) -> None:
    if record.get("_submitted"):
        raise business(
            "LifeCycle.ReviewStatus", "The opportunity has already been submitted", "INVALID_RESOURCE_STATE"
        )
    problems = submission_problems(record)
    if problems:
        raise validation(
            "The opportunity is not ready for submission", problems, "BUSINESS_VALIDATION_FAILED"
        )
