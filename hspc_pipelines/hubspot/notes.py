"""Notes the product writes on deals, each with a key that makes it exactly-once.

The key is stored on the note (property `hspc_note_key`); the writer skips keys a deal already has, so
re-runs, crashes between steps and two flows noticing the same transition never write it twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class NoteSpec:
    key: str
    body: str


def _digest(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:12]


def review_note(opportunity_id: str, status: str, comments: str | None) -> NoteSpec | None:
    """A note for a review status a seller must hear about; None for statuses that need none."""
    headline = {
        "Submitted": "📤 Submitted to AWS Partner Central",
        "Approved": "✅ AWS approved the opportunity",
        "Action Required": "⚠️ AWS needs action on the opportunity",
        "Rejected": "❌ AWS rejected the opportunity",
    }.get(status)
    if headline is None:
        return None
    lines = [f"{headline} {opportunity_id}.", f"Review status: {status}"]
    if comments:
        lines.append(f"Reviewer comments: {comments}")
    return NoteSpec(key=f"review:{opportunity_id}:{status}:{_digest(comments)}", body="\n".join(lines))


def title_blocked_note(opportunity_id: str, current_title: str, wanted_title: str) -> NoteSpec:
    body = (
        "🔒 AWS Partner Central: title change blocked\n"
        f"Project.Title cannot change after submission. The opportunity {opportunity_id} keeps "
        f"'{current_title}'; the deal's new title '{wanted_title}' was not sent."
    )
    return NoteSpec(key=f"title-blocked:{opportunity_id}:{_digest(wanted_title)}", body=body)


def engagement_score_note(opportunity_id: str, old: str | None, new: str) -> NoteSpec:
    body = f"📈 AWS engagement score for {opportunity_id}: {old or 'none'} → {new}"
    return NoteSpec(key=f"score:{opportunity_id}:{old or ''}:{new}", body=body)


def seller_note(opportunity_id: str, seller: str) -> NoteSpec:
    body = f"🤝 AWS seller assigned to {opportunity_id}: {seller}"
    return NoteSpec(key=f"seller:{opportunity_id}:{_digest(seller)}", body=body)


def closed_lost_note(opportunity_id: str, reason: str | None) -> NoteSpec:
    body = f"🛑 AWS closed the opportunity {opportunity_id} as lost" + (f": {reason}" if reason else ".")
    return NoteSpec(key=f"closed-lost:{opportunity_id}", body=body)


def submission_note(opportunity_id: str, involvement: str, visibility: str) -> NoteSpec:
    body = (
        f"📤 Submitted to AWS Partner Central ({opportunity_id})\n"
        f"Involvement type: {involvement}\nVisibility: {visibility}"
    )
    return NoteSpec(key=f"review:{opportunity_id}:Submitted:{_digest(None)}", body=body)


def already_submitted_note(opportunity_id: str, review_status: str) -> NoteSpec:
    """A submit asked for on the deal found the opportunity already submitted (one note per status)."""
    body = (
        f"ℹ️ Not submitted again: the opportunity {opportunity_id} was already submitted to AWS "
        f"(review status {review_status}). The request (aws_submit_requested) was cleared."
    )
    return NoteSpec(key=f"already-submitted:{opportunity_id}:{review_status}", body=body)


def invalid_submission_note(deal_id: str, problems: list[str]) -> NoteSpec:
    body = "🚫 Not submitted to AWS: fix these first\n" + "\n".join(f"- {p}" for p in problems)
    return NoteSpec(key=f"submit-invalid:{deal_id}:{_digest(chr(10).join(problems))}", body=body)


def resource_snapshot_note(engagement_id: str, snapshot_id: str, revision: int, summary: str) -> NoteSpec:
    body = f"📚 AWS shared resources (engagement {engagement_id}, snapshot {snapshot_id} rev {revision})\n{summary}"
    return NoteSpec(key=f"snapshot:{engagement_id}:{snapshot_id}:{revision}", body=body)


# -- co-sell flows (invitations, submission, AWS summaries) -------------------------------------------


def invitation_accepted_note(
    invitation_id: str, opportunity_id: str, sender: str | None, message: str | None
) -> NoteSpec:
    lines = [
        f"📨 Created from AWS invitation {invitation_id} (opportunity {opportunity_id}), accepted by hspc."
    ]
    if sender:
        lines.append(f"Invited by: {sender}")
    if message:
        lines.append(f"Invitation message: {message}")
    return NoteSpec(key=f"invitation:{invitation_id}", body="\n".join(lines))


def not_linked_note(deal_id: str) -> NoteSpec:
    body = (
        "🚫 Not submitted to AWS: this deal is not linked to a Partner Central opportunity "
        "(aws_opportunity_id is empty). Let the sync create the opportunity first (deal name with #AWS), "
        "then request the submission again."
    )
    return NoteSpec(key=f"submit-unlinked:{deal_id}", body=body)


def submission_failed_note(opportunity_id: str, reason_code: str | None, message: str | None) -> NoteSpec:
    detail = ": ".join(p for p in (reason_code, message) if p) or "no reason given"
    body = f"❌ Submission of {opportunity_id} to AWS failed: {detail}"
    return NoteSpec(key=f"submit-failed:{opportunity_id}:{_digest(detail)}", body=body)


def aws_team_note(opportunity_id: str, role: str, member: str) -> NoteSpec:
    """An AWS team member in a given role (PDM, PSM …) assigned or changed."""
    body = f"🤝 AWS {role} on {opportunity_id}: {member}"
    return NoteSpec(key=f"team:{opportunity_id}:{role}:{_digest(member)}", body=body)
