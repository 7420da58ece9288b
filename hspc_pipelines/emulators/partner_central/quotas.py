"""Partner Central's quotas by operation class (reads, writes), answered with ThrottlingException.

Two limits per class, as the quotas page states them: a rate (10 reads and 1 write per second per
account; a token bucket with one second of burst) and a rolling 24-hour count (100,000 reads, 10,000
writes). AWS answers both with ThrottlingException; only the message tells them apart. `None` means
unlimited (the default, so functional tests never throttle). The 24-hour window's length is a
setting (`quota_window_seconds`), so tests and benchmarks can scale a day by the same factor as the
per-second rates.
"""

from __future__ import annotations

import time
from collections import deque

from .errors import ApiError

DAY_SECONDS = 86_400.0

# Writes as the quotas page counts them; everything else is a read.
WRITE_OPERATIONS = frozenset(
    {
        "CreateOpportunity",
        "UpdateOpportunity",
        "AssociateOpportunity",
        "DisassociateOpportunity",
        "SubmitOpportunity",
        "AssignOpportunity",
        "AcceptEngagementInvitation",
        "RejectEngagementInvitation",
        "StartEngagementFromOpportunityTask",
        "StartEngagementByAcceptingInvitationTask",
        "StartOpportunityBulkJob",
    }
)


def operation_class(operation: str) -> str:
    return "write" if operation in WRITE_OPERATIONS else "read"


class Bucket:
    def __init__(self, per_second: float | None) -> None:
        self.rate = per_second
        self.tokens = float(per_second or 0)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        if self.rate is None:
            return True
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class RollingCount:
    """Calls admitted in the last `window` seconds; a call over `limit` is refused and not counted."""

    def __init__(self, limit: int | None, window: float) -> None:
        self.limit = limit
        self.window = window
        self._stamps: deque[float] = deque()

    def _prune(self, now: float) -> None:
        edge = now - self.window
        while self._stamps and self._stamps[0] <= edge:
            self._stamps.popleft()

    def used(self, now: float) -> int:
        self._prune(now)
        return len(self._stamps)

    def admits(self, now: float) -> bool:
        return self.limit is None or self.used(now) < self.limit

    def book(self, now: float, count: int = 1) -> None:
        self._stamps.extend([now] * count)


class Quotas:
    def __init__(
        self,
        reads_per_second: float | None,
        writes_per_second: float | None,
        reads_per_day: int | None = None,
        writes_per_day: int | None = None,
        quota_window_seconds: float = DAY_SECONDS,
    ) -> None:
        self.window = quota_window_seconds
        self.daily = {"read": RollingCount(reads_per_day, quota_window_seconds)}
        self.daily["write"] = RollingCount(writes_per_day, quota_window_seconds)
        self.configure(reads_per_second, writes_per_second)

    def configure(self, reads_per_second: float | None, writes_per_second: float | None) -> None:
        self.buckets = {"read": Bucket(reads_per_second), "write": Bucket(writes_per_second)}

    def configure_daily(
        self, reads_per_day: int | None, writes_per_day: int | None, quota_window_seconds: float
    ) -> None:
        """New limits and window; what was spent stays spent (a quota change does not refund)."""
        if quota_window_seconds <= 0:
            raise ValueError(f"quota_window_seconds must be above 0, got {quota_window_seconds}")
        self.window = quota_window_seconds
        for kind, limit in (("read", reads_per_day), ("write", writes_per_day)):
            count = self.daily[kind]
            count.limit, count.window = limit, quota_window_seconds

    def limits(self) -> dict[str, float | None]:
        return {k: b.rate for k, b in self.buckets.items()}

    def daily_limits(self) -> dict[str, int | None]:
        return {k: c.limit for k, c in self.daily.items()}

    def used(self) -> dict[str, int]:
        """Calls of each class admitted in the current rolling window."""
        now = time.monotonic()
        return {k: c.used(now) for k, c in self.daily.items()}

    def spend(self, reads: int = 0, writes: int = 0) -> None:
        """Book calls nobody made here: another integration spending the same account's quota."""
        now = time.monotonic()
        self.daily["read"].book(now, reads)
        self.daily["write"].book(now, writes)

    def reset(self) -> None:
        for count in self.daily.values():
            count._stamps.clear()

    def check(self, operation: str) -> None:
        kind = operation_class(operation)
        now = time.monotonic()
        daily = self.daily[kind]
        if not daily.admits(now):
            raise ApiError(
                "ThrottlingException",
                f"Rate exceeded: the quota of {daily.limit} {kind} operations per rolling 24 hours "
                f"is spent ({operation})",
            )
        if not self.buckets[kind].take():
            raise ApiError("ThrottlingException", f"Rate exceeded for {kind} operations ({operation})")
        daily.book(now)
