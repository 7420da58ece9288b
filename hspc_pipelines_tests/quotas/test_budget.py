"""The pure budget rules: what a run may write, which rows it takes, when deferred rows go."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hspc_pipelines.quotas.budget import (
    QuotaPolicy,
    Spend,
    allowance,
    available_at,
    deferral,
    order_creates,
    parse_create_order,
    spent,
    take,
    write_cost,
)

DAY = 86_400.0
POLICY = QuotaPolicy(
    writes_per_window=10_000, window_seconds=DAY, writes_per_second=1.0, run_seconds=900, reserve=1_000
)


def create(
    key: str, close: str | None = None, amount: str | None = None, solutions: int = 0
) -> dict[str, Any]:
    request: dict[str, Any] = {}
    if close:
        request["LifeCycle"] = {"TargetCloseDate": close}
    if amount:
        request["Project"] = {"ExpectedCustomerSpend": [{"Amount": amount, "CurrencyCode": "USD"}]}
    return {
        "entity_key": key,
        "deal_id": key.split(":")[-1],
        "operation": "create",
        "request": request,
        "solution_ids": [f"S-{i}" for i in range(solutions)],
    }


def test_a_run_writes_what_the_time_to_the_next_tick_allows() -> None:
    grant = allowance(POLICY, [], now=DAY)
    assert grant.run_writes == 720  # 900 s x 0.8 of the run x 1 write/s
    assert (grant.priority, grant.creates, grant.window_left) == (720, 720, 10_000)


def test_the_window_remainder_and_the_reserve_bound_creates_not_updates() -> None:
    spends = [Spend(at=DAY - 3_600, count=8_600), Spend(at=1.0, count=5_000)]  # the second aged out
    grant = allowance(POLICY, spends, now=DAY + 2)
    assert grant.window_left == 1_400
    assert grant.priority == 720  # updates may spend into the reserve
    assert grant.creates == 400  # creates stop 1,000 short of the quota


def test_a_hold_stops_every_write_until_it_passes() -> None:
    held = allowance(POLICY, [], now=100.0, hold_until=200.0)
    assert (held.priority, held.creates, held.hold_until) == (0, 0, 200.0)
    assert allowance(POLICY, [], now=201.0, hold_until=200.0).priority == 720


@given(
    limit=st.integers(1, 20_000),
    reserve=st.integers(0, 5_000),
    seconds=st.floats(1, 100_000),
    rate=st.floats(0.01, 50),
    spends=st.lists(st.tuples(st.floats(0, 2 * DAY), st.integers(0, 3_000)), max_size=30),
)
def test_a_grant_never_exceeds_the_window_or_the_run(
    limit: int, reserve: int, seconds: float, rate: float, spends: list[tuple[float, int]]
) -> None:
    policy = QuotaPolicy(limit, DAY, rate, seconds, reserve)
    booked = [Spend(at, n) for at, n in spends]
    grant = allowance(policy, booked, now=2 * DAY)
    left = max(limit - spent(booked, 2 * DAY, DAY), 0)
    assert 0 <= grant.creates <= grant.priority <= min(left, grant.run_writes)
    assert grant.creates <= max(left - reserve, 0)
    assert grant.run_writes >= 1


@given(
    reads=st.integers(1, 200_000),
    read_reserve=st.integers(0, 5_000),
    spent_reads=st.lists(st.tuples(st.floats(0, 2 * DAY), st.integers(0, 50_000)), max_size=20),
    spent_writes=st.lists(st.tuples(st.floats(0, 2 * DAY), st.integers(0, 3_000)), max_size=20),
)
def test_the_reads_left_bound_every_grant_and_creates_leave_the_read_reserve(
    reads: int, read_reserve: int, spent_reads: list[tuple[float, int]], spent_writes: list[tuple[float, int]]
) -> None:
    policy = QuotaPolicy(10_000, DAY, 1.0, 900, 300, reads, read_reserve)
    read_spends = [Spend(at, n) for at, n in spent_reads]
    grant = allowance(policy, [Spend(at, n) for at, n in spent_writes], 2 * DAY, read_spends=read_spends)
    left = max(reads - spent(read_spends, 2 * DAY, DAY), 0)
    assert grant.reads_left == left
    assert 0 <= grant.creates <= grant.priority <= left  # each write is read back once
    assert grant.creates <= max(left - read_reserve, 0)
    if grant.priority < min(grant.run_writes, grant.window_left):  # the reads bound it: the reason says so
        reason, at = deferral(policy, grant, [], 2 * DAY, 1, creates=False, read_spends=read_spends)
        assert reason == f"the 24-hour read quota ({reads}) is spent" and at >= 2 * DAY + 900


@given(costs=st.lists(st.integers(0, 11), max_size=40), budget=st.integers(0, 60))
def test_take_is_the_longest_prefix_that_fits(costs: list[int], budget: int) -> None:
    rows = [
        create(f"deal:{i}", solutions=c - 1) if c else {"entity_key": f"deal:{i}", "operation": "link"}
        for i, c in enumerate(costs)
    ]
    taken, rest = take(rows, budget)
    assert taken + rest == rows
    assert sum(write_cost(r) for r in taken) <= budget
    if rest:
        assert write_cost(rest[0]) > budget - sum(write_cost(r) for r in taken)


def test_creates_go_deferred_first_then_soonest_close_then_largest_amount() -> None:
    rows = [
        create("deal:1", "2027-03-01", "100"),
        create("deal:2", "2027-01-15", "50"),
        create("deal:3", "2027-01-15", "5000"),
        create("deal:4"),  # no close date: after every dated one
        create("deal:5", "2027-06-01", "1"),
        create("deal:6", "2027-06-01", "1"),
    ]
    ordered = order_creates(rows, parse_create_order("close_date,-amount"), {"deal:6": 50.0, "deal:5": 70.0})
    assert [r["entity_key"] for r in ordered] == ["deal:6", "deal:5", "deal:3", "deal:2", "deal:1", "deal:4"]
    by_amount = order_creates(rows, parse_create_order("-amount, deal_id"))
    assert [r["entity_key"] for r in by_amount][:3] == ["deal:3", "deal:1", "deal:2"]


def test_an_unknown_order_key_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"'size' is not known: use close_date, amount, deal_id"):
        parse_create_order("close_date,size")


def test_writes_are_free_again_when_the_old_spends_age_out() -> None:
    policy = QuotaPolicy(100, 1_000.0, 1.0, 60, 10)
    spends = [Spend(100.0, 60), Spend(400.0, 40)]
    assert available_at(policy, spends, now=500.0, need=0) == 500.0
    assert available_at(policy, spends, now=500.0, need=30) == 1_100.0  # the first 60 leave at 1,100
    assert available_at(policy, spends, now=500.0, need=80) == 1_400.0
    assert available_at(policy, spends, now=500.0, need=101) == 1_500.0


def test_deferral_names_the_limit_that_held_the_rows_back() -> None:
    policy = QuotaPolicy(100, 1_000.0, 1.0, 60, 10)
    spends = [Spend(100.0, 95)]
    grant = allowance(policy, spends, now=500.0)
    reason, at = deferral(policy, grant, spends, 500.0, need=3, creates=True)
    assert "24-hour write quota (100, 10 kept for updates) is spent" in reason and at == 1_100.0
    reason, at = deferral(policy, allowance(policy, [], 500.0), [], 500.0, need=500, creates=False)
    assert reason == "this run's write budget (48 writes) is spent" and at == 560.0
    held = allowance(policy, [], 500.0, hold_until=700.0)
    assert deferral(policy, held, [], 500.0, need=1, creates=False)[1] == 700.0
