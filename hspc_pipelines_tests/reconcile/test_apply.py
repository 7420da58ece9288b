"""The apply step against the Partner Central emulator over HTTP: pooled creates, read-back retry,
AccessDenied stopping at the first call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hspc_pipelines.emulators.partner_central import PartnerCentralEmulator, start_partner_central_emulator
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.partner_central.errors import AccessDeniedError
from hspc_pipelines.reconcile.apply import apply_creates, apply_updates
from hspc_pipelines.state.store import SyncStateStore
from hspc_pipelines_tests.support.partner_central import create_request


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
    return PartnerCentralClient(
        "AWS", endpoint_url=emulator[1], reads_per_second=1000, writes_per_second=1000, max_attempts=1
    )


@pytest.fixture
def store(tmp_path: Any) -> SyncStateStore:
    return SyncStateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")


def _rows(n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(n):
        request = create_request(token=f"token-{i}", title=f"Deal {i}")
        request["PartnerOpportunityIdentifier"] = f"HUBSPOT-{i}"
        rows.append(
            {
                "entity_key": f"deal:{i}",
                "deal_id": str(i),
                "operation": "create" if i % 5 else "link",
                "opportunity_id": None if i % 5 else f"O{i}",
                "partition_date": "2026-11-29",
                "request": request,
                "solution_ids": [],
            }
        )
    return rows


def test_pooled_creates_keep_the_rows_order_and_create_each_once(client, store, emulator) -> None:
    rows = _rows(25)
    results = apply_creates(client, store, rows, workers=4)
    assert [r.entity_key for r in results] == [r["entity_key"] for r in rows]
    assert [r.status for r in results] == ["linked" if i % 5 == 0 else "created" for i in range(25)]
    assert emulator[0].stats()["calls"]["CreateOpportunity"] == 20
    assert all(r.record and r.record["Id"] == r.opportunity_id for r in results if r.status == "created")
    stored = store.find_by_partner_identifiers("AWS", [f"HUBSPOT-{i}" for i in range(25)])
    assert len(stored) == 20


def test_a_failed_read_back_is_read_again_in_the_same_run(client, store, emulator) -> None:
    emu = emulator[0]
    emu.set_faults({"schedule": ["ConflictException"], "operations": ["GetOpportunity"]})
    results = apply_creates(client, store, _rows(2)[1:], workers=1)
    assert [r.status for r in results] == ["created"]
    assert results[0].record is not None and results[0].error_message is None
    assert emu.stats()["calls"]["GetOpportunity"] == 2


def test_access_denied_stops_at_the_first_create_even_with_a_pool(client, store, emulator) -> None:
    emulator[0].set_denied(["CreateOpportunity"])
    with pytest.raises(AccessDeniedError):
        apply_creates(client, store, _rows(12), workers=4)
    assert emulator[0].stats()["calls"] == {"CreateOpportunity": 1}


def test_a_create_failed_by_a_conflict_is_tried_once_more_at_the_end(client, store, emulator) -> None:
    emu = emulator[0]
    emu.set_faults({"schedule": ["ConflictException"], "operations": ["CreateOpportunity"]})
    results = apply_creates(client, store, _rows(4)[1:], workers=2)
    assert [r.status for r in results] == ["created"] * 3
    assert emu.stats()["calls"]["CreateOpportunity"] == 4
    assert len({r.opportunity_id for r in results}) == 3


def test_a_row_failing_twice_keeps_its_reason(client, store, emulator) -> None:
    emu = emulator[0]
    emu.set_faults(
        {"schedule": ["ConflictException", "ConflictException"], "operations": ["CreateOpportunity"]}
    )
    [result] = apply_creates(client, store, _rows(2)[1:], workers=1)
    assert result.status == "failed" and result.error_code == "ConflictException"
    assert "conflicts" in (result.error_message or "")


def _solutions_row(opp_id: str, wanted: list[str]) -> dict[str, Any]:
    return {
        "entity_key": "deal:1",
        "deal_id": "1",
        "operation": "update",
        "opportunity_id": opp_id,
        "partition_date": "2026-12-06",
        "request": None,  # only the solutions change
        "solution_ids": wanted,
    }


def test_a_solutions_only_row_swaps_solutions_without_an_update(client, store, emulator) -> None:
    emu, _ = emulator
    emu.seed({"solutions": [{"Id": f"S-000000{i}", "Name": f"S{i}", "Catalog": "AWS"} for i in (1, 2, 3)]})
    opp_id = str(client.create_opportunity(create_request(token="sol"))["Id"])
    client.associate_opportunity(opp_id, "S-0000001", "Solutions")
    before = emu.stats()["calls"]

    (result,) = apply_updates(client, store, [_solutions_row(opp_id, ["S-0000002", "S-0000003"])], {}, None)  # type: ignore[arg-type]
    assert result.status == "updated" and result.error_code is None
    assert result.record is not None
    assert sorted(result.record["RelatedEntityIdentifiers"]["Solutions"]) == ["S-0000002", "S-0000003"]
    calls = {op: n - before.get(op, 0) for op, n in emu.stats()["calls"].items() if n - before.get(op, 0)}
    assert calls.get("DisassociateOpportunity") == 1 and calls.get("AssociateOpportunity") == 2
    assert "UpdateOpportunity" not in calls
    # the store holds the record as read after the last association
    stored = store.get_opportunities("AWS", [opp_id])[opp_id][1]
    assert sorted(stored["RelatedEntityIdentifiers"]["Solutions"]) == ["S-0000002", "S-0000003"]

    # a solution Partner Central refuses: the row fails naming it; the rest of the change is made
    (failed,) = apply_updates(client, store, [_solutions_row(opp_id, ["S-0000002", "S-NOPE"])], {}, None)  # type: ignore[arg-type]
    assert failed.status == "failed" and failed.error_code == "SolutionAssociation"
    assert "S-NOPE" in (failed.error_message or "")
    assert failed.record is not None and failed.record["RelatedEntityIdentifiers"]["Solutions"] == [
        "S-0000002"
    ]


def test_an_update_conflict_keeps_what_partner_central_changed_meanwhile(client, store) -> None:
    """The opportunity changed in Partner Central between the snapshot and the update (its city): the
    update is refused (stale LastModifiedDate), re-planned on the re-read record, and sends only what
    the plan changed (the amount); the city edit is not put back."""
    from hspc_pipelines.mapping import MappingConfig, build_create_request
    from hspc_pipelines.mapping.model import project_input
    from hspc_pipelines.mapping.update import plan_update
    from hspc_pipelines.partner_central.records import to_jsonable, with_timestamps
    from hspc_pipelines_tests.support.deals import bundle, good_deal

    config = MappingConfig.default()
    created = build_create_request(bundle(), config, "AWS").request
    assert created is not None
    opp_id = client.create_opportunity({**created, "ClientToken": "conflict-1"})["Id"]
    snapshot = to_jsonable(client.get_opportunity(opp_id))
    edited = bundle(deal=good_deal(amount="15000"))
    plan = plan_update(edited, snapshot, config, "AWS")
    assert plan.request is not None and list(plan.changed) == ["Project.ExpectedCustomerSpend"]

    record = client.get_opportunity(opp_id)  # the partner's console edit, after the snapshot
    console = project_input(record, "UpdateOpportunity")
    console["Customer"]["Account"]["Address"]["City"] = "Oakland"
    console.update(Catalog="AWS", Identifier=opp_id, LastModifiedDate=record["LastModifiedDate"])
    client.update_opportunity(with_timestamps(console))

    row = {
        "entity_key": "deal:123",
        "deal_id": "123",
        "opportunity_id": opp_id,
        "operation": "update",
        "partition_date": "2026-11-29",
        "request": plan.request,
        "changed_fields": {k: list(v) for k, v in plan.changed.items()},
        "solution_ids": [],
    }
    (result,) = apply_updates(client, store, [row], {"123": edited}, config, workers=1)
    assert result.status == "updated" and result.record is not None
    assert result.record["Customer"]["Account"]["Address"]["City"] == "Oakland", "the edit was put back"
    assert result.record["Project"]["ExpectedCustomerSpend"][0]["Amount"] == "15000"
