"""HubSpot's error body, `{"status":"error","message","correlationId","category",...}`, raised as ApiError."""

from __future__ import annotations

import uuid
from typing import Any


class ApiError(Exception):
    """An answer HubSpot would give instead of a result: status, category, message and extra fields."""

    def __init__(self, status: int, message: str, category: str = "VALIDATION_ERROR", **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.category, **self.extra)


def error_body(message: str, category: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "message": message, "correlationId": str(uuid.uuid4())}
    if category:
        body["category"] = category
    body.update(extra)
    return body


def not_found(message: str = "resource not found", **extra: Any) -> ApiError:
    return ApiError(404, message, "OBJECT_NOT_FOUND", **extra)


def bad_request(message: str, **extra: Any) -> ApiError:
    return ApiError(400, message, "VALIDATION_ERROR", **extra)
