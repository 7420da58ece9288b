"""One evaluation of the journal sensor, without Dagster: read the entries after the cursor, turn
their events into the events path's run intents, say where the cursor goes next.

The cursor returned is only stored by the sensor together with the run requests (Dagster keeps the
two in one tick), so a crash before that reads the same entries again and yields the same run keys:
at-least-once, and Dagster starts a run key once. An offset the journal no longer holds (older than
its three days) cannot be caught up from the journal: the result says so (`expired`) and the
cursor moves to the newest entry; the caller starts a sweep for the gap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hspc_pipelines.events.coalesce import RunIntent, coalesce
from hspc_pipelines.events.journal import (
    START_EARLIEST,
    JournalCursor,
    parse_entry,
    published_at,
    triggers_for,
)
from hspc_pipelines.hubspot.client import HubSpotClient, JournalEntry
from hspc_pipelines.hubspot.errors import JournalOffsetExpired

log = logging.getLogger(__name__)
MAX_ENTRIES_PER_TICK = 500  # each entry costs two calls (next, its file); the rest waits a tick
TRIGGER_TAG = "hspc/trigger"


@dataclass(frozen=True)
class Expired:
    """The cursor's offset left the journal: what was last read and why a sweep replaces it."""

    offset: str
    last_at: str | None
    reason: str


@dataclass
class JournalTickResult:
    intents: list[RunIntent]
    cursor: JournalCursor
    entries: int = 0  # entries read this tick
    events: int = 0  # journal events in them
    deals: list[str] = field(default_factory=list)
    expired: Expired | None = None
    caught_up: bool = True  # False when the tick stopped at its entry or time budget


def run_journal_tick(
    client: HubSpotClient,
    cursor: JournalCursor,
    *,
    portal_id: int | None = None,
    max_entries: int = MAX_ENTRIES_PER_TICK,
    budget_seconds: float = 20.0,
    clock: Callable[[], float] = time.monotonic,
) -> JournalTickResult:
    started = clock()
    entries: list[JournalEntry] = []
    offset = cursor.offset
    if offset is None:
        first = (
            client.journal_earliest(portal_id)
            if cursor.start == START_EARLIEST
            else client.journal_latest(portal_id)
        )
        if first is None:  # empty: whatever is written from now on is new, so start at the oldest
            return JournalTickResult([], JournalCursor(start=START_EARLIEST))
        entries.append(first)
        offset = first.offset
    caught_up = False
    while len(entries) < max_entries and clock() - started < budget_seconds:
        try:
            following = client.journal_next(offset, portal_id)
        except JournalOffsetExpired:
            if entries:  # read this tick, gone already: the next tick finds it expired
                break
            return _expired(client, cursor, portal_id)
        if following is None:
            caught_up = True
            break
        entries.append(following)
        offset = following.offset
    events, last_at = [], cursor.at
    for entry in entries:
        data = client.journal_file(entry)
        events += parse_entry(entry.offset, data)
        last_at = published_at(data) or last_at
    triggers = triggers_for(events, None if portal_id is None else str(portal_id))
    intents = [i for i in coalesce(triggers) if i.job]
    for intent in intents:
        intent.tags[TRIGGER_TAG] = "journal"
    deals = sorted({t.deal_id for t in triggers if t.deal_id})
    return JournalTickResult(
        intents, JournalCursor(offset, last_at), len(entries), len(events), deals, None, caught_up
    )


def _expired(client: HubSpotClient, cursor: JournalCursor, portal_id: int | None) -> JournalTickResult:
    assert cursor.offset is not None
    reason = (
        f"journal offset {cursor.offset} (last entry published {cursor.at or 'at an unknown time'}) "
        "is older than the webhooks journal keeps (three days): changes after it may be lost from "
        "the journal, so a sweep reconciles from that day on"
    )
    log.warning(reason)
    newest = client.journal_latest(portal_id)
    # The sweep reads every deal as it is when it runs, so it covers everything up to the newest entry.
    if newest is None:
        after = JournalCursor(start=START_EARLIEST)
    else:
        after = JournalCursor(newest.offset, published_at(client.journal_file(newest)))
    return JournalTickResult([], after, expired=Expired(cursor.offset, cursor.at, reason))
