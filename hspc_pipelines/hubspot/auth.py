"""How hspc proves itself to HubSpot: a static token, or OAuth client-credentials tokens that expire.

Three modes (`HSPC_HUBSPOT_AUTH`, inferred from the variables set when unset; docs/hubspot-app.md):

- `private_app`: a static bearer token (a legacy private app's, or a developer-platform app's static
  auth token) from HUBSPOT_ACCESS_TOKEN or the SSM parameter, re-read from SSM after a 401.
- `service_key`: a service key, also a static bearer token from the same variables; HubSpot's service
  keys cannot receive webhooks and have no documented introspection.
- `client_credentials`: a developer-platform app's client id and secret exchanged at `POST
  /oauth/v1/token` (`grant_type=client_credentials`) for tokens that expire; cached, refreshed before
  they expire and once after a 401, shared by every client of the process (`shared_client_credentials`),
  so the webhooks-journal reader and the CRM client hold one token between them.

Every credential answers `current()` (the token to send now) and `after_401(sent)` (another token worth
one more try, or None). Tokens and the client secret never reach a log line, an error or a repr.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from hspc_pipelines.doctor.scopes import APP_SCOPES
from hspc_pipelines.hubspot.errors import HubSpotError, scrub
from hspc_pipelines.settings import Settings, SettingsError

log = logging.getLogger(__name__)

# Verified in HubSpot's reference (docs/hubspot-app.md, "What was verified"): form-encoded POST,
# grant_type/client_id/client_secret/scope, answer with the token and its lifetime in seconds.
TOKEN_PATH = "/oauth/v1/token"
# A token is renewed once this share of its lifetime is left (HubSpot's last 30 minutes: 6 minutes),
# and never later than MAX_REFRESH_MARGIN seconds before it expires.
REFRESH_SHARE = 0.2
MAX_REFRESH_MARGIN = 300.0


class AuthMode(StrEnum):
    PRIVATE_APP = "private_app"
    CLIENT_CREDENTIALS = "client_credentials"
    SERVICE_KEY = "service_key"


# Which variables each mode takes its secret from (for the errors that name them).
STATIC_TOKEN_VARIABLES = ("HUBSPOT_ACCESS_TOKEN", "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER")
CLIENT_CREDENTIALS_VARIABLES = ("HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET")


class Credentials(Protocol):
    """What the HubSpot client asks of a credential."""

    mode: AuthMode

    def current(self) -> str:
        """The token to send now (fetched or renewed when needed)."""
        ...

    def after_401(self, sent: str) -> str | None:
        """HubSpot refused `sent`: a different token worth one more try, or None (the 401 stands)."""
        ...


class StaticToken:
    """A private-app token or a service key; `reread` (SSM) is asked for a new one after a 401."""

    def __init__(
        self, token: str, mode: AuthMode = AuthMode.PRIVATE_APP, reread: Callable[[], str] | None = None
    ) -> None:
        if not token:
            raise ValueError("HubSpot access token is empty: set HUBSPOT_ACCESS_TOKEN")
        self.mode = mode
        self._token = token
        self._reread = reread
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the token
        return f"StaticToken(mode={self.mode.value!r})"

    def current(self) -> str:
        return self._token

    def after_401(self, sent: str) -> str | None:
        """Another thread may already have re-read it; the source is asked at most once per 401, so a
        revoked token ends in the 401's error, not in a loop."""
        if self._reread is None:
            return None
        with self._lock:
            if self._token != sent:
                return self._token
            try:
                fresh = self._reread()
            except Exception as exc:  # SSM unreachable: the 401 stands; the type says why, never a value
                log.warning("HubSpot answered 401 and the token could not be re-read: %s", type(exc).__name__)
                return None
            if not fresh or fresh == sent:
                return None
            log.info("HubSpot answered 401: using the token re-read from its source")
            self._token = fresh
            return fresh


class TokenRequestError(HubSpotError):
    """HubSpot's token endpoint refused the client id and secret (or could not be reached)."""


@dataclass(frozen=True)
class _Issued:
    token: str
    renew_at: float  # on the provider's clock
    lifetime: float
    scopes: tuple[str, ...]  # granted, as the answer says (else as asked for)
    hub_id: Any = None
    app_id: Any = None


class ClientCredentials:
    """OAuth client-credentials tokens for a developer-platform app: one at a time, renewed before it
    expires; thread-safe (one fetch however many threads find it stale)."""

    mode = AuthMode.CLIENT_CREDENTIALS

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        base_url: str = "https://api.hubapi.com",
        *,
        scopes: Sequence[str] = APP_SCOPES,
        timeout: float | tuple[float, float] = (5, 30),
        max_retries: int = 4,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ) -> None:
        if not client_id:
            raise ValueError("HUBSPOT_CLIENT_ID is empty: set it to the app's client id (its Auth tab)")
        if not client_secret:
            raise ValueError(
                "HUBSPOT_CLIENT_SECRET is empty: set it to the app's client secret (its Auth tab)"
            )
        self.client_id = client_id
        self._secret = client_secret
        self.base_url = base_url.rstrip("/")
        self.scopes = tuple(scopes)
        self.timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._issued: _Issued | None = None
        self.fetches = 0  # tokens obtained by this provider (figures and tests)
        self.session = session or requests.Session()
        # Asking for a token twice is harmless (each answer is a valid token), so 429 and 5xx are
        # repeated, honouring Retry-After.
        retry = Retry(
            total=max_retries,
            backoff_factor=0.5,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"POST"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.session.mount("http://", HTTPAdapter(max_retries=retry))

    def __repr__(self) -> str:  # the client id is not a secret; the secret and tokens are
        return f"ClientCredentials(client_id={self.client_id!r}, base_url={self.base_url!r})"

    def current(self) -> str:
        with self._lock:
            issued = self._issued
            if issued is None or self._clock() >= issued.renew_at:
                issued = self._fetch()
            return issued.token

    def after_401(self, sent: str) -> str | None:
        """A token HubSpot no longer takes (revoked, or expired early): one new one, unless another
        thread already replaced it."""
        with self._lock:
            if self._issued is not None and self._issued.token != sent:
                return self._issued.token
            log.info("HubSpot answered 401 for the client-credentials token: requesting a new one")
            return self._fetch().token

    def granted(self) -> dict[str, Any]:
        """What the last token answer said: `scopes` (granted, else those asked for), `hubId`, `appId`,
        `expiresIn` (its lifetime, seconds); empty before the first token. Never the token."""
        with self._lock:
            issued = self._issued
        if issued is None:
            return {}
        return {
            "scopes": list(issued.scopes),
            "hubId": issued.hub_id,
            "appId": issued.app_id,
            "expiresIn": issued.lifetime,
        }

    def _fetch(self) -> _Issued:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
            "scope": " ".join(self.scopes),
        }
        where = f"POST {TOKEN_PATH}"
        try:
            response = self.session.post(
                self.base_url + TOKEN_PATH,
                data=form,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise TokenRequestError(
                0, "CONNECTION", self._scrub(f"{type(exc).__name__}: {exc}"), method="POST", path=TOKEN_PATH
            ) from None
        body = _json(response)
        if response.status_code >= 400:
            said = body.get("message") or body.get("error_description") or response.text[:300]
            raise TokenRequestError(
                response.status_code,
                str(body.get("status") or body.get("category") or body.get("error") or "") or None,
                self._scrub(
                    f"HubSpot refused a client-credentials token for HUBSPOT_CLIENT_ID={self.client_id!r}"
                    f": {said}. Check HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET (the app's Auth tab) "
                    f"and that the app has the scopes asked for: {' '.join(self.scopes)}"
                ),
                body.get("correlationId"),
                method="POST",
                path=TOKEN_PATH,
            )
        token, lifetime = _token_and_lifetime(body)
        if not token or lifetime is None:
            raise TokenRequestError(
                response.status_code,
                "UNEXPECTED_ANSWER",
                f"{where} answered without access_token and expires_in (fields: {sorted(body)})",
                method="POST",
                path=TOKEN_PATH,
            )
        margin = min(MAX_REFRESH_MARGIN, lifetime * REFRESH_SHARE)
        self._issued = _Issued(
            token,
            self._clock() + max(0.0, lifetime - margin),
            lifetime,
            _granted_scopes(body) or self.scopes,
            body.get("hub_id", body.get("hubId")),
            body.get("app_id", body.get("appId")),
        )
        self.fetches += 1
        log.info("HubSpot client-credentials token obtained (valid %.0f s)", lifetime)
        return self._issued

    def _scrub(self, text: str) -> str:
        text = scrub(text, self._secret)
        return scrub(text, self._issued.token) if self._issued else text


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _token_and_lifetime(body: Mapping[str, Any]) -> tuple[str, float | None]:
    """RFC 6749's `access_token`/`expires_in`; HubSpot's generated reference also shows camelCase."""
    token = body.get("access_token") or body.get("accessToken") or ""
    raw = body.get("expires_in", body.get("expiresIn"))
    try:
        lifetime = float(raw) if raw is not None and not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        lifetime = None
    return str(token), (lifetime if lifetime is not None and lifetime >= 0 else None)


def _granted_scopes(body: Mapping[str, Any]) -> tuple[str, ...]:
    """RFC 6749's space-separated `scope`, or the `scopes` list HubSpot's reference shows."""
    listed = body.get("scopes")
    if isinstance(listed, list):
        return tuple(str(s) for s in listed)
    spaced = body.get("scope")
    return tuple(spaced.split()) if isinstance(spaced, str) else ()


# -- one provider per app in a process -------------------------------------------------------------

_SHARED: dict[tuple[str, str, str, tuple[str, ...]], ClientCredentials] = {}
_SHARED_LOCK = threading.Lock()


def shared_client_credentials(
    client_id: str, client_secret: str, base_url: str, scopes: Sequence[str] = APP_SCOPES
) -> ClientCredentials:
    """The process's provider for this app (same id, secret, API root and scopes): every client and
    sensor in the process sends the same token and asks for a new one once."""
    digest = hashlib.sha256(client_secret.encode()).hexdigest()  # the key never holds the secret
    key = (base_url.rstrip("/"), client_id, digest, tuple(scopes))
    with _SHARED_LOCK:
        provider = _SHARED.get(key)
        if provider is None:
            provider = _SHARED[key] = ClientCredentials(client_id, client_secret, base_url, scopes=scopes)
        return provider


# -- which mode, from the settings ----------------------------------------------------------------


def auth_mode(settings: Settings) -> AuthMode | None:
    """The mode HSPC_HUBSPOT_AUTH names, or the one the variables set imply (None: nothing is set).

    Raises SettingsError naming the variables when the choice is ambiguous or its secrets are missing."""
    static = [n for n, v in _static_sources(settings).items() if v]
    app = [n for n, v in _client_sources(settings).items() if v]
    mode: AuthMode
    if settings.hubspot_auth is not None:
        mode = AuthMode(settings.hubspot_auth)
    else:
        if static and settings.hubspot_client_id:
            raise SettingsError(
                f"HubSpot credentials are ambiguous: {' and '.join(static)} (a static token) and "
                "HUBSPOT_CLIENT_ID (client credentials) are both set; set HSPC_HUBSPOT_AUTH to "
                "private_app, service_key or client_credentials"
            )
        if settings.hubspot_client_id:
            mode = AuthMode.CLIENT_CREDENTIALS
        elif static:
            mode = AuthMode.PRIVATE_APP
        else:
            return None
    if mode is AuthMode.CLIENT_CREDENTIALS:
        missing = [n for n in CLIENT_CREDENTIALS_VARIABLES if n not in app]
        if missing:
            raise SettingsError(
                f"HSPC_HUBSPOT_AUTH=client_credentials needs {' and '.join(missing)} (the developer-platform "
                "app's client id and secret, its Auth tab)"
            )
    elif not static:
        what = "service key" if mode is AuthMode.SERVICE_KEY else "private app token"
        raise SettingsError(
            f"HSPC_HUBSPOT_AUTH={mode.value} needs HUBSPOT_ACCESS_TOKEN or HSPC_HUBSPOT_TOKEN_SSM_PARAMETER "
            f"(the {what})"
        )
    return mode


def _static_sources(settings: Settings) -> dict[str, bool]:
    return {
        "HUBSPOT_ACCESS_TOKEN": settings.hubspot_access_token is not None,
        "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER": bool(settings.hubspot_token_ssm_parameter),
    }


def _client_sources(settings: Settings) -> dict[str, bool]:
    return {
        "HUBSPOT_CLIENT_ID": bool(settings.hubspot_client_id),
        "HUBSPOT_CLIENT_SECRET": settings.hubspot_client_secret is not None,
    }


def credentials_from_settings(
    settings: Settings, ssm_reader: Callable[[str, str], str] | None = None
) -> Credentials:
    """The credential the settings describe; `ssm_reader(parameter, region)` reads a SecureString (the
    SSM parameter is read now, and again after a 401). Raises SettingsError when nothing is set."""
    mode = auth_mode(settings)
    if mode is None:
        raise SettingsError(
            "no HubSpot credentials: set HUBSPOT_ACCESS_TOKEN (a private app token or, with "
            "HSPC_HUBSPOT_AUTH=service_key, a service key), HSPC_HUBSPOT_TOKEN_SSM_PARAMETER, or "
            "HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET (a developer-platform app); docs/hubspot-app.md"
        )
    if mode is AuthMode.CLIENT_CREDENTIALS:
        assert settings.hubspot_client_id and settings.hubspot_client_secret  # auth_mode checked them
        return shared_client_credentials(
            settings.hubspot_client_id,
            settings.hubspot_client_secret.get_secret_value(),
            settings.hubspot_base_url,
        )
    if settings.hubspot_access_token is not None:
        return StaticToken(settings.hubspot_access_token.get_secret_value(), mode)
    parameter, region = settings.hubspot_token_ssm_parameter, settings.aws_region
    if ssm_reader is None or not parameter:
        raise SettingsError(
            "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER is set but nothing here reads SSM: set HUBSPOT_ACCESS_TOKEN"
        )
    return StaticToken(ssm_reader(parameter, region), mode, reread=lambda: ssm_reader(parameter, region))
