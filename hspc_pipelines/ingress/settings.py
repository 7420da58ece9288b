"""Ingress configuration, built from the product's `Settings` once at start-up.

`HUBSPOT_CLIENT_SECRET` is required unless webhooks are switched off with
`HSPC_WEBHOOK_ACCEPT_VERSIONS=none`: the ingress never accepts an unsigned webhook. Bearer tokens
(`HSPC_INGRESS_API_TOKENS`, or an SSM parameter) are required unless authentication is switched off
with `HSPC_INGRESS_AUTH=off` (local use; the ingress then logs a warning at every start).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hspc_pipelines.ingress.tokens import ApiToken, TokenConfigError, parse_tokens, token_id
from hspc_pipelines.settings import DEFAULT_MAX_BODY_BYTES, Settings, SettingsError, load_settings

SIGNATURE_VERSIONS = ("v1", "v2", "v3")
__all__ = ["DEFAULT_MAX_BODY_BYTES", "IngressConfigError", "IngressSettings", "SIGNATURE_VERSIONS"]


class IngressConfigError(ValueError):
    """The environment does not describe a usable ingress. Messages name the variable, never a secret."""


@dataclass(frozen=True)
class IngressSettings:
    client_secret: str | None = field(default=None, repr=False)
    queue_url: str | None = None
    public_url: str | None = None  # e.g. https://hooks.example.com (HubSpot's view of us, behind a proxy)
    accept_versions: frozenset[str] = frozenset({"v3"})
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    api_token: str | None = field(default=None, repr=False)  # one token, added to api_tokens
    region: str = "us-east-1"
    api_tokens: tuple[ApiToken, ...] = ()
    tokens_ssm_parameter: str | None = None
    token_refresh_seconds: float = 60.0
    auth_enabled: bool = True
    # The state database the runs write to (HSPC_STATE_URL, else SQLite under DAGSTER_HOME): request
    # statuses and the sync history are read from it. None: the answer routes say it is not configured.
    state_url: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.accept_versions) - set(SIGNATURE_VERSIONS)
        if unknown:
            raise IngressConfigError(
                f"HSPC_WEBHOOK_ACCEPT_VERSIONS: unknown version(s) {sorted(unknown)}; allowed: v1, v2, v3 or none"
            )
        if self.accept_versions and not self.client_secret:
            raise IngressConfigError(
                "HUBSPOT_CLIENT_SECRET is not set: webhooks cannot be verified "
                "(set it, or HSPC_WEBHOOK_ACCEPT_VERSIONS=none to switch webhooks off)"
            )
        if self.max_body_bytes < 1:
            raise IngressConfigError("HSPC_INGRESS_MAX_BODY_BYTES must be a positive number of bytes")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise IngressConfigError(
                f"HSPC_PUBLIC_URL must start with http:// or https://, not {self.public_url!r}"
            )

        if self.tokens_ssm_parameter and self.fixed_tokens:
            raise IngressConfigError(
                "HSPC_INGRESS_API_TOKENS_SSM_PARAMETER and HSPC_INGRESS_API_TOKEN(S) are both set: "
                "tokens read once would outlive a rotation in SSM; set only one"
            )
        if self.auth_enabled and not (self.tokens_ssm_parameter or self.fixed_tokens):
            raise IngressConfigError(
                "no bearer token is configured: set HSPC_INGRESS_API_TOKENS or "
                "HSPC_INGRESS_API_TOKENS_SSM_PARAMETER (or HSPC_INGRESS_AUTH=off, for local use only)"
            )
        if self.token_refresh_seconds < 0:
            raise IngressConfigError("HSPC_INGRESS_TOKEN_REFRESH_SECONDS must be 0 or more")

    @property
    def webhooks_enabled(self) -> bool:
        return bool(self.accept_versions)

    @property
    def fixed_tokens(self) -> tuple[ApiToken, ...]:
        """The tokens given in the settings (the SSM parameter's are read by the app)."""
        single = (ApiToken(token_id(self.api_token), self.api_token.encode()),) if self.api_token else ()
        return single + self.api_tokens

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IngressSettings:
        """From the product's settings (the environment now, or `env` alone)."""
        try:
            settings = load_settings(env)
        except SettingsError as exc:
            raise IngressConfigError(str(exc)) from None
        return cls.from_settings(settings)

    @classmethod
    def from_settings(cls, settings: Settings) -> IngressSettings:
        versions_text = settings.webhook_accept_versions.strip().lower()
        versions = (
            frozenset()
            if versions_text in ("none", "off", "")
            else frozenset(v.strip() for v in versions_text.split(",") if v.strip())
        )
        secret, token = settings.hubspot_client_secret, settings.ingress_api_token
        try:
            tokens = (
                parse_tokens(settings.ingress_api_tokens.get_secret_value(), "HSPC_INGRESS_API_TOKENS")
                if settings.ingress_api_tokens
                else ()
            )
            if token:
                tokens = parse_tokens(token.get_secret_value(), "HSPC_INGRESS_API_TOKEN")[:1] + tokens
        except TokenConfigError as exc:
            raise IngressConfigError(str(exc)) from None
        return cls(
            client_secret=secret.get_secret_value() if secret else None,
            queue_url=settings.events_queue_url,
            public_url=(settings.public_url or "").rstrip("/") or None,
            accept_versions=versions,
            max_body_bytes=settings.ingress_max_body_bytes,
            region=settings.aws_region,
            api_tokens=tokens,
            tokens_ssm_parameter=settings.ingress_api_tokens_ssm_parameter,
            token_refresh_seconds=settings.ingress_token_refresh_seconds,
            auth_enabled=settings.ingress_auth == "on",
            state_url=settings.state_url_or_default(str(settings.home())),
        )
