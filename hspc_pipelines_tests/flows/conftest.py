"""End-to-end fixtures: both emulators on loopback, the product's resources built from their environment,
and the co-sell jobs run in process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pytest
from dagster._core.storage.defs_state.base import set_defs_state_storage

from hspc_pipelines.defs import external
from hspc_pipelines.defs.cosell import assets as cosell_assets
from hspc_pipelines.defs.cosell import jobs as cosell_jobs
from hspc_pipelines.defs.resources import build_resources
from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines.hubspot.bootstrap import bootstrap_properties
from hspc_pipelines.hubspot.client import HubSpotClient
from hspc_pipelines.mapping.properties import DEAL_PROPERTIES
from hspc_pipelines.partner_central.client import PartnerCentralClient
from hspc_pipelines.settings import load_settings


@dataclass
class CosellWorld:
    env: dict[str, str]
    hubspot: Any  # HubSpotEmulator
    partner_central: Any  # PartnerCentralEmulator
    home: str

    def defs(self) -> dg.Definitions:
        return dg.Definitions.merge(
            external.defs(),
            cosell_assets.defs(),
            cosell_jobs.defs(),
            dg.Definitions(resources=build_resources(self.home, load_settings())),
        )

    def run(self, job: str, run_config: dict[str, Any] | None = None, raise_on_error: bool = True) -> Any:
        instance = dg.DagsterInstance.ephemeral()
        return self.job(job, instance).execute_in_process(
            instance=instance, run_config=run_config or {}, raise_on_error=raise_on_error
        )

    def job(self, name: str, instance: dg.DagsterInstance) -> dg.JobDefinition:
        """The job, resolved against `instance`'s defs-state storage: Dagster reads a process-wide
        "current" one, which an earlier test's temporary instance may have left on a deleted folder."""
        with set_defs_state_storage(instance.defs_state_storage):
            return self.defs().resolve_job_def(name)

    def hs(self) -> HubSpotClient:
        return HubSpotClient(self.env["HUBSPOT_ACCESS_TOKEN"], self.env["HUBSPOT_BASE_URL"])

    def pc(self) -> PartnerCentralClient:
        return PartnerCentralClient(self.env.get("PARTNER_CENTRAL_CATALOG", "AWS"))

    def deals(self, **filters: str) -> list[dict[str, Any]]:
        deals = list(self.hs().list_objects("deals", DEAL_PROPERTIES))
        return [d for d in deals if all(d["properties"].get(k) == v for k, v in filters.items())]

    def notes_of(self, deal_id: str) -> list[dict[str, Any]]:
        hs = self.hs()
        ids = hs.batch_read_associations("deals", "notes", [deal_id]).get(deal_id, [])
        if not ids:
            return []
        return [
            n["properties"] for n in hs.batch_read("notes", ids, ["hs_note_body", "hspc_note_key"]).results
        ]

    def pc_calls(self) -> dict[str, int]:
        return dict(self.partner_central.stats()["calls"])


@pytest.fixture
def world(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[CosellWorld]:
    for name in (
        "HSPC_INVITATION_RULES",
        "HSPC_NOTIFY_TASKS",
        "HSPC_MAPPING_CONFIG",
        "PARTNER_CENTRAL_ROLE_ARN",
        "HSPC_HUBSPOT_TOKEN_SSM_PARAMETER",
        "HSPC_STATE_URL",
        "HSPC_DUCKDB_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HSPC_TASK_POLL_BUDGET_SECONDS", "10")
    with EmulatorStack() as stack:
        for key, value in stack.env.items():
            monkeypatch.setenv(key, value)
        home = str(tmp_path / "dagster_home")
        os.makedirs(home, exist_ok=True)
        world = CosellWorld(
            env=dict(stack.env), hubspot=stack.hubspot, partner_central=stack.partner_central, home=home
        )
        bootstrap_properties(world.hs())  # what HubSpotResource.ensure_properties does first in a run
        yield world
