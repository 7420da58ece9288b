"""What every handler works with: the catalog stores, id minting, the clock, events and timers."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, field_error
from .events import EventPublisher
from .store import CatalogStore, Clock, Ids

CATALOGS = ("AWS", "Sandbox")


class Scheduler:
    """Deferred state changes (tasks finishing after `task_delay_seconds`).

    Due callbacks run on a daemon thread under the emulator lock, and also at the start of every
    request (`run_due`), so a poll made after the delay always sees the finished task.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="pc-scheduler", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        with self.lock:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), callback))
        self._wake.set()

    def run_due(self) -> None:
        if not self._heap or self._heap[0][0] > time.monotonic():
            return
        with self.lock:
            now = time.monotonic()
            while self._heap and self._heap[0][0] <= now:
                _, _, callback = heapq.heappop(self._heap)
                callback()

    def clear(self) -> None:
        with self.lock:
            self._heap.clear()

    def close(self) -> None:
        self._stop = True
        self._wake.set()

    def _run(self) -> None:
        while not self._stop:
            with self.lock:
                wait = (self._heap[0][0] - time.monotonic()) if self._heap else None
            if wait is None or wait > 0:
                self._wake.wait(timeout=wait if wait is not None else 1.0)
                self._wake.clear()
                continue
            self.run_due()


@dataclass
class Context:
    ids: Ids
    events: EventPublisher
    scheduler: Scheduler
    task_delay_seconds: float = 0.0
    clock: Clock = field(default_factory=Clock)
    stores: dict[str, CatalogStore] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reset_stores()

    def reset_stores(self) -> None:
        self.stores = {c: CatalogStore(c) for c in CATALOGS}
        self.ids.reset()  # same seed, same ids after a reset

    def store(self, catalog: str) -> CatalogStore:
        try:
            return self.stores[catalog]
        except KeyError:
            message = f"Catalog {catalog!r} is not valid; use one of {list(CATALOGS)}"
            raise ApiError(
                "ValidationException",
                message,
                Reason="REQUEST_VALIDATION_FAILED",
                ErrorList=[field_error("Catalog", message, "INVALID_ENUM_VALUE")],
            ) from None

    def later(self, callback: Callable[[], None]) -> None:
        """Run now when there is no delay (the answer then already shows the result), else after it."""
        if self.task_delay_seconds <= 0:
            callback()
        else:
            self.scheduler.call_later(self.task_delay_seconds, callback)

    def arn(self, catalog: str, kind: str, identifier: str) -> str:
        return self.ids.arn(catalog, kind, identifier)


Handler = Callable[[Context, CatalogStore, dict[str, Any]], dict[str, Any]]
