"""The webhooks journal's subscription management, version 2026-03 (docs/webhooks-journal.md has the
reference pages): upsert (`POST`), list (`GET`), delete one (`DELETE .../{subscriptionId}`) and delete
an account's (`DELETE .../portals/{portalId}`). Both deletes answer 204 with no body, as the reference
shows; an unknown id answers 404 (the reference does not say; chosen here).

These routes and the journal's need a client-credentials token with the journal's scopes
(`required_scope`, enforced by the gate in app.py).
"""

from __future__ import annotations

from .errors import bad_request, not_found
from .routing import Call, Reply, Router
from .state import State
from .timeutil import now_ms

VERSION = "2026-03"
BASE = f"/webhooks-journal/subscriptions/{VERSION}"
JOURNAL_PREFIX = "/webhooks-journal/journal"  # both journals: journal/ and journal-local/

READ_SCOPE = "developer.webhooks_journal.read"
SUBSCRIPTIONS_READ_SCOPE = "developer.webhooks_journal.subscriptions.read"
SUBSCRIPTIONS_WRITE_SCOPE = "developer.webhooks_journal.subscriptions.write"


def required_scope(method: str, path: str) -> str | None:
    """The scope HubSpot's guide names for this call (None: not a journal call)."""
    if path.startswith(JOURNAL_PREFIX):
        return READ_SCOPE
    if path.startswith(BASE):
        return SUBSCRIPTIONS_READ_SCOPE if method == "GET" else SUBSCRIPTIONS_WRITE_SCOPE
    return None


def _id(raw: str, name: str) -> int:
    if not raw.isdigit():
        raise bad_request(f"{name} must be an integer, got {raw[:40]!r}")
    return int(raw)


def upsert(state: State, call: Call) -> Reply:
    sub = state.journal.subscriptions.upsert(call.json_object(), state.app_id, now_ms())
    return Reply(200, sub.reply())


def list_subscriptions(state: State, call: Call) -> Reply:
    subs = sorted(state.journal.subscriptions.by_id.values(), key=lambda s: s.id)
    return Reply(200, {"results": [s.reply() for s in subs]})


def delete_one(state: State, call: Call) -> Reply:
    subscription_id = _id(call.params["subscription_id"], "subscriptionId")
    if not state.journal.subscriptions.delete(subscription_id):
        raise not_found(
            f"No subscription {subscription_id}", context={"subscriptionId": [str(subscription_id)]}
        )
    return Reply(204)


def delete_portal(state: State, call: Call) -> Reply:
    state.journal.subscriptions.delete_portal(_id(call.params["portal_id"], "portalId"))
    return Reply(204)


def register(router: Router) -> None:
    router.add("POST", BASE, upsert)
    router.add("GET", BASE, list_subscriptions)
    router.add("DELETE", BASE + "/portals/{portal_id}", delete_portal)
    router.add("DELETE", BASE + "/{subscription_id}", delete_one)
