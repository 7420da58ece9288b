"""Partner Central's 24-hour quotas at the call (the I/O beside `budget`).

A `QuotaMeter` is set on a run's Partner Central client (`client.meter`): every call, read or write,
whichever feature makes it (reconcile, co-sell, imports, snapshots), is booked in the ledger every
run shares, and a call the rolling window no longer covers is not sent: it raises
`QuotaDeferredError`, which the flows turn into deferred work. Writes also wait while a hold is set
(Partner Central kept answering ThrottlingException). The reserve for updates and event-scoped work
is kept where rows are chosen (`run.WriteBudget`): here every call may spend the whole window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from hspc_pipelines.partner_central.errors import QuotaDeferredError
from hspc_pipelines.partner_central.pacing import is_write
from hspc_pipelines.quotas.budget import QuotaPolicy, Spend, available_at, defer_message, spent
from hspc_pipelines.state.store import SyncStateStore

SERVICE = "partner_central"
WRITE = "write"
READ = "read"
# Calls booked per ledger statement: concurrent runs see each other's spending this late at most.
FLUSH_EVERY = {WRITE: 10, READ: 100}
HOLD_REASON = "Partner Central answered that its write quota is spent"


class QuotaMeter:
    """Thread-safe: the client's threads share one meter. `flush` books what is left (call it at the
    end of a step; it is also done every few calls)."""

    def __init__(
        self, store: SyncStateStore, policy: QuotaPolicy, clock: Callable[[], float] = time.time
    ) -> None:
        self.store, self.policy, self.clock = store, policy, clock
        self._lock = threading.Lock()
        self._unbooked = {WRITE: 0, READ: 0}
        self._spends: dict[str, list[Spend]] = {WRITE: [], READ: []}
        self._hold: float | None = None
        self.booked = {WRITE: 0, READ: 0}  # calls this meter booked (a run's figures)
        self.refused = {WRITE: 0, READ: 0}
        self.refusal: tuple[str, float] | None = None  # the last call refused: why, and until when
        self._refresh()

    def _quota(self, kind: str) -> int:
        return self.policy.writes_per_window if kind == WRITE else self.policy.reads_per_window

    def _refresh(self) -> None:
        """Re-read the window from the ledger (what every run booked) and the hold."""
        since = self.clock() - self.policy.window_seconds
        spends = {
            kind: [Spend(at, n) for at, n in self.store.spends(SERVICE, kind, since)] for kind in FLUSH_EVERY
        }
        hold = self.store.quota_hold(SERVICE, WRITE)
        with self._lock:
            self._spends = spends
            self._hold = hold[0] if hold else None

    def left(self, kind: str) -> int:
        """Calls of `kind` the window still holds, this meter's unbooked ones counted."""
        now = self.clock()
        with self._lock:
            used = spent(self._spends[kind], now, self.policy.window_seconds) + self._unbooked[kind]
        return self._quota(kind) - used

    def admit(self, operation: str) -> None:
        kind = WRITE if is_write(operation) else READ
        now = self.clock()
        with self._lock:
            hold = self._hold if kind == WRITE and self._hold is not None and self._hold > now else None
            used = spent(self._spends[kind], now, self.policy.window_seconds) + self._unbooked[kind]
            if hold is None and used < self._quota(kind):
                self._unbooked[kind] += 1  # booked at admission: threads never overshoot together
                flush = self._unbooked[kind] >= FLUSH_EVERY[kind]
            else:
                self.refused[kind] += 1
                flush = False
        if flush:
            self.flush()
            return
        if hold is not None:
            self.refusal = (HOLD_REASON, hold)
            raise QuotaDeferredError(operation, defer_message(HOLD_REASON, hold), hold)
        if used >= self._quota(kind):
            raise self._spent(operation, kind, now)

    def _spent(self, operation: str, kind: str, now: float) -> QuotaDeferredError:
        quota = self._quota(kind)
        with self._lock:
            spends = [*self._spends[kind], Spend(now, self._unbooked[kind])]
        at = available_at(replace(self.policy, writes_per_window=quota), spends, now, 1)
        reason = f"the 24-hour {kind} quota ({quota}) is spent"
        self.refusal = (reason, at)
        return QuotaDeferredError(operation, defer_message(reason, at), at)

    def refund(self, operation: str) -> None:
        kind = WRITE if is_write(operation) else READ
        with self._lock:
            self._unbooked[kind] -= 1

    def flush(self) -> None:
        """Book the calls not booked yet, then re-read the window (other runs' spending included)."""
        now = self.clock()
        with self._lock:
            counts, self._unbooked = dict(self._unbooked), {WRITE: 0, READ: 0}
        for kind, count in counts.items():
            if count > 0:
                self.store.book_spend(SERVICE, kind, count, now, self.policy.window_seconds)
                self.booked[kind] += count
            elif count < 0:  # refunds after the last flush: give them back at the next one
                with self._lock:
                    self._unbooked[kind] += count
        self._refresh()

    def hold(self, until: float, reason: str = HOLD_REASON) -> None:
        """Partner Central kept throttling writes: no run writes before `until`."""
        self.store.hold_quota(SERVICE, WRITE, until, reason)
        with self._lock:
            self._hold = until
