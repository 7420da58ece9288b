"""Tokens: private-app introspection, and a developer-platform app's client-credentials tokens.

- `POST /oauth/v2/private-apps/get/access-token-info` answers the scopes the emulator grants a static
  token (`token_scopes` in the emulator's config; by default those a CRM sync app is given), so
  `hspc doctor` can be tried with a token missing some.
- `POST /oauth/v1/token` (form-encoded, `grant_type=client_credentials`, `client_id`, `client_secret`,
  `scope`) issues tokens that expire after `token_lifetime_seconds` (configurable, so tests can watch
  a refresh); the gate in app.py refuses an expired one with HubSpot's 401 (`EXPIRED_AUTHENTICATION`).
- `GET /oauth/v1/access-tokens/{token}` introspects an issued token.

Both `/oauth/v1/` routes need no bearer token, as at HubSpot. The token answer is RFC 6749's
(`access_token`, `token_type`, `expires_in`, `scope`); the error bodies of the token endpoint
(`status: BAD_CLIENT_ID`, ...) are this emulator's rendering of HubSpot's OAuth errors.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from .errors import ApiError, error_body
from .oauth_apps import oauth_error
from .routing import Call, Reply, Router
from .state import State
from .timeutil import now_ms

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
# A developer-platform app's scopes: the CRM ones plus the webhooks journal's.
DEFAULT_APP_SCOPES = (
    *DEFAULT_SCOPES,
    "developer.webhooks_journal.read",
    "developer.webhooks_journal.subscriptions.read",
    "developer.webhooks_journal.subscriptions.write",
)
PUBLIC_PREFIX = "/oauth/v1/"  # no bearer token needed


def token_info(state: State, call: Call) -> Reply:
    body = call.json_object()
    if not body.get("tokenKey"):
        raise ApiError(400, "tokenKey is required", context={"tokenKey": ["required"]})
    return Reply(
        200,
        {"userId": 1, "hubId": state.portal_id, "appId": state.app_id, "scopes": list(state.token_scopes)},
    )


def issue_token(state: State, call: Call) -> Reply:
    form = {k: v[0] for k, v in parse_qs(call.body.decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "client_credentials":
        raise oauth_error(
            "BAD_GRANT_TYPE",
            f"grant_type {form.get('grant_type')!r} is not served by this emulator (client_credentials is)",
        )
    answer = state.apps.issue(form.get("client_id", ""), form.get("client_secret", ""), form.get("scope", ""))
    return Reply(200, answer)


def access_token_info(state: State, call: Call) -> Reply:
    token = call.params["token"]
    issued = state.apps.issued.get(token)
    if issued is None or state.apps.seconds_expired(token):
        return Reply(404, error_body("token not found or expired", "OBJECT_NOT_FOUND"))
    return Reply(
        200,
        {
            "token": token,
            "hub_id": state.portal_id,
            "app_id": state.app_id,
            "scopes": list(issued.scopes),
            "expires_in": max(0, (issued.expires_ms - now_ms()) // 1000),
            "token_type": "access",
        },
    )


def register(router: Router) -> None:
    router.add("POST", "/oauth/v2/private-apps/get/access-token-info", token_info)
    router.add("POST", "/oauth/v1/token", issue_token)
    router.add("GET", "/oauth/v1/access-tokens/{token}", access_token_info)
