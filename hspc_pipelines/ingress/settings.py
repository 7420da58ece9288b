"""Ingress configuration, read from the environment once at start-up.

`HUBSPOT_CLIENT_SECRET` is required unless webhooks are switched off with
`HSPC_WEBHOOK_ACCEPT_VERSIONS=none`: the ingress never accepts an unsigned webhook.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

SIGNATURE_VERSIONS = ("v1", "v2", "v3")
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


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
        env = os.environ if env is None else env
        versions_text = env.get("HSPC_WEBHOOK_ACCEPT_VERSIONS", "v3").strip().lower()
        versions = (
            frozenset()
            if versions_text in ("none", "off", "")
            else frozenset(v.strip() for v in versions_text.split(",") if v.strip())
        )
        max_body_text = env.get("HSPC_INGRESS_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES))
        try:
            max_body = int(max_body_text)
        except ValueError:
            raise IngressConfigError(
                f"HSPC_INGRESS_MAX_BODY_BYTES must be an integer, not {max_body_text!r}"
            ) from None
        return cls(
            client_secret=env.get("HUBSPOT_CLIENT_SECRET") or None,
            queue_url=env.get("HSPC_EVENTS_QUEUE_URL") or None,
            public_url=(env.get("HSPC_PUBLIC_URL") or "").rstrip("/") or None,
            accept_versions=versions,
            max_body_bytes=max_body,
            api_token=env.get("HSPC_INGRESS_API_TOKEN") or None,
            region=env.get("AWS_REGION") or "us-east-1",
        )
