"""Who may call the ingress: one app-level FastAPI dependency, so every route needs a bearer token
unless it is listed in PUBLIC_PATHS (HubSpot's signed webhooks verify their own signature; /healthz
is the load balancer's probe). A route added later is covered without doing anything.

The token is read from the Authorization header only: a token in the query string ends up in access
logs and proxies' caches, so it is never accepted. Refusals name nothing secret, and a client that
keeps failing gets 429 with Retry-After before its token is even compared.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request

from hspc_pipelines.ingress.tokens import ApiToken, TokenSource, match_token

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/healthz", "/webhook/hubspot", "/webhook/deal-update"})
MAX_FAILURES = 10  # failed authentications per client ...
FAILURE_WINDOW_SECONDS = 60.0  # ... within this window; the next request gets 429
MAX_TRACKED_CLIENTS = 10_000  # memory bound: the oldest client is forgotten first
MAX_AUTHORIZATION_CHARS = 1024
UNAUTHORIZED = "a valid bearer token is required"
AUTH_OFF_ID = "auth-off"  # the audit id of requests served with HSPC_INGRESS_AUTH=off
# Query parameters a caller might put a token in: refused outright, so nobody comes to rely on it.
_QUERY_TOKEN_NAMES = frozenset({"token", "access_token", "api_token", "apikey", "api_key", "auth", "bearer"})


class FailureLimiter:
    """Failed authentications per client in a sliding window (thread-safe, bounded memory)."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_seconds: float = FAILURE_WINDOW_SECONDS,
        max_clients: int = MAX_TRACKED_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures, self.window, self.max_clients = max_failures, window_seconds, max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float | None:
        """Seconds this client must wait, or None when it may try."""
        now = self._clock()
        with self._lock:
            times = self._failures.get(client)
            if times is None:
                return None
            while times and now - times[0] >= self.window:
                times.popleft()
            if len(times) < self.max_failures:
                return None
            return self.window - (now - times[0])

    def fail(self, client: str) -> None:
        with self._lock:
            times = self._failures.pop(client, None) or deque(maxlen=self.max_failures)
            times.append(self._clock())
            self._failures[client] = times  # most recent last
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)


def client_key(request: Request, behind_proxy: bool) -> str:
    """The client a failure is counted against. Behind API Gateway (HSPC_PUBLIC_URL set) the peer is
    the gateway, which appends the caller's address to X-Forwarded-For: the last entry is the one it
    wrote (earlier entries are whatever the caller sent)."""
    if behind_proxy:
        forwarded = request.headers.get("x-forwarded-for", "").rsplit(",", 1)[-1].strip()
        if forwarded:
            return forwarded[:64]
    return request.client.host if request.client else "unknown"


def route_path(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", request.url.path))


def bearer(request: Request) -> bytes | None:
    header = request.headers.get("authorization")
    if header is None or len(header) > MAX_AUTHORIZATION_CHARS:
        return None
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return None
    # The header is latin-1 text, so encoding cannot fail; tokens are ASCII.
    return presented.strip().encode("latin-1", "replace")


class IngressAuth:
    """The dependency. It marks an accepted request with `request.state.api_token_id`."""

    def __init__(
        self,
        tokens: TokenSource,
        *,
        enabled: bool = True,
        behind_proxy: bool = False,
        limiter: FailureLimiter | None = None,
    ) -> None:
        self.tokens, self.enabled, self.behind_proxy = tokens, enabled, behind_proxy
        self.limiter = limiter or FailureLimiter()

    async def __call__(self, request: Request) -> None:
        path = route_path(request)
        if path in PUBLIC_PATHS:
            return
        if not self.enabled:
            request.state.api_token_id = AUTH_OFF_ID
            return
        client = client_key(request, self.behind_proxy)
        wait = self.limiter.retry_after(client)
        if wait is not None:
            log.warning("ingress: %s refused on %s: too many failed authentications", client, path)
            raise HTTPException(
                429,
                "too many failed authentications; retry later",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        token = await self._authenticate(request)
        if token is None:
            self.limiter.fail(client)
            log.info("ingress: %s refused on %s %s: %s", client, request.method, path, _why(request))
            raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
        request.state.api_token_id = token.id

    async def _authenticate(self, request: Request) -> ApiToken | None:
        if _QUERY_TOKEN_NAMES & {k.lower() for k in request.query_params}:
            return None
        presented = bearer(request)
        if presented is None:
            return None
        tokens = await run_in_threadpool(self.tokens.current) if self.tokens.due else self.tokens.tokens
        return match_token(presented, tokens)


def _why(request: Request) -> str:
    """What was wrong, in words that carry nothing the caller sent."""
    if _QUERY_TOKEN_NAMES & {k.lower() for k in request.query_params}:
        return "credential in the query string"
    header = request.headers.get("authorization")
    if header is None:
        return "no Authorization header"
    if len(header) > MAX_AUTHORIZATION_CHARS:
        return "Authorization header too long"
    if header.partition(" ")[0].lower() != "bearer":
        return "not a bearer token"
    return "unknown token"


def request_token_id(request: Request) -> str | None:
    """The id of the token the request was accepted with (AUTH_OFF_ID with authentication off), None
    when the auth dependency did not accept it (a public route)."""
    value: Any = getattr(request.state, "api_token_id", None)
    return str(value) if value is not None else None
