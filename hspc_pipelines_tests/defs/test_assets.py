"""Asset bodies called with `dg.build_asset_context` and fake clients: the plan on a small frame, the
create step's calls to Partner Central, and the HubSpot write step taking its setup step first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from hspc_pipelines.defs.partitions import daily_partitions
from hspc_pipelines.defs.reconcile.assets import reconcile_assets
from hspc_pipelines.defs.resources import (
    HubSpotResource,
    MappingResource,
    PartnerCentralResource,
    SyncStateResource,
)
from hspc_pipelines.hubspot.batch import BatchResult
from hspc_pipelines.reconcile import frames
from hspc_pipelines.reconcile.plan import DealSnapshot
from hspc_pipelines_tests.support.deals import bundle, good_deal

DAY = "2026-11-20"
ASSETS = {a.key.to_user_string(): a for a in reconcile_assets(daily_partitions(dt.date(2025, 1, 1)))}


def _deal(deal_id: str, **overrides: str | None) -> DealSnapshot:
    deal = good_deal(
        dealname=f"Acme data platform {deal_id} #AWS", hs_lastmodifieddate=f"{DAY}T10:00:00Z", **overrides
    )
    return DealSnapshot(bundle(deal, deal_id=deal_id), DAY)


def _invoke(asset: dg.AssetsDefinition, **inputs: Any) -> list[Any]:
    """The asset body's outputs (values and check results), as a run would get them."""
    result = asset(dg.build_asset_context(partition_key=DAY), **inputs)
    if isinstance(result, dg.Output):
        return [result]
    assert isinstance(result, Iterable), result
    return list(result)


def _value(outputs: list[Any]) -> pd.DataFrame:
    return next(o.value for o in outputs if isinstance(o, dg.Output))


def _check(outputs: list[Any], name: str) -> dg.AssetCheckResult:
    return next(o for o in outputs if isinstance(o, dg.AssetCheckResult) and o.check_name == name)


class FakePartnerCentral:
    """Records every call; creates answer with the next opportunity id."""

    catalog = "AWS"

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.records: dict[str, dict[str, Any]] = {}

    def create_opportunity(self, request: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create_opportunity", request))
        opp_id = f"O{1000 + len(self.records)}"
        now = dt.datetime(2026, 11, 20, 11, tzinfo=dt.UTC)
        self.records[opp_id] = {
            **request,
            "Id": opp_id,
            "Catalog": "AWS",
            "CreatedDate": now,
            "LastModifiedDate": now,
            "LifeCycle": {**request.get("LifeCycle", {}), "ReviewStatus": "Pending Submission"},
        }
        return {"Id": opp_id, "LastModifiedDate": now}

    def get_opportunity(self, opportunity_id: str) -> dict[str, Any]:
        self.calls.append(("get_opportunity", opportunity_id))
        return self.records[opportunity_id]

    def update_opportunity(self, request: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("no update is planned")

    def associate_opportunity(self, opportunity_id: str, entity_id: str, entity_type: str) -> dict[str, Any]:
        self.calls.append(("associate_opportunity", (opportunity_id, entity_id, entity_type)))
        return {}


class FakeHubSpot:
    """Records every call in order; batch writes succeed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def ensure_properties(self, object_type: str, properties: Any) -> list[str]:
        self.calls.append(("ensure_properties", object_type))
        return [p["name"] if isinstance(p, dict) else str(p) for p in properties][:1]

    def batch_read(self, object_type: str, ids: Any, properties: Any) -> BatchResult:
        self.calls.append(("batch_read", object_type))
        return BatchResult()

    def batch_read_associations(self, from_type: str, to_type: str, ids: Any) -> dict[str, list[str]]:
        self.calls.append(("batch_read_associations", to_type))
        return {}

    def batch_create(self, object_type: str, inputs: list[dict[str, Any]]) -> BatchResult:
        self.calls.append(("batch_create", object_type))
        return BatchResult(results=[{"id": str(i)} for i, _ in enumerate(inputs)])

    def batch_update(self, object_type: str, inputs: list[dict[str, Any]]) -> BatchResult:
        self.calls.append(("batch_update", inputs))
        return BatchResult(results=list(inputs))


def _with_client(resource_type: type, fake: object, **config: Any) -> Any:
    """The resource type, configured as given, whose `get_client()` is `fake` (a subclass, because
    Dagster hands the asset a fresh copy of each resource it is given)."""
    return type(f"Fake{resource_type.__name__}", (resource_type,), {"get_client": lambda self: fake})(
        **config
    )


@pytest.fixture
def resources(tmp_path) -> dict[str, Any]:
    return {
        "partner_central": _with_client(PartnerCentralResource, FakePartnerCentral(), write_workers=1),
        "hubspot": _with_client(HubSpotResource, FakeHubSpot(), access_token="pat-test"),
        "mapping": MappingResource(),
        "sync_state": SyncStateResource(url=f"sqlite:///{tmp_path / 'state.sqlite'}"),
    }


def _plan(resources: dict[str, Any], deals: pd.DataFrame) -> list[Any]:
    return _invoke(
        ASSETS["sync_plan"],
        hubspot_deals=deals,
        partner_central_opportunities=frames.opportunities_frame([]),
        partner_central_solutions=frames.frame([], frames.SOLUTION_COLUMNS),
        mapping=resources["mapping"],
        partner_central=resources["partner_central"],
        sync_state=resources["sync_state"],
    )


def test_the_plan_asset_creates_a_new_co_sell_deal_and_flags_an_invalid_one(resources):
    deals = frames.deals_frame([_deal("101"), _deal("102", description=None, amount="lots")])
    outputs = _plan(resources, deals)
    plan = _value(outputs).set_index("deal_id")
    assert plan.loc["101", "operation"] == "create"
    assert plan.loc["102", "operation"] == "invalid" and plan.loc["102", "reason"]
    check = _check(outputs, "no_invalid_rows")
    assert not check.passed and check.metadata["invalid_rows"].value == 1


def test_the_create_step_calls_partner_central_once_per_create_row(resources):
    plan = _value(_plan(resources, frames.deals_frame([_deal("101"), _deal("103")])))
    outputs = _invoke(
        ASSETS["opportunity_creates"],
        sync_plan=plan,
        partner_central=resources["partner_central"],
        sync_state=resources["sync_state"],
    )
    fake = resources["partner_central"].get_client()
    creates = [request for name, request in fake.calls if name == "create_opportunity"]
    assert sorted(r["PartnerOpportunityIdentifier"] for r in creates) == ["HUBSPOT-101", "HUBSPOT-103"]
    assert all(r["ClientToken"] for r in creates)
    assert sorted(_value(outputs)["status"]) == ["created", "created"]
    assert _check(outputs, "one_opportunity_per_deal").passed


def test_the_hubspot_write_step_creates_the_properties_before_its_first_write(resources):
    hubspot = resources["hubspot"]
    assert hubspot.get_client().calls == []  # getting the client has no side effect any more
    deals = frames.deals_frame([_deal("101")])
    plan = _value(_plan(resources, deals))
    creates = _value(
        _invoke(
            ASSETS["opportunity_creates"],
            sync_plan=plan,
            partner_central=resources["partner_central"],
            sync_state=resources["sync_state"],
        )
    )
    outputs = _invoke(
        ASSETS["hubspot_deal_writes"],
        sync_plan=plan,
        hubspot_deals=deals,
        partner_central_opportunities=frames.opportunities_frame([]),
        opportunity_creates=creates,
        opportunity_updates=frames.results_frame([]),
        hubspot=hubspot,
        mapping=resources["mapping"],
        partner_central=resources["partner_central"],
        sync_state=resources["sync_state"],
    )
    calls = [name for name, _ in hubspot.get_client().calls]
    assert calls[:2] == ["ensure_properties", "ensure_properties"]
    assert "batch_update" in calls and calls.index("batch_update") > 1
    [update] = [args for name, args in hubspot.get_client().calls if name == "batch_update"]
    assert update[0]["id"] == "101" and update[0]["properties"]["aws_opportunity_id"] == "O1000"
    assert list(_value(outputs)["write_status"]) == ["written"]
    assert calls.count("ensure_properties") == 2  # deals and notes, once


def test_the_setup_step_runs_once_per_resource_and_can_be_switched_off():
    fake = FakeHubSpot()
    hubspot = _with_client(HubSpotResource, fake, access_token="pat-test")
    created = hubspot.ensure_properties()
    assert [c.split(".")[0] for c in created] == ["deals", "notes"]
    assert [name for name, _ in fake.calls] == ["ensure_properties", "ensure_properties"]
    hubspot.ensure_properties()
    assert len(fake.calls) == 2  # checked once for the resource's run
    off = FakeHubSpot()
    _with_client(HubSpotResource, off, access_token="pat-test", bootstrap=False).ensure_properties()
    assert off.calls == []
