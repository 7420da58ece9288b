"""What a run may spend of Partner Central's write quotas, and which rows it spends it on. Pure.

Two limits bound a run: time (the writes the per-second quota allows before the next scheduled tick
is due, so runs end before the next one starts and nothing piles up behind them) and the rolling
24-hour quota less what the ledger says was spent in the window. First-load creates may not spend a
reserve kept for updates and event-scoped work; those come first. A row the budget does not cover
is not attempted: it is deferred, with the reason and the time its writes are expected to be free.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from hspc_pipelines.mapping.vocabulary import Operation

# Share of the time to the next tick given to writes: the run also snapshots, plans and writes back.
WRITE_SHARE_OF_RUN = 0.8
# The keys a create order may name (`-` in front: largest first).
CREATE_ORDER_KEYS = ("close_date", "amount", "deal_id")


@dataclass(frozen=True)
class QuotaPolicy:
    writes_per_window: int  # Partner Central: 10,000 per rolling 24 hours
    window_seconds: float  # 86,400; shorter when tests and benchmarks scale a day
    writes_per_second: float  # the pacer's rate (quota: 1/s)
    run_seconds: float  # the time a run may write for (default: until the next tick)
    reserve: int  # writes of the window first-load creates may not spend
    reads_per_window: int = 100_000  # Partner Central: 100,000 reads per rolling 24 hours
    read_reserve: int = 0  # reads of the window first-load creates may not spend (their read-backs)


@dataclass(frozen=True)
class Spend:
    """Writes the ledger booked at one moment (epoch seconds)."""

    at: float
    count: int


@dataclass(frozen=True)
class Allowance:
    """What one run may write: `priority` for updates and event-scoped work, `creates` for first-load
    creates (after the reserve). `hold_until` is set while a spent quota was seen (ThrottlingException
    that outlasted the retries): nothing is written before then."""

    priority: int
    creates: int
    window_left: int
    run_writes: int
    hold_until: float | None = None
    reads_left: int = 2**62  # reads of the window not spent yet (each write is read back once)
    hold_reason: str | None = None  # why nothing is written before `hold_until`


def spent(spends: Iterable[Spend], now: float, window_seconds: float) -> int:
    edge = now - window_seconds
    return sum(s.count for s in spends if s.at > edge)


def run_writes(policy: QuotaPolicy) -> int:
    """The writes one run may make in its time (at least one, so a run always makes progress)."""
    return max(1, math.floor(policy.run_seconds * WRITE_SHARE_OF_RUN * policy.writes_per_second))


def allowance(
    policy: QuotaPolicy,
    spends: Iterable[Spend],
    now: float,
    hold_until: float | None = None,
    read_spends: Iterable[Spend] = (),
    hold_reason: str | None = None,
) -> Allowance:
    """What a run may write now. Each write is read back once, so the reads left in the window bound
    the writes too (a run that would spend the read quota defers instead of failing its reads)."""
    left = max(policy.writes_per_window - spent(spends, now, policy.window_seconds), 0)
    reads = max(policy.reads_per_window - spent(read_spends, now, policy.window_seconds), 0)
    in_time = run_writes(policy)
    if hold_until is not None and hold_until > now:
        return Allowance(0, 0, left, in_time, hold_until, reads, hold_reason)
    priority = min(in_time, left, reads)
    creates = min(priority, max(left - policy.reserve, 0), max(reads - policy.read_reserve, 0))
    return Allowance(priority, creates, left, in_time, reads_left=reads)


def write_cost(row: Mapping[str, Any]) -> int:
    """Writes a plan row spends: a create and one AssociateOpportunity per solution; an update one."""
    operation = row["operation"]
    if operation == Operation.CREATE:
        return 1 + len(row.get("solution_ids") or [])
    return 1 if operation == Operation.UPDATE else 0


def parse_create_order(text: str) -> tuple[str, ...]:
    """`close_date,-amount` -> ("close_date", "-amount"); an unknown key is refused, naming it."""
    keys = tuple(part.strip() for part in text.split(",") if part.strip())
    for key in keys:
        if key.lstrip("-") not in CREATE_ORDER_KEYS:
            raise ValueError(
                f"create order key {key!r} is not known: use {', '.join(CREATE_ORDER_KEYS)}, "
                "each optionally prefixed with '-' (largest first), comma-separated"
            )
    return keys


def _close_date(row: Mapping[str, Any]) -> float:
    text = ((row.get("request") or {}).get("LifeCycle") or {}).get("TargetCloseDate")
    try:
        return dt.date.fromisoformat(str(text)).toordinal()
    except ValueError:
        return math.inf  # no close date: after every dated one


def _amount(row: Mapping[str, Any]) -> float:
    spend = ((row.get("request") or {}).get("Project") or {}).get("ExpectedCustomerSpend") or []
    try:
        return float(sum(Decimal(str(s.get("Amount") or 0)) for s in spend))
    except (InvalidOperation, AttributeError):
        return 0.0


def _deal_id(row: Mapping[str, Any]) -> float:
    try:
        return float(row.get("deal_id") or math.inf)
    except ValueError:
        return math.inf


_KEYS: dict[str, Callable[[Mapping[str, Any]], float]] = {
    "close_date": _close_date,
    "amount": _amount,
    "deal_id": _deal_id,
}


def order_creates(
    rows: Sequence[Mapping[str, Any]],
    order: Sequence[str],
    deferred_since: Mapping[str, float] | None = None,
) -> list[Mapping[str, Any]]:
    """Rows deferred before first (the longest-waiting first), then by `order`; the sort is stable."""
    waiting = deferred_since or {}

    def key(row: Mapping[str, Any]) -> tuple[float, ...]:
        since = waiting.get(str(row["entity_key"]))
        parts = [0.0 if since is not None else 1.0, since if since is not None else 0.0]
        for name in order:
            value = _KEYS[name.lstrip("-")](row)
            parts.append(-value if name.startswith("-") else value)
        return tuple(parts)

    return sorted(rows, key=key)


def take(
    rows: Sequence[Mapping[str, Any]], budget: int
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The longest prefix of `rows` whose writes fit `budget`, and the rest (order kept): a row that
    does not fit is not skipped for a cheaper one behind it, so the order stays the priority."""
    taken: list[Mapping[str, Any]] = []
    for i, row in enumerate(rows):
        cost = write_cost(row)
        if cost > budget:
            return taken, list(rows[i:])
        budget -= cost
        taken.append(row)
    return taken, []


def available_at(policy: QuotaPolicy, spends: Iterable[Spend], now: float, need: int) -> float:
    """When `need` more writes fit the rolling window, as the booked spends age out of it; `now`
    when they fit already, and `now + window` when even an empty window would not hold them."""
    edge = now - policy.window_seconds
    live = sorted((s for s in spends if s.at > edge), key=lambda s: s.at)
    over = sum(s.count for s in live) + need - policy.writes_per_window
    if over <= 0:
        return now
    for spend in live:
        over -= spend.count
        if over <= 0:
            return spend.at + policy.window_seconds
    return now + policy.window_seconds


def deferral(
    policy: QuotaPolicy,
    grant: Allowance,
    spends: Iterable[Spend],
    now: float,
    need: int,
    *,
    creates: bool,
    read_spends: Iterable[Spend] = (),
) -> tuple[str, float]:
    """Why rows needing `need` more writes wait, and when the next of them are expected to go: the
    limit that bound the grant (a hold, the window's remainder, or the run's time) names it."""
    if grant.hold_until is not None:
        return grant.hold_reason or "Partner Central answered that its write quota is spent", grant.hold_until
    read_floor = policy.read_reserve if creates else 0
    if grant.reads_left - read_floor < min(grant.run_writes, grant.window_left):
        kept = f", {policy.read_reserve} kept for updates" if creates else ""
        reason = f"the 24-hour read quota ({policy.reads_per_window}{kept}) is spent"
        reads = replace(policy, writes_per_window=policy.reads_per_window)  # the same rolling rule
        wanted = min(min(need, grant.run_writes) + read_floor, policy.reads_per_window)
        return reason, max(available_at(reads, read_spends, now, wanted), now + policy.run_seconds)
    floor = policy.reserve if creates else 0
    if grant.window_left - floor < grant.run_writes:
        kept = f", {policy.reserve} kept for updates" if creates else ""
        reason = f"the 24-hour write quota ({policy.writes_per_window}{kept}) is spent"
        wanted = min(min(need, grant.run_writes) + floor, policy.writes_per_window)
        return reason, max(available_at(policy, spends, now, wanted), now + policy.run_seconds)
    return f"this run's write budget ({grant.run_writes} writes) is spent", now + policy.run_seconds


def defer_message(reason: str, at: float) -> str:
    when = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"deferred: {reason}; expected after {when}"
