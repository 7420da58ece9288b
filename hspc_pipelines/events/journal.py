"""The webhooks journal's rules, without I/O: an entry's file -> journal events -> triggers, the
journal sensor's cursor, and the window a sweep covers when that cursor expired.

Pure. The triggers are the events path's own (`coalesce.Trigger`), so journal events coalesce into
the same `sync_deals` and submission runs as webhooks from the queue. docs/webhooks-journal.md says
which fields HubSpot's reference defines and which come from the file HubSpot's journal CLI reads.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hspc_pipelines.cosell.submission.request import SUBMIT_PROPERTY
from hspc_pipelines.events.coalesce import RECONCILE, SUBMIT, Trigger

DEAL_TYPE_ID = "0-3"  # HubSpot's object type id of deals
# Subscription actions HubSpot's reference lists; every one on a deal can change what a sync does.
ACTIONS = frozenset(
    {"CREATE", "UPDATE", "DELETE", "MERGE", "RESTORE", "ASSOCIATION_ADDED", "ASSOCIATION_REMOVED", "SNAPSHOT"}
)
START_LATEST, START_EARLIEST = "latest", "earliest"
MAX_SHOWN = 60


class JournalFormatError(ValueError):
    """An entry's file is not what the journal writes: names the entry, the field, the value and what
    was expected."""

    def __init__(self, offset: str, path: str, value: Any, expected: str) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= MAX_SHOWN else shown[: MAX_SHOWN - 3] + "..."
        self.offset, self.path, self.expected = offset, path, expected
        super().__init__(f"journal entry {offset}: {path}: expected {expected}, got {shown}")


@dataclass(frozen=True)
class JournalEvent:
    offset: str  # the entry it came in
    index: int  # its place in the entry's journalEvents
    action: str
    object_type_id: str
    object_id: str
    portal_id: str | None = None
    occurred_at: str | None = None
    property_changes: Mapping[str, str | None] = field(default_factory=dict)
    associated_object_type_id: str | None = None
    associated_object_id: str | None = None
    merged_object_ids: tuple[str, ...] = ()

    @property
    def deal_ids(self) -> tuple[str, ...]:
        """The deals this event touches: the object when it is a deal, a deal on the other end of an
        association, the deals a merge folded into it."""
        ids = []
        if self.object_type_id == DEAL_TYPE_ID:
            ids += [self.object_id, *self.merged_object_ids]
        if self.associated_object_type_id == DEAL_TYPE_ID and self.associated_object_id:
            ids.append(self.associated_object_id)
        return tuple(dict.fromkeys(ids))


def _id(offset: str, path: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise JournalFormatError(offset, path, value, "an integer id")


def _text(offset: str, path: str, value: Any, expected: str = "a non-empty string") -> str:
    if isinstance(value, str) and value:
        return value
    raise JournalFormatError(offset, path, value, expected)


def _optional_id(offset: str, path: str, value: Any) -> str | None:
    return None if value is None else _id(offset, path, value)


def parse_entry(offset: str, data: Any) -> list[JournalEvent]:
    """The events of one entry's file. Raises JournalFormatError on the first field that is wrong."""
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except ValueError:
            raise JournalFormatError(offset, "(file)", data, "a JSON object") from None
    if not isinstance(data, Mapping):
        raise JournalFormatError(offset, "(file)", data, "a JSON object with journalEvents")
    raw = data.get("journalEvents")
    if not isinstance(raw, list):
        raise JournalFormatError(offset, "journalEvents", raw, "a list of events")
    return [_event(offset, i, ev) for i, ev in enumerate(raw)]


def _event(offset: str, index: int, ev: Any) -> JournalEvent:
    at = f"journalEvents[{index}]"
    if not isinstance(ev, Mapping):
        raise JournalFormatError(offset, at, ev, "an event object")
    action = _text(offset, f"{at}.action", ev.get("action"), f"one of {', '.join(sorted(ACTIONS))}")
    changes = ev.get("propertyChanges") or {}
    if not isinstance(changes, Mapping):
        raise JournalFormatError(offset, f"{at}.propertyChanges", changes, "an object of property values")
    merged = ev.get("mergedObjectIds") or []
    if not isinstance(merged, list):
        raise JournalFormatError(offset, f"{at}.mergedObjectIds", merged, "a list of ids")
    portal = ev.get("portalId")
    return JournalEvent(
        offset=offset,
        index=index,
        action=action,
        object_type_id=_text(offset, f"{at}.objectTypeId", ev.get("objectTypeId"), "an object type id (0-3)"),
        object_id=_id(offset, f"{at}.objectId", ev.get("objectId")),
        portal_id=None if portal is None else _id(offset, f"{at}.portalId", portal),
        occurred_at=ev.get("occurredAt") if isinstance(ev.get("occurredAt"), str) else None,
        property_changes={str(k): None if v is None else str(v) for k, v in changes.items()},
        associated_object_type_id=ev.get("associatedObjectTypeId") or None,
        associated_object_id=_optional_id(offset, f"{at}.associatedObjectId", ev.get("associatedObjectId")),
        merged_object_ids=tuple(_id(offset, f"{at}.mergedObjectIds[{j}]", m) for j, m in enumerate(merged)),
    )


def triggers_for(events: Iterable[JournalEvent], portal_id: str | None = None) -> list[Trigger]:
    """The triggers of journal events, as `events.triggers` makes them from webhooks: every deal an
    event touches is synced; `aws_submit_requested` set to true asks for a submission. Events of
    another account (the global journal of an app installed in several) are not ours."""
    out: list[Trigger] = []
    for ev in events:
        if ev.action not in ACTIONS or (portal_id and ev.portal_id and ev.portal_id != portal_id):
            continue
        key = f"journal:{ev.offset}:{ev.index}"
        for deal_id in ev.deal_ids:
            out.append(Trigger(RECONCILE, f"{key}:{deal_id}", ev.offset, deal_id=deal_id))
        submit = ev.property_changes.get(SUBMIT_PROPERTY)
        if ev.object_type_id == DEAL_TYPE_ID and (submit or "").lower() == "true":
            # Who asked is not in the event: the submission reads the property's history for it.
            out.append(Trigger(SUBMIT, f"{key}:submit", ev.offset, deal_id=ev.object_id))
    return out


@dataclass
class JournalCursor:
    """The journal sensor's state: the last offset whose runs were requested, and when that entry was
    published. Without an offset the next tick starts at the newest entry (the first tick ever: what
    came before is the nightly sweep's), or at the oldest once the journal was seen empty (everything
    written after that is new)."""

    offset: str | None = None
    at: str | None = None
    start: str = START_LATEST

    @classmethod
    def load(cls, text: str | None) -> JournalCursor:
        if not text:
            return cls()
        data = json.loads(text)
        start = data.get("start", START_LATEST)
        return cls(data.get("offset"), data.get("at"), start if start == START_EARLIEST else START_LATEST)

    def dump(self) -> str:
        return json.dumps({"offset": self.offset, "at": self.at, "start": self.start}, sort_keys=True)


def published_at(data: Any) -> str | None:
    """An entry file's `publishedAt`, when it has one."""
    value = data.get("publishedAt") if isinstance(data, Mapping) else None
    return value if isinstance(value, str) and value else None


def sweep_range(last_at: str | None, today: dt.date, first_day: dt.date) -> tuple[str, str]:
    """The days a sweep must reconcile when the cursor expired: from the day of the last entry read
    (changes after it may be gone from the journal) to today; the whole range when that is unknown."""
    start = first_day
    if last_at:
        try:
            start = max(first_day, dt.datetime.fromisoformat(last_at.replace("Z", "+00:00")).date())
        except ValueError:
            start = first_day
    start = min(start, today)
    return start.isoformat(), today.isoformat()


def deal_ids(triggers: Sequence[Trigger]) -> list[str]:
    return sorted({t.deal_id for t in triggers if t.deal_id and t.kind == RECONCILE})
