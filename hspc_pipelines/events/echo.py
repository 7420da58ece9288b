"""Partner Central events that tell the product nothing it does not already hold.

Our own writes come back as events: each CreateOpportunity as "Opportunity Created", each update or
association as "Opportunity Updated". A run for them plans nothing, yet it takes the write slot that
a real change may be waiting for. An event is dropped only when the state store's record provably
contains the change it reports:
- "Opportunity Created" for an opportunity the store holds: its creation is known (later changes
  come as "Opportunity Updated" events of their own);
- "Opportunity Updated" whose time (EventBridge gives whole seconds) is before the second of the
  stored record's LastModifiedDate: the change happened before the record was last modified, so the
  record includes it. In the same second nothing can be told apart, and the event starts its run.
Every other event, or one without a time, is kept. Pure: triggers and stored stamps in, event ids out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from hspc_pipelines.events.coalesce import RECONCILE, Trigger
from hspc_pipelines.mapping.vocabulary import DetailType

CREATED, UPDATED = DetailType.OPPORTUNITY_CREATED, DetailType.OPPORTUNITY_UPDATED


def opportunity_ids(triggers: Iterable[Trigger]) -> list[str]:
    """The opportunities whose stored stamp `known_events` needs."""
    wanted = (
        t.opportunity_id for t in triggers if t.kind == RECONCILE and t.detail_type in (CREATED, UPDATED)
    )
    return sorted({i for i in wanted if i})


def known_events(triggers: Iterable[Trigger], stored: Mapping[str, dt.datetime]) -> set[str]:
    """Event ids whose change the stored records (opportunity id -> LastModifiedDate) already hold."""
    known = set()
    for t in triggers:
        if t.kind != RECONCILE or not t.opportunity_id or t.opportunity_id not in stored:
            continue
        if t.detail_type == CREATED:
            known.add(t.event_id)
        elif t.detail_type == UPDATED and t.event_time is not None:
            record_second = stored[t.opportunity_id].replace(microsecond=0)
            if t.event_time.replace(microsecond=0) < record_second:
                known.add(t.event_id)
    return known
