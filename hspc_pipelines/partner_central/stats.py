"""Thread-safe counters of Partner Central calls: per operation, per error code, and attempts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hspc_pipelines.call_counters import CallCounters
from hspc_pipelines.partner_central.pacing import is_write


class OperationStats(CallCounters):
    """`calls` counts method calls, `attempts` the HTTP requests botocore sent (retries included),
    `throttled` every throttling answer (retried by botocore or final): the ThrottledCalls metric."""

    def _clear(self) -> None:
        super()._clear()
        self.attempts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.errors_by_operation: Counter[tuple[str, str]] = Counter()
        self.throttled: Counter[str] = Counter()

    def record_call(self, operation: str) -> None:
        self._count(("calls", operation))

    def record_attempt(self, operation: str) -> None:
        self._count(("attempts", operation))

    def record_error(self, operation: str, code: str) -> None:
        self._count(("errors", code), ("errors_by_operation", (operation, code)))

    def record_throttled(self, operation: str) -> None:
        self._count(("throttled", operation))

    def writes(self) -> int:
        """Calls that count against the write quota (the 10,000 a day), retries excluded."""
        with self._lock:
            return sum(n for op, n in self.calls.items() if is_write(op))

    def _details(self) -> dict[str, Any]:
        return {
            "attempts": dict(self.attempts),
            "errors": dict(self.errors),
            "throttled": sum(self.throttled.values()),
        }
