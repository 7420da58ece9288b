"""What an opportunity needs before it can be submitted to AWS (StartEngagementFromOpportunityTask).

Creating needs little; ACE's review needs the customer identified (name, industry, website,
country, and for US customers state and postal code), the project described (title, problem
statement, delivery models, use case, monthly spend), a future close date and, for co-sell, what
is needed from AWS. Every problem is returned at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hspc_pipelines.mapping import choices, geo, model
from hspc_pipelines.mapping.errors import FieldError
from hspc_pipelines.mapping.text_fields import PROBLEM_MAX, PROBLEM_MIN
from hspc_pipelines.mapping.values import dig, parse_decimal, to_date
from hspc_pipelines.mapping.vocabulary import (
    CLOSED_STAGES,
    DEFAULT_INVOLVEMENT_TYPE,
    DEFAULT_VISIBILITY,
    INVOLVEMENT_TYPES,
    STAGES,
    UNSUBMITTABLE_REVIEW_STATUSES,
    VISIBILITIES,
    SubmissionStatus,
)

# The model documents ExpectedCustomerSpend.CurrencyCode as "Accepted values are USD and EUR".
SUBMISSION_CURRENCIES = ("USD", "EUR")
_ACCOUNT = ("Customer", "Account")


def _missing(field: str, value: Any, allowed: str, errors: list[FieldError]) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()) or value == []:
        errors.append(FieldError(field, value, "required for submission to AWS", allowed))
        return True
    return False


def validate_for_submission(opportunity: Mapping[str, Any], today: dt.date | None = None) -> list[FieldError]:
    try:
        return _validate(opportunity, today or dt.datetime.now(dt.UTC).date())
    except Exception as exc:  # the contract: problems are returned, never raised
        return [
            FieldError("<opportunity>", None, f"cannot be checked: {type(exc).__name__}", "an opportunity")
        ]


def _validate(opp: Mapping[str, Any], today: dt.date) -> list[FieldError]:
    errors: list[FieldError] = []
    if not isinstance(opp, Mapping):
        return [
            FieldError("opportunity", opp, "not an opportunity record", "the dict GetOpportunity returns")
        ]
    _customer_identified(opp, errors)
    _project_described(opp, errors)
    _spend(opp, errors)
    _closes_in_future(opp, today, errors)
    _stage_open(opp, errors)
    _missing("PrimaryNeedsFromAws", opp.get("PrimaryNeedsFromAws"), list_of(model.PRIMARY_NEEDS), errors)
    _missing("Origin", opp.get("Origin"), list_of(model.ORIGINS), errors)
    _missing("OpportunityType", opp.get("OpportunityType"), list_of(model.OPPORTUNITY_TYPES), errors)
    _not_yet_submitted(opp, errors)
    return errors


def _customer_identified(opp: Mapping[str, Any], errors: list[FieldError]) -> None:
    """Name, industry (and its description when Other), website unless national security, address."""
    _missing(
        "Customer.Account.CompanyName", dig(opp, *_ACCOUNT, "CompanyName"), "the customer's name", errors
    )
    industry = dig(opp, *_ACCOUNT, "Industry")
    if (
        not _missing("Customer.Account.Industry", industry, "one of the 28 industries", errors)
        and industry == "Other"
    ):
        _missing(
            "Customer.Account.OtherIndustry",
            dig(opp, *_ACCOUNT, "OtherIndustry"),
            "a description of the industry when Industry is Other",
            errors,
        )
    if opp.get("NationalSecurity") != "Yes":
        _missing(
            "Customer.Account.WebsiteUrl", dig(opp, *_ACCOUNT, "WebsiteUrl"), "the customer's website", errors
        )
    _customer_located(opp, errors)


def _customer_located(opp: Mapping[str, Any], errors: list[FieldError]) -> None:
    """The country, and for US customers a ZIP code and a US state name."""
    country = dig(opp, *_ACCOUNT, "Address", "CountryCode")
    if (
        not _missing("Customer.Account.Address.CountryCode", country, "ISO 3166-1 alpha-2 code", errors)
        and country == "US"
    ):
        _missing(
            "Customer.Account.Address.PostalCode",
            dig(opp, *_ACCOUNT, "Address", "PostalCode"),
            "a ZIP code (required for US customers)",
            errors,
        )
        state = dig(opp, *_ACCOUNT, "Address", "StateOrRegion")
        if (
            not _missing("Customer.Account.Address.StateOrRegion", state, "a US state name", errors)
            and state not in geo.US_STATES
        ):
            errors.append(
                FieldError(
                    "Customer.Account.Address.StateOrRegion",
                    state,
                    "not a US state name",
                    list(geo.US_STATES),
                )
            )


def _project_described(opp: Mapping[str, Any], errors: list[FieldError]) -> None:
    """Title, problem statement of the right length, delivery models, a documented use case."""
    _missing("Project.Title", dig(opp, "Project", "Title"), "1 to 255 characters", errors)
    problem = dig(opp, "Project", "CustomerBusinessProblem")
    if not _missing(
        "Project.CustomerBusinessProblem", problem, f"{PROBLEM_MIN} to {PROBLEM_MAX} characters", errors
    ) and not (PROBLEM_MIN <= len(str(problem).strip()) <= PROBLEM_MAX):
        errors.append(
            FieldError(
                "Project.CustomerBusinessProblem",
                problem,
                "wrong length",
                f"{PROBLEM_MIN} to {PROBLEM_MAX} characters",
            )
        )
    _missing(
        "Project.DeliveryModels",
        dig(opp, "Project", "DeliveryModels"),
        list_of(model.DELIVERY_MODELS),
        errors,
    )
    use_case = dig(opp, "Project", "CustomerUseCase")
    if (
        not _missing("Project.CustomerUseCase", use_case, "one of the documented use cases", errors)
        and use_case not in choices.USE_CASES
    ):
        errors.append(
            FieldError(
                "Project.CustomerUseCase", use_case, "not a documented use case", list(choices.USE_CASES)
            )
        )


def _closes_in_future(opp: Mapping[str, Any], today: dt.date, errors: list[FieldError]) -> None:
    close = dig(opp, "LifeCycle", "TargetCloseDate")
    if not _missing("LifeCycle.TargetCloseDate", close, "a date in the future", errors):
        day = to_date(close)
        if day is None or day <= today:
            errors.append(
                FieldError(
                    "LifeCycle.TargetCloseDate",
                    close,
                    "must be in the future",
                    f"a date after {today.isoformat()}",
                )
            )


def _stage_open(opp: Mapping[str, Any], errors: list[FieldError]) -> None:
    stage = dig(opp, "LifeCycle", "Stage")
    # (isinstance first: a malformed record's unhashable value is simply not a closed stage)
    if (
        not _missing("LifeCycle.Stage", stage, list_of(model.STAGES), errors)
        and isinstance(stage, str)
        and stage in CLOSED_STAGES
    ):
        errors.append(
            FieldError(
                "LifeCycle.Stage",
                stage,
                "a closed opportunity cannot be submitted",
                ", ".join(s for s in STAGES if s not in CLOSED_STAGES),
            )
        )


def _not_yet_submitted(opp: Mapping[str, Any], errors: list[FieldError]) -> None:
    status = dig(opp, "LifeCycle", "ReviewStatus")
    if isinstance(status, str) and status in UNSUBMITTABLE_REVIEW_STATUSES:
        errors.append(
            FieldError(
                "LifeCycle.ReviewStatus",
                status,
                "already submitted or closed by AWS",
                "Pending Submission, Action Required or Approved",
            )
        )


def _spend(opp: Mapping[str, Any], errors: list[FieldError]) -> None:
    spend = dig(opp, "Project", "ExpectedCustomerSpend")
    if _missing("Project.ExpectedCustomerSpend", spend, "a monthly amount", errors):
        return
    for i, entry in enumerate(spend if isinstance(spend, list | tuple) else []):
        if not isinstance(entry, Mapping):
            continue
        amount = parse_decimal(str(entry.get("Amount") or "").strip())
        if amount is None or amount <= 0:
            errors.append(
                FieldError(
                    f"Project.ExpectedCustomerSpend[{i}].Amount",
                    entry.get("Amount"),
                    "expected monthly spend must be more than zero",
                    "a positive amount",
                )
            )
        if entry.get("CurrencyCode") not in SUBMISSION_CURRENCIES:
            errors.append(
                FieldError(
                    f"Project.ExpectedCustomerSpend[{i}].CurrencyCode",
                    entry.get("CurrencyCode"),
                    "currency not accepted for submission",
                    list(SUBMISSION_CURRENCIES),
                )
            )


def list_of(values: tuple[str, ...]) -> str:
    return ", ".join(values)


@dataclass(frozen=True)
class SubmitChoices:
    """The involvement type and visibility a submission uses, or the problems with the deal's own."""

    involvement_type: str
    visibility: str
    problems: tuple[FieldError, ...] = ()


def submit_choices(
    requested_involvement: str | None, requested_visibility: str | None, deal: Mapping[str, Any]
) -> SubmitChoices:
    """A caller's explicit choice wins; else the deal's `aws_involvement_type` / `aws_visibility` when
    set (checked against botocore's enums: a bad value is a problem naming the property, never
    silently replaced by the default); else the product's defaults."""
    problems: list[FieldError] = []

    def choose(requested: str | None, prop: str, allowed: tuple[str, ...], default: str) -> str:
        if requested:
            return requested
        raw = deal.get(prop)
        value = raw.strip() if isinstance(raw, str) else raw
        if value is None or value == "":
            return default
        if value not in allowed:
            problems.append(FieldError(prop, raw, "not a value Partner Central accepts", " | ".join(allowed)))
            return default
        return str(value)

    involvement = choose(
        requested_involvement, "aws_involvement_type", INVOLVEMENT_TYPES, DEFAULT_INVOLVEMENT_TYPE
    )
    visibility = choose(requested_visibility, "aws_visibility", VISIBILITIES, DEFAULT_VISIBILITY)
    return SubmitChoices(involvement, visibility, tuple(problems))


def problems_by_field(
    status: SubmissionStatus, problems: Sequence[str], message: str
) -> list[tuple[str, str]]:
    """A refused submission's problems as (field, problem) pairs, for the caller's answer.

    Problems are `FieldError` texts (`field: what is wrong (value: …; allowed: …)`); a deal that is
    missing or not linked has none of its own, so the field is the one that caused it."""
    if status == SubmissionStatus.NOT_FOUND:
        return [("dealId", message)]
    if status == SubmissionStatus.NOT_LINKED:
        return [("aws_opportunity_id", message)]
    pairs = []
    for text in problems:
        field, sep, rest = text.partition(": ")
        pairs.append((field, rest) if sep and field and " " not in field else ("deal", text))
    return pairs
