"""AWS's view of an opportunity (GetAwsOpportunitySummary) turned into deal properties and notifications.

Pure. Deal properties come from the mapping (`opportunity_to_deal_properties`), completed here for
anything it leaves out; notifications are keyed notes (`hubspot.notes`) so each transition is told once:

- review status Approved / Action Required (with the reviewer's comments) / Rejected: state-based,
  the key names status and comments, so a note exists once per distinct review outcome;
- engagement score change, AWS seller assigned or changed, PDM/PSM assigned or changed: transitions
  from the value on the deal; the caller writes these notes *before* the properties, so a crash in
  between repeats the same transition (same key) and never loses or doubles the note;
- closed lost by AWS (the AWS-side stage is Closed Lost): once per opportunity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hspc_pipelines.hubspot.notes import (
    NoteSpec,
    aws_team_note,
    closed_lost_note,
    engagement_score_note,
    review_note,
    seller_note,
)
from hspc_pipelines.mapping.vocabulary import CLOSED_LOST, NOTIFIED_REVIEW_STATUSES

ENGAGEMENT_SCORES = ("High", "Medium", "Low")

# AwsTeamMember.BusinessTitle values, by the role a seller cares about.
SELLER_TITLES = ("AWSSalesRep", "AWSAccountOwner")
ROLE_TITLES: dict[str, tuple[str, ...]] = {
    "Seller": SELLER_TITLES,
    "PDM": ("PDM", "WWPSPDM"),
    "PSM": ("PSM", "ISVSM"),
}
SUMMARY_PROPERTIES = (
    "aws_engagement_score",
    "aws_next_steps",
    "aws_seller_name",
    "aws_team",
    "aws_involvement_type",
    "aws_visibility",
    "aws_review_status",
    "aws_review_comments",
)


@dataclass
class SummaryUpdate:
    deal_id: str
    opportunity_id: str
    properties: dict[str, str | None] = field(default_factory=dict)
    notes: list[NoteSpec] = field(default_factory=list)


def member_label(member: Mapping[str, Any]) -> str:
    name = " ".join(p for p in (member.get("FirstName"), member.get("LastName")) if p)
    email = member.get("Email")
    if name and email:
        return f"{name} <{email}>"
    return str(name or email or "")


def team_by_role(summary: Mapping[str, Any] | None) -> dict[str, str]:
    """Role (Seller, PDM, PSM) -> 'First Last <email>' of the first member with a matching BusinessTitle."""
    team: Sequence[Mapping[str, Any]] = (summary or {}).get("OpportunityTeam") or []
    out: dict[str, str] = {}
    for role, titles in ROLE_TITLES.items():
        for title in titles:  # titles in order of preference
            found = next((m for m in team if m.get("BusinessTitle") == title and member_label(m)), None)
            if found is not None:
                out[role] = member_label(found)
                break
    return out


def team_text(summary: Mapping[str, Any] | None) -> str | None:
    """Every AWS team member, one line each: 'BusinessTitle: First Last <email>'."""
    team: Sequence[Mapping[str, Any]] = (summary or {}).get("OpportunityTeam") or []
    lines = [f"{m.get('BusinessTitle') or 'Member'}: {member_label(m)}" for m in team if member_label(m)]
    return "\n".join(lines) or None


def summary_properties(
    opportunity: Mapping[str, Any], summary: Mapping[str, Any] | None
) -> dict[str, str | None]:
    """The summary-owned deal properties straight from the answers (used where the mapping gives none)."""
    s = summary or {}
    insights = s.get("Insights") or {}
    lifecycle = opportunity.get("LifeCycle") or {}
    score = insights.get("EngagementScore")
    return {
        "aws_engagement_score": score if score in ENGAGEMENT_SCORES else None,
        "aws_next_steps": insights.get("NextBestActions") or None,
        "aws_seller_name": team_by_role(s).get("Seller"),
        "aws_team": team_text(s),
        "aws_involvement_type": s.get("InvolvementType") or None,
        "aws_visibility": s.get("Visibility") or None,
        "aws_review_status": lifecycle.get("ReviewStatus") or None,
        "aws_review_comments": lifecycle.get("ReviewComments") or None,
    }


def _blank(value: Any) -> Any:
    return None if value in ("", None) else value


def _team_roles(text: str | None) -> dict[str, str]:
    """Role -> member from an `aws_team` text as written by team_text (for change detection)."""
    out: dict[str, str] = {}
    for line in (text or "").splitlines():
        title, _, member = line.partition(": ")
        for role, titles in ROLE_TITLES.items():
            if role != "Seller" and title in titles and role not in out:
                out[role] = member
    return out


def summary_update(
    deal_id: str,
    current: Mapping[str, str | None],
    opportunity: Mapping[str, Any],
    summary: Mapping[str, Any] | None,
    mapped: Mapping[str, str | None],
) -> SummaryUpdate:
    """Deal properties to write (only those that differ from `current`) and the notes to add.

    mapped: `opportunity_to_deal_properties(opportunity, summary, config, pipeline)`; its values win,
    the summary fills what it leaves out."""
    opp_id = str(opportunity.get("Id") or current.get("aws_opportunity_id") or "")
    wanted: dict[str, str | None] = dict(mapped)
    for key, value in summary_properties(opportunity, summary).items():
        if key not in wanted or (_blank(wanted[key]) is None and value is not None):
            wanted[key] = value
    if summary is None:  # summary unavailable: do not blank what it owns
        for key in (
            "aws_engagement_score",
            "aws_next_steps",
            "aws_seller_name",
            "aws_team",
            "aws_involvement_type",
            "aws_visibility",
        ):
            if _blank(wanted.get(key)) is None:
                wanted.pop(key, None)
    update = SummaryUpdate(deal_id=deal_id, opportunity_id=opp_id)
    update.properties = {k: v for k, v in wanted.items() if _blank(current.get(k)) != _blank(v)}

    lifecycle = opportunity.get("LifeCycle") or {}
    review = lifecycle.get("ReviewStatus") or ""
    if review in NOTIFIED_REVIEW_STATUSES:
        note = review_note(opp_id, review, lifecycle.get("ReviewComments"))
        if note is not None:
            update.notes.append(note)

    old_score, new_score = (
        _blank(current.get("aws_engagement_score")),
        _blank(wanted.get("aws_engagement_score")),
    )
    if new_score and new_score != old_score:
        update.notes.append(engagement_score_note(opp_id, old_score, str(new_score)))

    old_seller, new_seller = _blank(current.get("aws_seller_name")), _blank(wanted.get("aws_seller_name"))
    if new_seller and new_seller != old_seller:
        update.notes.append(seller_note(opp_id, str(new_seller)))

    if summary is not None:
        old_roles, new_roles = _team_roles(current.get("aws_team")), team_by_role(summary)
        for role in ("PDM", "PSM"):
            if new_roles.get(role) and new_roles.get(role) != old_roles.get(role):
                update.notes.append(aws_team_note(opp_id, role, new_roles[role]))
        aws_lifecycle = summary.get("LifeCycle") or {}
        if aws_lifecycle.get("Stage") == CLOSED_LOST:
            update.notes.append(closed_lost_note(opp_id, aws_lifecycle.get("ClosedLostReason")))
    return update


def describe_snapshot(snapshot: Mapping[str, Any]) -> str:
    """What AWS shared in a resource snapshot (GetResourceSnapshot), as note text."""
    payload = snapshot.get("Payload") or {}
    lines = [
        f"Template: {snapshot.get('ResourceSnapshotTemplateName') or '?'}; "
        f"resource {snapshot.get('ResourceType') or '?'} {snapshot.get('ResourceId') or ''}".rstrip()
    ]
    if snapshot.get("CreatedBy"):
        lines.append(f"Shared by account: {snapshot['CreatedBy']}")
    view = payload.get("OpportunitySummary")
    if isinstance(view, Mapping):
        life = view.get("Lifecycle") or {}
        for label, key in (
            ("Stage", "Stage"),
            ("Review status", "ReviewStatus"),
            ("Target close", "TargetCloseDate"),
            ("Next steps", "NextSteps"),
        ):
            if life.get(key):
                lines.append(f"{label}: {life[key]}")
        account = ((view.get("Customer") or {}).get("Account")) or {}
        if account.get("CompanyName"):
            lines.append(f"Customer: {account['CompanyName']}")
        team = [
            f"{m.get('BusinessTitle') or 'Member'}: {member_label(m)}"
            for m in view.get("OpportunityTeam") or []
            if member_label(m)
        ]
        if team:
            lines.append("Team: " + "; ".join(team))
        needs = view.get("PrimaryNeedsFromAws") or []
        if needs:
            lines.append("Primary needs: " + ", ".join(str(n) for n in needs))
        project = view.get("Project") or {}
        if project.get("CustomerUseCase"):
            lines.append(f"Use case: {project['CustomerUseCase']}")
        spend = [
            f"{s.get('Amount')} {s.get('CurrencyCode')}/{s.get('Frequency')}"
            for s in project.get("ExpectedCustomerSpend") or []
            if s.get("Amount")
        ]
        if spend:
            lines.append("Expected spend: " + ", ".join(spend))
        solutions = ((view.get("RelatedEntityIdentifiers") or {}).get("Solutions")) or []
        if solutions:
            lines.append("Solutions: " + ", ".join(str(s) for s in solutions))
    full = payload.get("AwsOpportunitySummaryFullView")
    if isinstance(full, Mapping):
        insights = full.get("Insights") or {}
        if insights.get("EngagementScore"):
            lines.append(f"Engagement score: {insights['EngagementScore']}")
        if insights.get("NextBestActions"):
            lines.append(f"Next best actions: {insights['NextBestActions']}")
        text = team_text(full)
        if text:
            lines.append("AWS team: " + text.replace("\n", "; "))
    return "\n".join(lines)
