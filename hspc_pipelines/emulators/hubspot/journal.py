"""The webhooks journal: the same change feed as the webhooks, kept as entries an app reads back.

HubSpot's reference (2026-03, docs/webhooks-journal.md) gives each entry a `currentOffset` (a UUID),
a pre-signed `url` to its JSON file (fetched without an Authorization header) and that URL's
`expiresAt`; entries stay three days. One entry here is one API call's changes to deals (what one
write made, as far as the journal's own subscriptions ask for it: journal_subscriptions.py), so a
test can count entries by writes. Retention runs on the emulator's clock
(`clock_offset_seconds`), so a test moves time instead of waiting, and is configurable
(`journal_retention_seconds`).

The file's content is not in HubSpot's reference; its shape here (`offset`, `publishedAt`,
`journalEvents[]` with `action`, `objectTypeId`, `objectId`, `propertyChanges`, ...) is the one
HubSpot's own public journal CLI reads (docs/webhooks-journal.md says which parts are verified).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from .journal_subscriptions import JournalSubscriptions
from .objecttypes import TYPE_IDS
from .timeutil import iso_ms

DEFAULT_RETENTION_SECONDS = 3 * 86_400.0
URL_TTL_MS = 15 * 60 * 1000  # how long a pre-signed file URL stays valid
FILES_PATH = "/_emulator/journal/files/"  # not under the API: the URL needs no token, like S3's
DEAL_TYPE_ID = TYPE_IDS["deals"]
_TYPE_BY_NAME = {"COMPANY": TYPE_IDS["companies"], "CONTACT": TYPE_IDS["contacts"]}
_TYPE_BY_NAME |= {"NOTE": TYPE_IDS["notes"], "TASK": TYPE_IDS["tasks"], "DEAL": DEAL_TYPE_ID}


@dataclass(frozen=True)
class Entry:
    offset: str
    published_ms: int
    portal_id: int
    events: list[dict[str, Any]]

    def file(self) -> dict[str, Any]:
        return {"offset": self.offset, "publishedAt": iso_ms(self.published_ms), "journalEvents": self.events}


class Journal:
    """Entries in publishing order; callers hold the emulator's lock."""

    def __init__(self, retention_seconds: float = DEFAULT_RETENTION_SECONDS) -> None:
        self.retention_ms = int(retention_seconds * 1000)
        self.entries: list[Entry] = []
        self.written = 0  # entries ever written (stats)
        # What the journal records: its own subscriptions, not the webhooks' (none: nothing recorded).
        self.subscriptions = JournalSubscriptions()

    def clear(self) -> None:
        """Forget the entries; the subscriptions are the app's install settings and stay."""
        self.entries.clear()

    def append(self, webhook_events: list[dict[str, Any]], portal_id: int, now: int) -> Entry | None:
        """One entry for one call's deal events (the webhook dispatcher's shape, converted, every
        property change), kept to what the journal's subscriptions ask for; None when nothing is."""
        events = self.subscriptions.admit(journal_events(webhook_events))
        if not events:
            return None
        self.entries = self.live(now)  # what retention dropped is gone for good
        entry = Entry(str(uuid.uuid4()), now, portal_id, events)
        self.entries.append(entry)
        self.written += 1
        return entry

    def live(self, now: int, portal_id: int | None = None) -> list[Entry]:
        oldest = now - self.retention_ms
        return [
            e
            for e in self.entries
            if e.published_ms >= oldest and (portal_id is None or e.portal_id == portal_id)
        ]


def journal_events(webhook_events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Webhook events (deal.creation, deal.propertyChange, ...) as journal events: a creation and the
    property changes that follow it for the same deal are one CREATE, later changes one UPDATE."""
    out: list[dict[str, Any]] = []
    for ev in webhook_events:
        kind = ev["subscriptionType"]
        base = {
            "type": "OBJECT",
            "portalId": ev["portalId"],
            "occurredAt": iso_ms(int(ev["occurredAt"])),
            "objectTypeId": DEAL_TYPE_ID,
            "objectId": ev["objectId"],
            "eventId": ev["eventId"],
            "changeSource": ev.get("changeSource"),
        }
        if kind == "deal.creation":
            out.append(base | {"action": "CREATE", "propertyChanges": {}})
        elif kind == "deal.propertyChange":
            last = out[-1] if out else None
            if not (last and last["objectId"] == ev["objectId"] and last["action"] in ("CREATE", "UPDATE")):
                last = base | {"action": "UPDATE", "propertyChanges": {}}
                out.append(last)
            last["propertyChanges"][ev["propertyName"]] = ev["propertyValue"]
        elif kind == "deal.deletion":
            out.append(base | {"action": "DELETE"})
        elif kind == "deal.associationChange":
            other = str(ev.get("associationType", "")).removeprefix("DEAL_TO_")
            out.append(
                base
                | {
                    "type": "ASSOCIATION",
                    "action": "ASSOCIATION_REMOVED" if ev.get("associationRemoved") else "ASSOCIATION_ADDED",
                    "associatedObjectId": ev["toObjectId"],
                    "associatedObjectTypeId": _TYPE_BY_NAME.get(other, other),
                    "associationType": ev.get("associationType"),
                }
            )
    return out


def entry_reply(entry: Entry, host: str, now: int) -> dict[str, Any]:
    """What every journal endpoint answers for one entry (HubSpot's JournalFetchResponse)."""
    expires = now + URL_TTL_MS
    return {
        "currentOffset": entry.offset,
        "expiresAt": iso_ms(expires),
        "url": f"http://{host}{FILES_PATH}{entry.offset}?expires={expires}",
    }
