"""Coalesce one tick's events into a few targeted runs, keyed so that redelivery starts nothing new.

Pure: triggers in, run intents out. All deal and opportunity changes of a tick become one `sync_deals`
run scoped to their ids (never a partition of the reconcile assets, see docs/architecture.md); invitation events one invitation run; each submit request its own run. A run's key
is a digest of the event ids it covers, so the same webhook delivered three times yields one run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

RECONCILE, INVITATIONS, SUBMIT = "reconcile", "sync_invitations", "submit_opportunity"  # trigger kinds
SYNC_DEALS = "sync_deals"  # the job a RECONCILE trigger starts (defs/reconcile/scoped.py)
SCOPE_OP = "scoped_snapshot"  # the op of that job whose config names the ids


@dataclass(frozen=True)
class Trigger:
    """One event, reduced to what decides the run it needs."""

    kind: str  # RECONCILE, INVITATIONS or SUBMIT
    event_id: str
    message_id: str
    deal_id: str | None = None
    opportunity_id: str | None = None
    invitation_id: str | None = None
    involvement_type: str | None = None
    visibility: str | None = None
    detail_type: str | None = None  # Partner Central events: what happened (`events/echo.py`)
    request_id: str | None = None  # a submit request from the ingress: its id, for the caller's answer
    event_time: dt.datetime | None = None
    requested_by: str | None = None  # submit requests: who asked (the sync history's actor) ...
    requested_at: str | None = None  # ... and when (ISO 8601)


@dataclass
class RunIntent:
    job: str
    run_key: str
    run_config: dict[str, Any]
    tags: dict[str, str]
    event_ids: list[str]
    message_ids: set[str] = field(default_factory=set)


def run_key(job: str, event_ids: Iterable[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(set(event_ids))).encode()).hexdigest()[:24]
    return f"{job}:{digest}"


def scope_config(deal_ids: Sequence[str], opportunity_ids: Sequence[str]) -> dict[str, Any]:
    """The run config of a `sync_deals` run (events and `hspc sync` alike)."""
    scope = {"deal_ids": list(deal_ids), "opportunity_ids": list(opportunity_ids)}
    return {"ops": {SCOPE_OP: {"config": scope}}}


def coalesce(triggers: Iterable[Trigger], already_seen: Collection[str] = ()) -> list[RunIntent]:
    """Run intents for the triggers whose event ids were not seen before.

    Triggers whose event was already covered still report their message id on a run intent with no
    new work (job ""), so the caller can delete them instead of leaving them to the DLQ, unless the
    same message also carries an event a run intent covers (then it is in that intent's message ids)."""
    fresh, duplicate_messages = _fresh_triggers(triggers, already_seen)
    intents: list[RunIntent] = []
    reconcile = [t for t in fresh if t.kind == RECONCILE]
    if reconcile:
        intents.append(_reconcile_intent(reconcile))
    invitations = [t for t in fresh if t.kind == INVITATIONS]
    if invitations:
        intents.append(_invitations_intent(invitations))
    for t in fresh:
        if t.kind == SUBMIT and t.deal_id:
            intents.append(_submit_intent(t, t.deal_id))
    if duplicate_messages:
        intents.append(RunIntent("", "", {}, {}, [], duplicate_messages))
    return intents


def _fresh_triggers(
    triggers: Iterable[Trigger], already_seen: Collection[str]
) -> tuple[list[Trigger], set[str]]:
    """(the first trigger of each event not seen before, in order; the messages of the others)."""
    seen = set(already_seen)
    fresh: dict[str, Trigger] = {}
    duplicate_messages: set[str] = set()
    for t in triggers:
        if t.event_id in seen or t.event_id in fresh:
            duplicate_messages.add(t.message_id)
            continue
        fresh[t.event_id] = t
    return list(fresh.values()), duplicate_messages


def _reconcile_intent(reconcile: Sequence[Trigger]) -> RunIntent:
    """One `sync_deals` run scoped to every deal and opportunity the triggers name."""
    deals = sorted({t.deal_id for t in reconcile if t.deal_id})
    opps = sorted({t.opportunity_id for t in reconcile if t.opportunity_id})
    ids = [t.event_id for t in reconcile]
    return RunIntent(
        SYNC_DEALS,
        run_key(SYNC_DEALS, ids),
        scope_config(deals, opps),
        {"hspc/trigger": "events"},
        ids,
        {t.message_id for t in reconcile},
    )


def _invitations_intent(invitations: Sequence[Trigger]) -> RunIntent:
    """One invitation run for every invitation the triggers name."""
    ids = [t.event_id for t in invitations]
    invitation_ids = sorted({t.invitation_id for t in invitations if t.invitation_id})
    config: dict[str, Any] = {"ops": {"pending_invitations": {"config": {"invitation_ids": invitation_ids}}}}
    return RunIntent(
        INVITATIONS,
        run_key(INVITATIONS, ids),
        config,
        {"hspc/trigger": "events"},
        ids,
        {t.message_id for t in invitations},
    )


def _submit_intent(t: Trigger, deal_id: str) -> RunIntent:
    """A submission run of its own for one submit request: its choices, or none (a submit asked for on
    the deal: the run uses the deal's `aws_involvement_type` / `aws_visibility`, else the defaults)."""
    submission: dict[str, Any] = {
        "deal_id": deal_id,
        "involvement_type": t.involvement_type or "",
        "visibility": t.visibility or "",
        # Who asked, when known; otherwise the run reads the property's history.
        **({"requested_by": t.requested_by} if t.requested_by else {}),
        **({"requested_at": t.requested_at} if t.requested_by and t.requested_at else {}),
    }
    if t.request_id:
        submission["request_id"] = t.request_id
    config: dict[str, Any] = {"ops": {"submission": {"config": submission}}}
    return RunIntent(
        SUBMIT,
        run_key(SUBMIT, [t.event_id]),
        config,
        {"hspc/trigger": "events", "hspc/deal_id": deal_id},
        [t.event_id],
        {t.message_id},
    )
