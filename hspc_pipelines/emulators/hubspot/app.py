"""HubSpotEmulator: the ASGI app, and the gate every API call passes (auth, limits, faults, stats).

The handler path is kept short on purpose: a route match, a dict look-up under one lock, and
json.dumps. Handlers are synchronous and run on the event loop thread; the lock guards against
the Python-side methods (seed, reset) called from test threads.

Writes made through the API carry `changeSource: INTEGRATION` in webhooks; a test can act as a
user in HubSpot's UI by sending the header `X-Emulator-Change-Source: CRM_UI`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.datastructures import Headers, QueryParams

from .. import _server
from . import (
    control,
    routes_associations,
    routes_journal,
    routes_journal_subscriptions,
    routes_oauth,
    routes_objects,
    routes_properties,
)
from .errors import ApiError, error_body
from .faults import FaultInjector
from .journal import DEFAULT_RETENTION_SECONDS
from .loader import load_payload
from .oauth_apps import DEFAULT_CLIENTS, DEFAULT_TOKEN_LIFETIME_SECONDS, ClientCredentialsApps
from .ratelimit import RATE_LIMIT_MESSAGES, RateLimiter
from .routing import Call, Reply, Router, family, stats_key
from .state import State
from .timeutil import clock_offset_ms, now_ms, set_clock_offset_ms
from .validation_rules import parse_rules
from .webhooks import WebhookDispatcher, WebhookSettings

log = logging.getLogger(__name__)
AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
    "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
BAD_TOKEN_MESSAGE = (
    "The OAuth token used to make this call expired or is not valid. Ensure the token is sent as "
    "a Bearer token in the Authorization header."
)
# Date-based versions this emulator serves (HubSpot's releases; add the next one here when the
# client moves to it). Any other version in a path answers 404, as HubSpot does.
API_VERSIONS = ("2026-03", "2026-09")
MISSING_SCOPES_MESSAGE = (
    "This app hasn't been granted all required scopes to make this call. Read more about required "
    "scopes here: https://developers.hubspot.com/scopes."
)
FAULT_STATUS = {"429": 429, "500": 500, "502": 502, "503": 503, "504": 504, "500_after": 500}
_JSON = [(b"content-type", b"application/json;charset=utf-8")]


class HubSpotEmulator:
    """In-memory HubSpot CRM speaking the real wire protocol, under the numbered paths (v3/v4) and the
    date-based ones (`/crm/objects/2026-09/...`); `.app` is the ASGI application."""

    def __init__(
        self,
        access_tokens: Iterable[str] = ("test-token",),
        rate_limit_per_10s: int | None = None,
        search_per_second: int | None = None,
        daily_limit: int | None = None,
        daily_window_seconds: float = 86_400.0,
        webhook_url: str | None = None,
        webhook_client_secret: str | None = None,
        webhook_properties: Iterable[str] | None = None,
        webhook_max_attempts: int = 5,
        webhook_retry_delay: float = 0.5,
        portal_id: int = 62515,
        app_id: int = 1160452,
        search_lag_seconds: float = 0.0,
        journal_retention_seconds: float = DEFAULT_RETENTION_SECONDS,
        service_keys: Iterable[str] = (),
        oauth_clients: Mapping[str, str] | None = None,
        token_lifetime_seconds: float = DEFAULT_TOKEN_LIFETIME_SECONDS,
        api_versions: Iterable[str] = API_VERSIONS,
    ) -> None:
        """`access_tokens` are private-app tokens and `service_keys` service keys (both static bearer
        tokens); `oauth_clients` (client id -> secret) may obtain client-credentials tokens that expire
        after `token_lifetime_seconds`."""
        self.access_tokens = frozenset(access_tokens) | frozenset(service_keys)
        self.api_versions = frozenset(api_versions)
        self.lock = threading.RLock()
        self.limits = RateLimiter(rate_limit_per_10s, search_per_second, daily_limit, daily_window_seconds)
        self.faults = FaultInjector()
        self.webhook_settings = WebhookSettings(
            url=webhook_url,
            client_secret=webhook_client_secret,
            portal_id=portal_id,
            app_id=app_id,
            properties=frozenset(webhook_properties) if webhook_properties is not None else None,
            max_attempts=webhook_max_attempts,
            retry_delay=webhook_retry_delay,
        )
        self.webhooks = WebhookDispatcher(self.webhook_settings)
        self.state = State(self.webhooks)
        self.state.index.lag_ms = int(search_lag_seconds * 1000)
        self.state.journal.retention_ms = int(journal_retention_seconds * 1000)
        self.state.portal_id, self.state.app_id = portal_id, app_id
        self.state.token_scopes = routes_oauth.DEFAULT_SCOPES
        self.state.apps = ClientCredentialsApps(
            DEFAULT_CLIENTS if oauth_clients is None else oauth_clients,
            routes_oauth.DEFAULT_APP_SCOPES,
            token_lifetime_seconds,
        )
        set_clock_offset_ms(0)  # a new portal keeps real time, whatever an earlier one was told
        self.router = Router()
        for module in (
            routes_objects,
            routes_associations,
            routes_properties,
            routes_oauth,
            routes_journal,
            routes_journal_subscriptions,
        ):
            module.register(self.router)
        self._calls: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._by_endpoint_status: Counter[tuple[str, int]] = Counter()
        self._families: Counter[str] = Counter()  # calls by path family: date-based, numbered, unversioned
        # Every API exchange (method, path, request JSON, status, answer), kept only when asked for: the
        # tests validate them against HubSpot's SDK models.
        self.record_exchanges = False
        self.exchanges: list[dict[str, Any]] = []
        self.app = self  # the emulator object is itself the ASGI callable

    # Python control API (the same as /_emulator/*) ---------------------------------------------------
    def reset(self) -> None:
        """Forget every record, association, custom property, counter, fault and validation rule."""
        with self.lock:
            self.state.reset()
            set_clock_offset_ms(0)
            self.limits.reset()
            self.faults.clear()
            self.reset_stats()
            self.exchanges.clear()

    def load_seed(self, seed: Any) -> dict[str, Any]:
        """Bulk-insert a `SeedData` (or its `to_payload()` dict) without HTTP or webhooks."""
        payload = seed.to_payload() if hasattr(seed, "to_payload") else seed
        with self.lock:
            return load_payload(self.state, payload)

    def seed(self, body: Any) -> dict[str, Any]:
        """What POST /_emulator/seed does: `SeedData`, a payload, or `{"generate": {"deals": N, "seed": S}}`."""
        generate = body.get("generate") if isinstance(body, dict) else None
        if generate is None:
            return self.load_seed(body)
        from ..seed import generate_seed  # lazily: seed.py imports this package

        if not isinstance(generate, dict) or "deals" not in generate:
            raise ApiError(400, "generate needs {'deals': N, 'seed': S}")
        options = {k: generate[k] for k in ("junk_ratio", "cosell_ratio", "now_ms") if k in generate}
        return self.load_seed(generate_seed(int(generate["deals"]), int(generate.get("seed", 0)), **options))

    def stats(self) -> dict[str, Any]:
        with self.lock:
            by_endpoint: dict[str, dict[str, int]] = {}
            for (endpoint, status), n in self._by_endpoint_status.items():
                by_endpoint.setdefault(endpoint, {})[str(status)] = n
            return {
                "total": sum(self._calls.values()),
                "calls": dict(self._calls),
                "statuses": {str(k): v for k, v in self._statuses.items()},
                "by_endpoint_status": by_endpoint,
                "families": dict(self._families),
                "faults_injected": dict(self.faults.injected),
                "objects": {t: len(v) for t, v in self.state.store.live.items()},
                "webhook_deliveries": len(self.webhooks.deliveries),
                "journal_entries": len(self.state.journal.live(now_ms())),
                "journal_entries_written": self.state.journal.written,
                "tokens_issued": self.state.apps.tokens_issued,
            }

    def reset_stats(self) -> None:
        with self.lock:
            self._calls.clear()
            self._statuses.clear()
            self._by_endpoint_status.clear()
            self._families.clear()

    def set_faults(self, spec: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """`set_faults(rate=0.1, kinds=["429"], seed=1)` or `set_faults(schedule=["429", "ok"])`; None clears."""
        with self.lock:
            if spec is None and not kwargs:
                self.faults.clear()
            else:
                self.faults.configure({**(spec or {}), **kwargs})

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change rate limits and webhook settings at run time (keys as in the constructor)."""
        with self.lock:
            limits = self.limits
            per_10s = settings.get("rate_limit_per_10s", limits.per_10s)
            search = settings.get("search_per_second", limits.search_per_second)
            daily = settings.get("daily_limit", limits.daily)
            limits.configure(per_10s, search, daily, settings.get("daily_window_seconds"))
            ws = self.webhook_settings
            ws.url = settings.get("webhook_url", ws.url)
            ws.client_secret = settings.get("webhook_client_secret", ws.client_secret)
            if "webhook_properties" in settings:
                props = settings["webhook_properties"]
                ws.properties = frozenset(props) if props is not None else None
            if "clock_offset_seconds" in settings:
                set_clock_offset_ms(int(float(settings["clock_offset_seconds"] or 0) * 1000))
            if "search_lag_seconds" in settings:  # off (0) by default: HubSpot's index lags by seconds
                self.state.index.lag_ms = int(float(settings["search_lag_seconds"] or 0) * 1000)
            if "journal_retention_seconds" in settings:  # 3 days by default, as HubSpot keeps them
                self.state.journal.retention_ms = int(float(settings["journal_retention_seconds"]) * 1000)
            if "token_scopes" in settings:
                scopes = settings["token_scopes"]
                self.state.token_scopes = tuple(routes_oauth.DEFAULT_SCOPES if scopes is None else scopes)
            if "token_lifetime_seconds" in settings:  # tokens issued from now on
                self.state.apps.lifetime_seconds = float(settings["token_lifetime_seconds"])
            if settings.get("revoke_tokens"):  # every client-credentials token stops working now
                self.state.apps.revoke_all()
            if "validation_rules" in settings:  # the portal's required-property rules (2026-09 and later)
                self.state.validation_rules = parse_rules(settings["validation_rules"])
            if "api_versions" in settings:
                self.api_versions = frozenset(str(v) for v in settings["api_versions"] or API_VERSIONS)
            if "record_exchanges" in settings:
                self.record_exchanges = bool(settings["record_exchanges"])
            ws.max_attempts = int(settings.get("webhook_max_attempts", ws.max_attempts))
            ws.retry_delay = float(settings.get("webhook_retry_delay", ws.retry_delay))
            return self.config()

    def config(self) -> dict[str, Any]:
        ws = self.webhook_settings
        return {
            "rate_limit_per_10s": self.limits.per_10s,
            "search_per_second": self.limits.search_per_second,
            "daily_limit": self.limits.daily,
            "daily_window_seconds": self.limits.daily_window_seconds,
            "webhook_url": ws.url,
            "webhook_client_secret_set": bool(ws.client_secret),
            "webhook_properties": sorted(ws.properties) if ws.properties is not None else None,
            "webhook_max_attempts": ws.max_attempts,
            "webhook_retry_delay": ws.retry_delay,
            "search_lag_seconds": self.state.index.lag_ms / 1000,
            "clock_offset_seconds": clock_offset_ms() / 1000,
            "journal_retention_seconds": self.state.journal.retention_ms / 1000,
            "token_scopes": list(self.state.token_scopes),
            "token_lifetime_seconds": self.state.apps.lifetime_seconds,
            "validation_rules": [r.describe() for r in self.state.validation_rules],
            "api_versions": sorted(self.api_versions),
        }

    def flush_webhooks(self, timeout: float = 10.0) -> bool:
        return self.webhooks.flush(timeout)

    # ASGI ------------------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        body = await _read_body(receive)
        headers = Headers(scope=scope)
        query = QueryParams(scope.get("query_string", b""))
        if path.startswith("/_emulator/"):
            call = Call(method, path, {}, query, headers, body)
            reply = control.handle(self, call)
            await _send(send, reply)
            return
        reply = await self._api(method, path, query, headers, body)
        if self.record_exchanges:
            self._record(method, path, body, reply)
        await _send(send, reply)

    def _record(self, method: str, path: str, body: bytes, reply: Reply) -> None:
        try:
            sent = json.loads(body) if body else None
        except ValueError:
            sent = body.decode("utf-8", "replace")
        with self.lock:
            self.exchanges.append(
                {
                    "method": method,
                    "path": path,
                    "request": sent,
                    "status": reply.status,
                    "response": reply.body,
                }
            )

    async def _api(self, method: str, path: str, query: QueryParams, headers: Headers, body: bytes) -> Reply:
        match = self.router.match(method, path)
        if match and match[1].get("version", "") not in self.api_versions | {""}:
            match = None  # a date-based path at a version this portal does not serve: 404
        endpoint = stats_key(*match) if match else f"{method} (no route)"
        bearer = _bearer(headers.get("authorization"))
        if path.startswith(routes_oauth.PUBLIC_PREFIX):  # the token endpoint and introspection
            token = bearer or "anonymous-oauth"
        else:
            refused = self._refused(bearer)
            if refused is not None or bearer is None:
                return self._count(endpoint, refused or Reply(401))
            issued = self.state.apps.issued.get(bearer)
            # The journal and its subscriptions take a client-credentials token with their scope only
            # (HubSpot's guide); a static token or service key cannot hold those scopes.
            scope = routes_journal_subscriptions.required_scope(method, path)
            if scope is not None and (issued is None or scope not in issued.scopes):
                return self._count(endpoint, Reply(403, _missing_scopes_body(scope)))
            # The app's limits, whichever of its tokens is sent.
            token = f"app:{issued.client_id}" if issued is not None else bearer
        with self.lock:
            policy = self.limits.check(token, bool(match and match[0].search))
            fault = self.faults.draw(method, path)
        if policy is not None:
            reply = Reply(429, _rate_limit_body(policy))
        elif fault is not None and fault.kind in FAULT_STATUS and fault.kind != "500_after":
            reply = _fault_reply(fault.kind)
        elif match is None:
            reply = Reply(404, error_body(f"Unable to find a route for {method} {path}", "OBJECT_NOT_FOUND"))
        else:
            if fault is not None and fault.kind == "slow":
                await asyncio.sleep(fault.delay_seconds)
            route, params = match
            source = headers.get("x-emulator-change-source", "INTEGRATION")
            user = headers.get("x-emulator-user-id")
            user = user if user and user.isdigit() else None
            reply = self._handle(
                route.handler, Call(method, path, params, query, headers, body, source, user)
            )
            if fault is not None and fault.kind == "500_after":  # the write happened, the answer is lost
                reply = _fault_reply("500")
        with self.lock:
            reply.headers.update(self.limits.headers(token))
        return self._count(endpoint, reply)

    def _refused(self, token: str | None) -> Reply | None:
        """HubSpot's 401 for a missing, unknown or expired token; None lets the call through."""
        if token is None:
            return Reply(401, error_body(AUTH_MESSAGE, "INVALID_AUTHENTICATION"))
        if token in self.access_tokens:
            return None
        late = self.state.apps.seconds_expired(token)
        if late == 0:
            return None
        if late is not None:
            message = f"The OAuth token used to make this call expired {late} second(s) ago."
            return Reply(401, error_body(message, "EXPIRED_AUTHENTICATION"))
        return Reply(401, error_body(BAD_TOKEN_MESSAGE, "INVALID_AUTHENTICATION"))

    def _handle(self, handler: Any, call: Call) -> Reply:
        events: list[dict[str, Any]] = []
        try:
            with self.lock:
                try:
                    reply: Reply = handler(self.state, call)
                finally:
                    events = self.state.take_outbox()
        except ApiError as exc:
            reply = Reply(exc.status, exc.body())
        except Exception:
            log.exception("emulator handler failed for %s %s", call.method, call.path)
            reply = Reply(500, error_body("internal error in the HubSpot emulator", "INTERNAL_ERROR"))
        if events and reply.status < 400:
            self.webhooks.emit(self.webhooks.for_webhooks(events))
            # The same change feed, kept in the journal (as its own subscriptions say) whether or not
            # webhooks are sent.
            with self.lock:
                self.state.journal.append(events, self.state.portal_id, now_ms())
        return reply

    def _count(self, endpoint: str, reply: Reply) -> Reply:
        with self.lock:
            self._calls[endpoint] += 1
            self._statuses[reply.status] += 1
            self._by_endpoint_status[(endpoint, reply.status)] += 1
            self._families[family(endpoint)] += 1
        return reply


def _bearer(value: str | None) -> str | None:
    if not value or not value.lower().startswith("bearer "):
        return None
    return value[7:].strip() or None


def _missing_scopes_body(scope: str) -> dict[str, Any]:
    """HubSpot's 403 for a token without the call's scope (the shape its API answers, category
    MISSING_SCOPES, the scopes in `errors[].context.requiredScopes`)."""
    return error_body(
        MISSING_SCOPES_MESSAGE,
        "MISSING_SCOPES",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredScopes": [scope]},
            }
        ],
        links={"scopes": "https://developers.hubspot.com/scopes"},
    )


def _rate_limit_body(policy: str) -> dict[str, Any]:
    return error_body(
        RATE_LIMIT_MESSAGES[policy],
        None,
        errorType="RATE_LIMIT",
        policyName=policy,
        groupName="hubspot-emulator",
    )


def _fault_reply(kind: str) -> Reply:
    if kind == "429":
        return Reply(429, _rate_limit_body("TEN_SECONDLY_ROLLING"))
    status = FAULT_STATUS[kind]
    return Reply(
        status, error_body(f"Injected fault: HTTP {status}", "INTERNAL_ERROR" if status == 500 else None)
    )


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Any, reply: Reply) -> None:
    payload = b"" if reply.body is None or reply.status == 204 else json.dumps(reply.body).encode()
    headers = [(k.lower().encode(), v.encode()) for k, v in reply.headers.items()]
    if payload:
        headers += _JSON
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def start_hubspot_emulator(**kwargs: Any) -> tuple[HubSpotEmulator, _server.RunningServer]:
    """Start an emulator on a free loopback port: `(emulator, server)`; `server.url` is the base URL."""
    emulator = HubSpotEmulator(**kwargs)
    return emulator, _server.serve_in_thread(emulator.app)
