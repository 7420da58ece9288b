"""Thread-safe call counters: the lock, reset, total and snapshot both API clients' stats share."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Hashable
from typing import Any


class CallCounters:
    """Named `Counter`s behind one lock; `calls` counts logical calls and is what `total` sums.

    Subclasses create their counters in `_clear` and add their own figures in `_details`.
    """

    calls: Counter[str]

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self.calls = Counter()

    def _count(self, *hits: tuple[str, Hashable]) -> None:
        """Add one to each (counter name, key); names are looked up under the lock, after any reset."""
        with self._lock:
            for name, key in hits:
                getattr(self, name)[key] += 1

    def _details(self) -> dict[str, Any]:
        return {}

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": sum(self.calls.values()), "calls": dict(self.calls), **self._details()}
