"""One apply step's write budget over the quota ledger in the state store (the I/O beside `budget`).

`WriteBudget.open` reads what every run spent in the window (writes and reads) and any hold (Partner
Central's write quota seen spent, HubSpot's daily limit below its reserve); `admit` splits rows into
those to attempt and those deferred (kept in the store, so the next run takes them first); the calls
themselves are booked by the client's `QuotaMeter` (`watch` sets one), so every call counts once
whichever feature makes it; `trip` records that Partner Central answered a spent quota, so the rows
not started yet and the next runs wait instead of failing. Thread-safe: the apply threads share one
budget.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hspc_pipelines.quotas.budget import (
    WRITE_SHARE_OF_RUN,
    Allowance,
    QuotaPolicy,
    Spend,
    allowance,
    available_at,
    defer_message,
    deferral,
    order_creates,
    spent,
    take,
    write_cost,
)
from hspc_pipelines.quotas.meter import READ, SERVICE, WRITE, QuotaMeter
from hspc_pipelines.state.store import SyncStateStore

# HubSpot's daily limit, kept as a hold when its remainder falls below the reserve (`hubspot_daily`).
HUBSPOT = "hubspot"
DAILY = "daily"
YIELD_ASK_SECONDS = 5.0  # how often a run asks whether a run with priority waits for its writes slot
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
    meter: QuotaMeter | None = None
    started: float | None = None  # when the run started: the write time counts from it (else: now)
    grant: Allowance = field(init=False)
    hubspot_hold: tuple[str, float] | None = field(init=False)  # (why, until): HubSpot's daily reserve
    spends: list[Spend] = field(init=False)
    read_spends: list[Spend] = field(init=False)
    _unbooked: int = field(default=0, init=False)
    _tripped: tuple[str, float] | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    # When the run's write time ends: rows not started by then wait for the next run, so a run ends
    # within its budget period however slow the machine or the service, and the event-scoped runs
    # queued behind it on the writes slot wait one period at most.
    deadline: float = field(init=False)
    _started: int = field(default=0, init=False)
    # Asked between rows (at most every `_ask_every` seconds): the run waiting for the writes slot with
    # priority over this one (an event run, a submission), if any. A run given one stops writing: its
    # rows not started wait for the next run, and the waiting run starts once this one has written back.
    yield_to: Callable[[], str | None] | None = None
    _asked: float = field(default=-math.inf, init=False)
    _yielded: tuple[str, float] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        now = self.clock()
        begun = min(self.started, now) if self.started is not None else now
        self.deadline = begun + self.policy.run_seconds * WRITE_SHARE_OF_RUN
        since = now - self.policy.window_seconds
        self.spends = [Spend(at, n) for at, n in self.store.spends(SERVICE, WRITE, since)]
        self.read_spends = [Spend(at, n) for at, n in self.store.spends(SERVICE, READ, since)]
        hold = self.store.quota_hold(SERVICE, WRITE)
        live = hold if hold and hold[0] > now else None
        hubspot = self.store.quota_hold(HUBSPOT, DAILY)
        self.hubspot_hold = (hubspot[1], hubspot[0]) if hubspot and hubspot[0] > now else None
        self.grant = allowance(
            self.policy,
            self.spends,
            now,
            live[0] if live else None,
            self.read_spends,
            hold_reason=live[1] if live else None,
        )

    def watch(self, client: object) -> None:
        """Book `client`'s calls in the ledger: its own meter when it has one (set for the run), else
        this budget's (a client made outside a run: scripts, tests, benchmarks)."""
        current = getattr(client, "meter", None)
        if isinstance(current, QuotaMeter):
            self.meter = current
            return
        if self.meter is None:
            self.meter = QuotaMeter(self.store, self.policy, self.clock)
        client.meter = self.meter  # type: ignore[attr-defined]

    def admit(
        self, rows: Sequence[Mapping[str, Any]], *, creates: bool, already_claimed: int = 0
    ) -> tuple[list[Mapping[str, Any]], list[Deferred]]:
        """Rows to attempt (first-load creates in the configured order, those deferred before first)
        and rows deferred. `already_claimed` writes of the grant go to work with priority elsewhere
        (the run's updates, when admitting its creates)."""
        now = self.clock()
        if creates and self.hubspot_hold is not None and rows:
            # HubSpot's daily remainder is kept for updates and events: first-load creates wait.
            reason, at = self.hubspot_hold
            deferred = [Deferred(r, reason, at) for r in rows]
            self._keep(deferred, now)
            return [], deferred
        if creates and already_claimed:
            # the writes claimed for the run's updates need their time too: creates stop earlier
            self.deadline -= already_claimed / self.policy.writes_per_second
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
        reason, at = deferral(
            self.policy, self.grant, self.spends, now, need, creates=creates, read_spends=self.read_spends
        )
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
        """Book writes made by a client no meter watches (the metered ones book themselves)."""
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
        if self.meter is not None:
            self.meter.flush()

    def trip(self, reason: str | None = None, until: float | None = None) -> None:
        """Partner Central kept answering ThrottlingException: hold writes for one run period (then a
        run tries again: a rolling window frees writes as the old ones age out). With `reason` and
        `until` (the meter refused a call: the ledger's window is spent), only the rows not started
        yet wait; nothing is held for other runs, whose meters see the same ledger."""
        with self._lock:
            if self._tripped is not None:
                return
            if reason is not None and until is not None:
                self._tripped = (reason, until)
                return
            until = self.clock() + self.policy.run_seconds
            reason = "Partner Central answered that its write quota is spent"
            self._tripped = (reason, until)
        self.store.hold_quota(SERVICE, WRITE, until, reason)
        if self.meter is not None:
            self.meter.hold(until, reason)

    def spent(self) -> None:
        """The meter refused a call (the ledger's window is spent): the rows not started yet wait
        until the time it gave."""
        refusal = self.meter.refusal if self.meter is not None else None
        reason, until = refusal or (
            "the 24-hour write quota is spent",
            self.clock() + self.policy.run_seconds,
        )
        self.trip(reason, until)

    def tripped(self) -> tuple[str, float] | None:
        with self._lock:
            return self._tripped

    def start(self) -> tuple[str, float] | None:
        """Before a row's calls: None when it may go, else why it waits and until when (a spent quota,
        or the run's write time over; the first row always goes, so every run makes progress)."""
        with self._lock:
            if self._tripped is not None:
                return self._tripped
            if self._yielded is not None:
                return self._yielded
            now = self.clock()
            if self._started and now >= self.deadline:
                seconds = self.policy.run_seconds * WRITE_SHARE_OF_RUN
                return f"this run's write time ({seconds:g} s) is spent", now + self.policy.run_seconds
            if self._started and self.yield_to is not None and now - self._asked >= self._ask_every:
                self._asked = now
                waiting = self.yield_to()
                if waiting:
                    self._yielded = (
                        f"{waiting}: this run left the writes slot to it",
                        now + self.policy.run_seconds,
                    )
                    return self._yielded
            self._started += 1
            return None

    @property
    def _ask_every(self) -> float:
        # often enough that a waiting run loses little of a short period, rarely enough to cost nothing
        return min(YIELD_ASK_SECONDS, self.policy.run_seconds / 20)

    def yielded(self) -> tuple[str, float] | None:
        """Why this run stopped writing for a run with priority, and when its rows are expected to go."""
        with self._lock:
            return self._yielded

    def wait(self, row: Mapping[str, Any], why: tuple[str, float]) -> Deferred:
        """Defer a row that did not start (kept for the next run, which takes it first)."""
        deferred = Deferred(row, *why)
        self._keep([deferred], self.clock())
        return deferred

    def defer(self, row: Mapping[str, Any]) -> Deferred:
        """Defer a row after the quota was seen spent (it is kept for the next run)."""
        reason, at = self._tripped or ("Partner Central answered that its write quota is spent", self.clock())
        deferred = Deferred(row, reason, at)
        self._keep([deferred], self.clock())
        return deferred


def keep_hubspot_daily(
    store: SyncStateStore, daily: tuple[int, int] | None, reserve: int, now: float, hold_seconds: float
) -> str | None:
    """HubSpot's daily remainder as its last answer gave it (`daily`: limit, remaining): below
    `reserve`, first-load creates of every run wait for `hold_seconds` (a run period: the next run
    looks again) so the rest of the day's calls go to updates and events. Returns the reason, if held."""
    if daily is None:
        return None  # no daily limit announced (OAuth apps): nothing to keep
    limit, remaining = daily
    if remaining >= reserve:
        return None
    reason = (
        f"HubSpot's daily limit ({limit} calls) has {remaining} left, "
        f"below the {reserve} kept for updates and events"
    )
    store.hold_quota(HUBSPOT, DAILY, now + hold_seconds, reason)
    return reason


def reads_short(store: SyncStateStore, policy: QuotaPolicy, now: float) -> str | None:
    """Why a scheduled reconcile should not start now: the reads left in the rolling window are below
    the reserve kept for updates and event-driven runs (a snapshot would spend them, then its reads
    would be refused). None when they are not."""
    spends = [Spend(at, n) for at, n in store.spends(SERVICE, READ, now - policy.window_seconds)]
    left = policy.reads_per_window - spent(spends, now, policy.window_seconds)
    if left >= policy.read_reserve:
        return None
    reads = replace(policy, writes_per_window=policy.reads_per_window)
    at = available_at(reads, spends, now, policy.read_reserve)
    return (
        f"the 24-hour read quota ({policy.reads_per_window}) has {left} left, below the "
        f"{policy.read_reserve} kept for updates and events: {defer_message('this tick waits', at)}"
    )
