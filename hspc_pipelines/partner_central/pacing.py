"""Client-side pacing for Partner Central's per-second quotas (reads 10/s, writes 1/s).

Calls are spaced evenly (one every 1/rate seconds) rather than allowed in bursts: AWS meters with a
token bucket we cannot see, and even spacing keeps a steady run clear of ThrottlingException, which
botocore's adaptive retry mode would otherwise have to learn from.

Why not a maintained limiter: botocore's adaptive mode is one, but it starts at full speed and slows
only after throttling; pyrate-limiter's windows admit a burst of a whole second's quota at once (10
reads), which is what a hidden token bucket may refuse. Even spacing is the behaviour wanted, in a few
lines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from hspc_pipelines.settings import Settings


DEFAULT_READS_PER_SECOND = 10.0
DEFAULT_WRITES_PER_SECOND = 1.0
DEFAULT_WRITES_PER_DAY = 10_000  # Partner Central: 10,000 writes per rolling 24 h; runs report their share


class PartnerCentralPacing(TypedDict):
    reads_per_second: float
    writes_per_second: float


def pacing_from_settings(settings: Settings) -> PartnerCentralPacing:
    """HSPC_PC_READS_PER_SECOND and HSPC_PC_WRITES_PER_SECOND, as the clients take them."""
    return {
        "reads_per_second": settings.pc_reads_per_second,
        "writes_per_second": settings.pc_writes_per_second,
    }


# Operation name prefixes that count against the write quota; everything else is a read.
WRITE_PREFIXES = (
    "Create",
    "Update",
    "Associate",
    "Disassociate",
    "Submit",
    "Reject",
    "Accept",
    "Start",
    "Assign",
    "Put",
    "Delete",
    "Tag",
    "Untag",
    "Stop",
)


def is_write(operation: str) -> bool:
    return operation.startswith(WRITE_PREFIXES)


class IntervalPacer:
    """Thread-safe: successive acquisitions are at least 1/rate seconds apart."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.waited = 0.0

    def acquire(self) -> None:
        with self._lock:  # reserve a slot, then sleep outside the lock
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
            wait = slot - now
            self.waited += wait
        if wait > 0:
            self._sleep(wait)


class OperationPacer:
    def __init__(self, reads_per_second: float, writes_per_second: float) -> None:
        self.reads = IntervalPacer(reads_per_second)
        self.writes = IntervalPacer(writes_per_second)

    def acquire(self, operation: str) -> None:
        (self.writes if is_write(operation) else self.reads).acquire()
