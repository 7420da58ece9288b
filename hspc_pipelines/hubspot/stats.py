"""Thread-safe call counters: what benchmarks and run metadata report about API usage."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class CallStats:
    """Calls per endpoint (`"POST /crm/v3/objects/{object_type}/search"`), per status, and retries.

    A call is one logical request; `retries` counts the extra attempts urllib3 made for it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls: Counter[str] = Counter()
            self.statuses: Counter[int] = Counter()
            self.by_endpoint_status: Counter[tuple[str, int]] = Counter()
            self.retries: Counter[str] = Counter()

    def record(self, endpoint: str, status: int) -> None:
        with self._lock:
            self.calls[endpoint] += 1
            self.statuses[status] += 1
            self.by_endpoint_status[(endpoint, status)] += 1

    def record_retry(self, endpoint: str) -> None:
        with self._lock:
            self.retries[endpoint] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self.calls.values()),
                "calls": dict(self.calls),
                "statuses": {str(k): v for k, v in self.statuses.items()},
                "retries": dict(self.retries),
            }
