"""A developer-platform app's client-credentials tokens as the emulator keeps them (routes_oauth.py serves them)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ApiError
from .timeutil import now_ms

DEFAULT_CLIENTS = {"test-client-id": "test-client-secret"}
DEFAULT_TOKEN_LIFETIME_SECONDS = 1800.0  # HubSpot's OAuth access tokens live 30 minutes


@dataclass(frozen=True)
class Issued:
    client_id: str
    scopes: tuple[str, ...]
    expires_ms: int


class ClientCredentialsApps:
    """The apps (client id -> secret) that may ask for tokens, and the tokens issued, by value."""

    def __init__(self, clients: Mapping[str, str], scopes: tuple[str, ...], lifetime_seconds: float) -> None:
        self.clients = dict(clients)
        self.scopes = scopes
        self.lifetime_seconds = lifetime_seconds
        self.issued: dict[str, Issued] = {}
        self.tokens_issued = 0
        self._lock = threading.Lock()

    def issue(self, client_id: str, client_secret: str, scope: str) -> dict[str, object]:
        if client_id not in self.clients:
            raise oauth_error("BAD_CLIENT_ID", "missing or unknown client id")
        if not secrets.compare_digest(self.clients[client_id], client_secret):
            raise oauth_error("BAD_CLIENT_SECRET", "the client secret does not match the client id")
        wanted = tuple(scope.split()) or self.scopes
        unknown = [s for s in wanted if s not in self.scopes]
        if unknown:
            raise oauth_error("BAD_SCOPES", f"scopes not configured for this app: {' '.join(unknown)}")
        token = "cc-" + secrets.token_urlsafe(24)
        lifetime_ms = int(self.lifetime_seconds * 1000)
        with self._lock:
            self.issued[token] = Issued(client_id, wanted, now_ms() + lifetime_ms)
            self.tokens_issued += 1
        return {
            "token_type": "bearer",
            "access_token": token,
            "expires_in": int(self.lifetime_seconds),
            "scope": " ".join(wanted),
        }

    def seconds_expired(self, token: str) -> int | None:
        """None: not an issued token; 0: valid; n > 0: expired n seconds ago (rounded up)."""
        issued = self.issued.get(token)
        if issued is None:
            return None
        late = now_ms() - issued.expires_ms
        return 0 if late < 0 else max(1, -(-late // 1000))

    def revoke_all(self) -> int:
        """Tokens stop working at once (a test's way to make HubSpot answer 401)."""
        with self._lock:
            n = len(self.issued)
            self.issued.clear()
            return n


def oauth_error(code: str, message: str) -> ApiError:
    """The token endpoint's refusal: 400 with `status` naming the problem (not "error")."""
    error = ApiError(400, message, "")
    error.extra = {"status": code}
    return error
