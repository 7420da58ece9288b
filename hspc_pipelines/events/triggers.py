"""From one queue message to the triggers it carries (or a reason it cannot be used)."""

from __future__ import annotations

import datetime as dt

from hspc_pipelines.cosell.submission.request import SUBMIT_PROPERTY, hubspot_user_actor
from hspc_pipelines.events.coalesce import INVITATIONS, RECONCILE, SUBMIT, Trigger
from hspc_pipelines.mapping.vocabulary import DealEvent
from hspc_pipelines.partner_central.events import INVITATION, OPPORTUNITY
from hspc_pipelines.queue.envelope import (
    HUBSPOT_WEBHOOK,
    PARTNER_CENTRAL_EVENT,
    SUBMIT_REQUEST,
    MessageFormatError,
    decode_message,
)
from hspc_pipelines.queue.receive import ReceivedMessage
from hspc_pipelines.settings import load_settings

# Deal events that can change what the reconcile must do for that deal: every one there is.
DEAL_EVENTS = frozenset(DealEvent)


class UnusableMessage(ValueError):
    """The message cannot be parsed; it stays on the queue until SQS moves it to the DLQ."""


def triggers_for(message: ReceivedMessage, catalog: str | None = None) -> list[Trigger]:
    """Triggers in a message; an empty list means nothing to do (an event type hspc ignores)."""
    try:
        decoded = decode_message(message.body)
    except MessageFormatError as exc:
        raise UnusableMessage(str(exc)) from None
    mid = message.message_id
    if decoded.kind == HUBSPOT_WEBHOOK:
        out = []
        for ev in decoded.hubspot_events:
            if ev.subscription_type not in DEAL_EVENTS:
                continue
            key = f"hubspot:{ev.event_id}"
            for deal_id in (ev.object_id, *ev.merged_object_ids):
                out.append(Trigger(RECONCILE, f"{key}:{deal_id}", mid, deal_id=deal_id))
            if ev.property_name == SUBMIT_PROPERTY and (ev.property_value or "").lower() == "true":
                when = dt.datetime.fromtimestamp(ev.occurred_at_ms / 1000, dt.UTC).isoformat()
                out.append(
                    Trigger(
                        SUBMIT,
                        f"{key}:submit",
                        mid,
                        deal_id=ev.object_id,
                        requested_by=hubspot_user_actor(ev.source_id),
                        requested_at=when,
                    )
                )
        return out
    if decoded.kind == SUBMIT_REQUEST and decoded.submit_request is not None:
        req = decoded.submit_request
        return [
            Trigger(
                SUBMIT,
                f"submit:{decoded.message_id}",
                mid,
                deal_id=req.deal_id,
                involvement_type=req.involvement_type,
                visibility=req.visibility,
                requested_by=decoded.requested_by,
                requested_at=decoded.received_at,
                request_id=decoded.message_id,  # the envelope id the ingress answered as requestId
            )
        ]
    if decoded.kind == PARTNER_CENTRAL_EVENT and decoded.partner_central_event is not None:
        pc = decoded.partner_central_event
        wanted = catalog or load_settings().partner_central_catalog
        if pc.catalog and pc.catalog != wanted:
            return []  # the other catalog's events are not ours
        key = f"aws:{pc.event_id}"
        if pc.kind == OPPORTUNITY and pc.opportunity_id:
            return [
                Trigger(
                    RECONCILE,
                    key,
                    mid,
                    opportunity_id=pc.opportunity_id,
                    detail_type=pc.detail_type,
                    event_time=pc.time,
                )
            ]
        if pc.kind == INVITATION:
            return [Trigger(INVITATIONS, key, mid, invitation_id=pc.invitation_id)]
        return []  # engagement and snapshot events: the hourly AWS-summaries run reads them
    raise UnusableMessage(f"message kind {decoded.kind!r} carries no payload")
