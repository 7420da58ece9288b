"""The webhooks journal's own subscriptions (version 2026-03), per account: which object type, actions,
objects and properties of an account the app's journal records (docs/webhooks-journal.md has the
reference pages). They are not the webhook subscriptions: a journal with no subscription records
nothing, whatever webhooks are sent.

HubSpot's reference calls the POST an upsert without saying what identifies the subscription it
updates; here it is (portalId, subscriptionType, objectTypeId): posting deals again for the same
account replaces that subscription's actions, objects and properties. Subscriptions belong to the
app's installs, not to the portal's data, so `reset()` of the emulator keeps them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .timeutil import iso_ms

# HubSpot's reference, 2026-03 (create-subscription): the only subscriptionType the upsert takes is
# OBJECT; the actions are these.
SUBSCRIPTION_TYPES = frozenset({"OBJECT"})
ACTIONS = frozenset(
    {
        "CREATE",
        "UPDATE",
        "DELETE",
        "MERGE",
        "RESTORE",
        "ASSOCIATION_ADDED",
        "ASSOCIATION_REMOVED",
        "SNAPSHOT",
        "APP_INSTALL",
        "APP_UNINSTALL",
        "ADDED_TO_LIST",
        "REMOVED_FROM_LIST",
        "GDPR_DELETE",
    }
)
_PROPERTY_ACTIONS = frozenset({"CREATE", "UPDATE"})  # the events that carry propertyChanges


@dataclass(frozen=True)
class Subscription:
    id: int
    app_id: int
    portal_id: int
    subscription_type: str
    object_type_id: str
    actions: tuple[str, ...]
    object_ids: tuple[int, ...]
    properties: tuple[str, ...]
    created_ms: int
    updated_ms: int

    def reply(self) -> dict[str, Any]:
        """The answer's shape (the reference's response schema)."""
        return {
            "id": self.id,
            "appId": self.app_id,
            "portalId": self.portal_id,
            "subscriptionType": self.subscription_type,
            "objectTypeId": self.object_type_id,
            "actions": list(self.actions),
            "objectIds": list(self.object_ids),
            "properties": list(self.properties),
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.updated_ms),
        }

    def matches(self, event: Mapping[str, Any]) -> bool:
        return (
            str(event.get("portalId")) == str(self.portal_id)
            and event.get("objectTypeId") == self.object_type_id
            and event.get("action") in self.actions
            and (not self.object_ids or int(event.get("objectId", -1)) in self.object_ids)
        )


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{field} must be an integer (int64), got {value!r:.60}")
    return value


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise bad_request(f"{field} must be a list of strings, got {value!r:.60}")
    return tuple(value)


def parse_upsert(body: Mapping[str, Any]) -> dict[str, Any]:
    """The request body, checked as the reference describes it: every field required."""
    missing = [
        f for f in ("subscriptionType", "portalId", "actions", "objectTypeId", "objectIds", "properties")
        if f not in body
    ]  # fmt: skip
    if missing:
        raise bad_request(f"missing required fields: {', '.join(missing)}", context={"missing": missing})
    kind = body["subscriptionType"]
    if kind not in SUBSCRIPTION_TYPES:
        raise bad_request(
            f"subscriptionType {kind!r:.40} is not allowed; allowed: {', '.join(SUBSCRIPTION_TYPES)}"
        )
    actions = _strings(body["actions"], "actions")
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown or not actions:
        raise bad_request(
            f"actions {unknown or '[]'} not allowed; allowed: {', '.join(sorted(ACTIONS))}",
            context={"actions": unknown},
        )
    object_type_id = body["objectTypeId"]
    if not isinstance(object_type_id, str) or not object_type_id:
        raise bad_request(f"objectTypeId must be a string such as '0-3', got {object_type_id!r:.40}")
    object_ids = body["objectIds"]
    if not isinstance(object_ids, list):
        raise bad_request(f"objectIds must be a list of integers, got {object_ids!r:.60}")
    return {
        "subscription_type": kind,
        "portal_id": _int(body["portalId"], "portalId"),
        "actions": tuple(dict.fromkeys(actions)),
        "object_type_id": object_type_id,
        "object_ids": tuple(_int(i, "objectIds[]") for i in object_ids),
        "properties": tuple(dict.fromkeys(_strings(body["properties"], "properties"))),
    }


class JournalSubscriptions:
    """Subscriptions by id; callers hold the emulator's lock."""

    def __init__(self) -> None:
        self.by_id: dict[int, Subscription] = {}
        self._ids = itertools.count(5001)

    def upsert(self, body: Mapping[str, Any], app_id: int, now: int) -> Subscription:
        fields = parse_upsert(body)
        key = (fields["portal_id"], fields["subscription_type"], fields["object_type_id"])
        old = next(
            (s for s in self.by_id.values() if (s.portal_id, s.subscription_type, s.object_type_id) == key),
            None,
        )
        sub = Subscription(
            id=old.id if old else next(self._ids),
            app_id=app_id,
            created_ms=old.created_ms if old else now,
            updated_ms=now,
            **fields,
        )
        self.by_id[sub.id] = sub
        return sub

    def delete(self, subscription_id: int) -> bool:
        return self.by_id.pop(subscription_id, None) is not None

    def delete_portal(self, portal_id: int) -> int:
        gone = [i for i, s in self.by_id.items() if s.portal_id == portal_id]
        for i in gone:
            del self.by_id[i]
        return len(gone)

    def admit(self, events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events some subscription asks for, each narrowed to the properties subscribed (an
        UPDATE left with none is dropped; empty `properties` means every property)."""
        out = []
        for event in events:
            subs = [s for s in self.by_id.values() if s.matches(event)]
            if not subs:
                continue
            if event.get("action") in _PROPERTY_ACTIONS and all(s.properties for s in subs):
                wanted = {p for s in subs for p in s.properties}
                changes = {k: v for k, v in (event.get("propertyChanges") or {}).items() if k in wanted}
                if event["action"] == "UPDATE" and not changes:
                    continue
                event = {**event, "propertyChanges": changes}
            out.append(event)
        return out
