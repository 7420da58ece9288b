"""Partner Central errors as the JSON 1.0 protocol carries them: `__type`, message, modelled members.

The model's error shapes carry no `httpStatusCode`, so statuses follow the service's documented
Smithy traits: client faults 4xx (validation 400, denied 403, not found 404, conflict 409, quota
402, throttling 429), server faults 500. botocore keys on `__type`, not the status, except that
5xx answers are retried as transient.
"""

from __future__ import annotations

from typing import Any

STATUS = {
    "ValidationException": 400,
    "AccessDeniedException": 403,
    "ResourceNotFoundException": 404,
    "ConflictException": 409,
    "ServiceQuotaExceededException": 402,
    "ThrottlingException": 429,
    "InternalServerException": 500,
    "UnknownOperationException": 400,
    "SerializationException": 400,
}
REQUEST_VALIDATION_FAILED = "REQUEST_VALIDATION_FAILED"
BUSINESS_VALIDATION_FAILED = "BUSINESS_VALIDATION_FAILED"


class ApiError(Exception):
    """Raised anywhere in a handler; turned into the wire error by the app."""

    def __init__(self, code: str, message: str, **members: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.members = {k: v for k, v in members.items() if v is not None}

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 400)

    def body(self) -> dict[str, Any]:
        # botocore reads Error.Message from `message`; the modelled member is `Message`.
        return {"__type": self.code, "message": self.message, "Message": self.message, **self.members}


def field_error(field: str, message: str, code: str) -> dict[str, str]:
    return {"FieldName": field, "Message": message, "Code": code}


def validation(
    message: str, errors: list[dict[str, str]] | None = None, reason: str = REQUEST_VALIDATION_FAILED
) -> ApiError:
    return ApiError("ValidationException", message, Reason=reason, ErrorList=errors or None)


def business(field: str, message: str, code: str = "ACTION_NOT_PERMITTED") -> ApiError:
    return validation(message, [field_error(field, message, code)], BUSINESS_VALIDATION_FAILED)


def not_found(what: str, identifier: str) -> ApiError:
    return ApiError("ResourceNotFoundException", f"{what} {identifier} was not found")


def conflict(message: str) -> ApiError:
    return ApiError("ConflictException", message)
