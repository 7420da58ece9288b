"""Decisions of the co-sell flows that need no I/O: invitation progress, submission checks, tokens, backoff.

Invitation progress lives in the state store (`hspc_invitation_state.status`), one row per invitation:

    (none) --decide--> accepting --task COMPLETE--> accepted --deal written--> deal_created
           \\-------> rejecting --RejectEngagementInvitation--> rejected
    accepting --task FAILED--> failed          (invitation not pending: skipped)

Every step is safe to repeat: ClientTokens are deterministic, the deal is looked up before it is
created, and a row only moves forward after the step's effect is durable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from hspc_pipelines.mapping.vocabulary import INVOLVEMENT_TYPES, VISIBILITIES, ReviewStatus

# Invitation row statuses.
ACCEPTING, ACCEPTED, DEAL_CREATED = "accepting", "accepted", "deal_created"
REJECTING, REJECTED, FAILED, SKIPPED = "rejecting", "rejected", "failed", "skipped"
TERMINAL = frozenset({DEAL_CREATED, REJECTED})

# What a run does next for one invitation.
DONE, DECIDE, POLL, CREATE_DEAL, REJECT, ADOPT, SKIP, RETRY = (
    "done",
    "decide",
    "poll",
    "create_deal",
    "reject",
    "adopt",
    "skip",
    "retry",
)

TRANSIENT_TASK_REASONS = frozenset({"InternalError", "RequestThrottled", "ServiceQuotaExceeded"})


def next_invitation_step(row_status: str | None, invitation_status: str | None) -> str:
    """The step for an invitation given its stored progress and its status in Partner Central."""
    if row_status in TERMINAL:
        return DONE
    if row_status == ACCEPTED:
        return CREATE_DEAL
    if row_status == ACCEPTING:
        return POLL
    if row_status == REJECTING:
        return REJECT if invitation_status in (None, "PENDING") else DONE
    if row_status == FAILED:
        return RETRY if invitation_status == "PENDING" else DONE
    if invitation_status == "PENDING":
        return DECIDE
    if invitation_status == "ACCEPTED":
        return ADOPT  # accepted elsewhere (UI, another run that lost its row): find the opportunity
    return SKIP


MAX_ACCEPT_ATTEMPTS = 3


def may_retry_accept(reason_code: str | None, attempt: int) -> bool:
    """A failed accept task is tried again with a new token: transient reasons a few times, others once."""
    limit = MAX_ACCEPT_ATTEMPTS if reason_code in TRANSIENT_TASK_REASONS else 1
    return attempt < limit


def invitation_id_of(value: str) -> str:
    """'arn:aws:partnercentral:…:engagement-invitation/engi-…' or 'engi-…' -> 'engi-…' (one state row each)."""
    text = value.strip()
    return text.rsplit("/", 1)[-1] if text.startswith("arn:") else text


def accept_client_token(catalog: str, invitation_id: str, attempt: int = 0) -> str:
    """Same invitation, same token: a repeated StartEngagementByAcceptingInvitationTask is one task."""
    suffix = f"-{attempt}" if attempt else ""
    return f"hspc-accept-{catalog}-{invitation_id}{suffix}"


def submit_client_token(catalog: str, opportunity_id: str, involvement_type: str, visibility: str) -> str:
    """Same opportunity and choices, same token (a token reused with another body is refused)."""
    digest = hashlib.sha256(f"{involvement_type}|{visibility}".encode()).hexdigest()[:10]
    return f"hspc-submit-{catalog}-{opportunity_id}-{digest}"


def backoff_delays(
    budget_s: float, first_s: float = 0.5, factor: float = 2.0, cap_s: float = 8.0
) -> Iterator[float]:
    """Waits between polls whose sum stays within the budget (the last wait is trimmed to fit)."""
    spent, delay = 0.0, max(first_s, 0.0)
    while spent < budget_s and delay > 0:
        wait = min(delay, cap_s, budget_s - spent)
        if wait <= 0:
            return
        yield wait
        spent += wait
        delay *= factor


def submission_request_errors(involvement_type: str | None, visibility: str | None) -> list[str]:
    """Errors in the run's own choices, each naming the field, the value and what is allowed (None:
    no choice made, the deal's or the default applies)."""
    errors = []
    if involvement_type is not None and involvement_type not in INVOLVEMENT_TYPES:
        errors.append(
            f"involvement_type = {involvement_type!r} is not valid; allowed: " + " | ".join(INVOLVEMENT_TYPES)
        )
    if visibility is not None and visibility not in VISIBILITIES:
        errors.append(f"visibility = {visibility!r} is not valid; allowed: " + " | ".join(VISIBILITIES))
    return errors


def review_status(opportunity: Mapping[str, Any]) -> str:
    return str(
        (opportunity.get("LifeCycle") or {}).get("ReviewStatus") or ReviewStatus.PENDING_SUBMISSION.value
    )


def already_submitted(opportunity: Mapping[str, Any]) -> bool:
    return review_status(opportunity) != ReviewStatus.PENDING_SUBMISSION


def deal_name_with_tag(name: str | None, tag: str = "#AWS") -> str:
    """The deal name carrying the co-sell tag exactly once."""
    text = (name or "").strip()
    return text if tag.casefold() in text.casefold() else f"{text} {tag}".strip()


def email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


def website_domain(url: str | None) -> str | None:
    """'https://www.Example.com/path' -> 'example.com'."""
    if not url:
        return None
    text = url.strip().lower()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    host = text.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]
    if host.startswith("www."):
        host = host[4:]
    return host or None
