"""Per-second quotas by operation class (reads, writes), answered with ThrottlingException.

A token bucket per class, one second of burst: the real service allows 10 reads and 1 write per
second per account. `None` means unlimited (the default, so functional tests never throttle).
"""

from __future__ import annotations

import time

from .errors import ApiError

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


class Quotas:
    def __init__(self, reads_per_second: float | None, writes_per_second: float | None) -> None:
        self.configure(reads_per_second, writes_per_second)

    def configure(self, reads_per_second: float | None, writes_per_second: float | None) -> None:
        self.buckets = {"read": Bucket(reads_per_second), "write": Bucket(writes_per_second)}

    def limits(self) -> dict[str, float | None]:
        return {k: b.rate for k, b in self.buckets.items()}

    def check(self, operation: str) -> None:
        kind = operation_class(operation)
        if not self.buckets[kind].take():
            raise ApiError("ThrottlingException", f"Rate exceeded for {kind} operations ({operation})")
