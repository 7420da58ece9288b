"""One evaluation of the events sensor, without Dagster: receive, parse, coalesce, confirm, delete.

Messages are deleted only on a later tick, once Dagster holds the run that covers them (checked by run
key); a crash in between leaves them on the queue, where they come back and are recognised by their
event ids. A message carrying several events waits for every run that covers one of them: only a
message none of whose events waits for a run (all already held, repeated in another message of the
tick, or of types hspc ignores) is deleted at once. Messages that cannot be parsed are never deleted:
SQS moves them to the DLQ after the queue's maxReceiveCount, and they never block the rest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from hspc_pipelines.events.coalesce import RunIntent, Trigger, coalesce
from hspc_pipelines.events.triggers import UnusableMessage, triggers_for
from hspc_pipelines.queue.receive import EventsQueue

log = logging.getLogger(__name__)
SEEN_LIMIT = 20_000  # event ids remembered across ticks (HubSpot retries for up to 3 days; runs dedupe too)
PENDING_TICKS_LIMIT = 20  # forget a pending run key whose run never appeared (its messages come back)


@dataclass
class Cursor:
    """Sensor state between ticks: runs requested but not yet confirmed, and events already covered."""

    pending: dict[str, list[str]] = field(default_factory=dict)  # run key -> receipt handles
    pending_events: dict[str, list[str]] = field(default_factory=dict)  # run key -> event ids
    pending_age: dict[str, int] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)  # event ids whose run Dagster holds

    @classmethod
    def load(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            pending=data.get("pending", {}),
            pending_events=data.get("pending_events", {}),
            pending_age=data.get("pending_age", {}),
            seen=data.get("seen", []),
        )

    def dump(self) -> str:
        return json.dumps(
            {
                "pending": self.pending,
                "pending_events": self.pending_events,
                "pending_age": self.pending_age,
                "seen": self.seen[-SEEN_LIMIT:],
            },
            sort_keys=True,
        )

    def pending_key_of(self) -> dict[str, str]:
        return {e: key for key, events in self.pending_events.items() for e in events}


@dataclass
class TickResult:
    intents: list[RunIntent]
    cursor: Cursor
    received: int
    deleted: int
    unusable: list[tuple[str, str]]  # (message id, reason)
    known: int = 0  # events dropped because the product already holds their change (`echo.py`)


def run_tick(
    queue: EventsQueue,
    cursor: Cursor,
    run_exists: Callable[[str], bool],
    budget_seconds: float = 20.0,
    max_messages: int = 500,
    known_events: Callable[[Sequence[Trigger]], set[str]] | None = None,
) -> TickResult:
    """One tick. `known_events` names the event ids whose change the product already holds (our own
    writes echoed back, `events/echo.py`): they start no run, like events whose run Dagster holds."""
    deleted = _confirm_pending(queue, cursor, run_exists)
    messages = queue.receive(budget_seconds, max_messages=max_messages)
    triggers, unusable, handles = [], [], {}
    for message in messages:
        handles[message.message_id] = message.receipt_handle
        try:
            triggers.extend(triggers_for(message))
        except UnusableMessage as exc:
            unusable.append((message.message_id, str(exc)))
            log.warning(
                "events queue message %s left for the DLQ (receive %d): %s",
                message.message_id,
                message.receive_count,
                exc,
            )
    seen, pending_key_of = set(cursor.seen), cursor.pending_key_of()
    known = known_events(triggers) if known_events and triggers else set()
    # Message id -> the run keys it waits for: it is deleted once Dagster holds all of them.
    waits: dict[str, set[str]] = {}
    fresh = []
    for t in triggers:
        if t.event_id in seen or t.event_id in known:  # its run exists, or it needs none
            continue
        if t.event_id in pending_key_of:  # its run was requested: wait for it with the others
            waits.setdefault(t.message_id, set()).add(pending_key_of[t.event_id])
        else:
            fresh.append(t)
    runs = [intent for intent in coalesce(fresh) if intent.job]
    for intent in runs:
        for message_id in intent.message_ids:
            waits.setdefault(message_id, set()).add(intent.run_key)
        cursor.pending.setdefault(intent.run_key, [])
        cursor.pending_events.setdefault(intent.run_key, []).extend(intent.event_ids)
        cursor.pending_age[intent.run_key] = 0
    for message_id, keys in waits.items():
        for key in sorted(keys):
            cursor.pending[key].append(handles[message_id])
    # Messages none of whose events waits for a run are done now: redelivered events whose run is held,
    # repeats of events another message of this tick waits for, event types hspc ignores. A message
    # that also carries a new event waits: deleting it now would lose that event if the process died
    # before Dagster stored the run.
    unusable_ids = {u[0] for u in unusable}
    idle = [
        handles[m.message_id]
        for m in messages
        if m.message_id not in waits and m.message_id not in unusable_ids
    ]
    if idle:
        queue.delete(idle)
        deleted += len(idle)
    return TickResult(runs, cursor, len(messages), deleted, unusable, len(known))


def _confirm_pending(queue: EventsQueue, cursor: Cursor, run_exists: Callable[[str], bool]) -> int:
    done: list[str] = []
    for key in list(cursor.pending):
        if run_exists(key):
            done.extend(cursor.pending.pop(key))
            cursor.seen.extend(cursor.pending_events.pop(key, []))
            cursor.pending_age.pop(key, None)
            continue
        cursor.pending_age[key] = cursor.pending_age.get(key, 0) + 1
        if cursor.pending_age[key] > PENDING_TICKS_LIMIT:
            log.warning("run %s never appeared; its messages will be received again", key)
            cursor.pending.pop(key)
            cursor.pending_events.pop(key, None)
            cursor.pending_age.pop(key)
    # A message that also waits for a run not yet held stays until that one is confirmed too.
    still_waiting = {h for handles in cursor.pending.values() for h in handles}
    done = [h for h in dict.fromkeys(done) if h not in still_waiting]
    if done:
        refused = queue.delete(done)
        if refused:
            log.info(
                "%d receipt handles had expired; those messages come back and dedupe by event id",
                len(refused),
            )
        return len(done) - len(refused)
    return 0
