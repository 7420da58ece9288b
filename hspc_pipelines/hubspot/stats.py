"""Thread-safe call counters: what benchmarks and run metadata report about API usage."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hspc_pipelines.call_counters import CallCounters


class CallStats(CallCounters):
    """Calls per endpoint (`"POST /crm/v3/objects/{object_type}/search"`), per status, and retries.

    A call is one logical request; `retries` counts the extra attempts urllib3 made for it.
    """

    def _clear(self) -> None:
        super()._clear()
        self.statuses: Counter[int] = Counter()
        self.by_endpoint_status: Counter[tuple[str, int]] = Counter()
        self.retries: Counter[str] = Counter()

    def record(self, endpoint: str, status: int) -> None:
        self._count(("calls", endpoint), ("statuses", status), ("by_endpoint_status", (endpoint, status)))

    def record_retry(self, endpoint: str) -> None:
        self._count(("retries", endpoint))

    def _details(self) -> dict[str, Any]:
        return {"statuses": {str(k): v for k, v in self.statuses.items()}, "retries": dict(self.retries)}
