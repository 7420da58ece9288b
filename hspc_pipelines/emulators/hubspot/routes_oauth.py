"""Private-app token introspection: POST /oauth/v2/private-apps/get/access-token-info.

Answers the scopes the emulator grants the token (`token_scopes` in the emulator's config; by default
those a CRM sync app is given), so `hspc doctor` can be tried with a token missing some."""

from __future__ import annotations

from .errors import ApiError
from .routing import Call, Reply, Router
from .state import State

DEFAULT_SCOPES = (
    "oauth",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.deals.read",
    "crm.schemas.deals.write",
)


def token_info(state: State, call: Call) -> Reply:
    body = call.json_object()
    if not body.get("tokenKey"):
        raise ApiError(400, "tokenKey is required", context={"tokenKey": ["required"]})
    return Reply(
        200,
        {"userId": 1, "hubId": state.portal_id, "appId": state.app_id, "scopes": list(state.token_scopes)},
    )


def register(router: Router) -> None:
    router.add("POST", "/oauth/v2/private-apps/get/access-token-info", token_info)
