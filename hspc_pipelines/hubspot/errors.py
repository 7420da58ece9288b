"""Errors the HubSpot client raises, built from HubSpot's JSON error body.

Messages name the method, the path and HubSpot's own words; they never carry the access token (it
travels in a header, and `scrub` removes it should HubSpot ever echo it back).
"""

from __future__ import annotations

from typing import Any

from hspc_pipelines.hubspot.portal_rules import PortalRuleRefusal, refusal_from


class HubSpotError(Exception):
    """A call HubSpot refused or that never got an answer (`status` 0)."""

    def __init__(
        self,
        status: int,
        category: str | None,
        message: str,
        correlation_id: str | None = None,
        *,
        context: dict[str, Any] | None = None,
        method: str | None = None,
        path: str | None = None,
        policy: str | None = None,
        errors: list[Any] | None = None,
    ) -> None:
        self.status = status
        self.category = category
        self.message = message
        self.correlation_id = correlation_id
        self.context = context or {}
        self.method = method
        self.path = path
        self.policy = policy
        self.errors = list(errors or [])  # HubSpot's `errors[]` details (code, context, message)
        super().__init__(self._render())

    @property
    def rule(self) -> PortalRuleRefusal | None:
        """The portal's required-property rules that refused this write, if that is what it is."""
        return refusal_from({"category": self.category, "errors": self.errors})

    def _render(self) -> str:
        where = f"{self.method} {self.path}: " if self.method else ""
        what = f"HTTP {self.status}" if self.status else "no response"
        category = f" {self.category}" if self.category else ""
        corr = f" (correlationId {self.correlation_id})" if self.correlation_id else ""
        rule = self.rule
        return f"HubSpot {where}{what}{category}: {rule.describe() if rule else self.message}{corr}"


class RateLimitExhausted(HubSpotError):
    """The portal's DAILY quota is used up: waiting seconds will not help, only tomorrow will."""


class SearchLimitExceeded(HubSpotError):
    """A search would page past HubSpot's 10,000-result cap (HubSpot answers 400 there)."""


class SearchWindowTooDense(SearchLimitExceeded):
    """More than 10,000 objects share one millisecond of hs_lastmodifieddate: the window cannot split."""


class JournalOffsetExpired(HubSpotError):
    """The webhooks journal no longer holds this offset: it is older than the journal keeps (three
    days), so the changes after it cannot be read from the journal any more."""


def scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def error_from_body(
    status: int, body: Any, *, method: str, path: str, token: str | None, fallback: str = ""
) -> HubSpotError:
    """Build the right error class from a parsed (or unparseable) HubSpot error body."""
    data = body if isinstance(body, dict) else {}
    message = scrub(str(data.get("message") or fallback or "no error message"), token)
    category = data.get("category")
    policy = data.get("policyName")
    if status == 429 and policy == "DAILY":
        return RateLimitExhausted(
            status,
            category,
            f"daily API limit reached for this HubSpot account; {message}. "
            "Runs resume once HubSpot resets the daily quota (midnight in the portal's time zone).",
            data.get("correlationId"),
            context=data.get("context"),
            method=method,
            path=path,
            policy=policy,
        )
    details = data.get("errors") if isinstance(data.get("errors"), list) else None
    if details and token:  # a detail's text reaches messages too (a rule's): never the token
        details = [
            {**d, "message": scrub(str(d["message"]), token)} if isinstance(d, dict) and "message" in d else d
            for d in details
        ]
    return HubSpotError(
        status,
        category,
        message,
        data.get("correlationId"),
        context=data.get("context"),
        method=method,
        path=path,
        policy=policy,
        errors=details,
    )
