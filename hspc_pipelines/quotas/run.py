"""One apply step's write budget over the quota ledger in the state store (the I/O beside `budget`).

`WriteBudget.open` reads what every run spent in the window and any hold; `admit` splits rows into
those to attempt and those deferred (kept in the store, so the next run takes them first); `spend`
books writes as they are made (in small batches, so concurrent runs see each other's spending);
`trip` records that Partner Central answered a spent quota, so the rows not started yet and the next
runs wait instead of failing. Thread-safe: the apply threads share one budget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hspc_pipelines.quotas.budget import (
    Allowance,
    QuotaPolicy,
    Spend,
    allowance,
    defer_message,
    deferral,
    order_creates,
    take,
    write_cost,
)
from hspc_pipelines.state.store import SyncStateStore

SERVICE = "partner_central"
WRITE = "write"
_FLUSH_EVERY = 10  # writes booked per ledger statement: the ledger lags a run by at most this


@dataclass(frozen=True)
class Deferred:
    row: Mapping[str, Any]
    reason: str
    retry_at: float

    @property
    def message(self) -> str:
        return defer_message(self.reason, self.retry_at)


@dataclass
class WriteBudget:
    store: SyncStateStore
    policy: QuotaPolicy
    catalog: str
    create_order: tuple[str, ...] = ("close_date", "-amount")
    clock: Callable[[], float] = time.time
    grant: Allowance = field(init=False)
    spends: list[Spend] = field(init=False)
    _unbooked: int = field(default=0, init=False)
    _tripped: tuple[str, float] | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        now = self.clock()
        since = now - self.policy.window_seconds
        self.spends = [Spend(at, n) for at, n in self.store.spends(SERVICE, WRITE, since)]
        hold = self.store.quota_hold(SERVICE, WRITE)
        self.grant = allowance(self.policy, self.spends, now, hold[0] if hold else None)

    def admit(
        self, rows: Sequence[Mapping[str, Any]], *, creates: bool, already_claimed: int = 0
    ) -> tuple[list[Mapping[str, Any]], list[Deferred]]:
        """Rows to attempt (first-load creates in the configured order, those deferred before first)
        and rows deferred. `already_claimed` writes of the grant go to work with priority elsewhere
        (the run's updates, when admitting its creates)."""
        now = self.clock()
        if creates:
            waiting = {
                key: since
                for key, since, _ in self.store.deferred(self.catalog, (r["entity_key"] for r in rows))
            }
            rows = order_creates(rows, self.create_order, waiting)
            cap = min(self.grant.creates, self.grant.priority - already_claimed)
        else:
            cap = self.grant.priority - already_claimed
        attempt, later = take(rows, max(cap, 0))
        room = self.grant.window_left - (self.policy.reserve if creates else 0) - already_claimed
        if not attempt and later and cap > 0 and write_cost(later[0]) <= room:
            # A row costing more than a run's time allows (a create with many solutions, a short
            # period) still goes, alone: otherwise it would wait for ever.
            attempt, later = [later[0]], later[1:]
        if not later:
            self.store.clear_deferred(self.catalog, (r["entity_key"] for r in attempt))
            return list(attempt), []
        need = sum(write_cost(r) for r in later)
        reason, at = deferral(self.policy, self.grant, self.spends, now, need, creates=creates)
        deferred = [Deferred(r, reason, at) for r in later]
        self._keep(deferred, now)
        self.store.clear_deferred(self.catalog, (r["entity_key"] for r in attempt))
        return list(attempt), deferred

    def _keep(self, deferred: Sequence[Deferred], now: float) -> None:
        self.store.put_deferred(
            self.catalog,
            [
                {
                    "entity_key": d.row["entity_key"],
                    "deal_id": d.row.get("deal_id"),
                    "since": now,
                    "retry_at": d.retry_at,
                    "reason": d.reason,
                }
                for d in deferred
            ],
        )

    def spend(self, writes: int) -> None:
        with self._lock:
            self._unbooked += writes
            if self._unbooked < _FLUSH_EVERY:
                return
            count, self._unbooked = self._unbooked, 0
        self.store.book_spend(SERVICE, WRITE, count, self.clock(), self.policy.window_seconds)

    def close(self) -> None:
        with self._lock:
            count, self._unbooked = self._unbooked, 0
        self.store.book_spend(SERVICE, WRITE, count, self.clock(), self.policy.window_seconds)

    def trip(self) -> None:
        """Partner Central kept answering ThrottlingException: hold writes for one run period (then a
        run tries again: a rolling window frees writes as the old ones age out)."""
        with self._lock:
            if self._tripped is not None:
                return
            until = self.clock() + self.policy.run_seconds
            reason = "Partner Central answered that its write quota is spent"
            self._tripped = (reason, until)
        self.store.hold_quota(SERVICE, WRITE, until, reason)

    def tripped(self) -> tuple[str, float] | None:
        with self._lock:
            return self._tripped

    def defer(self, row: Mapping[str, Any]) -> Deferred:
        """Defer a row after the quota was seen spent (it is kept for the next run)."""
        reason, at = self._tripped or ("Partner Central answered that its write quota is spent", self.clock())
        deferred = Deferred(row, reason, at)
        self._keep([deferred], self.clock())
        return deferred
