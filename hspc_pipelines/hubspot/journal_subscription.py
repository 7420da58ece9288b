"""The webhooks journal's deal subscription: what it must cover, whether HubSpot's does, and
`hspc bootstrap --journal`, which upserts it (idempotent; `--dry-run` only says what it would send).

HubSpot records in an app's journal only what the app's journal subscriptions ask for, and those are
managed by API only, per account (docs/webhooks-journal.md). hspc asks for the deal events and
properties it reacts to, the same lists as the webhook manifest in deploy/hubspot-app/
(`SUBSCRIBED_JOURNAL_ACTIONS`, `SUBSCRIBED_DEAL_PROPERTIES`), so both paths watch the same changes.

The rules (`wanted_subscription`, `coverage`, `upsert_body`) are pure; `ensure_deal_subscription`
calls the client. An upsert never narrows a subscription: actions and properties someone else added
to the account's deal subscription are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hspc_pipelines.hubspot.webhook_events import SUBSCRIBED_DEAL_PROPERTIES, SUBSCRIBED_JOURNAL_ACTIONS

if TYPE_CHECKING:
    from hspc_pipelines.hubspot.client import HubSpotClient

DEAL_TYPE_ID = "0-3"  # HubSpot's object type id of deals
OBJECT = "OBJECT"  # the only subscriptionType the 2026-03 upsert takes


def wanted_subscription(portal_id: int) -> dict[str, Any]:
    """The upsert body of the deal subscription hspc needs in this account (every deal: no objectIds)."""
    return {
        "subscriptionType": OBJECT,
        "portalId": portal_id,
        "actions": list(SUBSCRIBED_JOURNAL_ACTIONS),
        "objectTypeId": DEAL_TYPE_ID,
        "objectIds": [],
        "properties": list(SUBSCRIBED_DEAL_PROPERTIES),
    }


@dataclass(frozen=True)
class Coverage:
    """How far an account's deal subscription covers what hspc needs (pure data)."""

    portal_id: int | None
    subscription: Mapping[str, Any] | None  # the account's deal subscription, None when it has none
    missing_actions: tuple[str, ...] = ()
    missing_properties: tuple[str, ...] = ()
    object_ids: tuple[int, ...] = ()  # non-empty: only these deals are recorded

    @property
    def ok(self) -> bool:
        return self.subscription is not None and not self.problems()

    def problems(self) -> list[str]:
        where = f"portal {self.portal_id}" if self.portal_id is not None else "any portal"
        if self.subscription is None:
            return [f"no webhooks-journal subscription for deals ({DEAL_TYPE_ID}) in {where}"]
        out = []
        if self.missing_actions:
            out.append(f"actions missing: {', '.join(self.missing_actions)}")
        if self.missing_properties:
            out.append(f"properties missing: {', '.join(self.missing_properties)}")
        if self.object_ids:
            out.append(f"limited to {len(self.object_ids)} deal id(s) (objectIds): every deal is needed")
        return out


def _is_deal_subscription(sub: Mapping[str, Any], portal_id: int | None) -> bool:
    return (
        str(sub.get("objectTypeId")) == DEAL_TYPE_ID
        and sub.get("subscriptionType", OBJECT) == OBJECT
        and not sub.get("deletedAt")
        and (portal_id is None or str(sub.get("portalId")) == str(portal_id))
    )


def _coverage_of(sub: Mapping[str, Any], portal_id: int | None) -> Coverage:
    actions = {str(a) for a in sub.get("actions") or []}
    properties = {str(p) for p in sub.get("properties") or []}
    return Coverage(
        portal_id if portal_id is not None else _int_or_none(sub.get("portalId")),
        sub,
        tuple(a for a in SUBSCRIBED_JOURNAL_ACTIONS if a not in actions),
        # Empty `properties`: every property (HubSpot's reference).
        tuple(p for p in SUBSCRIBED_DEAL_PROPERTIES if properties and p not in properties),
        tuple(int(i) for i in sub.get("objectIds") or []),
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def coverage(subscriptions: Iterable[Mapping[str, Any]], portal_id: int | None) -> Coverage:
    """The best-covering deal subscription of the account (any account when `portal_id` is None)."""
    found = [_coverage_of(s, portal_id) for s in subscriptions if _is_deal_subscription(s, portal_id)]
    if not found:
        return Coverage(portal_id, None)
    return min(found, key=lambda c: len(c.missing_actions) + len(c.missing_properties) + bool(c.object_ids))


def upsert_body(portal_id: int, existing: Mapping[str, Any] | None) -> dict[str, Any]:
    """What to send so the account's deal subscription covers hspc's needs: the existing actions and
    properties kept (an upsert replaces them), hspc's added, every deal (objectIds empty)."""
    body = wanted_subscription(portal_id)
    if existing is None:
        return body
    body["actions"] = list(dict.fromkeys([*(existing.get("actions") or []), *body["actions"]]))
    had = list(existing.get("properties") or [])
    # An existing subscription to every property (empty list) already covers ours: keep it so.
    body["properties"] = list(dict.fromkeys([*had, *body["properties"]])) if had else []
    return body


@dataclass(frozen=True)
class SubscriptionResult:
    before: Coverage
    sent: dict[str, Any] | None  # None: nothing to do (already covered)
    applied: bool
    answer: Mapping[str, Any] | None = None


def ensure_deal_subscription(
    client: HubSpotClient, portal_id: int, *, apply: bool = True
) -> SubscriptionResult:
    """Upsert the account's deal subscription unless it already covers hspc's needs (idempotent: a
    second call sends nothing); `apply=False` only says what it would send."""
    before = coverage(client.journal_subscriptions(), portal_id)
    if before.ok:
        return SubscriptionResult(before, None, False)
    body = upsert_body(portal_id, before.subscription)
    if not apply:
        return SubscriptionResult(before, body, False)
    return SubscriptionResult(before, body, True, client.journal_subscribe(body))
