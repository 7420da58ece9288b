"""Every Partner Central call counted against the 24-hour quotas at the client (`QuotaMeter`), whichever
feature makes it, and HubSpot's daily remainder kept: against the emulators, over a real ledger."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from hspc_pipelines.emulators.hubspot import start_hubspot_emulator
from hspc_pipelines.emulators.partner_central import PartnerCentralEmulator, start_partner_central_emulator
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping.vocabulary import RowStatus
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.partner_central.errors import QUOTA_DEFERRED, QuotaDeferredError
from hspc_pipelines.quotas.budget import QuotaPolicy
from hspc_pipelines.quotas.meter import READ, SERVICE, WRITE, QuotaMeter
from hspc_pipelines.quotas.run import DAILY, HUBSPOT, WriteBudget, keep_hubspot_daily
from hspc_pipelines.reconcile.apply import apply_creates
from hspc_pipelines.state.store import SyncStateStore
from hspc_pipelines_tests.support.partner_central import create_request


def _policy(writes: int = 1_000, reads: int = 1_000, window: float = 3_600.0) -> QuotaPolicy:
    return QuotaPolicy(
        writes_per_window=writes,
        window_seconds=window,
        writes_per_second=1_000,
        run_seconds=60,
        reserve=0,
        reads_per_window=reads,
    )


@pytest.fixture
def emulator() -> Iterator[tuple[PartnerCentralEmulator, str]]:
    emu, server = start_partner_central_emulator()
    emu.seed({"solutions": [{"Name": "Data Platform", "Category": "Software Product", "Catalog": "AWS"}]})
    yield emu, server.url
    server.stop()
    emu.close()


@pytest.fixture
def store(tmp_path: Any) -> Iterator[SyncStateStore]:
    s = SyncStateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    yield s
    s.dispose()


def _client(url: str, monkeypatch: pytest.MonkeyPatch, attempts: int = 1) -> PartnerCentralClient:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    return PartnerCentralClient(
        "AWS", endpoint_url=url, reads_per_second=1000, writes_per_second=1000, max_attempts=attempts
    )


def _booked(store: SyncStateStore, kind: str) -> int:
    return sum(n for _, n in store.spends(SERVICE, kind, 0.0))


def test_co_sell_writes_and_reads_are_booked_and_a_spent_window_is_not_called(
    emulator: tuple[PartnerCentralEmulator, str], store: SyncStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu, url = emulator
    client = _client(url, monkeypatch)
    client.meter = meter = QuotaMeter(store, _policy(writes=3, reads=4))
    solution = str(next(iter(client.list_solutions()))["Id"])  # a read
    opp = str(client.create_opportunity(create_request(token="t-1"))["Id"])
    client.associate_opportunity(opp, solution, "Solutions")  # the co-sell writes count like creates
    client.disassociate_opportunity(opp, solution, "Solutions")
    with pytest.raises(QuotaDeferredError) as refused:
        client.associate_opportunity(opp, solution, "Solutions")
    assert refused.value.code == QUOTA_DEFERRED
    assert "deferred: the 24-hour write quota (3) is spent; expected after" in str(refused.value)
    assert refused.value.retry_at > time.time() + 3_000  # when the first write leaves the window
    calls = emu.stats()["calls"]
    assert calls["AssociateOpportunity"] == 1 and calls["DisassociateOpportunity"] == 1  # not sent

    for _ in range(3):
        client.get_opportunity(opp)
    with pytest.raises(QuotaDeferredError, match=r"24-hour read quota \(4\) is spent"):
        client.get_opportunity(opp)
    assert emu.stats()["calls"]["GetOpportunity"] == 3
    meter.flush()
    assert (_booked(store, WRITE), _booked(store, READ)) == (3, 4)
    assert client.stats.snapshot()["errors"] == {QUOTA_DEFERRED: 2}


def test_runs_see_each_others_calls_through_the_ledger(
    emulator: tuple[PartnerCentralEmulator, str], store: SyncStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = emulator
    first, second = _client(url, monkeypatch), _client(url, monkeypatch)
    first.meter = QuotaMeter(store, _policy(writes=12))
    for i in range(10):  # the tenth write books the ten at once
        first.create_opportunity(create_request(token=f"t-{i}"))
    second.meter = later = QuotaMeter(store, _policy(writes=12))
    assert later.left(WRITE) == 2
    second.create_opportunity(create_request(token="t-10"))
    second.create_opportunity(create_request(token="t-11"))
    with pytest.raises(QuotaDeferredError):
        second.create_opportunity(create_request(token="t-12"))


def test_a_throttled_call_is_given_back(
    emulator: tuple[PartnerCentralEmulator, str], store: SyncStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu, url = emulator
    emu.configure(writes_per_day=1, quota_window_seconds=3_600)
    client = _client(url, monkeypatch)
    client.meter = meter = QuotaMeter(store, _policy(writes=5))
    client.create_opportunity(create_request(token="t-1"))
    with pytest.raises(Exception, match="ThrottlingException"):
        client.create_opportunity(create_request(token="t-2"))  # AWS's own quota answers first
    meter.flush()
    assert _booked(store, WRITE) == 1  # refused by AWS: not spent


def test_apply_defers_the_rest_when_the_ledger_window_is_spent_mid_run(
    emulator: tuple[PartnerCentralEmulator, str], store: SyncStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget admitted the rows, but other runs spent the window meanwhile: the call that finds it
    spent is not sent and the rows not done end deferred, not failed."""
    emu, url = emulator
    client = _client(url, monkeypatch)
    policy = _policy(writes=6)
    rows: list[dict[str, Any]] = [
        {
            "entity_key": f"deal:{i}",
            "deal_id": str(i),
            "operation": "create",
            "opportunity_id": None,
            "partition_date": "2026-12-06",
            "request": create_request(token=f"t-{i}"),
            "solution_ids": [],
        }
        for i in range(5)
    ]
    budget = WriteBudget(store, policy, "AWS")  # admits all five (the window looked empty)
    store.book_spend(SERVICE, WRITE, 3, time.time(), policy.window_seconds)  # another run, meanwhile
    results = apply_creates(client, store, rows, workers=1, budget=budget)
    statuses = [r.status for r in results]
    assert statuses.count(RowStatus.CREATED) == 3 and statuses.count(RowStatus.DEFERRED) == 2
    assert RowStatus.FAILED not in statuses
    deferred = [r for r in results if r.status == RowStatus.DEFERRED]
    assert all("the 24-hour write quota (6) is spent" in (r.error_message or "") for r in deferred)
    assert emu.stats()["calls"]["CreateOpportunity"] == 3
    assert {k for k, _, _ in store.deferred("AWS")} == {r.entity_key for r in deferred}


def test_hubspot_daily_remainder_below_the_reserve_holds_first_load_creates_not_updates(
    store: SyncStateStore,
) -> None:
    emu, server = start_hubspot_emulator(access_tokens=["tok"], daily_limit=50)
    try:
        client = HubSpotClient("tok", server.url)
        assert client.pacer.daily is None  # nothing seen yet
        client.batch_read("deals", ["1"], ["dealname"])
        limit, remaining = client.pacer.daily or (0, 0)
        assert limit == 50 and remaining == 49  # X-HubSpot-RateLimit-Daily[-Remaining]
        now = time.time()
        assert keep_hubspot_daily(store, client.pacer.daily, 40, now, 60.0) is None
        for _ in range(10):
            client.batch_read("deals", ["1"], ["dealname"])
        reason = keep_hubspot_daily(store, client.pacer.daily, 40, now, 60.0)
        assert reason is not None and "has 39 left, below the 40 kept" in reason
        assert store.quota_hold(HUBSPOT, DAILY) == (now + 60.0, reason)
    finally:
        server.stop()
    budget = WriteBudget(store, _policy(), "AWS")
    rows = [
        {"entity_key": "deal:1", "deal_id": "1", "operation": "create", "request": {}, "solution_ids": []}
    ]
    attempt, later = budget.admit(rows, creates=True)
    assert attempt == [] and [d.reason for d in later] == [reason]
    updates = [{"entity_key": "deal:2", "deal_id": "2", "operation": "update", "request": {}}]
    assert budget.admit(updates, creates=False)[0] == updates  # updates may spend the reserve
    assert budget.admit(rows, creates=False)[0] == rows  # so may an event-scoped run's creates
    assert keep_hubspot_daily(store, None, 40, now, 60.0) is None  # no daily limit announced


def test_reads_left_in_the_window_bound_a_runs_writes(store: SyncStateStore) -> None:
    policy = QuotaPolicy(
        writes_per_window=1_000,
        window_seconds=3_600,
        writes_per_second=1,
        run_seconds=60,
        reserve=0,
        reads_per_window=100,
        read_reserve=10,
    )
    store.book_spend(SERVICE, READ, 95, time.time(), policy.window_seconds)
    budget = WriteBudget(store, policy, "AWS")
    rows = [
        {
            "entity_key": f"deal:{i}",
            "deal_id": str(i),
            "operation": "create",
            "request": {},
            "solution_ids": [],
        }
        for i in range(3)
    ]
    attempt, later = budget.admit(rows, creates=True)
    assert attempt == [] and len(later) == 3
    assert "the 24-hour read quota (100, 10 kept for updates) is spent" in later[0].reason
    attempt, later = WriteBudget(store, policy, "AWS").admit(rows, creates=False)
    assert len(attempt) == 3 and later == []  # 5 reads left: updates and events still go
