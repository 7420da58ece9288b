"""Thread-safe counters of Partner Central calls: per operation, per error code, and attempts."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class OperationStats:
    """`calls` counts method calls, `attempts` the HTTP requests botocore sent (retries included)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls: Counter[str] = Counter()
            self.attempts: Counter[str] = Counter()
            self.errors: Counter[str] = Counter()
            self.errors_by_operation: Counter[tuple[str, str]] = Counter()

    def record_call(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1

    def record_attempt(self, operation: str) -> None:
        with self._lock:
            self.attempts[operation] += 1

    def record_error(self, operation: str, code: str) -> None:
        with self._lock:
            self.errors[code] += 1
            self.errors_by_operation[(operation, code)] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self.calls.values()),
                "calls": dict(self.calls),
                "attempts": dict(self.attempts),
                "errors": dict(self.errors),
            }
