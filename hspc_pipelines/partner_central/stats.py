"""Thread-safe counters of Partner Central calls: per operation, per error code, and attempts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hspc_pipelines.call_counters import CallCounters


class OperationStats(CallCounters):
    """`calls` counts method calls, `attempts` the HTTP requests botocore sent (retries included)."""

    def _clear(self) -> None:
        super()._clear()
        self.attempts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.errors_by_operation: Counter[tuple[str, str]] = Counter()

    def record_call(self, operation: str) -> None:
        self._count(("calls", operation))

    def record_attempt(self, operation: str) -> None:
        self._count(("attempts", operation))

    def record_error(self, operation: str, code: str) -> None:
        self._count(("errors", code), ("errors_by_operation", (operation, code)))

    def _details(self) -> dict[str, Any]:
        return {"attempts": dict(self.attempts), "errors": dict(self.errors)}
