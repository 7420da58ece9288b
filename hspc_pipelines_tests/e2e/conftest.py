"""End-to-end fixtures: the emulator stack, the product's environment pointed at it, and a Dagster
instance in a temporary DAGSTER_HOME. Everything talks real HTTP and AWS protocol."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines.reconcile.runner import ReconcileOutcome, run_reconcile
from hspc_pipelines_tests.support.environment import FAST_ENV
from hspc_pipelines_tests.support.hubspot_http import hubspot_request
from hspc_pipelines_tests.support.partner_central import list_opportunities, partner_central_client


@dataclass
class Product:
    stack: EmulatorStack
    home: Path
    instance: dg.DagsterInstance
    defs: dg.Definitions

    @property
    def today(self) -> str:
        return dt.datetime.now(dt.UTC).date().isoformat()

    def reconcile(
        self, *, since: str | None = None, dry_run: bool = False, run_config: dict[str, Any] | None = None
    ) -> ReconcileOutcome:
        return run_reconcile(
            dry_run=dry_run,
            since=since,
            today=self.today,
            run_config=run_config,
            instance=self.instance,
            defs=self.defs,
        )

    def materialize(self, *names: str, since: str | None = None) -> dg.ExecuteInProcessResult:
        """Run part of the reconcile graph (e.g. to stop before the write-back, as a crash would)."""
        job = self.defs.resolve_job_def("reconcile")
        kwargs: dict[str, Any] = {
            "instance": self.instance,
            "asset_selection": [dg.AssetKey(n) for n in names],
        }
        if since:
            kwargs["tags"] = {
                "dagster/asset_partition_range_start": since,
                "dagster/asset_partition_range_end": self.today,
            }
        else:
            kwargs["partition_key"] = self.today
        return job.execute_in_process(**kwargs)

    # -- direct access to the emulated systems, as a person would look ---------------------------

    def pc(self) -> Any:
        return partner_central_client(self.stack)

    def opportunities(self) -> list[dict[str, Any]]:
        return list_opportunities(self.pc())

    def hubspot(self, method: str, path: str, **kw: Any) -> Any:
        return hubspot_request(self.stack.env, method, path, **kw)

    def deal(self, deal_id: str, *props: str) -> dict[str, Any]:
        names = ",".join(props)
        return self.hubspot("GET", f"/crm/v3/objects/deals/{deal_id}?properties={names}")["properties"]

    def notes_on(self, deal_id: str) -> list[dict[str, Any]]:
        links = self.hubspot(
            "POST", "/crm/v4/associations/deals/notes/batch/read", json={"inputs": [{"id": deal_id}]}
        )["results"]
        ids = [str(t["toObjectId"]) for r in links for t in r["to"]]
        if not ids:
            return []
        return self.hubspot(
            "POST",
            "/crm/v3/objects/notes/batch/read",
            json={"inputs": [{"id": i} for i in ids], "properties": ["hs_note_body", "hspc_note_key"]},
        )["results"]

    def hubspot_calls(self) -> dict[str, int]:
        return dict(self.stack.hubspot.stats()["calls"])

    def pc_calls(self) -> dict[str, int]:
        return dict(self.stack.partner_central.stats()["calls"])


@pytest.fixture
def product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Product]:
    with EmulatorStack() as stack:
        for key, value in {**stack.env, **FAST_ENV, "DAGSTER_HOME": str(tmp_path)}.items():
            monkeypatch.setenv(key, value)
        from hspc_pipelines.definitions import build_defs

        with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
            yield Product(stack=stack, home=tmp_path, instance=instance, defs=build_defs(str(tmp_path)))
