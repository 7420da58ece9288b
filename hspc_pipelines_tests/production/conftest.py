"""Fixtures for the production tests: the emulator stack with seeded deals, the product's environment
for Dagster's own processes (daemon, webserver), a fresh PostgreSQL database, and subprocesses that
are always killed (whole process group) with bounded waits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines.emulators.stack import EmulatorStack
from hspc_pipelines_tests.support.postgres import admin_connection, temporary_database
from hspc_pipelines_tests.support.processes import Processes
from hspc_pipelines_tests.support.seeded import Seeded


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
