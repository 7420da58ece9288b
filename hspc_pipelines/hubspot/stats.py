"""Thread-safe call counters: what benchmarks and run metadata report about API usage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Any

from hspc_pipelines.call_counters import CallCounters
from hspc_pipelines.hubspot.paths import family

THROTTLED = 429


class CallStats(CallCounters):
    """Calls per endpoint (`"POST /crm/objects/2026-09/{object_type}/search"`), per status, per path
    family (`date-based`, `numbered`, `unversioned`: paths.py) and retries.

    A call is one logical request; `retries` counts the extra attempts urllib3 made for it, and
    `throttled` every 429 answer (retried or final): what the ThrottledCalls metric reports.
    """

    def _clear(self) -> None:
        super()._clear()
        self.statuses: Counter[int] = Counter()
        self.by_endpoint_status: Counter[tuple[str, int]] = Counter()
        self.retries: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.families: Counter[str] = Counter()

    def record(self, endpoint: str, status: int) -> None:
        hits: list[tuple[str, Hashable]] = [
            ("calls", endpoint), ("statuses", status), ("by_endpoint_status", (endpoint, status)),
            ("families", family(endpoint.partition(" ")[2])),
        ]  # fmt: skip
        if status == THROTTLED:
            hits.append(("throttled", endpoint))
        self._count(*hits)

    def record_retry(self, endpoint: str, status: int | None = None) -> None:
        """An extra attempt; a 429 that urllib3 retried counts as a throttling answer too."""
        self._count(("retries", endpoint), *([("throttled", endpoint)] if status == THROTTLED else []))

    def _details(self) -> dict[str, Any]:
        return {
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "retries": dict(self.retries),
            "throttled": sum(self.throttled.values()),
            "families": dict(self.families),
        }
