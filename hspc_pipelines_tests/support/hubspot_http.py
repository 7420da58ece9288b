"""A request to the HubSpot emulator as a person (or a script) would send it, with the stack's token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests


def hubspot_request(env: Mapping[str, str], method: str, path: str, **kw: Any) -> Any:
    """`method path` on `env`'s HUBSPOT_BASE_URL; the decoded JSON answer (None when empty).
    Raises for an error status, so a test never reads on after a refused call."""
    resp = requests.request(
        method,
        env["HUBSPOT_BASE_URL"] + path,
        timeout=30,
        headers={"Authorization": f"Bearer {env['HUBSPOT_ACCESS_TOKEN']}"},
        **kw,
    )
    resp.raise_for_status()
    return resp.json() if resp.content else None


def client_credentials_token(base_url: str, client_id: str, client_secret: str, scopes: str = "") -> str:
    """A client-credentials token from the emulator's `POST /oauth/v1/token` (every scope of the app
    when `scopes` is empty): what the webhooks journal and its subscriptions take."""
    resp = requests.post(
        base_url + "/oauth/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scopes,
        },
        timeout=10,
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


# Every deal change (no property filter) as the journal's subscription; what the emulator tests of the
# journal want recorded.
ALL_DEAL_ACTIONS = [
    "CREATE",
    "UPDATE",
    "DELETE",
    "MERGE",
    "RESTORE",
    "ASSOCIATION_ADDED",
    "ASSOCIATION_REMOVED",
]


def subscribe_every_deal_change(base_url: str, token: str, portal_id: int) -> dict[str, Any]:
    resp = requests.post(
        base_url + "/webhooks-journal/subscriptions/2026-03",
        json={
            "subscriptionType": "OBJECT",
            "portalId": portal_id,
            "actions": ALL_DEAL_ACTIONS,
            "objectTypeId": "0-3",
            "objectIds": [],
            "properties": [],
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    resp.raise_for_status()
    result: dict[str, Any] = resp.json()
    return result
