"""Fixtures for the production tests: the emulator stack with seeded deals, the product's environment
for Dagster's own processes (daemon, webserver), a fresh PostgreSQL database, and subprocesses that
are always killed (whole process group) with bounded waits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hspc_pipelines.emulators.seed import SeedData, anchor_now, generate_seed
from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines_tests.support.environment import product_env
from hspc_pipelines_tests.support.partner_central import list_opportunities, partner_central_client
from hspc_pipelines_tests.support.postgres import admin_connection, temporary_database
from hspc_pipelines_tests.support.processes import Processes, wait_for

# scripts/screenshot_asset_graph.py imports these two from here.
__all__ = ["Seeded", "product_env", "wait_for"]


@dataclass
class Seeded:
    stack: EmulatorStack
    data: SeedData

    @property
    def today(self) -> str:
        return dt.datetime.now(dt.UTC).date().isoformat()

    def cosell_ids_modified(self, first: str, last: str) -> set[str]:
        """Co-sell deals whose last-modified day is in [first, last] (the window a run reconciles)."""
        cosell = set(self.data.cosell_deal_ids)
        return {
            d["id"]
            for d in self.data.deals
            if d["id"] in cosell and first <= d["properties"]["hs_lastmodifieddate"][:10] <= last
        }

    def opportunities(self) -> list[dict[str, Any]]:
        return list_opportunities(partner_central_client(self.stack))


@pytest.fixture
def seeded() -> Iterator[Seeded]:
    """The emulator stack with a few co-sell deals modified over the last days."""
    with EmulatorStack() as stack:
        data = generate_seed(9, seed=5, junk_ratio=0.0, cosell_ratio=1.0, now_ms=anchor_now())
        stack.hubspot.load_seed(data)
        yield Seeded(stack=stack, data=data)


@pytest.fixture
def pg_database() -> Iterator[dict[str, str]]:
    """A fresh database on the machine's PostgreSQL (127.0.0.1:5432, trust auth), dropped at the end;
    yields the DAGSTER_PG_* variables deploy/dagster*.yaml read."""
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = admin_connection()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    with temporary_database(admin, "hspc_prod") as env:
        yield env


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()
