"""Fixtures for the production tests: the emulator stack with seeded deals, the product's environment
for Dagster's own processes (daemon, webserver), a fresh PostgreSQL database, and subprocesses that
are always killed (whole process group) with bounded waits."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import boto3
import pytest
import yaml

from hspc_pipelines.emulators.seed import SeedData, anchor_now, generate_seed
from hspc_pipelines.emulators.stack import EmulatorStack

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"

# Fast client pacing: the emulators have no quota.
FAST_ENV = {
    "HSPC_PC_WRITES_PER_SECOND": "500",
    "HSPC_PC_READS_PER_SECOND": "1000",
    "HSPC_HUBSPOT_REQUESTS_PER_10S": "100000",
    "HSPC_HUBSPOT_SEARCH_PER_SECOND": "1000",
}

T = TypeVar("T")


def dagster_bin(name: str) -> str:
    path = VENV_BIN / name
    return str(path) if path.exists() else name


def wait_for(what: str, check: Callable[[], T | None], timeout: float, interval: float = 1.0) -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


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
        client = boto3.client(
            "partnercentral-selling",
            region_name="us-east-1",
            endpoint_url=self.stack.env["AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        out: list[dict[str, Any]] = []
        token = None
        while True:
            kw: dict[str, Any] = {
                "Catalog": "AWS",
                "MaxResults": 100,
                **({"NextToken": token} if token else {}),
            }
            page = client.list_opportunities(**kw)
            out += [dict(o) for o in page["OpportunitySummaries"]]
            token = page.get("NextToken")
            if not token:
                return out


@pytest.fixture
def seeded() -> Iterator[Seeded]:
    """The emulator stack with a few co-sell deals modified over the last days."""
    with EmulatorStack() as stack:
        data = generate_seed(9, seed=5, junk_ratio=0.0, cosell_ratio=1.0, now_ms=anchor_now())
        stack.hubspot.load_seed(data)
        yield Seeded(stack=stack, data=data)


def workspace_file(directory: Path) -> Path:
    """workspace.yaml as the repository ships it, with `attribute: defs` added to module entries that
    lack it: hspc_pipelines.definitions has two Definitions objects at module scope (`defs` and the
    imported `cosell_defs`), which Dagster's autodiscovery refuses. Harmless once the module is fixed.
    The location keeps the module's name."""
    spec = yaml.safe_load((REPO / "workspace.yaml").read_text())
    for entry in spec["load_from"]:
        module = entry.get("python_module")
        if isinstance(module, dict):
            module.setdefault("attribute", "defs")
            module.setdefault("location_name", module["module_name"])
            module["working_directory"] = str(REPO)
    path = directory / "workspace.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def product_env(stack: EmulatorStack, home: Path, **extra: str) -> dict[str, str]:
    """The environment Dagster's processes run the product with: the stack's variables, fast pacing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HSPC_", "HUBSPOT_", "DAGSTER_"))}
    return {**env, **stack.env, **FAST_ENV, "DAGSTER_HOME": str(home), **extra}


@pytest.fixture
def pg_database() -> Iterator[dict[str, str]]:
    """A fresh database on the machine's PostgreSQL (127.0.0.1:5432, trust auth), dropped at the end;
    yields the DAGSTER_PG_* variables deploy/dagster*.yaml read."""
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=5
        )
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    admin.autocommit = True
    name = f"hspc_prod_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {
            "DAGSTER_PG_HOST": PG_HOST,
            "DAGSTER_PG_PORT": str(PG_PORT),
            "DAGSTER_PG_USER": PG_USER,
            "DAGSTER_PG_PASSWORD": "unused-trust-auth",
            "DAGSTER_PG_DB": name,
        }
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class Processes:
    """Subprocesses in their own process groups; all killed (group-wide) at teardown."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append((proc, log))
        return proc

    def log_tail(self, name: str, chars: int = 4000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop_all(self) -> None:
        for proc, log in self.procs:
            kill_group(proc)
            log.close()


def kill_group(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the process's group, wait up to `grace` seconds, then SIGKILL what is left of the
    group (run workers, code servers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()
