"""Errors from Partner Central, with the service's reason and field errors spelled out.

Built from botocore's ClientError. Messages carry what AWS said and, for access problems, what to
check; never keys or tokens (anything shaped like an access key id is masked as well).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_KEY_ID = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{12,}\b")


def scrub(text: str) -> str:
    return _KEY_ID.sub("***", text)


@dataclass(frozen=True)
class FieldIssue:
    """One entry of a ValidationException's ErrorList."""

    field: str
    message: str
    code: str | None = None

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        return f"{self.field}: {self.message}{code}"


# The error codes AWS answers when a quota is spent (the ThrottledCalls metric counts them).
THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException"})


class PartnerCentralError(Exception):
    def __init__(
        self,
        operation: str,
        code: str,
        message: str,
        reason: str | None = None,
        field_errors: Sequence[FieldIssue] = (),
    ) -> None:
        self.operation = operation
        self.code = code
        self.message = scrub(message)
        self.reason = reason
        self.field_errors = list(field_errors)
        super().__init__(self._render())

    def _render(self) -> str:
        reason = f" ({self.reason})" if self.reason else ""
        text = f"Partner Central {self.operation}: {self.code}{reason}: {self.message}"
        if self.field_errors:
            text += "; " + "; ".join(str(f) for f in self.field_errors)
        return text


class AccessDeniedError(PartnerCentralError):
    """Wrong role, trust policy, ExternalId or IAM actions: every call would fail the same way."""

    HINT = (
        "Check PARTNER_CENTRAL_ROLE_ARN (the role to assume), that the role's trust policy allows "
        "this principal with an sts:ExternalId condition equal to PARTNER_CENTRAL_EXTERNAL_ID, and "
        "that the role's policy grants partnercentral:{action} on catalog {catalog}."
    )
    ASSUME_HINT = (
        "AWS refused to let these credentials assume PARTNER_CENTRAL_ROLE_ARN: check the ARN, that "
        "the caller may call sts:AssumeRole on it, and that the role's trust policy names this "
        "principal with an sts:ExternalId condition equal to PARTNER_CENTRAL_EXTERNAL_ID."
    )

    def __init__(
        self,
        operation: str,
        code: str,
        message: str,
        reason: str | None = None,
        field_errors: Sequence[FieldIssue] = (),
        catalog: str | None = None,
    ) -> None:
        hint = (
            self.ASSUME_HINT
            if operation == "AssumeRole"
            else self.HINT.format(action=operation, catalog=catalog or "AWS")
        )
        super().__init__(operation, code, f"{message}. {hint}", reason, field_errors)


class ConflictError(PartnerCentralError):
    """ConflictException: the record changed since it was read (re-read, merge, retry)."""


class ThrottledError(PartnerCentralError):
    """ThrottlingException after botocore's own retries: the quota is spent for now."""


QUOTA_DEFERRED = "QuotaDeferred"


class QuotaDeferredError(PartnerCentralError):
    """Not sent: the 24-hour quota the product keeps (its ledger) does not cover the call. The work
    waits for `retry_at` (epoch seconds); callers defer it rather than fail it."""

    def __init__(self, operation: str, message: str, retry_at: float) -> None:
        self.retry_at = retry_at
        super().__init__(operation, QUOTA_DEFERRED, message)


_ACCESS_CODES = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)


def from_error_response(
    operation: str, response: Mapping[str, Any], catalog: str | None = None
) -> PartnerCentralError:
    """Map a botocore error response (`ClientError.response`) to the right error class."""
    error = response.get("Error") or {}
    code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or response.get("Message") or response.get("message") or "")
    reason = response.get("Reason") or error.get("Reason")
    issues = [
        FieldIssue(str(e.get("FieldName", "?")), str(e.get("Message", "")), e.get("Code"))
        for e in response.get("ErrorList") or error.get("ErrorList") or []
        if isinstance(e, Mapping)
    ]
    if code in _ACCESS_CODES:
        return AccessDeniedError(operation, code, message, reason, issues, catalog=catalog)
    if code == "ConflictException":
        return ConflictError(operation, code, message, reason, issues)
    if code in THROTTLING_CODES:
        return ThrottledError(operation, code, message, reason, issues)
    return PartnerCentralError(operation, code, message, reason, issues)
