"""The write budget over the ledger in the state store, and apply keeping it against the Partner
Central emulator's quotas: rows beyond the budget end deferred, never failed, and go first next time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from hspc_pipelines.emulators.partner_central import PartnerCentralEmulator, start_partner_central_emulator
from hspc_pipelines.mapping import MappingConfig
from hspc_pipelines.mapping.vocabulary import RowStatus, SyncStatus
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.quotas.budget import QuotaPolicy
from hspc_pipelines.quotas.meter import READ, SERVICE, WRITE
from hspc_pipelines.quotas.run import WriteBudget
from hspc_pipelines.reconcile.apply import apply_creates
from hspc_pipelines.reconcile.outcomes import deal_write_for
from hspc_pipelines.state.store import SyncStateStore
from hspc_pipelines_tests.support.partner_central import create_request
from hspc_pipelines_tests.support.postgres import admin_connection, temporary_database


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite'}"
        return
    with temporary_database(admin_connection(), "hspc_quotas") as env:
        yield (
            f"postgresql+psycopg2://{env['DAGSTER_PG_USER']}@{env['DAGSTER_PG_HOST']}:"
            f"{env['DAGSTER_PG_PORT']}/{env['DAGSTER_PG_DB']}"
        )


@pytest.fixture
def emulator() -> Iterator[tuple[PartnerCentralEmulator, str]]:
    emu, server = start_partner_central_emulator()
    yield emu, server.url
    server.stop()
    emu.close()


@pytest.fixture
def client(
    emulator: tuple[PartnerCentralEmulator, str], monkeypatch: pytest.MonkeyPatch
) -> PartnerCentralClient:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    # one attempt: a spent quota answers at once instead of after botocore's backoff
    return PartnerCentralClient(
        "AWS", endpoint_url=emulator[1], reads_per_second=1000, writes_per_second=1000, max_attempts=1
    )


def _rows(n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(n):
        request = create_request(token=f"token-{i}", title=f"Deal {i}")
        request["PartnerOpportunityIdentifier"] = f"HUBSPOT-{i}"
        request["LifeCycle"]["TargetCloseDate"] = f"2027-0{9 - i % 9}-01"  # later deals close sooner
        rows.append(
            {
                "entity_key": f"deal:{i}",
                "deal_id": str(i),
                "operation": "create",
                "opportunity_id": None,
                "partition_date": "2026-12-06",
                "request": request,
                "solution_ids": [],
            }
        )
    return rows


def test_runs_share_the_ledger_and_deferred_rows_keep_their_first_time(state_url: str) -> None:
    policy = QuotaPolicy(
        writes_per_window=100, window_seconds=3_600, writes_per_second=1, run_seconds=60, reserve=10
    )
    first, second = SyncStateStore(state_url), SyncStateStore(state_url)  # two runs, two processes
    try:
        clock = iter([1_000.0, 1_000.0, 1_001.0, 1_001.0])
        budget = WriteBudget(first, policy, "AWS", clock=lambda: next(clock, 1_002.0))
        for _ in range(25):
            budget.spend(1)
        budget.close()
        other = WriteBudget(second, policy, "AWS", clock=lambda: 1_100.0)
        assert other.grant.window_left == 75
        assert other.grant.creates == min(48, 75 - 10)
        later = WriteBudget(second, policy, "AWS", clock=lambda: 1_000.0 + 3_601)
        assert later.grant.window_left == 100  # the 25 aged out of the window
        first.put_deferred(
            "AWS", [{"entity_key": "deal:1", "deal_id": "1", "since": 5.0, "retry_at": 9.0, "reason": "r"}]
        )
        second.put_deferred(
            "AWS", [{"entity_key": "deal:1", "deal_id": "1", "since": 7.0, "retry_at": 11.0, "reason": "r"}]
        )
        assert second.deferred("AWS") == [("deal:1", 5.0, "1")]
        second.hold_quota(SERVICE, WRITE, 50.0, "spent")
        assert first.quota_hold(SERVICE, WRITE) == (50.0, "spent")
    finally:
        first.dispose()
        second.dispose()


def test_rows_beyond_the_budget_are_deferred_and_go_first_next_run(
    client: PartnerCentralClient, tmp_path: Any
) -> None:
    store = SyncStateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    # 5 s of a run at 1 write/s: 4 writes a run; 10 a window, 2 of them kept for updates
    policy = QuotaPolicy(
        writes_per_window=10, window_seconds=3_600, writes_per_second=1, run_seconds=5, reserve=2
    )
    rows = _rows(8)

    first = apply_creates(client, store, rows, workers=2, budget=WriteBudget(store, policy, "AWS"))
    status = {r.entity_key: r.status for r in first}
    created = sorted(k for k, s in status.items() if s == RowStatus.CREATED)
    assert created == ["deal:4", "deal:5", "deal:6", "deal:7"]  # the soonest close dates
    deferred = [r for r in first if r.status == RowStatus.DEFERRED]
    assert len(deferred) == 4 and all(
        "this run's write budget (4 writes) is spent" in (r.error_message or "") for r in deferred
    )
    write = deal_write_for(
        {
            "entity_key": "deal:0",
            "deal_id": "0",
            "operation": "create",
            "partition_date": "2026-12-06",
            "deal_current": {"aws_sync_status": None},
        },
        deferred[0],
        MappingConfig(),
    )
    assert write is not None and write.properties["aws_sync_status"] == SyncStatus.PENDING
    assert str(write.properties["aws_sync_error"]).startswith("deferred: this run's write budget")

    # the next run: the deferred rows first, whatever their close date; the window then has 2 left
    # beyond the reserve
    second = apply_creates(
        client, store, list(reversed(rows)), workers=2, budget=WriteBudget(store, policy, "AWS")
    )
    again = {r.entity_key: r.status for r in second}
    assert sorted(k for k, s in again.items() if s == RowStatus.CREATED) == sorted(
        r.entity_key for r in deferred
    )

    third = apply_creates(client, store, rows[:1], budget=WriteBudget(store, policy, "AWS"))
    assert third[0].status == RowStatus.DEFERRED
    assert "the 24-hour write quota (10, 2 kept for updates) is spent" in (third[0].error_message or "")
    # every call booked by the client's meter: 8 creates, and their 8 read-backs as reads
    assert sum(n for _, n in store.spends(SERVICE, WRITE, 0.0)) == 8
    assert sum(n for _, n in store.spends(SERVICE, READ, 0.0)) == 8
    assert not any(r.status == RowStatus.FAILED for r in [*first, *second, *third])
    store.dispose()


def test_a_quota_spent_by_someone_else_defers_until_the_window_rolls(
    emulator: tuple[PartnerCentralEmulator, str], client: PartnerCentralClient, tmp_path: Any
) -> None:
    emu, _ = emulator
    emu.configure(writes_per_day=5, quota_window_seconds=3.0)
    emu.spend_quota(writes=3)  # another integration
    store = SyncStateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    policy = QuotaPolicy(
        writes_per_window=5, window_seconds=3.0, writes_per_second=1000, run_seconds=1.0, reserve=0
    )
    rows = _rows(5)

    first = apply_creates(client, store, rows, workers=1, budget=WriteBudget(store, policy, "AWS"))
    counts = {s: sum(1 for r in first if r.status == s) for s in {r.status for r in first}}
    assert counts == {RowStatus.CREATED: 2, RowStatus.DEFERRED: 3}
    assert all(
        "answered that its write quota is spent" in (r.error_message or "")
        for r in first
        if r.status == RowStatus.DEFERRED
    )
    # the third create (its one retry included) met the spent quota; the last two were not attempted
    assert emu.stats()["calls"]["CreateOpportunity"] == 4
    assert emu.stats()["errors"] == {"ThrottlingException": 2}

    held = apply_creates(client, store, rows, budget=WriteBudget(store, policy, "AWS"))
    assert {
        r.status
        for r in held
        if r.entity_key not in {x.entity_key for x in first if x.status == RowStatus.CREATED}
    } == {RowStatus.DEFERRED}
    assert emu.stats()["calls"]["CreateOpportunity"] == 4  # held: the next run attempts nothing

    time.sleep(3.1)  # the window rolls: the other integration's writes and ours age out
    left = [r for r, res in zip(rows, first, strict=True) if res.status == RowStatus.DEFERRED]
    last = apply_creates(client, store, left, budget=WriteBudget(store, policy, "AWS"))
    assert [r.status for r in last] == [RowStatus.CREATED] * 3
    assert emu.stats()["opportunities"]["AWS"] == 5
    store.dispose()


def test_event_scoped_creates_may_spend_the_reserve_first_load_creates_may_not(
    client: PartnerCentralClient, tmp_path: Any
) -> None:
    store = SyncStateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    policy = QuotaPolicy(
        writes_per_window=10, window_seconds=3_600, writes_per_second=1, run_seconds=60, reserve=5
    )
    store.book_spend(SERVICE, WRITE, 5, time.time(), policy.window_seconds)  # what earlier runs spent
    [first_load] = apply_creates(client, store, _rows(1), budget=WriteBudget(store, policy, "AWS"))
    assert first_load.status == RowStatus.DEFERRED
    assert "(10, 5 kept for updates) is spent" in (first_load.error_message or "")
    [event] = apply_creates(
        client, store, _rows(1), budget=WriteBudget(store, policy, "AWS"), event_scoped=True
    )
    assert event.status == RowStatus.CREATED
    assert store.deferred("AWS") == []  # created: no longer waiting
    store.dispose()


def test_a_row_costing_more_than_a_run_allows_still_goes_alone(tmp_path: Any) -> None:
    store = SyncStateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    # one write a run by time; a create with two solutions costs three
    policy = QuotaPolicy(
        writes_per_window=10, window_seconds=3_600, writes_per_second=1, run_seconds=1, reserve=2
    )
    rows = _rows(2)
    rows[0]["solution_ids"] = ["S-1", "S-2"]
    rows[0]["request"]["LifeCycle"]["TargetCloseDate"] = "2027-01-01"  # first in the order
    attempt, later = WriteBudget(store, policy, "AWS").admit(rows, creates=True)
    assert [r["entity_key"] for r in attempt] == ["deal:0"]
    assert [d.row["entity_key"] for d in later] == ["deal:1"]
    # 4 left, 2 kept for updates: the deferred row goes first; three writes do not fit in two
    store.book_spend(SERVICE, WRITE, 6, time.time(), policy.window_seconds)
    attempt, later = WriteBudget(store, policy, "AWS").admit(rows, creates=True)
    assert [r["entity_key"] for r in attempt] == ["deal:1"]
    assert [d.row["entity_key"] for d in later] == ["deal:0"]
    store.dispose()


def test_a_run_whose_rows_take_longer_than_their_writes_ends_at_its_write_time(
    emulator: tuple[PartnerCentralEmulator, str], client: PartnerCentralClient, tmp_path: Any
) -> None:
    """The budget counts writes at the paced rate (24 here), but each row "takes" 10 s on this clock (a
    loaded machine, a slow service): the rows not started when 80% of the run's 30 s are over wait
    for the next run, so the run ends within its period and the runs queued behind it do not wait
    longer. The first row always goes."""
    emu, _ = emulator
    store = SyncStateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    policy = QuotaPolicy(
        writes_per_window=1_000, window_seconds=3_600, writes_per_second=1, run_seconds=30, reserve=0
    )

    def clock() -> float:
        return 1_000.0 + 10 * emu.stats()["calls"].get("CreateOpportunity", 0)

    rows = _rows(6)
    results = apply_creates(
        client, store, rows, workers=1, budget=WriteBudget(store, policy, "AWS", clock=clock)
    )
    statuses = [r.status for r in results]
    assert (
        statuses.count(RowStatus.CREATED) == 3
    )  # started at 1,000, 1,010 and 1,020 s; the deadline is 1,024
    deferred = [r for r in results if r.status == RowStatus.DEFERRED]
    assert len(deferred) == 3
    assert all("this run's write time (24 s) is spent" in (r.error_message or "") for r in deferred)
    # a run that is already late (its budget opened, then the clock jumped) still starts one row
    ticks = iter([1_000.0])
    late_budget = WriteBudget(store, policy, "AWS", clock=lambda: next(ticks, 2_000.0))
    late = apply_creates(client, store, _rows(8)[6:8], workers=1, budget=late_budget)
    # deal:7 closes sooner: it goes first
    assert {r.entity_key: r.status for r in late} == {
        "deal:7": RowStatus.CREATED,
        "deal:6": RowStatus.DEFERRED,
    }
    store.dispose()


def test_the_write_time_counts_from_the_run_start_and_leaves_the_updates_theirs(tmp_path: Any) -> None:
    """The snapshot and the plan are inside the run's period, so its writes stop 80% of the period
    after the run started, not after the step did; the creates stop earlier still by the time of the
    writes claimed for the run's updates (at the paced rate), so the whole run ends within its period."""
    store = SyncStateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    policy = QuotaPolicy(
        writes_per_window=1_000, window_seconds=3_600, writes_per_second=2, run_seconds=30, reserve=0
    )
    budget = WriteBudget(store, policy, "AWS", clock=lambda: 1_000.0, started=990.0)
    assert budget.deadline == 990.0 + 24
    budget.admit(_rows(2), creates=True, already_claimed=8)
    assert budget.deadline == 990.0 + 24 - 8 / 2
    fresh = WriteBudget(store, policy, "AWS", clock=lambda: 1_000.0)  # no run start known: the step's
    assert fresh.deadline == 1_000.0 + 24
    store.dispose()


def test_a_run_with_priority_waiting_stops_the_writes_between_rows(
    emulator: tuple[PartnerCentralEmulator, str], client: PartnerCentralClient, tmp_path: Any
) -> None:
    """The budget asks `yield_to` between rows, at most every `run_seconds / 20` seconds (5 s at most):
    once a run with priority waits, no further row starts; those rows end deferred naming it and go
    first in the next run. The first row goes without asking (every run makes progress)."""
    emu, _ = emulator
    store = SyncStateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    policy = QuotaPolicy(
        writes_per_window=1_000, window_seconds=3_600, writes_per_second=1, run_seconds=60, reserve=0
    )

    def clock() -> float:  # each row "takes" 2 s: the budget asks before every other row (every 3 s)
        return 1_000.0 + 2 * emu.stats()["calls"].get("CreateOpportunity", 0)

    asked: list[float] = []

    def waiting() -> str | None:
        asked.append(clock())
        return "a run with priority waiting (sync_deals 0123abcd)" if len(asked) == 3 else None

    budget = WriteBudget(store, policy, "AWS", clock=clock, yield_to=waiting)
    results = apply_creates(client, store, _rows(9), workers=1, budget=budget)
    statuses = [r.status for r in results]
    # asked at 1,002 (no), 1,006 (no), 1,010 (yes): the rows started at 1,000 .. 1,008 are written
    assert asked == [1_002.0, 1_006.0, 1_010.0]
    assert statuses.count(RowStatus.CREATED) == 5 and statuses.count(RowStatus.DEFERRED) == 4
    deferred = [r for r in results if r.status == RowStatus.DEFERRED]
    assert all(
        "a run with priority waiting (sync_deals 0123abcd): this run left the writes slot to it"
        in (r.error_message or "")
        for r in deferred
    )
    assert budget.yielded() is not None
    # the next run (nothing waiting) takes the deferred rows first, before any new row
    later = WriteBudget(store, policy, "AWS", clock=clock, yield_to=lambda: None)
    rows = _rows(12)[9:] + [r for r in _rows(9) if r["entity_key"] in {d.entity_key for d in deferred}]
    attempt, _ = later.admit(rows, creates=True)
    assert {r["entity_key"] for r in attempt[:4]} == {d.entity_key for d in deferred}
    store.dispose()
