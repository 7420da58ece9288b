"""Ingress configuration, built from the product's `Settings` once at start-up.

`HUBSPOT_CLIENT_SECRET` is required unless webhooks are switched off with
`HSPC_WEBHOOK_ACCEPT_VERSIONS=none`: the ingress never accepts an unsigned webhook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
    api_token: str | None = field(default=None, repr=False)
    region: str = "us-east-1"
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

    @property
    def webhooks_enabled(self) -> bool:
        return bool(self.accept_versions)

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
        return cls(
            client_secret=secret.get_secret_value() if secret else None,
            queue_url=settings.events_queue_url,
            public_url=(settings.public_url or "").rstrip("/") or None,
            accept_versions=versions,
            max_body_bytes=settings.ingress_max_body_bytes,
            api_token=token.get_secret_value() if token else None,
            region=settings.aws_region,
            state_url=settings.state_url_or_default(str(settings.home())),
        )
